//! Charts of the report, each drawn once per backend: SVG always, PNG when
//! a TTF font could be registered. Without a font the SVGs are drawn
//! without plotters text and get a plain SVG `<text>` title instead (the
//! viewer's own fonts render it).

mod attempts;
pub(super) mod chart;
pub(super) mod font;
mod latency;
mod nines;
mod nodes;
mod style;
mod throughput;

use std::path::Path;

use plotters::prelude::*;

use super::escape::escape;
use super::files::{tmp_path, write_atomic, ReportError};
use super::info::{ReportOptions, RunInfo};
use crate::outcome::Arm;
use crate::record::RunData;
use chart::{Chart, ChartFile};
use style::{Band, BandKind};

/// What [`write_all`] produced.
pub(crate) struct Rendered {
    pub charts: Vec<ChartFile>,
    pub png_skipped: Option<String>,
    pub warnings: Vec<String>,
}

/// Draws every chart that applies to this run into `dir`.
pub(crate) fn write_all(
    dir: &Path,
    run: &RunData,
    info: &RunInfo,
    opts: &ReportOptions,
) -> Result<Rendered, ReportError> {
    let font = font::ensure_font(&opts.font_paths);
    let text = font.is_ok();
    let mut out = Rendered {
        charts: Vec::new(),
        png_skipped: font.err().map(|e| e.to_string()),
        warnings: Vec::new(),
    };
    let bands = bands(run, info);
    render(
        dir,
        &latency::LatencyOverTime { run, bands: &bands },
        text,
        &mut out,
    )?;
    render(dir, &latency_nines(run), text, &mut out)?;
    render(
        dir,
        &throughput::Throughput { run, bands: &bands },
        text,
        &mut out,
    )?;
    render(dir, &attempts::Attempts { run }, text, &mut out)?;
    if !info.verdicts.is_empty() {
        let phase_bands: Vec<Band> = bands
            .iter()
            .filter(|b| b.kind != BandKind::BreakerOpen)
            .cloned()
            .collect();
        let arms = info
            .verdicts
            .iter()
            .map(|(arm, v)| {
                let label = run
                    .arms
                    .iter()
                    .find(|a| a.arm.as_str() == arm)
                    .map_or(arm.as_str(), |a| a.label);
                (label, v)
            })
            .collect();
        let chart = nodes::NodeTraffic {
            arms,
            bands: &phase_bands,
            end: run.end.as_secs_f64(),
            offset: info.journal_offset_s,
        };
        render(dir, &chart, text, &mut out)?;
    }
    let streamed = run
        .arms
        .iter()
        .any(|a| !a.hist.ttft.is_empty() || !a.hist.itl.is_empty());
    if info.stream || streamed {
        render(dir, &stream_nines(run), text, &mut out)?;
    }
    Ok(out)
}

fn latency_nines(run: &RunData) -> nines::LatencyNines<'_> {
    let mut curves = Vec::new();
    for a in &run.arms {
        curves.push(nines::Curve {
            label: format!("{} corrected", a.label),
            hist: &a.hist.corrected,
            color: style::arm_color(a.arm),
            dashed: false,
        });
        curves.push(nines::Curve {
            label: format!("{} uncorrected", a.label),
            hist: &a.hist.uncorrected,
            color: style::arm_light(a.arm),
            dashed: true,
        });
    }
    nines::LatencyNines {
        panel: nines::NinesPanel {
            title: "Latency by percentile (whole run)".into(),
            curves,
        },
    }
}

fn stream_nines(run: &RunData) -> nines::StreamNines<'_> {
    let panel =
        |title: &str, pick: fn(&crate::record::ArmData) -> &hdrhistogram::Histogram<u64>| {
            nines::NinesPanel {
                title: title.into(),
                curves: run
                    .arms
                    .iter()
                    .map(|a| nines::Curve {
                        label: a.label.into(),
                        hist: pick(a),
                        color: style::arm_color(a.arm),
                        dashed: false,
                    })
                    .collect(),
            }
        };
    nines::StreamNines {
        ttft: panel("Time to first token", |a| &a.hist.ttft),
        itl: panel("Inter-token latency", |a| &a.hist.itl),
    }
}

/// Phase bands from the scenario and breaker-not-closed bands from the
/// recorded transitions (resilient arm; the raw client has no breaker).
fn bands(run: &RunData, info: &RunInfo) -> Vec<Band> {
    let mut v: Vec<Band> = info
        .phases
        .iter()
        .map(|p| Band {
            span: p.at.as_secs_f64()..(p.at + p.duration).as_secs_f64(),
            label: match &p.nodes {
                Some(n) if !n.is_empty() => format!(
                    "{} (node {})",
                    p.name,
                    n.iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                _ => p.name.clone(),
            },
            kind: BandKind::Phase,
        })
        .collect();
    // Requests still in flight when the schedule ended drain after it; a
    // marker keeps that tail from being read as part of the load.
    let window = info.load_window();
    if info.elapsed > window + std::time::Duration::from_millis(500) {
        v.push(Band {
            span: window.as_secs_f64()..window.as_secs_f64(),
            label: "schedule ends".into(),
            kind: BandKind::Marker,
        });
    }
    for a in run.arms.iter().filter(|a| a.arm == Arm::Resilient) {
        for b in &a.breakers {
            let name = match info.endpoints.iter().position(|e| e == &b.endpoint) {
                Some(i) => format!("node {i}"),
                None => b
                    .endpoint
                    .trim_start_matches("http://")
                    .trim_start_matches("https://")
                    .to_string(),
            };
            for (s, e) in b.not_closed_spans(run.end) {
                v.push(Band {
                    span: s.as_secs_f64()..e.as_secs_f64(),
                    label: format!("breaker open: {name}"),
                    kind: BandKind::BreakerOpen,
                });
            }
        }
    }
    v
}

fn render<C: Chart>(
    dir: &Path,
    chart: &C,
    text: bool,
    out: &mut Rendered,
) -> Result<(), ReportError> {
    let svg = dir.join(format!("{}.svg", chart.name()));
    match svg_string(chart, text) {
        Ok(s) => write_atomic(&svg, s.as_bytes())?,
        Err(e) => {
            out.warnings.push(format!("{}.svg: {e}", chart.name()));
            return Ok(());
        }
    }
    let mut png = None;
    if text {
        let path = dir.join(format!("{}.png", chart.name()));
        match write_png(chart, &path) {
            Ok(()) => png = Some(path),
            Err(e) => out.warnings.push(format!("{}.png: {e}", chart.name())),
        }
    }
    out.charts.push(ChartFile {
        name: chart.name().to_string(),
        title: chart.title(),
        svg,
        png,
    });
    Ok(())
}

fn svg_string<C: Chart>(chart: &C, text: bool) -> Result<String, String> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, chart.size()).into_drawing_area();
        root.fill(&WHITE).map_err(style::err)?;
        chart.draw(&root, text)?;
        root.present().map_err(style::err)?;
    }
    if !text {
        s = add_svg_title(&s, &chart.title(), chart.size().0);
    }
    Ok(s)
}

/// Adds a plain SVG title (rendered by the viewer's fonts) to a chart drawn
/// without plotters text.
fn add_svg_title(svg: &str, title: &str, width: u32) -> String {
    let esc = escape(title);
    let text = format!(
        "<title>{esc}</title>\n<text x=\"{}\" y=\"16\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"20\" fill=\"#000\">{esc}</text>\n",
        width / 2
    );
    match svg.rfind("</svg>") {
        Some(i) => format!("{}{}{}", &svg[..i], text, &svg[i..]),
        None => svg.to_string(),
    }
}

fn write_png<C: Chart>(chart: &C, path: &Path) -> Result<(), String> {
    // The bitmap encoder picks the format from the extension, so the
    // temporary file keeps `.png` at the end.
    let tmp = tmp_path(&path.with_extension(""), "tmp.png");
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, chart.size()).into_drawing_area();
        root.fill(&WHITE).map_err(style::err)?;
        chart.draw(&root, true)?;
        root.present().map_err(style::err)
    })();
    // A failed PNG (a full disk) is a warning, and leaves no `.tmp.png`.
    drawn
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display())))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}
