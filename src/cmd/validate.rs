//! `harness validate`: check a scenario and print what it will do.

use std::path::PathBuf;

use clap::Args;

use super::status::{Error, Status};
use crate::scenario;

/// `harness validate` arguments.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Apply overrides as `run` would.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
}

/// Parses and checks the scenario, then describes it.
pub fn run(args: &ValidateArgs) -> Result<Status, Error> {
    let s = scenario::load(&args.scenario, &args.sets)?;
    out!("{}", crate::describe::describe(&s));
    outln!("{}: ok", args.scenario.display());
    Ok(Status::Ok)
}
