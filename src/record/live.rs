//! Figures for the live progress line, taken from the recorder between
//! outcomes (cheap: a few counters and one percentile lookup per arm).

use std::fmt::Write as _;
use std::time::Duration;

use super::arm::ArmData;
use super::breaker::BreakerState;
use crate::outcome::{Arm, OutcomeClass};

/// Progress of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveArm {
    /// Which client.
    pub arm: Arm,
    /// Requests completed so far.
    pub requests: u64,
    /// Requests that ended without a usable answer.
    pub errors: u64,
    /// Completions during the last full second.
    pub rate: f64,
    /// Corrected p99 so far (up to the last closed second).
    pub p99: Duration,
    /// Last sampled in-flight gauge.
    pub in_flight: u64,
    /// Current breaker state per endpoint.
    pub breakers: Vec<(String, BreakerState)>,
}

/// Progress of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveStats {
    /// Latest instant seen (tick or completion), offset from t0.
    pub elapsed: Duration,
    /// Per arm.
    pub arms: Vec<LiveArm>,
}

impl LiveStats {
    pub(crate) fn from_arms<'a>(
        elapsed: Duration,
        arms: impl Iterator<Item = &'a ArmData>,
    ) -> Self {
        let arms = arms
            .map(|a| {
                let rate = a
                    .rows
                    .len()
                    .checked_sub(2)
                    .and_then(|i| a.rows.get(i))
                    .map_or(0.0, |r| r.completed() as f64);
                let mut errors = 0;
                for c in OutcomeClass::ALL {
                    if !c.is_success() {
                        errors += a.count(c);
                    }
                }
                LiveArm {
                    arm: a.arm,
                    requests: a.requests,
                    errors,
                    rate,
                    p99: Duration::from_micros(a.hist.corrected.value_at_quantile(0.99)),
                    in_flight: a.in_flight_now,
                    breakers: a
                        .breakers
                        .iter()
                        .map(|b| (b.endpoint.clone(), b.state))
                        .collect(),
                }
            })
            .collect();
        Self { elapsed, arms }
    }

    /// One human line, e.g.
    /// `12.0s | resilient 2400 req 199/s p99 12.3ms err 3 in-flight 4 breaker node0 open`.
    pub fn line(&self) -> String {
        let mut s = format!("{:>6.1}s", self.elapsed.as_secs_f64());
        for a in &self.arms {
            let _ = write!(
                s,
                " | {} {} req {:.0}/s p99 {:.1}ms err {} in-flight {}",
                a.arm.as_str(),
                a.requests,
                a.rate,
                a.p99.as_secs_f64() * 1e3,
                a.errors,
                a.in_flight
            );
            // Only endpoints that ever left `closed` are known here, so
            // name the ones not closed now instead of a misleading n/m.
            let not_closed: Vec<String> = a
                .breakers
                .iter()
                .filter(|(_, st)| *st != BreakerState::Closed)
                .map(|(ep, st)| format!("{ep} {}", st.as_str()))
                .collect();
            if !not_closed.is_empty() {
                let _ = write!(s, " breaker {}", not_closed.join(", "));
            }
        }
        s
    }
}
