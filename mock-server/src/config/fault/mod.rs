//! Fault specifications as written in a scenario: one map entry per fault,
//! keyed by its kind, with the kind's settings inside next to the two keys
//! every kind shares: `rate` (probability per request, default 1) and
//! `nodes` (node indices, default every node).
//!
//! ```yaml
//! - status: { code: 429, retry_after: 2, rate: 10% }
//! - latency: { delay: { lognormal: { median: 200ms, p99: 2s } }, on: headers }
//! - stream_drop: { after_tokens: 5, mode: rst, rate: 0.05, nodes: [1] }
//! - reset          # a kind whose settings all have defaults, as a bare word
//! ```
//!
//! The kinds are one table, in `kinds.rs`; this file holds what every kind
//! shares: the [`Fault`] type and its description. `parse.rs` reads it from
//! YAML.

#[macro_use]
mod table;
mod kinds;
mod parse;

pub use kinds::{
    AfterTokens, AfterWait, DropMode, ErrorCode, FaultKind, FaultParams, KeepAliveEvery,
    LatencyFault, LatencyOn, NoSettings, NodeDownFault, NodeDownMode, PositiveRate, QueueWaitFault,
    SlowDripFault, StatusFault, StreamDropFault,
};

use super::units::Probability;
use std::fmt;

/// One fault: how often, where, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Probability per request (default 1).
    pub rate: Probability,
    /// Node indices (default: all nodes).
    pub nodes: Option<Vec<usize>>,
    /// The kind, with its own settings.
    pub params: FaultParams,
}

impl Fault {
    /// The kind of this fault.
    pub fn kind(&self) -> FaultKind {
        self.params.kind()
    }

    /// Probability per request and node scope.
    pub fn scope(&self) -> (Probability, Option<&[usize]>) {
        (self.rate, self.nodes.as_deref())
    }
}

/// `status 40% on nodes [0]`: kind, rate and scope, as `harness validate`
/// prints them.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:.0}%", self.kind().name(), self.rate.get() * 100.0)?;
        if let Some(n) = &self.nodes {
            write!(f, " on nodes {n:?}")?;
        }
        Ok(())
    }
}
