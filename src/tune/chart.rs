//! The tuning chart: corrected p99 against success rate, one point per
//! setting, the recommended one ringed. SVG always; PNG when a font exists.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::table::Row;

const SIZE: (u32, u32) = (1200, 650);

/// Write `tune.svg` (and `tune.png` when a font is available).
pub fn tune_chart(
    dir: &Path,
    rows: &[Row],
    order: &[usize],
    chosen: Option<usize>,
) -> Result<(), String> {
    let text = crate::report::ensure_font(&crate::report::default_font_paths()).is_ok();
    let svg = dir.join("tune.svg");
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        draw(&root, rows, order, chosen, text)?;
        root.present().map_err(|e| e.to_string())?;
    }
    if text {
        let png = dir.join("tune.png");
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        draw(&root, rows, order, chosen, text)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[Row],
    order: &[usize],
    chosen: Option<usize>,
    text: bool,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    // Settings are listed by rank on the right; points carry only `#rank`,
    // so near-identical points stay readable.
    let (root, legend) = root.split_horizontally(SIZE.0 - 330);
    let rank_of = |i: usize| order.iter().position(|&o| o == i).map_or(0, |r| r + 1);
    if text {
        for (line, &i) in order.iter().enumerate() {
            let mut y = 70 + line as i32 * 44;
            let color = if Some(i) == chosen {
                RGBColor(214, 39, 40)
            } else {
                BLACK
            };
            legend
                .draw(&Text::new(
                    format!(
                        "#{}{}",
                        line + 1,
                        if Some(i) == chosen {
                            " (recommended)"
                        } else {
                            ""
                        }
                    ),
                    (10, y),
                    ("sans-serif", 16).into_font().color(&color),
                ))
                .map_err(e)?;
            for s in &rows[i].settings {
                y += 18;
                if y > SIZE.1 as i32 - 20 {
                    break;
                }
                legend
                    .draw(&Text::new(
                        s.clone(),
                        (22, y),
                        ("sans-serif", 13).into_font(),
                    ))
                    .map_err(e)?;
            }
        }
    }
    let root = &root;
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
    }
    if text {
        chart
            .draw_series(pts.iter().map(|p| {
                Text::new(
                    format!("#{}", rank_of(p.0)),
                    (p.1, p.2),
                    ("sans-serif", 16).into_font(),
                )
            }))
            .map_err(e)?;
    }
    Ok(())
}
