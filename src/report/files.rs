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
    /// Present while the report is being written, and left when writing
    /// it failed: the folder is not a complete report.
    pub const INCOMPLETE: &str = "INCOMPLETE";
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
/// sees a half-written file; on failure (a full disk) the temporary file is
/// removed, so nothing half-written stays behind under any name.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = tmp_path(path, "tmp");
    fs::write(&tmp, bytes)
        .map_err(|e| ReportError::io(path, e))
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| ReportError::io(path, e)))
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
}

/// Marks `dir` as not a complete report until [`unmark_incomplete`]: an
/// empty file needs no data block, so it can be written even on a full
/// disk, and a reader (or `harness gate`) can tell a cut-short folder from
/// a report.
pub fn mark_incomplete(dir: &Path) -> Result<(), ReportError> {
    let marker = dir.join(names::INCOMPLETE);
    fs::write(&marker, b"").map_err(|e| ReportError::io(&marker, e))
}

/// Removes the marker of [`mark_incomplete`]: every file is written.
pub(crate) fn unmark_incomplete(dir: &Path) -> Result<(), ReportError> {
    let marker = dir.join(names::INCOMPLETE);
    match fs::remove_file(&marker) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ReportError::io(&marker, e)),
        _ => Ok(()),
    }
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
    fs::copy(from, &tmp)
        .map_err(|e| ReportError::io(to, e))
        .and_then(|_| fs::rename(&tmp, to).map_err(|e| ReportError::io(to, e)))
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })?;
    let _ = fs::remove_file(from);
    Ok(())
}
