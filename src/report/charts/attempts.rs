//! Chart 4: attempts per request (share of requests with 0, 1, 2, ...
//! attempts), bars grouped by arm.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::Chart;
use super::style::{self, arm_color, builder, err, mesh, DrawResult};
use crate::record::RunData;

/// See the module doc.
pub struct Attempts<'a> {
    /// Run data.
    pub run: &'a RunData,
}

impl Chart for Attempts<'_> {
    fn name(&self) -> &'static str {
        "attempts"
    }

    fn title(&self) -> String {
        "Attempts per request".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, text: bool) -> DrawResult {
        // (arm index, attempts value, share %) for every recorded value.
        let mut bars: Vec<(usize, u64, f64, u64)> = Vec::new();
        for (ai, a) in self.run.arms.iter().enumerate() {
            let total = a.attempts_hist.len().max(1) as f64;
            for v in a.attempts_hist.iter_recorded() {
                let n = v.count_at_value();
                bars.push((ai, v.value_iterated_to(), 100.0 * n as f64 / total, n));
            }
        }
        let max_v = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1);
        let x_range = -0.5..(max_v as f64 + 0.5);
        let mut chart = builder(root, &self.title(), text)
            .build_cartesian_2d(x_range, 0.0..110.0)
            .map_err(err)?;
        mesh(
            &mut chart,
            "attempts made (0 = rejected before sending, 1 = no retry)",
            "share of requests (%)",
            text,
            &|v| {
                if (v - v.round()).abs() < 1e-6 && *v >= 0.0 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            },
            &|v| format!("{v:.0}%"),
            (max_v as usize + 2).min(25),
        )?;
        let arms = self.run.arms.len().max(1) as f64;
        let w = 0.8 / arms;
        for (ai, a) in self.run.arms.iter().enumerate() {
            let color = arm_color(a.arm);
            let mine: Vec<&(usize, u64, f64, u64)> = bars.iter().filter(|b| b.0 == ai).collect();
            let rects: Vec<Rectangle<(f64, f64)>> = mine
                .iter()
                .map(|(_, v, pct, _)| {
                    let x0 = *v as f64 - 0.4 + w * ai as f64;
                    Rectangle::new([(x0, 0.0), (x0 + w * 0.92, *pct)], color.filled())
                })
                .collect();
            let s = chart.draw_series(rects).map_err(err)?;
            if text {
                s.label(a.label).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 7), (x + 18, y + 7)], color.filled())
                });
                let labels = mine.iter().map(|(_, v, pct, n)| {
                    let x0 = *v as f64 - 0.4 + w * ai as f64;
                    Text::new(
                        format!("{pct:.1}% ({n})"),
                        (x0, pct + 5.0),
                        style::font(15).color(&RGBColor(60, 60, 60)),
                    )
                });
                chart.draw_series(labels).map_err(err)?;
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
