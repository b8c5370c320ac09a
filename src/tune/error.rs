//! What `harness tune` refuses, each said with what to write instead.

use std::path::PathBuf;

use crate::gate::{GateError, UnknownMetric};

/// A tuning grid, objective or plan that cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TuneError {
    /// `--vary` without `=`.
    #[error("--vary `{0}`: write path=v1,v2 (e.g. client.timeouts.total=2s,5s)")]
    Axis(String),
    /// `--vary` with no path or no value.
    #[error("--vary `{0}`: needs a path and at least one value")]
    AxisEmpty(String),
    /// The objective does not start with min or max.
    #[error("--objective `{0}`: start with min or max, e.g. 'min p99 where success_rate >= 99%'")]
    Direction(String),
    /// No metric after min/max.
    #[error("--objective `{text}`: name a metric after {head}")]
    NoMetric {
        /// The objective.
        text: String,
        /// What came before the missing metric.
        head: String,
    },
    /// Words after the metric that are not `where ...`.
    #[error("--objective `{0}`: expected `where` after the metric")]
    ExpectedWhere(String),
    /// The objective's metric is unknown.
    #[error("--objective: {0}")]
    Metric(#[source] UnknownMetric),
    /// A constraint does not parse.
    #[error("--objective: {0}")]
    Constraint(#[source] GateError),
    /// `--repeat 0`.
    #[error("--repeat must be >= 1")]
    Repeat,
    /// No combination at all.
    #[error("the grid is empty")]
    EmptyGrid,
    /// More runs than `--max-runs` without `--yes`.
    #[error("{runs} runs is more than --max-runs {max}; shrink the grid, shorten --duration, or pass --yes")]
    TooManyRuns {
        /// Runs the grid needs.
        runs: usize,
        /// `--max-runs`.
        max: usize,
    },
    /// The tuning report folder could not be created.
    #[error("{}: {source}", path.display())]
    Dir {
        /// The folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}
