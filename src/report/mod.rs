//! The report of one run: `summary.json`, `latency.hlog`, `events.jsonl`,
//! `timeseries.csv`, charts (SVG + PNG), `index.html` and the terminal
//! table. Every file is written atomically (temporary name, then rename).

mod charts;
mod escape;
mod files;
mod hlog;
mod html;
mod info;
mod percentiles;
mod summary;
mod table;
mod timeseries;

use std::fs;
use std::path::{Path, PathBuf};

pub use charts::chart::ChartFile;
pub use charts::font::{default_font_paths, ensure_font, FontError};
pub use files::{mark_incomplete, names, write_atomic, ReportError};
pub use hlog::{read_hlog, HlogReadError};
pub use info::{PhaseInfo, ReportOptions, RunInfo};
pub use summary::{
    arm_verdicts, build_summary, ArmSummary, ArmVerdicts, BreakerSummary, EndpointBreakerSummary,
    EventsSummary, GeneratorSummary, InferredOpen, LatencySummary, LoadSummary, Percentiles,
    PhaseSummary, ScenarioSummary, Summary, LAG_P99_LIMIT_MS, SCHEMA_VERSION,
};
pub(crate) use table::arm_label;
pub use table::summary_table;

use crate::record::RunData;
use files::move_into;

/// What was written.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    /// The report directory.
    pub dir: PathBuf,
    /// summary.json.
    pub summary: PathBuf,
    /// latency.hlog.
    pub hlog: PathBuf,
    /// events.jsonl.
    pub events: PathBuf,
    /// timeseries.csv.
    pub timeseries: PathBuf,
    /// summary.txt (the terminal table).
    pub table: PathBuf,
    /// index.html.
    pub index: PathBuf,
    /// Charts written.
    pub charts: Vec<ChartFile>,
    /// Why PNGs were not written (no usable font), if so; the reason only,
    /// e.g. `no TTF font found (searched ...)`.
    pub png_skipped: Option<String>,
    /// Charts that failed to render (the rest of the report is complete).
    pub warnings: Vec<String>,
    /// The summary as written.
    pub summary_data: Summary,
}

/// Writes the report into `dir` (created if missing) with default options.
pub fn write_report(dir: &Path, run: &RunData, info: &RunInfo) -> Result<ReportFiles, ReportError> {
    write_report_with(dir, run, info, &ReportOptions::default())
}

/// Writes the report into `dir` with explicit options.
pub fn write_report_with(
    dir: &Path,
    run: &RunData,
    info: &RunInfo,
    opts: &ReportOptions,
) -> Result<ReportFiles, ReportError> {
    fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    // Left in place if any write below fails (a full disk): the folder then
    // says it is not a complete report.
    files::mark_incomplete(dir)?;
    let hlog = dir.join(names::HLOG);
    move_into(&run.hlog_path, &hlog)?;
    let events = dir.join(names::EVENTS);
    move_into(&run.events_path, &events)?;

    let summary_data = build_summary(run, info);
    let summary = dir.join(names::SUMMARY);
    let mut json = serde_json::to_string_pretty(&summary_data)?;
    json.push('\n');
    write_atomic(&summary, json.as_bytes())?;

    let timeseries = dir.join(names::TIMESERIES);
    write_atomic(&timeseries, timeseries::render_csv(run, info).as_bytes())?;

    let table = dir.join(names::TABLE);
    write_atomic(&table, summary_table(run, info).as_bytes())?;

    for (i, (arm, v)) in info.verdicts.iter().enumerate() {
        let name = if i == 0 {
            names::VERDICTS.to_string()
        } else {
            format!("verdicts.{arm}.json")
        };
        let mut json = serde_json::to_string_pretty(v)?;
        json.push('\n');
        write_atomic(&dir.join(name), json.as_bytes())?;
    }

    let rendered = charts::write_all(dir, run, info, opts)?;

    let index = dir.join(names::INDEX);
    let page = html::render(
        &summary_data,
        &rendered.charts,
        rendered.png_skipped.as_deref(),
    );
    write_atomic(&index, page.as_bytes())?;
    files::unmark_incomplete(dir)?;

    Ok(ReportFiles {
        dir: dir.to_path_buf(),
        summary,
        hlog,
        events,
        timeseries,
        table,
        index,
        charts: rendered.charts,
        png_skipped: rendered.png_skipped,
        warnings: rendered.warnings,
        summary_data,
    })
}
