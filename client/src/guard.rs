//! Guards that tie a call's capacity to its lifetime: the bulkhead slot
//! ([`Admission`]) and one attempt's breaker permit and balancer load count
//! ([`AttemptGuard`]). Each is resolved exactly once; dropping one unresolved
//! (a cancelled call or stream) releases it without recording an outcome, so
//! a half-open breaker can never wait on a caller that went away.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use tokio::time::Instant;

use crate::error::Error;
use crate::policy::breaker::Permit;
use crate::policy::bulkhead::BulkheadPermit;
use crate::policy::priority::ClassPermit;
use crate::state::{Inner, Shared};

/// The bulkhead slot of a call plus the in-flight gauge; both end on drop.
pub(crate) struct Admission {
    _permit: BulkheadPermit,
    /// The priority class's slot, when `priorities` is on.
    _class: Option<ClassPermit>,
    in_flight: Gauge,
}

impl Admission {
    /// Holds `permit` and counts the call in `in_flight` until dropped.
    pub(crate) fn new(
        permit: BulkheadPermit,
        class: Option<ClassPermit>,
        in_flight: &Gauge,
    ) -> Self {
        in_flight.inc();
        Admission {
            _permit: permit,
            _class: class,
            in_flight: in_flight.clone(),
        }
    }
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
    inner: Arc<Inner>,
    endpoint: usize,
    permit: Option<Permit>,
    done: bool,
}

impl AttemptGuard {
    /// Holds the balancer count of `endpoint` (already taken by the pick)
    /// and its breaker `permit` (`None` when breakers are bypassed).
    pub(crate) fn new(inner: Arc<Inner>, endpoint: usize, permit: Option<Permit>) -> Self {
        AttemptGuard {
            inner,
            endpoint,
            permit,
            done: false,
        }
    }

    /// The endpoint index this attempt went to.
    pub(crate) fn endpoint(&self) -> usize {
        self.endpoint
    }

    pub(crate) fn success(mut self, elapsed: Duration) {
        let now = Instant::now();
        let inner = self.inner.clone();
        let mut s = inner.lock();
        self.finish_in(&mut s, |s, ep, p| {
            if let Some(p) = p {
                s.breakers[ep].on_success(p, elapsed, now);
            }
            s.ejection.on_success(ep, now);
        });
        inner.flush(&mut s, self.endpoint, now);
    }

    pub(crate) fn failure(mut self, error: &Error, endpoint_failure: bool) {
        let now = Instant::now();
        let inner = self.inner.clone();
        let mut s = inner.lock();
        let hint = error.retry_after();
        self.finish_in(&mut s, |s, ep, p| match (p, endpoint_failure) {
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
        inner.flush(&mut s, self.endpoint, now);
    }

    fn finish_in(&mut self, s: &mut Shared, f: impl FnOnce(&mut Shared, usize, Option<Permit>)) {
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
        self.finish_in(&mut s, |s, ep, p| {
            if let Some(p) = p {
                s.breakers[ep].release(p, now);
            }
        });
        inner.flush(&mut s, self.endpoint, now);
    }
}
