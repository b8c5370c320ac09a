//! Circuit breaker per endpoint with resilience4j semantics: `Closed`, `Open`,
//! `HalfOpen`; a count- or time-based sliding window; failure-rate and
//! slow-call-rate thresholds judged only after a minimum number of calls.
//!
//! Every call first leases a [`Permit`] with [`CircuitBreaker::try_acquire`] and
//! hands it back exactly once: `on_success`, `on_failure` or `release` (for a
//! cancelled call or an outcome that says nothing about endpoint health).
//! `Permit` is neither `Clone` nor `Copy`, so it cannot be resolved twice, and it
//! carries the breaker generation, so an outcome from an earlier state is
//! ignored. Half-open probes are tracked by lease id: a released probe frees its
//! slot for another, and a half-open state that outlives
//! `max_wait_duration_in_half_open` (e.g. a permit leaked by a bug) reopens, so
//! the breaker can never stay stuck half-open.
//!
//! Transitions are buffered; the caller drains them with
//! [`CircuitBreaker::take_transitions`] to emit events and metrics.

use std::time::Duration;

use tokio::time::Instant;

mod config;
mod transition;
mod window;

pub use config::{BreakerConfig, InvalidBreaker, WindowType};
pub use transition::{BreakerState, Transition, TransitionReason, WindowCounts};

use crate::units::Percent;
use window::{Totals, Window};

/// A lease to make one call; resolve it exactly once with `on_success`,
/// `on_failure`, `on_failure_with_hint` or `release`.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a permit must be resolved with on_success, on_failure or release"]
pub struct Permit {
    generation: u64,
    probe: Option<u64>,
}

impl Permit {
    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe.is_some()
    }
}

/// A call refused by the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker {state}: call not permitted")]
pub struct Rejected {
    /// `Open`, or `HalfOpen` when all probes are leased.
    pub state: BreakerState,
    /// When the breaker will admit a probe, if known (the end of `Open`).
    pub retry_at: Option<Instant>,
}

#[derive(Clone, Debug)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        since: Instant,
        leased: Vec<u64>,
        done: Totals,
    },
}

/// A circuit breaker for one endpoint. Pure: every call takes `now`.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    cfg: BreakerConfig,
    min_calls: u32,
    state: State,
    window: Window,
    generation: u64,
    next_lease: u64,
    transitions: Vec<Transition>,
}

impl CircuitBreaker {
    /// Validates `cfg`; the breaker starts closed.
    pub fn new(cfg: &BreakerConfig) -> Result<Self, InvalidBreaker> {
        for (name, v) in [
            ("window_size", cfg.window_size),
            ("minimum_number_of_calls", cfg.minimum_number_of_calls),
            (
                "permitted_calls_in_half_open",
                cfg.permitted_calls_in_half_open,
            ),
        ] {
            if v == 0 {
                return Err(InvalidBreaker::Zero(name));
            }
        }
        if cfg.failure_rate_threshold == Percent::ZERO {
            return Err(InvalidBreaker::ZeroThreshold("failure_rate_threshold"));
        }
        if cfg.slow_call_rate_threshold == Percent::ZERO {
            return Err(InvalidBreaker::ZeroThreshold("slow_call_rate_threshold"));
        }
        if cfg.wait_duration_in_open.is_zero() {
            return Err(InvalidBreaker::ZeroWait);
        }
        let (window, min_calls) = match cfg.window_type {
            // resilience4j clamps the minimum to the window size for count windows.
            WindowType::Count => (
                Window::count(cfg.window_size),
                cfg.minimum_number_of_calls.min(cfg.window_size),
            ),
            WindowType::Time => (Window::time(cfg.window_size), cfg.minimum_number_of_calls),
        };
        Ok(Self {
            cfg: cfg.clone(),
            min_calls,
            state: State::Closed,
            window,
            generation: 0,
            next_lease: 0,
            transitions: Vec::new(),
        })
    }

    /// The current state (an elapsed open duration still reads `Open` until
    /// the next `try_acquire`, as in resilience4j without automatic transition).
    pub fn state(&self) -> BreakerState {
        match self.state {
            State::Closed => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// End of the current open period, if open.
    pub fn open_until(&self) -> Option<Instant> {
        match self.state {
            State::Open { until } => Some(until),
            _ => None,
        }
    }

    /// Half-open probes currently leased and not yet resolved.
    pub fn outstanding_probes(&self) -> usize {
        match &self.state {
            State::HalfOpen { leased, .. } => leased.len(),
            _ => 0,
        }
    }

    /// Calls, failures and slow calls in the closed-state window at `now`
    /// (for gauges; a time window first drops seconds that slid out).
    pub fn window_counts(&mut self, now: Instant) -> WindowCounts {
        let t = self.window.totals(now);
        WindowCounts {
            calls: t.calls,
            failures: t.failures,
            slow_calls: t.slow,
        }
    }

    /// Transitions since the last call, oldest first.
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.transitions)
    }

    /// Whether [`try_acquire`](Self::try_acquire) would grant a permit at
    /// `now`, without changing any state: for a balancer's health predicate.
    pub fn is_call_permitted(&self, now: Instant) -> bool {
        if !self.cfg.enabled {
            return true;
        }
        match &self.state {
            State::Closed => true,
            State::Open { until } => now >= *until,
            State::HalfOpen {
                since,
                leased,
                done,
            } => {
                self.half_open_expired(*since, now)
                    || (leased.len() as u32 + done.calls) < self.cfg.permitted_calls_in_half_open
            }
        }
    }

    /// Asks to make one call now.
    pub fn try_acquire(&mut self, now: Instant) -> Result<Permit, Rejected> {
        if !self.cfg.enabled {
            return Ok(self.permit(None));
        }
        self.expire_half_open(now);
        if let State::Open { until } = self.state {
            if now < until {
                return Err(Rejected {
                    state: BreakerState::Open,
                    retry_at: Some(until),
                });
            }
            self.transition(
                State::HalfOpen {
                    since: now,
                    leased: Vec::new(),
                    done: Totals::default(),
                },
                TransitionReason::WaitElapsed,
                now,
            );
        }
        let lease = self.next_lease;
        match &mut self.state {
            State::Closed => Ok(self.permit(None)),
            State::HalfOpen { leased, done, .. } => {
                if leased.len() as u32 + done.calls >= self.cfg.permitted_calls_in_half_open {
                    return Err(Rejected {
                        state: BreakerState::HalfOpen,
                        retry_at: None,
                    });
                }
                leased.push(lease);
                self.next_lease += 1;
                Ok(self.permit(Some(lease)))
            }
            State::Open { .. } => unreachable_open(),
        }
    }

    /// The call succeeded after `elapsed`; slower than the threshold counts as slow.
    pub fn on_success(&mut self, permit: Permit, elapsed: Duration, now: Instant) {
        let slow = elapsed > self.cfg.slow_call_duration_threshold;
        self.record(permit, false, slow, None, now);
    }

    /// The call failed in a way that says the endpoint is unhealthy.
    pub fn on_failure(&mut self, permit: Permit, now: Instant) {
        self.record(permit, true, false, None, now);
    }

    /// Like [`on_failure`](Self::on_failure) with the server's `Retry-After`:
    /// if this failure opens the breaker, it stays open at least that long
    /// (capped by `max_wait_duration_in_open`).
    pub fn on_failure_with_hint(&mut self, permit: Permit, now: Instant, retry_after: Duration) {
        self.record(permit, true, false, Some(retry_after), now);
    }

    /// Gives the permit back without an outcome: the call was cancelled, or its
    /// error says nothing about the endpoint (e.g. 400/401). A probe's slot is
    /// freed for another probe.
    pub fn release(&mut self, permit: Permit, now: Instant) {
        self.expire_half_open(now);
        if permit.generation != self.generation {
            return;
        }
        if let (State::HalfOpen { leased, .. }, Some(id)) = (&mut self.state, permit.probe) {
            leased.retain(|&l| l != id);
        }
    }

    fn permit(&self, probe: Option<u64>) -> Permit {
        Permit {
            generation: self.generation,
            probe,
        }
    }

    fn record(
        &mut self,
        permit: Permit,
        failed: bool,
        slow: bool,
        hint: Option<Duration>,
        now: Instant,
    ) {
        if !self.cfg.enabled {
            return;
        }
        self.expire_half_open(now);
        // An outcome from before the last transition describes an old state.
        if permit.generation != self.generation {
            return;
        }
        let totals = match (&mut self.state, permit.probe) {
            (State::Closed, None) => {
                let t = self.window.record(failed, slow, now);
                if t.calls < self.min_calls {
                    return;
                }
                t
            }
            (State::HalfOpen { leased, done, .. }, Some(id)) => {
                let before = leased.len();
                leased.retain(|&l| l != id);
                if leased.len() == before {
                    return;
                }
                done.calls += 1;
                done.failures += u32::from(failed);
                done.slow += u32::from(slow);
                if done.calls < self.cfg.permitted_calls_in_half_open {
                    return;
                }
                *done
            }
            _ => return,
        };
        if let Some(reason) = self.judge(totals) {
            self.open(reason, hint, now);
        } else if matches!(self.state, State::HalfOpen { .. }) {
            self.window.reset();
            self.transition(State::Closed, TransitionReason::ProbesSucceeded, now);
        }
    }

    fn judge(&self, t: Totals) -> Option<TransitionReason> {
        let calls = t.calls.max(1);
        let rate = |n: u32| f64::from(n) / f64::from(calls);
        let pct = |r: f64| Percent::from_fraction(r).unwrap_or(Percent::HUNDRED);
        if rate(t.failures) >= self.cfg.failure_rate_threshold.fraction() {
            Some(TransitionReason::FailureRate {
                rate: pct(rate(t.failures)),
                calls: t.calls,
            })
        } else if rate(t.slow) >= self.cfg.slow_call_rate_threshold.fraction() {
            Some(TransitionReason::SlowCallRate {
                rate: pct(rate(t.slow)),
                calls: t.calls,
            })
        } else {
            None
        }
    }

    fn open(&mut self, reason: TransitionReason, hint: Option<Duration>, now: Instant) {
        let hinted = hint.map_or(Duration::ZERO, |h| {
            h.min(self.cfg.max_wait_duration_in_open)
        });
        let wait = self.cfg.wait_duration_in_open.max(hinted);
        let until = now.checked_add(wait).unwrap_or(now);
        self.transition(State::Open { until }, reason, now);
    }

    fn half_open_expired(&self, since: Instant, now: Instant) -> bool {
        let max = self.cfg.max_wait_duration_in_half_open;
        // 0 means wait forever, as in resilience4j.
        !max.is_zero() && now.saturating_duration_since(since) >= max
    }

    fn expire_half_open(&mut self, now: Instant) {
        if let State::HalfOpen { since, .. } = self.state {
            if self.half_open_expired(since, now) {
                self.open(TransitionReason::HalfOpenTimeout, None, now);
            }
        }
    }

    fn transition(&mut self, to: State, reason: TransitionReason, now: Instant) {
        let from = self.state();
        self.state = to;
        self.generation = self.generation.wrapping_add(1);
        self.transitions.push(Transition {
            from,
            to: self.state(),
            at: now,
            reason,
            open_until: self.open_until(),
        });
    }
}

/// `try_acquire` leaves `Open` before matching, so this arm cannot be reached;
/// answering "closed" would be wrong, so reject instead of panicking.
#[cold]
fn unreachable_open() -> Result<Permit, Rejected> {
    Err(Rejected {
        state: BreakerState::Open,
        retry_at: None,
    })
}

#[cfg(test)]
mod tests;
