//! The tuning chart: corrected p99 against success rate, one point per
//! setting, the recommended one ringed. SVG always; PNG when a font exists.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Row;

const SIZE: (u32, u32) = (1200, 650);

/// Write `tune.svg` (and `tune.png` when a font is available).
pub fn tune_chart(dir: &Path, rows: &[Row], chosen: Option<usize>) -> Result<(), String> {
    let text = crate::report::ensure_font(&crate::report::default_font_paths()).is_ok();
    let svg = dir.join("tune.svg");
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        draw(&root, rows, chosen, text)?;
        root.present().map_err(|e| e.to_string())?;
    }
    if text {
        let png = dir.join("tune.png");
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        draw(&root, rows, chosen, text)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[Row],
    chosen: Option<usize>,
    text: bool,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let pts: Vec<(usize, f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r.success_rate? * 100.0, r.p99_ms?)))
        .collect();
    let (mut x0, mut x1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if pts.is_empty() {
        (x0, x1) = (0.0, 100.0);
    }
    let pad = ((x1 - x0) * 0.1).max(0.5);
    let (x0, x1) = ((x0 - pad).max(0.0), (x1 + pad).min(100.5));
    let ymax = pts.iter().map(|p| p.2).fold(1.0, f64::max) * 1.2;
    let mut b = ChartBuilder::on(root);
    b.margin(20).margin_right(40);
    if text {
        b.caption(
            "Tuning: p99 vs success rate per setting",
            ("sans-serif", 26),
        )
        .x_label_area_size(60)
        .y_label_area_size(90);
    }
    let mut chart = b.build_cartesian_2d(x0..x1, 0.0..ymax).map_err(e)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("success rate (%)")
            .y_desc("corrected p99 (ms)")
            .label_style(("sans-serif", 17))
            .axis_desc_style(("sans-serif", 19));
    } else {
        mesh.disable_x_axis().disable_y_axis();
    }
    mesh.draw().map_err(e)?;
    let blue = RGBColor(31, 119, 180);
    chart
        .draw_series(
            pts.iter()
                .map(|p| Circle::new((p.1, p.2), 7, blue.filled())),
        )
        .map_err(e)?;
    if let Some(c) = chosen.and_then(|c| pts.iter().find(|p| p.0 == c)) {
        let red = RGBColor(214, 39, 40);
        chart
            .draw_series(std::iter::once(Circle::new(
                (c.1, c.2),
                14,
                red.stroke_width(3),
            )))
            .map_err(e)?;
        if text {
            chart
                .draw_series(std::iter::once(Text::new(
                    "recommended",
                    (c.1, c.2),
                    ("sans-serif", 17).into_font().color(&red),
                )))
                .map_err(e)?;
        }
    }
    if text {
        chart
            .draw_series(pts.iter().map(|p| {
                let label = rows[p.0]
                    .settings
                    .iter()
                    .map(|s| s.rsplit('.').next().unwrap_or(s).to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                Text::new(label, (p.1, p.2), ("sans-serif", 14).into_font())
            }))
            .map_err(e)?;
    }
    Ok(())
}
