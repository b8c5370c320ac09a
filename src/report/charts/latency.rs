//! Chart 1: corrected p50 and p99 latency per second, per arm, on a log
//! axis, over phase and breaker-open bands.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::Chart;
use super::style::{self, builder, draw_bands, err, log_range, mesh, Band, DrawResult};
use crate::record::RunData;

/// See the module doc.
pub struct LatencyOverTime<'a> {
    /// Run data.
    pub run: &'a RunData,
    /// Bands to draw.
    pub bands: &'a [Band],
}

impl Chart for LatencyOverTime<'_> {
    fn name(&self) -> &'static str {
        "latency_over_time"
    }

    fn title(&self) -> String {
        "Latency over time (corrected, per second)".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, text: bool) -> DrawResult {
        let end = self.run.end.as_secs_f64().max(1.0);
        let step = self.run.interval.as_secs_f64();
        let values = self.run.arms.iter().flat_map(|a| {
            a.rows
                .iter()
                .flat_map(|r| [r.p50_us as f64 / 1000.0, r.p99_us as f64 / 1000.0])
        });
        let (lo, hi) = log_range(values);
        let x_range = 0.0..end;
        let mut chart = builder(root, &self.title(), text)
            .build_cartesian_2d(x_range.clone(), style::log_axis(lo, hi))
            .map_err(err)?;
        mesh(
            &mut chart,
            "time since start (s)",
            "latency (log scale)",
            text,
            &style::time_label(x_range.end),
            &|v| style::axis_ms(*v),
            12,
        )?;
        draw_bands(&mut chart, self.bands, &x_range, (lo, hi), text)?;
        for a in &self.run.arms {
            for (q, width, color) in [
                ("p50", 2, style::arm_light(a.arm)),
                ("p99", 3, style::arm_color(a.arm)),
            ] {
                let points: Vec<(f64, f64)> = a
                    .rows
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.completed() > 0)
                    .map(|(i, r)| {
                        let us = if q == "p50" { r.p50_us } else { r.p99_us };
                        ((i as f64 + 0.5) * step, (us as f64 / 1000.0).max(lo))
                    })
                    .collect();
                let s = chart
                    .draw_series(LineSeries::new(points, color.stroke_width(width)))
                    .map_err(err)?;
                if text {
                    s.label(format!("{} {q}", a.label)).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(width))
                    });
                }
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
