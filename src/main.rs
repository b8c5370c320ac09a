//! `harness`: chaos and load runs against DeepSeek API clients. All logic is
//! in the library; this parses the command line, runs one command, and is
//! the one place that maps how it ended to the documented exit codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::cmd::{self, Error, Status};

/// Exit codes, documented in the README ("Exit codes").
mod exit {
    /// Everything ran and every gate passed.
    pub const OK: u8 = 0;
    /// The run or command failed (bad scenario, I/O error, server failed).
    pub const ERROR: u8 = 1;
    /// Bad command-line usage (clap's own code).
    pub const USAGE: u8 = 2;
    /// A gate failed, `tune` found no setting meeting the objective, or
    /// `judge` found a `fail` verdict.
    pub const GATE_FAILED: u8 = 3;
    /// The generator could not keep the asked load: numbers are not trustworthy.
    pub const GENERATOR_UNHEALTHY: u8 = 4;
    /// Ended early by a signal; a partial report was written. The code is
    /// 128 + the first signal's number: 130 (SIGINT, Ctrl-C), 143
    /// (SIGTERM), 129 (SIGHUP); see `harness::signals`.
    pub use harness::signals::exit_code as interrupted;
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
    Run(cmd::run::RunArgs),
    /// Serve a scenario's fake DeepSeek server until Ctrl-C.
    Mock(cmd::mock::MockArgs),
    /// Check a scenario and print what it will do.
    Validate(cmd::validate::ValidateArgs),
    /// Evaluate gates on saved reports (exit 3 when one fails).
    Gate(cmd::gate::GateArgs),
    /// Save a report's summary as a baseline: `harness baseline save <report>`.
    Baseline(cmd::baseline::BaselineArgs),
    /// Run a grid of settings and recommend the best under an objective.
    Tune(cmd::tune::TuneArgs),
    /// Judge a client from a fake server's attempt journal (exit 3 on a fail verdict).
    Judge(cmd::judge::JudgeArgs),
}

fn main() -> ExitCode {
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
    // The commands that write a report stop on SIGTERM and SIGHUP as on
    // Ctrl-C, from here on (a signal while the run is prepared counts too).
    if matches!(cli.command, Command::Run(_) | Command::Tune(_)) {
        let _ = harness::signals::subscribe();
    }
    let result = rt.block_on(async {
        match cli.command {
            Command::Run(args) => cmd::run::run(args).await,
            Command::Mock(args) => cmd::mock::run(args).await,
            Command::Validate(args) => cmd::validate::run(&args),
            Command::Gate(args) => cmd::gate::run(&args),
            Command::Baseline(args) => cmd::baseline::run(&args),
            Command::Tune(args) => cmd::tune::run(&args).await,
            Command::Judge(args) => cmd::judge::run(&args).await,
        }
    });
    // Outstanding connections of the embedded server must not hold the exit.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code(result))
}

/// The exit code of how a command ended; an error is printed here.
fn code(result: Result<Status, Error>) -> u8 {
    match result {
        Ok(Status::Ok) => exit::OK,
        Ok(Status::GateFailed | Status::NoSettingFound | Status::VerdictFailed) => {
            exit::GATE_FAILED
        }
        Ok(Status::GeneratorUnhealthy) => exit::GENERATOR_UNHEALTHY,
        Ok(Status::Interrupted) => exit::interrupted(),
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                Error::Usage(_) => exit::USAGE,
                // Ctrl-C while a system under test was starting: nothing
                // was measured, but the user asked to stop.
                Error::Run(harness::run::RunError::Sut(harness::sut::SutError::Interrupted(_))) => {
                    exit::interrupted()
                }
                _ => exit::ERROR,
            }
        }
    }
}
