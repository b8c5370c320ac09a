//! Why a run stopped before its report was written.

use std::path::PathBuf;

use crate::record::RecordError;
use crate::report::ReportError;
use crate::scenario::ScenarioError;
use crate::sender::direct::DirectError;

/// Errors that stop a run before a report exists.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The scenario did not parse or validate.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A request body is not a chat-completions request.
    #[error("load.requests: load.requests[{index}]: {source}")]
    Request {
        /// Its index in `load.requests`.
        index: usize,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// The report folder could not be created.
    #[error("report folder: {}: {source}", path.display())]
    ReportDir {
        /// The folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The embedded fake server's runtime could not be built.
    #[error("fake server runtime: {0}")]
    ServerRuntime(#[source] std::io::Error),
    /// The embedded fake server did not start.
    #[error("starting the fake server: {0}")]
    Server(#[from] mock_server::Error),
    /// The task starting the embedded fake server panicked.
    #[error("starting the fake server: {0}")]
    ServerTask(#[source] tokio::task::JoinError),
    /// The client (of one arm) could not be built from `client:`.
    #[error("client ({arm}): {source}")]
    Client {
        /// `resilient` or `raw`.
        arm: &'static str,
        /// Cause.
        #[source]
        source: resilient_client::BuildError,
    },
    /// `load.via: direct` cannot reach an endpoint or build a request.
    #[error(transparent)]
    Direct(#[from] DirectError),
    /// A thread of the run could not be started.
    #[error("{what} thread: {source}")]
    Thread {
        /// Which one.
        what: &'static str,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The recorder failed to start, write or finish.
    #[error("recorder: {0}")]
    Recorder(#[from] RecordError),
    /// The recorder's thread ended without handing its data back.
    #[error("the recorder thread died")]
    RecorderDied,
    /// A load driver task panicked.
    #[error("load driver failed: {0}")]
    Driver(#[from] tokio::task::JoinError),
    /// The report could not be written.
    #[error("writing the report: {0}")]
    Report(#[from] ReportError),
    /// An external system under test could not be started or made ready.
    #[error(transparent)]
    Sut(#[from] crate::sut::SutError),
    /// The sender to an external system under test could not be built.
    #[error("{0}")]
    External(String),
    /// The scenario's `verdicts:` thresholds do not validate.
    #[error(transparent)]
    Verdicts(#[from] crate::judge::ConfigError),
}
