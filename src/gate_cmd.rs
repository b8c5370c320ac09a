//! `harness gate` and `harness baseline save`: gates on saved reports, and
//! committing a report's summary as the baseline later runs are held to.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;

use crate::cli::exit;
use crate::gate::{self, GateReport};

/// `harness gate` arguments.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// `summary.json` files or report folders; several = repeats, each
    /// metric taken as their median.
    #[arg(required = true)]
    pub summaries: Vec<PathBuf>,
    /// Gate expressions (`p99 < 2s`); repeatable.
    #[arg(long = "expr", short = 'e', value_name = "EXPR")]
    pub exprs: Vec<String>,
    /// A YAML file with a `gates:` list (a scenario works), or a plain list.
    #[arg(long)]
    pub gates: Option<PathBuf>,
    /// Compare each gated metric with this baseline summary.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Allowed regression against the baseline, e.g. `10%`.
    #[arg(long, default_value = "10%")]
    pub tolerance: String,
    /// Write the result as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the result as JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
}

/// `harness baseline` arguments.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// `save`.
    #[arg(value_parser = ["save"])]
    pub action: String,
    /// A report folder or its `summary.json`.
    pub report: PathBuf,
    /// Baseline folder.
    #[arg(long, default_value = "reports/baselines")]
    pub dir: PathBuf,
    /// Baseline name (default: the scenario name in the summary).
    #[arg(long)]
    pub name: Option<String>,
}

fn summary_path(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("summary.json")
    } else {
        p.to_path_buf()
    }
}

/// Read a summary (or a report folder's summary).
pub fn read_summary(p: &Path) -> Result<Value, String> {
    let path = summary_path(p);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a summary.json: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// Parse a tolerance such as `10%` or `0.1` into a fraction.
pub fn parse_tolerance(t: &str) -> Result<f64, String> {
    let t = t.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("--tolerance `{t}` is not a percentage such as 10%"))?;
    if !(0.0..=10.0).contains(&v) {
        return Err(format!("--tolerance must be between 0% and 1000%, got {t}"));
    }
    Ok(v)
}

fn gates_from_file(p: &Path) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
    let v: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| {
        let loc = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        format!("{}{loc}: {e}", p.display())
    })?;
    let list = v.get("gates").cloned().unwrap_or(v);
    serde_yaml::from_value(list).map_err(|_| {
        format!(
            "{}: expected a list of gate expressions, or a `gates:` list",
            p.display()
        )
    })
}

/// Gates recorded in a summary by `harness run` (its scenario's `gates:`).
fn gates_in_summary(s: &Value) -> Vec<String> {
    s.pointer("/scenario/gates")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Run `harness gate`; returns the exit code.
pub fn gate(args: &GateArgs) -> u8 {
    match gate_inner(args) {
        Ok(report) => {
            if report.passed {
                exit::OK
            } else {
                exit::GATE_FAILED
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

fn gate_inner(args: &GateArgs) -> Result<GateReport, String> {
    let summaries = args
        .summaries
        .iter()
        .map(|p| read_summary(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut exprs = args.exprs.clone();
    if let Some(f) = &args.gates {
        exprs.extend(gates_from_file(f)?);
    }
    if exprs.is_empty() {
        exprs = summaries.first().map(gates_in_summary).unwrap_or_default();
    }
    if exprs.is_empty() {
        return Err(
            "no gates: pass --expr 'p99 < 2s', --gates FILE, or gate a summary whose scenario has gates:"
                .into(),
        );
    }
    let gates = gate::parse_all(&exprs)?;
    let mut report = gate::evaluate(&gates, &summaries);
    if let Some(b) = &args.baseline {
        let base = read_summary(b)?;
        let tol = parse_tolerance(&args.tolerance)?;
        report
            .results
            .extend(gate::compare_baseline(&gates, &summaries, &base, tol));
        report.passed = report.results.iter().all(|r| r.passed);
    }
    out!("{}", gate::table(&report));
    let suite = summaries
        .first()
        .and_then(|s| s.pointer("/scenario/name"))
        .and_then(Value::as_str)
        .unwrap_or("harness");
    write_outputs(&report, suite, args.json.as_deref(), args.junit.as_deref())?;
    Ok(report)
}

/// Write the JSON and JUnit forms of a gate report where asked.
pub fn write_outputs(
    report: &GateReport,
    suite: &str,
    json: Option<&Path>,
    junit: Option<&Path>,
) -> Result<(), String> {
    if let Some(p) = json {
        let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
        write_atomic(p, text.as_bytes())?;
    }
    if let Some(p) = junit {
        write_atomic(p, gate::junit_xml(report, suite).as_bytes())?;
    }
    Ok(())
}

/// [`crate::report::write_atomic`] with the error as text.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    crate::report::write_atomic(path, bytes).map_err(|e| e.to_string())
}

/// Run `harness baseline save`; returns the exit code.
pub fn baseline(args: &BaselineArgs) -> u8 {
    let result = (|| -> Result<PathBuf, String> {
        let summary = read_summary(&args.report)?;
        let name = match &args.name {
            Some(n) => n.clone(),
            None => summary
                .pointer("/scenario/name")
                .and_then(Value::as_str)
                .ok_or("the summary has no scenario.name; pass --name")?
                .to_string(),
        };
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(format!("baseline name `{name}` must be a plain file name"));
        }
        std::fs::create_dir_all(&args.dir)
            .map_err(|e| format!("{}: cannot create: {e}", args.dir.display()))?;
        let path = args.dir.join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
        write_atomic(&path, text.as_bytes())?;
        Ok(path)
    })();
    match result {
        Ok(p) => {
            outln!("baseline saved: {}", p.display());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
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
