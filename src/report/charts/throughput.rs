//! Chart 3: completions per second stacked by outcome class (one panel per
//! arm), with the send rate as a line, over phase and breaker-open bands.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::Chart;
use super::style::{self, builder, class_color, draw_bands, err, mesh, nice_max, Band, DrawResult};
use crate::outcome::OutcomeClass;
use crate::record::{class_index, ArmData, RunData};

/// See the module doc.
pub struct Throughput<'a> {
    /// Run data.
    pub run: &'a RunData,
    /// Bands to draw.
    pub bands: &'a [Band],
}

impl Chart for Throughput<'_> {
    fn name(&self) -> &'static str {
        "throughput"
    }

    fn title(&self) -> String {
        "Throughput and errors per second".into()
    }

    fn size(&self) -> (u32, u32) {
        let panels = self.run.arms.len().max(1) as u32;
        (style::SIZE.0, 150 + 450 * panels)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, text: bool) -> DrawResult {
        let n = self.run.arms.len().max(1);
        let panels = root.split_evenly((n, 1));
        for (a, area) in self.run.arms.iter().zip(panels.iter()) {
            let title = format!("{}: {}", self.title(), a.label);
            self.panel(a, area, &title, text)?;
        }
        Ok(())
    }
}

impl Throughput<'_> {
    fn panel<DB: DrawingBackend>(
        &self,
        a: &ArmData,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        text: bool,
    ) -> DrawResult {
        let step = self.run.interval.as_secs_f64();
        let end = self.run.end.as_secs_f64().max(1.0);
        // Counts per second of each row; the last row may cover only part of
        // an interval (the run ended mid-second), so it is scaled by its length.
        let per_s: Vec<f64> = (0..a.rows.len())
            .map(|i| 1.0 / (end - i as f64 * step).clamp(0.1 * step, step))
            .collect();
        let peak = a
            .rows
            .iter()
            .zip(&per_s)
            .map(|(r, k)| r.completed().max(r.sent) as f64 * k)
            .fold(0.0, f64::max);
        // Headroom above the peak keeps the legend clear of the bars.
        let y_hi = nice_max(peak * 1.4);
        let x_range = 0.0..end;
        let mut chart = builder(area, title, text)
            .build_cartesian_2d(x_range.clone(), 0.0..y_hi)
            .map_err(err)?;
        mesh(
            &mut chart,
            "time since start (s)",
            "requests per second",
            text,
            &style::time_label(x_range.end),
            &|v| format!("{v:.0}"),
            12,
        )?;
        draw_bands(&mut chart, self.bands, &x_range, (0.0, y_hi), text)?;
        // Stack bottom-up in class order: successes first, then errors.
        let mut base = vec![0.0f64; a.rows.len()];
        for c in OutcomeClass::ALL {
            if a.count(c) == 0 {
                continue;
            }
            let ci = class_index(c);
            let color = class_color(c);
            let rects: Vec<Rectangle<(f64, f64)>> = a
                .rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.outcomes[ci] > 0)
                .map(|(i, r)| {
                    let y0 = base[i];
                    let y1 = y0 + r.outcomes[ci] as f64 * per_s[i];
                    let x0 = i as f64 * step;
                    Rectangle::new([(x0, y0), ((x0 + step).min(end), y1)], color.filled())
                })
                .collect();
            for (i, r) in a.rows.iter().enumerate() {
                base[i] += r.outcomes[ci] as f64 * per_s[i];
            }
            let s = chart.draw_series(rects).map_err(err)?;
            if text {
                s.label(c.as_str()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 7), (x + 18, y + 7)], color.filled())
                });
            }
        }
        let sent: Vec<(f64, f64)> = a
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (((i as f64 + 0.5) * step).min(end), r.sent as f64 * per_s[i]))
            .collect();
        let s = chart
            .draw_series(LineSeries::new(sent, BLACK.stroke_width(2)))
            .map_err(err)?;
        if text {
            s.label("sent").legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(2))
            });
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
