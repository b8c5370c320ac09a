//! What a command returns: how it ended ([`Status`]) or why it could not
//! run ([`Error`]). `main` alone turns these into exit codes.

use crate::gate::files::FileError;
use crate::gate::GateError;
use crate::run::RunError;
use crate::scenario::ScenarioError;
use crate::tune::TuneError;

/// How a command that ran ended.
// Not `#[non_exhaustive]`: `main` maps every status, and a new one must
// not compile until it has its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It ran and every gate passed.
    Ok,
    /// A gate failed.
    GateFailed,
    /// `tune` found no setting meeting the objective's constraints.
    NoSettingFound,
    /// `judge` found a `fail` verdict.
    VerdictFailed,
    /// The generator could not keep the asked load: the numbers are not
    /// trustworthy.
    GeneratorUnhealthy,
    /// Ended early by Ctrl-C, SIGTERM or SIGHUP; a partial report was
    /// written.
    Interrupted,
}

/// Why a command could not do its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A command-line value clap cannot check (`--repeat 0`).
    #[error("{0}")]
    Usage(String),
    /// The scenario did not parse or validate.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The scenario's gates do not parse (`harness run --gate`).
    #[error("gates: {0}")]
    ScenarioGates(#[source] GateError),
    /// A gate given to `harness gate` does not parse.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// `harness gate` found no gate to evaluate.
    #[error("no gates: pass --expr 'p99 < 2s', --gates FILE, or gate a summary whose scenario has gates:")]
    NoGates,
    /// `harness baseline save` without a name to save under.
    #[error("the summary has no scenario.name; pass --name")]
    NoBaselineName,
    /// A baseline name that is not a plain file name.
    #[error("baseline name `{0}` must be a plain file name")]
    BaselineName(String),
    /// The baseline folder could not be created.
    #[error("{}: cannot create: {source}", path.display())]
    BaselineDir {
        /// The folder.
        path: std::path::PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A run failed before its report was written.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A summary, gate list or result file.
    #[error(transparent)]
    File(#[from] FileError),
    /// The fake server (`harness mock`).
    #[error(transparent)]
    Mock(#[from] mock_server::Error),
    /// `harness tune`.
    #[error(transparent)]
    Tune(#[from] TuneError),
    /// `harness judge`.
    #[error(transparent)]
    Judge(#[from] crate::judge::JudgeError),
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] crate::report::ReportError),
    /// A summary could not be serialized.
    #[error("cannot serialize the summary: {0}")]
    Json(#[from] serde_json::Error),
}
