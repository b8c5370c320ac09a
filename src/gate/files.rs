//! Gates' files: summaries read back (a `summary.json` or its report
//! folder), gate lists in YAML, tolerances, and the JSON and JUnit forms of
//! a result.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::evaluate::GateReport;
use super::output::junit_xml;
use crate::report::{write_atomic, ReportError};

/// A gate input that could not be read, or an output not written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// A file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A summary is not JSON.
    #[error("{}:{}:{}: not a summary.json: {source}", path.display(), source.line(), source.column())]
    NotASummary {
        /// The file.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: serde_json::Error,
    },
    /// A gates file is not YAML.
    #[error("{}{location}: {source}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// `:line:col` or empty.
        location: String,
        /// Why.
        #[source]
        source: serde_yaml::Error,
    },
    /// A gates file holds no list of expressions.
    #[error("{}: expected a list of gate expressions, or a `gates:` list", path.display())]
    NotAGateList {
        /// The file.
        path: PathBuf,
    },
    /// A partial or unhealthy report offered to `gate` or `baseline save`.
    #[error("{}: {why}; its numbers do not stand for the whole scenario. Re-run it, or pass --allow-partial to use it anyway", path.display())]
    NotWhole {
        /// The summary.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// `--tolerance` is not a percentage.
    #[error("--tolerance `{0}` is not a percentage such as 10%")]
    Tolerance(String),
    /// `--tolerance` is out of range.
    #[error("--tolerance must be between 0% and 1000%, got {0}")]
    ToleranceRange(String),
    /// A result could not be serialized.
    #[error("cannot serialize the gate results: {0}")]
    Json(#[from] serde_json::Error),
    /// A result file could not be written.
    #[error(transparent)]
    Write(#[from] ReportError),
}

fn summary_path(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("summary.json")
    } else {
        p.to_path_buf()
    }
}

/// Read a summary (or a report folder's summary).
pub fn read_summary(p: &Path) -> Result<Value, FileError> {
    let path = summary_path(p);
    let text = std::fs::read_to_string(&path).map_err(|source| FileError::Read {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| FileError::NotASummary { path, source })
}

/// Refuses a summary that does not stand for a whole run: cut short
/// (`partial: true`, Ctrl-C, a signal or `--abort-on-fail`), written by a
/// generator that could not keep the load (`generator.healthy: false`), or
/// in a folder whose report was never completed (`INCOMPLETE`).
pub fn check_whole(p: &Path, s: &Value) -> Result<(), FileError> {
    let path = summary_path(p);
    let not_whole = |why: String| FileError::NotWhole {
        path: path.clone(),
        why,
    };
    let folder = if p.is_dir() { Some(p) } else { p.parent() };
    if folder.is_some_and(|d| d.join(crate::report::names::INCOMPLETE).exists()) {
        return Err(not_whole(
            "the report folder is marked INCOMPLETE (writing it failed)".into(),
        ));
    }
    if s.get("partial").and_then(Value::as_bool) == Some(true) {
        let elapsed = s.get("elapsed_s").and_then(Value::as_f64).unwrap_or(0.0);
        let asked = s
            .pointer("/scenario/duration_s")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        return Err(not_whole(format!(
            "the run was cut short (partial: true, {elapsed:.1} s of {asked:.1} s)"
        )));
    }
    if s.pointer("/generator/healthy").and_then(Value::as_bool) == Some(false) {
        let problems = s
            .pointer("/generator/problems")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        return Err(not_whole(format!(
            "the generator could not keep the asked load (generator.healthy: false: {problems})"
        )));
    }
    Ok(())
}

/// Parse a tolerance such as `10%` or `0.1` into a fraction.
pub fn parse_tolerance(t: &str) -> Result<f64, FileError> {
    let t = t.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| FileError::Tolerance(t.to_string()))?;
    if !(0.0..=10.0).contains(&v) {
        return Err(FileError::ToleranceRange(t.to_string()));
    }
    Ok(v)
}

/// The gate expressions of a YAML file: a `gates:` list (a scenario works)
/// or a plain list.
pub fn gates_from_file(p: &Path) -> Result<Vec<String>, FileError> {
    let text = std::fs::read_to_string(p).map_err(|source| FileError::Read {
        path: p.to_path_buf(),
        source,
    })?;
    let v: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|source| FileError::Yaml {
        path: p.to_path_buf(),
        location: source
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default(),
        source,
    })?;
    let list = v.get("gates").cloned().unwrap_or(v);
    serde_yaml::from_value(list).map_err(|_| FileError::NotAGateList {
        path: p.to_path_buf(),
    })
}

/// Gates recorded in a summary by `harness run` (its scenario's `gates:`).
pub fn gates_in_summary(s: &Value) -> Vec<String> {
    s.pointer("/scenario/gates")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Write the JSON and JUnit forms of a gate report where asked.
pub fn write_outputs(
    report: &GateReport,
    suite: &str,
    json: Option<&Path>,
    junit: Option<&Path>,
) -> Result<(), FileError> {
    if let Some(p) = json {
        let text = serde_json::to_string_pretty(report)?;
        write_atomic(p, text.as_bytes())?;
    }
    if let Some(p) = junit {
        write_atomic(p, junit_xml(report, suite).as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_forms() {
        assert_eq!(parse_tolerance("10%").unwrap(), 0.1);
        assert_eq!(parse_tolerance("0.25").unwrap(), 0.25);
        assert!(parse_tolerance("ten").is_err());
        assert!(parse_tolerance("-5%").is_err());
    }
}
