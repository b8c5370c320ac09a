//! The report folder's files: their names, atomic writes (temporary name,
//! then rename), and the error of either.

use std::fs;
use std::path::{Path, PathBuf};

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
    /// The verdicts of the first arm's journal (`verdicts.<arm>.json` for
    /// the others).
    pub const VERDICTS: &str = "verdicts.json";
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
pub(crate) fn move_into(from: &Path, to: &Path) -> Result<(), ReportError> {
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
