//! `harness gate`: gates on saved reports, optionally against a baseline.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::status::{Error, Status};
use crate::gate::{self, files};

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
    /// Gate reports that were cut short (`partial: true`) or whose
    /// generator was unhealthy; refused by default, since their numbers do
    /// not stand for the whole scenario.
    #[arg(long)]
    pub allow_partial: bool,
}

/// Evaluates the gates (given, from a file, or the summary's own), prints
/// the table and writes the result files asked for.
pub fn run(args: &GateArgs) -> Result<Status, Error> {
    let summaries = args
        .summaries
        .iter()
        .map(|p| files::read_summary(p))
        .collect::<Result<Vec<_>, _>>()?;
    if !args.allow_partial {
        for (p, s) in args.summaries.iter().zip(&summaries) {
            files::check_whole(p, s)?;
        }
    }
    let mut exprs = args.exprs.clone();
    if let Some(f) = &args.gates {
        exprs.extend(files::gates_from_file(f)?);
    }
    if exprs.is_empty() {
        exprs = summaries
            .first()
            .map(files::gates_in_summary)
            .unwrap_or_default();
    }
    if exprs.is_empty() {
        return Err(Error::NoGates);
    }
    let gates = gate::parse_all(&exprs)?;
    let mut report = gate::evaluate(&gates, &summaries);
    if let Some(b) = &args.baseline {
        let base = files::read_summary(b)?;
        if !args.allow_partial {
            files::check_whole(b, &base)?;
        }
        let tol = files::parse_tolerance(&args.tolerance)?;
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
    files::write_outputs(&report, suite, args.json.as_deref(), args.junit.as_deref())?;
    Ok(if report.passed {
        Status::Ok
    } else {
        Status::GateFailed
    })
}
