//! The command line: `run`, `mock`, `validate`. Parsed by clap into raw
//! arguments, turned into checked configs, handed to the library. Exit codes
//! are part of the interface (see [`exit`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::scenario;

/// Exit codes, documented in the README.
pub mod exit {
    /// Everything ran and every gate passed.
    pub const OK: u8 = 0;
    /// The run or command failed (bad scenario, I/O error, server failed).
    pub const ERROR: u8 = 1;
    /// Bad command-line usage (clap's own code).
    pub const USAGE: u8 = 2;
    /// A gate failed.
    pub const GATE_FAILED: u8 = 3;
    /// The generator could not keep the asked load: numbers are not trustworthy.
    pub const GENERATOR_UNHEALTHY: u8 = 4;
    /// Ended early by Ctrl-C; a partial report was written.
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, Parser)]
#[command(
    name = "harness",
    version,
    about = "Chaos and load harness for DeepSeek API clients"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario: start the fake server, drive the client, write a report.
    Run(RunArgs),
    /// Serve a scenario's fake DeepSeek server until Ctrl-C.
    Mock(mock_server::cli::MockArgs),
    /// Check a scenario and print what it will do.
    Validate(ValidateArgs),
    /// Evaluate gates on saved reports (exit 3 when one fails).
    Gate(crate::gate_cmd::GateArgs),
    /// Save a report's summary as a baseline: `harness baseline save <report>`.
    Baseline(crate::gate_cmd::BaselineArgs),
    /// Run a grid of settings and recommend the best under an objective.
    Tune(crate::tune::TuneArgs),
}

/// `harness run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Override `duration` (e.g. 10s).
    #[arg(long)]
    pub duration: Option<String>,
    /// Override the open model's constant rate (e.g. 500/s).
    #[arg(long)]
    pub rate: Option<String>,
    /// Override `seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Parent folder of the report (default `reports`).
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Override any scenario field: `--set client.retry.max_attempts=5`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Evaluate the scenario's gates after the run (exit 3 when one fails).
    #[arg(long)]
    pub gate: bool,
    /// Stop the load as soon as a `success_rate`/`error_rate` gate can no
    /// longer pass (errors already exceed what the whole run may have);
    /// implies `--gate`.
    #[arg(long)]
    pub abort_on_fail: bool,
    /// Run the scenario N times (same seed); gates judge the median of each
    /// metric across the runs, so one noisy run neither passes nor fails.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// No live progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

impl RunArgs {
    /// Every override as a `--set` line, sugar flags first.
    pub fn all_sets(&self) -> Vec<String> {
        let mut sets = Vec::new();
        if let Some(d) = &self.duration {
            sets.push(format!("duration={d}"));
        }
        if let Some(r) = &self.rate {
            sets.push(format!("load.rate={r}"));
        }
        if let Some(s) = self.seed {
            sets.push(format!("seed={s}"));
        }
        sets.extend(self.sets.iter().cloned());
        sets
    }
}

/// `harness validate` arguments.
#[derive(Debug, Args)]
struct ValidateArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Apply overrides as `run` would.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    // `RUST_LOG=resilient_client=debug` shows the client's request and
    // attempt spans; quiet by default.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let code = rt.block_on(async {
        match cli.command {
            Command::Run(args) => crate::run::main(args).await,
            Command::Mock(args) => match mock_server::cli::run(args).await {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::ERROR
                }
            },
            Command::Validate(args) => validate(&args),
            Command::Gate(args) => crate::gate_cmd::gate(&args),
            Command::Baseline(args) => crate::gate_cmd::baseline(&args),
            Command::Tune(args) => crate::tune::main(args).await,
        }
    });
    // Outstanding connections of the embedded server must not hold the exit.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code)
}

fn validate(args: &ValidateArgs) -> u8 {
    match scenario::load(&args.scenario, &args.sets) {
        Ok(s) => {
            out!("{}", crate::describe::describe(&s));
            outln!("{}: ok", args.scenario.display());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}
