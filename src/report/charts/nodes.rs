//! Chart 6: attempts per node per second as the fake server saw them (its
//! attempt journal), stacked by node, one panel per arm, over the phase
//! bands and the breaker-open intervals the judge inferred from the traffic
//! alone. Failover is visible here without any help from the client.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::Chart;
use super::style::{self, builder, draw_bands, err, mesh, nice_max, Band, BandKind, DrawResult};
use crate::judge::Verdicts;

/// See the module doc.
pub struct NodeTraffic<'a> {
    /// Each arm's label and verdicts (with their per-second traffic).
    pub arms: Vec<(&'a str, &'a Verdicts)>,
    /// Phase bands (breaker bands are drawn from each arm's verdicts).
    pub bands: &'a [Band],
    /// Seconds on the x axis.
    pub end: f64,
    /// Journal second s is run second s - offset (the server started
    /// before the run's t0).
    pub offset: f64,
}

/// Node colors: distinct, in node order.
const NODE_COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(23, 190, 207),
];

fn node_color(n: u32) -> RGBColor {
    NODE_COLORS[n as usize % NODE_COLORS.len()]
}

impl Chart for NodeTraffic<'_> {
    fn name(&self) -> &'static str {
        "attempts_per_node"
    }

    fn title(&self) -> String {
        "Attempts per node per second (fake server's journal)".into()
    }

    fn size(&self) -> (u32, u32) {
        let panels = self.arms.len().max(1) as u32;
        (style::SIZE.0, 150 + 450 * panels)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, text: bool) -> DrawResult {
        let n = self.arms.len().max(1);
        let panels = root.split_evenly((n, 1));
        for ((label, v), area) in self.arms.iter().zip(panels.iter()) {
            let title = format!("Attempts per node per second: {label}");
            self.panel(v, area, &title, text)?;
        }
        Ok(())
    }
}

impl NodeTraffic<'_> {
    fn panel<DB: DrawingBackend>(
        &self,
        v: &Verdicts,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        text: bool,
    ) -> DrawResult {
        let end = self.end.max(1.0);
        let secs = end.ceil() as usize + 1;
        // Attempts of each node in each run second, stacked in node order.
        let mut per: Vec<Vec<u32>> = vec![vec![0; secs]; v.nodes as usize];
        for t in &v.traffic {
            for s in &t.seconds {
                let i = (s.second as f64 - self.offset).round().max(0.0) as usize;
                if let (Some(row), true) = (per.get_mut(t.node as usize), i < secs) {
                    row[i] += s.total();
                }
            }
        }
        let peak = (0..secs)
            .map(|i| per.iter().map(|r| r[i]).sum::<u32>())
            .max()
            .unwrap_or(0);
        let y_hi = nice_max(f64::from(peak) * 1.4);
        let x_range = 0.0..end;
        let mut chart = builder(area, title, text)
            .build_cartesian_2d(x_range.clone(), 0.0..y_hi)
            .map_err(err)?;
        mesh(
            &mut chart,
            "time since start (s)",
            "attempts per second",
            text,
            &style::time_label(x_range.end),
            &|v| format!("{v:.0}"),
            12,
        )?;
        let mut bands = self.bands.to_vec();
        bands.extend(v.breaker_open.iter().map(|b| Band {
            span: (b.from - self.offset).max(0.0)..(b.to - self.offset).max(0.0),
            label: format!("no traffic (breaker open?): node {}", b.node),
            kind: BandKind::BreakerOpen,
        }));
        draw_bands(&mut chart, &bands, &x_range, (0.0, y_hi), text)?;
        let mut base = vec![0.0f64; secs];
        for (node, row) in per.iter().enumerate() {
            if row.iter().all(|&c| c == 0) {
                continue;
            }
            let color = node_color(node as u32);
            let rects: Vec<Rectangle<(f64, f64)>> = row
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > 0)
                .map(|(i, &c)| {
                    let x0 = i as f64;
                    let y0 = base[i];
                    Rectangle::new(
                        [(x0, y0), ((x0 + 1.0).min(end), y0 + f64::from(c))],
                        color.filled(),
                    )
                })
                .collect();
            for (b, &c) in base.iter_mut().zip(row) {
                *b += f64::from(c);
            }
            let s = chart.draw_series(rects).map_err(err)?;
            if text {
                s.label(format!("node {node}")).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 7), (x + 18, y + 7)], color.filled())
                });
            }
        }
        if text {
            chart
                .configure_series_labels()
                .label_font(style::font(style::LABEL_PX))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(160, 160, 160))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}
