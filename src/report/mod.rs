//! The report of one run: `summary.json`, `latency.hlog`, `events.jsonl`,
//! `timeseries.csv`, charts (SVG + PNG), `index.html` and the terminal
//! table. Every file is written atomically (temporary name, then rename).

mod charts;
mod hlog;
mod html;
mod percentiles;
mod summary;
mod table;
mod timeseries;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub use charts::{default_font_paths, ensure_font, ChartFile};
pub use hlog::{read_hlog, HlogReadError};
pub use summary::{
    build_summary, ArmSummary, BreakerSummary, EndpointBreakerSummary, EventsSummary,
    GeneratorSummary, LatencySummary, LoadSummary, Percentiles, PhaseSummary, ScenarioSummary,
    Summary, LAG_P99_LIMIT_MS, SCHEMA_VERSION,
};
pub(crate) use table::arm_label;
pub use table::summary_table;

use crate::record::RunData;

/// File names inside the report directory.
pub mod names {
    /// Machine-readable summary.
    pub const SUMMARY: &str = "summary.json";
    /// HdrHistogram interval log.
    pub const HLOG: &str = "latency.hlog";
    /// Client and server events, one JSON object per line.
    pub const EVENTS: &str = "events.jsonl";
    /// Per-second series.
    pub const TIMESERIES: &str = "timeseries.csv";
    /// The terminal table, as text.
    pub const TABLE: &str = "summary.txt";
    /// The HTML page.
    pub const INDEX: &str = "index.html";
}

/// Errors while writing the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file or directory could not be written or moved.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The summary could not be serialized.
    #[error("cannot serialize summary.json: {0}")]
    Json(#[from] serde_json::Error),
}

impl ReportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// One fault phase of the fake server, as the scenario declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseInfo {
    /// Phase name (shown on the chart bands).
    pub name: String,
    /// Start, offset from t0.
    pub at: Duration,
    /// Length (`for:` in the scenario).
    pub duration: Duration,
    /// Node indices affected; `None` = all nodes.
    pub nodes: Option<Vec<usize>>,
}

/// Facts about the run that the recorder does not know; filled by the CLI.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// Scenario `name:`.
    pub scenario_name: String,
    /// Scenario file path as given.
    pub scenario_file: String,
    /// RNG seed.
    pub seed: u64,
    /// Duration asked.
    pub duration: Duration,
    /// Actual elapsed time (shorter when partial).
    pub elapsed: Duration,
    /// Wall-clock start.
    pub started_at: SystemTime,
    /// Ended early (Ctrl-C).
    pub partial: bool,
    /// `open` or `closed`.
    pub load_model: String,
    /// What carried the requests: `client` (the client under test) or
    /// `direct` (plain connections, no client).
    pub via: String,
    /// Asked rate, open model (requests/s; mean rate for shaped loads).
    pub asked_rps: Option<f64>,
    /// Virtual users, closed model.
    pub users: Option<u64>,
    /// Streaming requests.
    pub stream: bool,
    /// Fault phases.
    pub phases: Vec<PhaseInfo>,
    /// Endpoints (base URLs) given to the client, node order.
    pub endpoints: Vec<String>,
    /// Times the generator hit `max_in_flight`.
    pub max_in_flight_hits: u64,
    /// Intended sends in the schedule (open model), when known.
    pub schedule_len: Option<u64>,
    /// Harness version (`env!("CARGO_PKG_VERSION")`).
    pub harness_version: String,
    /// Events dropped before reaching the recorder (channel full).
    pub lost_events: u64,
    /// The scenario's gate expressions, recorded in the summary.
    pub gates: Vec<String>,
}

impl Default for RunInfo {
    fn default() -> Self {
        Self {
            scenario_name: String::new(),
            scenario_file: String::new(),
            seed: 0,
            duration: Duration::ZERO,
            elapsed: Duration::ZERO,
            started_at: SystemTime::UNIX_EPOCH,
            partial: false,
            load_model: "open".to_string(),
            via: "client".to_string(),
            asked_rps: None,
            users: None,
            stream: false,
            phases: Vec::new(),
            endpoints: Vec::new(),
            max_in_flight_hits: 0,
            schedule_len: None,
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            lost_events: 0,
            gates: Vec::new(),
        }
    }
}

impl RunInfo {
    /// Time during which load was offered: the duration asked, or the
    /// elapsed time when shorter (interrupted run). The drain of requests
    /// still in flight after the schedule ends is not counted, so rates
    /// compare with the asked rate.
    pub fn load_window(&self) -> Duration {
        if self.duration.is_zero() {
            self.elapsed
        } else {
            self.duration.min(self.elapsed)
        }
    }

    /// `started_at` as RFC 3339 UTC with seconds (`2026-11-26T09:41:35Z`).
    pub fn started_at_rfc3339(&self) -> String {
        humantime::format_rfc3339_seconds(self.started_at).to_string()
    }
}

/// Knobs of the report writer (tests inject the font search path).
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// TTF files or directories searched, in order, for the PNG font.
    pub font_paths: Vec<PathBuf>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            font_paths: default_font_paths(),
        }
    }
}

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

    let rendered = charts::write_all(dir, run, info, opts)?;

    let index = dir.join(names::INDEX);
    let page = html::render(
        &summary_data,
        &rendered.charts,
        rendered.png_skipped.as_deref(),
    );
    write_atomic(&index, page.as_bytes())?;

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

/// Writes `bytes` to `path` via `path.tmp` and a rename, so a reader never
/// sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = tmp_path(path, "tmp");
    fs::write(&tmp, bytes).map_err(|e| ReportError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| ReportError::io(path, e))
}

/// `dir/name.<suffix>` next to `path`.
pub(crate) fn tmp_path(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

/// Moves a streamed file to its final name (rename; copy when renaming
/// across file systems fails). A missing source is an error: the recorder
/// always creates it.
fn move_into(from: &Path, to: &Path) -> Result<(), ReportError> {
    if from == to {
        return Ok(());
    }
    if fs::rename(from, to).is_ok() {
        return Ok(());
    }
    let tmp = tmp_path(to, "tmp");
    fs::copy(from, &tmp).map_err(|e| ReportError::io(from, e))?;
    fs::rename(&tmp, to).map_err(|e| ReportError::io(to, e))?;
    let _ = fs::remove_file(from);
    Ok(())
}
