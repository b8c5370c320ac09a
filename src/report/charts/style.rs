//! Shared look of the charts: sizes, fonts, colors, axes and the phase /
//! breaker-open bands drawn behind time-based series.

use std::ops::Range;

use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::font::FAMILY;
use crate::outcome::{Arm, OutcomeClass};

/// Standard chart size: readable without zooming.
pub const SIZE: (u32, u32) = (1200, 600);
/// Caption font size (px).
pub const TITLE_PX: u32 = 26;
/// Tick label font size (px).
pub const LABEL_PX: u32 = 17;
/// Axis description font size (px).
pub const DESC_PX: u32 = 19;

/// Result of a drawing step; plotters errors become text.
pub type DrawResult = Result<(), String>;

/// Converts any plotters error into text.
pub fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Colors (dark, light) of the arms beyond the two built-in ones, picked
/// by name so an arm keeps its color across reports.
const OTHER_ARMS: [(RGBColor, RGBColor); 5] = [
    (RGBColor(44, 160, 44), RGBColor(150, 215, 150)),
    (RGBColor(148, 103, 189), RGBColor(200, 175, 225)),
    (RGBColor(140, 86, 75), RGBColor(205, 165, 155)),
    (RGBColor(214, 39, 40), RGBColor(240, 150, 150)),
    (RGBColor(23, 150, 170), RGBColor(140, 210, 220)),
];

fn arm_colors(arm: Arm) -> (RGBColor, RGBColor) {
    match arm {
        Arm::Resilient => (RGBColor(31, 119, 180), RGBColor(120, 180, 230)),
        Arm::Raw => (RGBColor(230, 110, 0), RGBColor(250, 180, 110)),
        other => {
            // FNV-1a of the name: stable across runs and platforms.
            let h = other
                .as_str()
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                });
            OTHER_ARMS[(h % OTHER_ARMS.len() as u64) as usize]
        }
    }
}

/// Arm colors: blue for the resilient client, orange for the raw one, a
/// color of its own for each other system under test.
pub fn arm_color(arm: Arm) -> RGBColor {
    arm_colors(arm).0
}

/// Lighter variant (p50 lines, uncorrected curves).
pub fn arm_light(arm: Arm) -> RGBColor {
    arm_colors(arm).1
}

/// Outcome class colors: greens for success, warm colors for errors.
pub fn class_color(c: OutcomeClass) -> RGBColor {
    match c {
        OutcomeClass::Ok => RGBColor(44, 160, 44),
        OutcomeClass::Fallback => RGBColor(160, 220, 130),
        OutcomeClass::Shed => RGBColor(148, 103, 189),
        OutcomeClass::RateLimited => RGBColor(197, 176, 213),
        OutcomeClass::BreakerOpen => RGBColor(214, 39, 40),
        OutcomeClass::BudgetExhausted => RGBColor(255, 152, 150),
        OutcomeClass::Timeout => RGBColor(140, 86, 75),
        OutcomeClass::Connection => RGBColor(227, 119, 194),
        OutcomeClass::StreamBroken => RGBColor(247, 182, 210),
        OutcomeClass::Http429 => RGBColor(188, 189, 34),
        OutcomeClass::Http5xx => RGBColor(255, 127, 14),
        OutcomeClass::Http4xx => RGBColor(23, 190, 207),
        OutcomeClass::Other => RGBColor(127, 127, 127),
        OutcomeClass::SutProtocolError => RGBColor(60, 60, 60),
    }
}

/// Font of a given pixel size.
pub fn font(px: u32) -> TextStyle<'static> {
    (FAMILY, px).into_font().into()
}

/// A chart builder with caption and label areas when text is available.
pub fn builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    text: bool,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin(18).margin_right(45);
    if text {
        b.caption(title, font(TITLE_PX))
            .x_label_area_size(60)
            .y_label_area_size(95);
    } else {
        b.margin_top(40).x_label_area_size(0).y_label_area_size(0);
    }
    b
}

/// Tick labels of a time axis ending at `end` seconds: whole seconds, or
/// tenths when the axis is short enough for ticks to fall between seconds
/// (a 4 s run would otherwise read "0 0 1 2 2 2 3").
pub fn time_label(end: f64) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        if end >= 24.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    }
}

/// Draws grid, axes, tick labels and axis descriptions (text only if available).
pub fn mesh<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    text: bool,
    x_fmt: &dyn Fn(&X::ValueType) -> String,
    y_fmt: &dyn Fn(&Y::ValueType) -> String,
    x_labels: usize,
) -> DrawResult
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut m = chart.configure_mesh();
    m.light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(205, 205, 205))
        .axis_style(RGBColor(90, 90, 90));
    if text {
        m.x_desc(x_desc)
            .y_desc(y_desc)
            .label_style(font(LABEL_PX))
            .axis_desc_style(font(DESC_PX))
            .x_labels(x_labels)
            .y_labels(8)
            .x_label_formatter(x_fmt)
            .y_label_formatter(y_fmt);
    } else {
        m.x_labels(0).y_labels(0);
    }
    m.draw().map_err(err)
}

/// A shaded span on the time axis with an optional label.
#[derive(Debug, Clone)]
pub struct Band {
    /// Start and end, seconds.
    pub span: Range<f64>,
    /// Text drawn inside the band.
    pub label: String,
    /// Phase (yellow, labelled at the top) or breaker open (red, at the bottom).
    pub kind: BandKind,
}

/// What a band shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandKind {
    /// A fault phase of the fake server.
    Phase,
    /// An endpoint's breaker was not closed.
    BreakerOpen,
    /// A vertical marker at `span.start` (the end of the load schedule).
    Marker,
}

/// Draws the bands over the full y range; labels only on bands wide enough.
pub fn draw_bands<DB: DrawingBackend, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    bands: &[Band],
    x_range: &Range<f64>,
    y_range: (f64, f64),
    text: bool,
) -> DrawResult
where
    Y: Ranged<ValueType = f64>,
{
    let (y_lo, y_hi) = y_range;
    let width = (x_range.end - x_range.start).max(1e-9);
    let mut phase_row = 0usize;
    let mut breaker_row = 0usize;
    for band in bands {
        let x0 = band.span.start.max(x_range.start);
        let x1 = band.span.end.min(x_range.end);
        if band.kind == BandKind::Marker {
            if x0 <= x_range.start || x0 >= x_range.end {
                continue;
            }
            let grey = RGBColor(90, 90, 90);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x0, y_lo), (x0, y_hi)],
                    grey.stroke_width(2),
                )))
                .map_err(err)?;
            if text {
                let plot = chart.plotting_area();
                let (px, top) = plot.map_coordinate(&(x0, y_hi));
                let (bx, by) = plot.get_base_pixel();
                plot.strip_coord_spec()
                    .draw(&Text::new(
                        band.label.clone(),
                        (px + 6 - bx, top + 50 - by),
                        font(LABEL_PX).color(&grey),
                    ))
                    .map_err(err)?;
            }
            continue;
        }
        if x1 <= x0 {
            continue;
        }
        let (fill, text_color) = match band.kind {
            BandKind::Phase => (RGBColor(255, 196, 0).mix(0.16), RGBColor(150, 105, 0)),
            _ => (RGBColor(220, 30, 30).mix(0.10), RGBColor(180, 20, 20)),
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, y_lo), (x1, y_hi)],
                fill.filled(),
            )))
            .map_err(err)?;
        if !text || band.label.is_empty() || (x1 - x0) / width < 0.04 {
            continue;
        }
        let plot = chart.plotting_area();
        let (px, top) = plot.map_coordinate(&(x0, y_hi));
        let (_, bottom) = plot.map_coordinate(&(x0, y_lo));
        let (x, y) = match band.kind {
            BandKind::Phase => {
                phase_row += 1;
                (px + 6, top + 6 + 22 * ((phase_row - 1) % 2) as i32)
            }
            _ => {
                breaker_row += 1;
                (px + 6, bottom - 26 - 22 * ((breaker_row - 1) % 3) as i32)
            }
        };
        let style = font(LABEL_PX).color(&text_color);
        // Drawn in backend pixels so the label sits inside the band whatever
        // the y scale (linear or log).
        let root = plot.strip_coord_spec();
        root.draw(&Text::new(
            band.label.clone(),
            (x - plot.get_base_pixel().0, y - plot.get_base_pixel().1),
            style,
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Nice upper bound for a linear axis.
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10.0 * mag
}

/// y range for a log axis covering `values` (positive ones), with margins.
pub fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi: f64 = 0.0;
    for v in values.filter(|v| *v > 0.0 && v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.1, 1000.0);
    }
    let lo = 10f64.powf((lo / 1.3).log10().floor());
    // Generous headroom on a log axis keeps the legend clear of the lines.
    let hi = (hi * 2.5).max(lo * 10.0);
    (lo, hi)
}

/// A log axis from `lo` to `hi` with 1-2-5 labelled ticks in every decade
/// (plotters alone labels only powers of ten, too sparse for one decade).
pub fn log_axis(lo: f64, hi: f64) -> WithKeyPoints<LogCoord<f64>> {
    let mut bold = Vec::new();
    let mut light = Vec::new();
    let first = lo.log10().floor() as i32;
    let last = hi.log10().ceil() as i32;
    for d in first..=last {
        let base = 10f64.powi(d);
        for m in 1..=9 {
            let v = m as f64 * base;
            if v < lo * 0.999 || v > hi * 1.001 {
                continue;
            }
            light.push(v);
            if m == 1 || ((last - first) <= 3 && (m == 2 || m == 5)) {
                bold.push(v);
            }
        }
    }
    (lo..hi)
        .log_scale()
        .with_key_points(bold)
        .with_light_points(light)
}

/// Compact tick label for milliseconds: `0.5ms`, `20ms`, `1.5s`.
pub fn axis_ms(x: f64) -> String {
    if x >= 1000.0 {
        format!("{}s", round_sig(x / 1000.0))
    } else {
        format!("{}ms", round_sig(x))
    }
}

fn round_sig(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powi(2 - x.log10().floor() as i32);
    (x * scale).round() / scale
}
