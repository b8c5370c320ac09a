//! The attempt loop: for each attempt { balancer pick (skipping ejected
//! endpoints and open breakers, preferring endpoints this call has not tried)
//! -> breaker permit -> one attempt -> outcome into breaker, ejection and
//! balancer }, and between attempts backoff with jitter (at least the
//! server's `Retry-After`), the retry budget and failover, all under the
//! call's total deadline.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::{sleep, Instant};
use tracing::Instrument;

use super::attempt::{attempt, Attempted};
use crate::error::{Error, TimeoutPhase};
use crate::events::ClientEvent;
use crate::guard::AttemptGuard;
use crate::meta::CallMeta;
use crate::state::{Inner, Shared};
use crate::stream::live::StreamStart;
use crate::trace::TraceId;
use crate::transport::{Request, Transport};
use crate::types::ChatResponse;

/// State of one logical call: what every attempt shares, and the record
/// the caller gets back.
pub(super) struct Call<'t, T> {
    pub(super) inner: Arc<Inner>,
    transport: &'t T,
    trace: TraceId,
    pub(super) meta: CallMeta,
    pub(super) started: Instant,
    pub(super) deadline: Instant,
}

/// What successful attempts produced.
pub(super) enum Answered {
    Unary(ChatResponse),
    Stream(StreamStart),
}

impl<'t, T: Transport> Call<'t, T> {
    /// Starts the clock: the total deadline runs from now.
    pub(super) fn new(inner: Arc<Inner>, transport: &'t T) -> Self {
        let trace = TraceId::random();
        let started = Instant::now();
        let deadline = started + inner.cfg.timeouts.total;
        let meta = CallMeta {
            trace_id: trace.to_hex(),
            ..CallMeta::default()
        };
        Call {
            inner,
            transport,
            trace,
            meta,
            started,
            deadline,
        }
    }

    /// Picks an endpoint not yet `tried` (when possible) that is neither
    /// ejected nor refused by its breaker, and leases its breaker permit.
    fn pick(&self, tried: &[usize], use_breaker: bool) -> Option<AttemptGuard> {
        let now = Instant::now();
        let mut s = self.inner.lock();
        let mut refused: Vec<usize> = Vec::new();
        loop {
            let Shared {
                balancer,
                breakers,
                ejection,
                rng,
                ..
            } = &mut *s;
            let healthy = |i: usize| {
                !refused.contains(&i)
                    && !ejection.is_ejected(i, now)
                    && (!use_breaker || !matches!(breakers[i].open_until(), Some(u) if now < u))
            };
            let ep = balancer.pick(tried, healthy, rng)?;
            if !use_breaker {
                return Some(AttemptGuard::new(self.inner.clone(), ep, None));
            }
            let acquired = s.breakers[ep].try_acquire(now);
            self.inner.flush(&mut s, ep, now);
            match acquired {
                Ok(p) => return Some(AttemptGuard::new(self.inner.clone(), ep, Some(p))),
                Err(_) => {
                    s.balancer.finish(ep);
                    refused.push(ep);
                }
            }
        }
    }

    /// Up to `max` attempts; `use_breaker: false` (the fallback model)
    /// neither asks nor feeds the breakers.
    pub(super) async fn attempts(
        &mut self,
        body: Bytes,
        stream: bool,
        use_breaker: bool,
        max: u32,
    ) -> Result<Answered, Error> {
        let mut tried: Vec<usize> = Vec::new();
        let mut prev_delay = Duration::ZERO;
        let mut last: Option<Error> = None;
        for n in 1..=max {
            let start = Instant::now();
            if start >= self.deadline {
                return Err(Error::Timeout {
                    phase: TimeoutPhase::Total,
                });
            }
            let Some(guard) = self.pick(&tried, use_breaker) else {
                return Err(last.unwrap_or(Error::BreakerOpen));
            };
            let ep = guard.endpoint();
            let req = Request {
                body: body.clone(),
                traceparent: self.trace.traceparent(),
                stream,
            };
            let span = tracing::debug_span!("attempt", n, endpoint = ep);
            let t = &self.inner.cfg.timeouts;
            let result = attempt(self.transport, ep, req, t, start, self.deadline)
                .instrument(span)
                .await;
            let status = match &result {
                Ok(_) => 200,
                Err(f) => f.status,
            };
            self.meta.record_attempt(ep, status);
            self.inner.metrics.attempt(ep, status);
            let failure = match result {
                Ok(Attempted::Unary(resp)) => {
                    guard.success(start.elapsed());
                    return Ok(Answered::Unary(resp));
                }
                Ok(Attempted::Stream { reader, buffered }) => {
                    let ttft = start.elapsed();
                    self.inner.metrics.ttft(self.started.elapsed());
                    return Ok(Answered::Stream(StreamStart {
                        reader,
                        buffered,
                        guard,
                        ttft,
                    }));
                }
                Err(f) => f,
            };
            guard.failure(&failure.error, failure.is_endpoint_failure());
            if !failure.retryable() || n == max {
                return Err(failure.error);
            }
            let delay = {
                let mut s = self.inner.lock();
                let mut d = self.inner.backoff.delay(n, prev_delay, &mut s.rng);
                if self.inner.cfg.retry.honor_retry_after {
                    if let Some(ra) = failure.error.retry_after() {
                        d = d.max(ra);
                    }
                }
                d
            };
            let now = Instant::now();
            // A wait that cannot end before the deadline fails fast.
            if now + delay >= self.deadline {
                return Err(failure.error);
            }
            if !self.inner.lock().budget.try_withdraw(now) {
                self.inner.events.emit(|| ClientEvent::BudgetExhausted);
                return Err(Error::RetryBudgetExhausted {
                    last: Box::new(failure.error),
                });
            }
            let cause = failure.error.cause_label();
            tracing::debug!(attempt = n, ?delay, %cause, "retrying");
            self.inner.events.emit(|| ClientEvent::Retry {
                attempt: n,
                delay,
                cause,
                endpoint: self.inner.endpoints[ep].clone(),
            });
            sleep(delay).await;
            prev_delay = delay;
            if self.inner.cfg.retry.failover {
                tried.push(ep);
            }
            last = Some(failure.error);
        }
        Err(last.unwrap_or(Error::BreakerOpen))
    }
}
