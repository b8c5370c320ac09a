//! Charts 2 and 5: latency by percentile on a log "nines" axis
//! (x = log10(1/(1-q)): 0%, 90%, 99%, 99.9%, ...), HdrHistogram-plotter style.

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::Chart;
use super::style::{self, builder, err, log_range, mesh, DrawResult};

/// One curve.
pub struct Curve<'a> {
    /// Legend text.
    pub label: String,
    /// Histogram (µs).
    pub hist: &'a Histogram<u64>,
    /// Line color.
    pub color: RGBColor,
    /// Dashed (uncorrected) or solid.
    pub dashed: bool,
}

/// A percentile-distribution panel.
pub struct NinesPanel<'a> {
    /// Caption.
    pub title: String,
    /// Curves.
    pub curves: Vec<Curve<'a>>,
}

/// Label of a nines position: 1 -> "90%", 3 -> "99.9%".
pub fn nines_label(x: f64) -> String {
    let k = x.round() as i32;
    if (x - k as f64).abs() > 1e-6 {
        return String::new();
    }
    if k <= 0 {
        return "0%".into();
    }
    let p = 100.0 * (1.0 - 10f64.powi(-k));
    format!("{p:.prec$}%", prec = (k - 2).max(0) as usize)
}

impl NinesPanel<'_> {
    /// Highest nines position worth plotting for these curves (2..=5).
    fn x_max(&self) -> f64 {
        let n = self
            .curves
            .iter()
            .map(|c| c.hist.len())
            .max()
            .unwrap_or(0)
            .max(1);
        (n as f64).log10().ceil().clamp(2.0, 5.0)
    }

    /// Draws the panel into `area`.
    pub fn draw_in<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> DrawResult {
        let x_max = self.x_max();
        const STEPS: usize = 300;
        let series: Vec<Vec<(f64, f64)>> = self
            .curves
            .iter()
            .map(|c| {
                if c.hist.is_empty() {
                    return Vec::new();
                }
                (0..=STEPS)
                    .map(|i| {
                        let x = x_max * i as f64 / STEPS as f64;
                        let q = (1.0 - 10f64.powf(-x)).clamp(0.0, 1.0);
                        (x, c.hist.value_at_quantile(q) as f64 / 1000.0)
                    })
                    .collect()
            })
            .collect();
        let (lo, hi) = log_range(series.iter().flatten().map(|p| p.1));
        let mut chart = builder(area, &self.title, text)
            .build_cartesian_2d(0.0..x_max, style::log_axis(lo, hi))
            .map_err(err)?;
        mesh(
            &mut chart,
            "percentile",
            "latency (log scale)",
            text,
            &|v| nines_label(*v),
            &|v| style::axis_ms(*v),
            x_max as usize + 1,
        )?;
        for (c, pts) in self.curves.iter().zip(series) {
            if pts.is_empty() {
                continue;
            }
            let pts: Vec<(f64, f64)> = pts.into_iter().map(|(x, y)| (x, y.max(lo))).collect();
            let color = c.color;
            let dashed = c.dashed;
            let width = if dashed { 2 } else { 3 };
            let anno = if dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts, 10, 6, color.stroke_width(width)))
                    .map_err(err)?
            } else {
                chart
                    .draw_series(LineSeries::new(pts, color.stroke_width(width)))
                    .map_err(err)?
            };
            if text {
                anno.label(c.label.clone()).legend(move |(x, y)| {
                    let end = if dashed { x + 10 } else { x + 24 };
                    PathElement::new(vec![(x, y), (end, y)], color.stroke_width(width))
                });
            }
        }
        if text {
            chart
                .configure_series_labels()
                .label_font(style::font(style::LABEL_PX))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(160, 160, 160))
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

/// Chart 2: end-to-end latency distribution, corrected vs uncorrected, per arm.
pub struct LatencyNines<'a> {
    /// The single panel.
    pub panel: NinesPanel<'a>,
}

impl Chart for LatencyNines<'_> {
    fn name(&self) -> &'static str {
        "latency_percentiles"
    }

    fn title(&self) -> String {
        self.panel.title.clone()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, text: bool) -> DrawResult {
        self.panel.draw_in(root, text)
    }
}

/// Chart 5: TTFT (left) and ITL (right) distributions, streaming runs only.
pub struct StreamNines<'a> {
    /// Time to first token.
    pub ttft: NinesPanel<'a>,
    /// Inter-token latency.
    pub itl: NinesPanel<'a>,
}

impl Chart for StreamNines<'_> {
    fn name(&self) -> &'static str {
        "stream_latency"
    }

    fn title(&self) -> String {
        "Streaming: time to first token and inter-token latency".into()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, text: bool) -> DrawResult {
        let (w, _) = root.dim_in_pixel();
        let (left, right) = root.split_horizontally(w / 2);
        self.ttft.draw_in(&left, text)?;
        self.itl.draw_in(&right, text)
    }
}

#[cfg(test)]
mod tests {
    use super::nines_label;

    #[test]
    fn nines_labels() {
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(2.0), "99%");
        assert_eq!(nines_label(3.0), "99.9%");
        assert_eq!(nines_label(4.0), "99.99%");
        assert_eq!(nines_label(1.5), "");
    }
}
