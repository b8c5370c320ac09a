//! Breaker states and transition records, for events and metrics.

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::units::Percent;

/// The breaker state, as reported in transitions and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow; outcomes are recorded.
    Closed,
    /// Calls are rejected until the open duration elapses.
    Open,
    /// A few probe calls decide between closing and reopening.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// Gauge value, higher is worse: closed 0, half-open 1, open 2.
    pub fn as_gauge(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }
    }
}

impl std::fmt::Display for BreakerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a transition happened.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransitionReason {
    /// Failure rate over `calls` reached the threshold (closed or half-open -> open).
    FailureRate {
        /// Observed failure rate.
        rate: Percent,
        /// Calls it was computed over.
        calls: u32,
    },
    /// Slow-call rate over `calls` reached the threshold (closed or half-open -> open).
    SlowCallRate {
        /// Observed slow-call rate.
        rate: Percent,
        /// Calls it was computed over.
        calls: u32,
    },
    /// The open duration elapsed and a call arrived (open -> half-open).
    WaitElapsed,
    /// The half-open probes stayed under both thresholds (half-open -> closed).
    ProbesSucceeded,
    /// Half-open lasted longer than `max_wait_duration_in_half_open` (-> open).
    HalfOpenTimeout,
}

/// One state change, for events and metrics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    /// State before.
    pub from: BreakerState,
    /// State after.
    pub to: BreakerState,
    /// When it happened.
    pub at: Instant,
    /// Why.
    pub reason: TransitionReason,
    /// When an `Open` state ends (set when `to` is `Open`).
    pub open_until: Option<Instant>,
}

/// Outcome counts in the sliding window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowCounts {
    /// Calls recorded.
    pub calls: u32,
    /// Of which failed.
    pub failures: u32,
    /// Of which slow successes.
    pub slow_calls: u32,
}
