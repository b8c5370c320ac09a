//! Guards that tie a call's capacity to its lifetime: the bulkhead slot
//! ([`Admission`]) and one attempt's breaker permit and balancer load count
//! ([`AttemptGuard`]). Each is resolved exactly once; dropping one unresolved
//! (a cancelled call or stream) releases it without recording an outcome, so
//! a half-open breaker can never wait on a caller that went away.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use tokio::time::Instant;

use crate::client::{Inner, Shared};
use crate::error::Error;
use crate::events::ClientEvent;
use crate::policy::breaker::{Permit, TransitionReason};
use crate::policy::bulkhead::BulkheadPermit;
use crate::policy::ejection::EjectionEvent;

/// The bulkhead slot of a call plus the in-flight gauge; both end on drop.
pub(crate) struct Admission {
    pub(crate) _permit: BulkheadPermit,
    pub(crate) in_flight: Gauge,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.in_flight.dec();
    }
}

/// One attempt's hold on an endpoint: the balancer's in-flight count and the
/// breaker permit. Resolved exactly once; dropping it unresolved (a cancelled
/// call) releases the permit without an outcome.
pub(crate) struct AttemptGuard {
    pub(crate) inner: Arc<Inner>,
    pub(crate) endpoint: usize,
    pub(crate) permit: Option<Permit>,
    pub(crate) done: bool,
}

impl AttemptGuard {
    pub(crate) fn success(mut self, elapsed: Duration) {
        let now = Instant::now();
        let inner = self.inner.clone();
        let mut s = inner.lock();
        self.finish_in(&mut s, now, |s, ep, p| {
            if let Some(p) = p {
                s.breakers[ep].on_success(p, elapsed, now);
            }
            s.ejection.on_success(ep, now);
        });
        flush(&inner, &mut s, self.endpoint, now);
    }

    pub(crate) fn failure(mut self, error: &Error, endpoint_failure: bool) {
        let now = Instant::now();
        let inner = self.inner.clone();
        let mut s = inner.lock();
        let hint = error.retry_after();
        self.finish_in(&mut s, now, |s, ep, p| match (p, endpoint_failure) {
            (Some(p), true) => match hint {
                Some(h) => s.breakers[ep].on_failure_with_hint(p, now, h),
                None => s.breakers[ep].on_failure(p, now),
            },
            (Some(p), false) => s.breakers[ep].release(p, now),
            (None, _) => {}
        });
        if endpoint_failure {
            s.ejection.on_failure(self.endpoint, now);
        }
        flush(&inner, &mut s, self.endpoint, now);
    }

    fn finish_in(
        &mut self,
        s: &mut Shared,
        _now: Instant,
        f: impl FnOnce(&mut Shared, usize, Option<Permit>),
    ) {
        if self.done {
            return;
        }
        self.done = true;
        s.balancer.finish(self.endpoint);
        f(s, self.endpoint, self.permit.take());
    }
}

impl Drop for AttemptGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let now = Instant::now();
        let inner = self.inner.clone();
        let mut s = inner.lock();
        self.finish_in(&mut s, now, |s, ep, p| {
            if let Some(p) = p {
                s.breakers[ep].release(p, now);
            }
        });
        flush(&inner, &mut s, self.endpoint, now);
    }
}

/// Publishes breaker transitions of `endpoint` and ejection changes.
pub(crate) fn flush(inner: &Inner, s: &mut Shared, endpoint: usize, now: Instant) {
    for t in s.breakers[endpoint].take_transitions() {
        inner.metrics.breaker_state(endpoint, t.to.as_gauge());
        tracing::info!(endpoint = %inner.endpoints[endpoint].base, from = %t.from, to = %t.to, "breaker transition");
        inner.events.emit(|| ClientEvent::BreakerTransition {
            endpoint: inner.endpoints[endpoint].base.clone(),
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
            } => inner.events.emit(|| ClientEvent::Ejected {
                endpoint: inner.endpoints[endpoint].base.clone(),
                until,
            }),
            EjectionEvent::Returned { endpoint, .. } => {
                inner.events.emit(|| ClientEvent::Returned {
                    endpoint: inner.endpoints[endpoint].base.clone(),
                })
            }
        }
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
