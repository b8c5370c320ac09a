//! `harness baseline save`: commit a report's summary as the baseline later
//! runs are held to.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::status::{Error, Status};
use crate::gate::files::{check_whole, read_summary};
use crate::report::write_atomic;

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
    /// Save a report that was cut short (`partial: true`) or whose
    /// generator was unhealthy; refused by default, since later runs would
    /// be held to numbers that do not stand for the scenario.
    #[arg(long)]
    pub allow_partial: bool,
}

/// Copies the summary to `<dir>/<name>.json`.
pub fn run(args: &BaselineArgs) -> Result<Status, Error> {
    let summary = read_summary(&args.report)?;
    if !args.allow_partial {
        check_whole(&args.report, &summary)?;
    }
    let name = match &args.name {
        Some(n) => n.clone(),
        None => summary
            .pointer("/scenario/name")
            .and_then(Value::as_str)
            .ok_or(Error::NoBaselineName)?
            .to_string(),
    };
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::BaselineName(name));
    }
    std::fs::create_dir_all(&args.dir).map_err(|source| Error::BaselineDir {
        path: args.dir.clone(),
        source,
    })?;
    let path = args.dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(&summary)?;
    write_atomic(&path, text.as_bytes())?;
    outln!("baseline saved: {}", path.display());
    Ok(Status::Ok)
}
