//! The state every call of one client shares: the configuration, the built
//! policies (the ones with mutable state behind one short-lived mutex),
//! events and metrics, and publishing the policies' state changes as events.
//! A leaf of the orchestration: it knows nothing about calls, attempts,
//! streams or transports, which all build on it.

use std::sync::{Mutex, MutexGuard};

use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::error::BuildError;
use crate::events::{ClientEvent, Events};
use crate::metrics::Metrics;
use crate::policies::Policies;
use crate::policy::backoff::Backoff;
use crate::policy::balancer::Balancer;
use crate::policy::breaker::{CircuitBreaker, TransitionReason};
use crate::policy::bulkhead::Bulkhead;
use crate::policy::ejection::{EjectionEvent, OutlierDetector};
use crate::policy::priority::PriorityGate;
use crate::policy::rate_limit::RateLimiter;
use crate::policy::response_cache::ResponseCache;
use crate::policy::retry_budget::RetryBudget;

/// Policy state shared by all calls. A plain mutex, never held across an
/// `.await`: each critical section is a few hundred nanoseconds of pure
/// state-machine work, far cheaper than a message round trip to an owner task.
pub(crate) struct Shared {
    pub(crate) budget: RetryBudget,
    pub(crate) limiter: Option<RateLimiter>,
    pub(crate) breakers: Vec<CircuitBreaker>,
    pub(crate) balancer: Balancer,
    pub(crate) ejection: OutlierDetector,
    pub(crate) cache: Option<ResponseCache>,
    pub(crate) rng: StdRng,
}

/// Everything a call needs besides the transport.
pub(crate) struct Inner {
    /// Base URLs in endpoint-index order, as events and metrics name them.
    pub(crate) endpoints: Vec<String>,
    pub(crate) cfg: ClientConfig,
    pub(crate) backoff: Backoff,
    pub(crate) bulkhead: Bulkhead,
    pub(crate) gate: Option<PriorityGate>,
    pub(crate) shared: Mutex<Shared>,
    pub(crate) events: Events,
    pub(crate) metrics: Metrics,
}

impl Inner {
    /// Takes the policies [`crate::policies::build_policies`] built from
    /// `cfg`; `rng` drives jitter and P2C (seeded in tests).
    pub(crate) fn new(
        cfg: ClientConfig,
        endpoints: Vec<String>,
        policies: Policies,
        rng: StdRng,
    ) -> Result<Self, BuildError> {
        let Policies {
            backoff,
            budget,
            limiter,
            breakers,
            balancer,
            ejection,
            bulkhead,
            gate,
            cache,
        } = policies;
        let balancer = balancer.ok_or(BuildError::NoEndpoints)?;
        Ok(Inner {
            metrics: Metrics::new(endpoints.len()),
            endpoints,
            cfg,
            backoff,
            bulkhead,
            gate,
            shared: Mutex::new(Shared {
                budget,
                limiter,
                breakers,
                balancer,
                ejection,
                cache,
                rng,
            }),
            events: Events::new(),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        // Policies keep their invariants between calls, so a panic elsewhere
        // while holding the lock leaves nothing half-updated worth refusing.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes breaker transitions of `endpoint` and ejection changes as
    /// events, metrics and logs. Called under the lock right after the
    /// policy call that may have produced them.
    pub(crate) fn flush(&self, s: &mut Shared, endpoint: usize, now: Instant) {
        for t in s.breakers[endpoint].take_transitions() {
            self.metrics.breaker_state(endpoint, t.to.as_gauge());
            tracing::info!(endpoint = %self.endpoints[endpoint], from = %t.from, to = %t.to, "breaker transition");
            self.events.emit(|| ClientEvent::BreakerTransition {
                endpoint: self.endpoints[endpoint].clone(),
                from: t.from,
                to: t.to,
                at: t.at,
                reason: reason_text(&t.reason),
            });
        }
        for ev in s.ejection.take_events(now) {
            match ev {
                EjectionEvent::Ejected {
                    endpoint, until, ..
                } => self.events.emit(|| ClientEvent::Ejected {
                    endpoint: self.endpoints[endpoint].clone(),
                    until,
                }),
                EjectionEvent::Returned { endpoint, .. } => {
                    self.events.emit(|| ClientEvent::Returned {
                        endpoint: self.endpoints[endpoint].clone(),
                    })
                }
            }
        }
    }

    /// Prometheus text; gauges read from the bulkhead at scrape time cost
    /// nothing per call.
    pub(crate) fn metrics_text(&self) -> String {
        self.metrics.queue_depth.set(self.bulkhead.queued() as i64);
        self.metrics.text()
    }
}

fn reason_text(r: &TransitionReason) -> String {
    match r {
        TransitionReason::FailureRate { rate, calls } => {
            format!("failure rate {rate} over {calls} calls")
        }
        TransitionReason::SlowCallRate { rate, calls } => {
            format!("slow-call rate {rate} over {calls} calls")
        }
        TransitionReason::WaitElapsed => "open duration elapsed".to_owned(),
        TransitionReason::ProbesSucceeded => "half-open probes succeeded".to_owned(),
        TransitionReason::HalfOpenTimeout => "half-open too long".to_owned(),
    }
}
