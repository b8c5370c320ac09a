//! One logical call through the stack: rate limiter -> bulkhead -> for each
//! attempt { balancer pick (skipping ejected endpoints and open breakers) ->
//! breaker permit -> HTTP attempt -> outcome into breaker, ejection and
//! balancer } with backoff, `Retry-After`, retry budget and failover between
//! attempts, all under the total deadline; then the fallback if configured.
//! Every permit lives in a guard, so dropping the call frees it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::{sleep, timeout_at, Instant};
use tracing::Instrument;

use crate::client::{Inner, Shared};
use crate::config::FallbackConfig;
use crate::error::{Error, TimeoutPhase};
use crate::events::ClientEvent;
use crate::guard::{flush, Admission, AttemptGuard};
use crate::meta::{CallMeta, FallbackKind};
use crate::stream::ChunkReader;
use crate::trace::TraceId;
use crate::transport::{self, AttemptFailure, Outgoing};
use crate::types::{ChatChunk, ChatRequest, ChatResponse};

/// What a successful call produced.
pub(crate) enum Answer {
    Unary(ChatResponse),
    Stream(StreamStart),
    Static(String),
}

/// A stream that reached its first token (or completed without one).
pub(crate) struct StreamStart {
    pub(crate) reader: Option<ChunkReader>,
    pub(crate) buffered: VecDeque<ChatChunk>,
    pub(crate) guard: AttemptGuard,
    pub(crate) ttft: Duration,
}

/// State of one logical call.
pub(crate) struct Call {
    inner: Arc<Inner>,
    trace: TraceId,
    pub(crate) meta: CallMeta,
    pub(crate) started: Instant,
    deadline: Instant,
}

impl Call {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        let trace = TraceId::random();
        let started = Instant::now();
        let deadline = started + inner.cfg.timeouts.total;
        let meta = CallMeta {
            trace_id: trace.to_hex(),
            ..CallMeta::default()
        };
        Call {
            inner,
            trace,
            meta,
            started,
            deadline,
        }
    }

    /// The whole call; returns the answer and, for live answers, the
    /// admission that must live as long as the answer is being read.
    pub(crate) async fn run(
        &mut self,
        mut req: ChatRequest,
        stream: bool,
    ) -> Result<(Answer, Option<Admission>), Error> {
        req.stream = stream;
        if !stream {
            req.stream_options = None;
        }
        let admission = self.admit().await?;
        let body = encode(&req)?;
        self.inner.lock().budget.deposit(Instant::now());
        let max = self.inner.cfg.retry.max_attempts;
        let err = match self.attempts(body, stream, true, max).await {
            Ok(a) => return Ok((a, Some(admission))),
            Err(e) => e,
        };
        let fallback_ok = !matches!(
            err,
            Error::Auth { .. }
                | Error::InvalidRequest { .. }
                | Error::Request { .. }
                | Error::Config(_)
        );
        let inner = self.inner.clone();
        match (&inner.cfg.fallback, fallback_ok) {
            (Some(FallbackConfig::StaticReply(text)), true) => {
                self.fell_back(FallbackKind::StaticReply);
                Ok((Answer::Static(text.clone()), None))
            }
            (Some(FallbackConfig::Model(model)), true) => {
                req.model = model.clone();
                let body = encode(&req)?;
                // The fallback model may live behind the same (open) breakers,
                // so it bypasses them; one attempt, still under the deadline.
                match self.attempts(body, stream, false, 1).await {
                    Ok(a) => {
                        self.fell_back(FallbackKind::Model);
                        Ok((a, Some(admission)))
                    }
                    Err(_) => Err(err),
                }
            }
            _ => Err(err),
        }
    }

    fn fell_back(&mut self, kind: FallbackKind) {
        self.meta.fallback = Some(kind);
        self.inner.events.emit(|| ClientEvent::Fallback { kind });
    }

    /// Rate limiter, then bulkhead (so a call waiting for a rate slot holds
    /// no concurrency slot).
    async fn admit(&mut self) -> Result<Admission, Error> {
        let t0 = Instant::now();
        let reserved = {
            let mut s = self.inner.lock();
            let remaining = self.deadline.saturating_duration_since(t0);
            s.limiter.as_mut().map(|l| {
                let bound = l.max_wait().min(remaining);
                l.reserve_within(t0, bound)
            })
        };
        let mut waited = Duration::ZERO;
        match reserved {
            Some(Err(_)) => return Err(Error::RateLimiterRejected),
            Some(Ok(wait)) if !wait.is_zero() => {
                waited = wait;
                sleep(wait).await;
                self.inner
                    .events
                    .emit(|| ClientEvent::RateLimitedWait { waited: wait });
            }
            _ => {}
        }
        let permit = match timeout_at(self.deadline, self.inner.bulkhead.acquire()).await {
            Err(_) => {
                return Err(Error::Timeout {
                    phase: TimeoutPhase::Total,
                })
            }
            Ok(Err(_)) => {
                self.inner.events.emit(|| ClientEvent::Shed);
                return Err(Error::Shed);
            }
            Ok(Ok(p)) => p,
        };
        self.meta.queue_wait = waited + permit.queue_wait();
        let in_flight = self.inner.metrics.in_flight.clone();
        in_flight.inc();
        Ok(Admission {
            _permit: permit,
            in_flight,
        })
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
                return Some(AttemptGuard {
                    inner: self.inner.clone(),
                    endpoint: ep,
                    permit: None,
                    done: false,
                });
            }
            let acquired = s.breakers[ep].try_acquire(now);
            flush(&self.inner, &mut s, ep, now);
            match acquired {
                Ok(p) => {
                    return Some(AttemptGuard {
                        inner: self.inner.clone(),
                        endpoint: ep,
                        permit: Some(p),
                        done: false,
                    })
                }
                Err(_) => {
                    s.balancer.finish(ep);
                    refused.push(ep);
                }
            }
        }
    }

    async fn attempts(
        &mut self,
        body: Bytes,
        stream: bool,
        use_breaker: bool,
        max: u32,
    ) -> Result<Answer, Error> {
        let mut tried: Vec<usize> = Vec::new();
        let mut prev_delay = Duration::ZERO;
        let mut last: Option<Error> = None;
        for attempt in 1..=max {
            let start = Instant::now();
            if start >= self.deadline {
                return Err(Error::Timeout {
                    phase: TimeoutPhase::Total,
                });
            }
            let Some(guard) = self.pick(&tried, use_breaker) else {
                return Err(last.unwrap_or(Error::BreakerOpen));
            };
            let ep = guard.endpoint;
            let span = tracing::debug_span!("attempt", n = attempt, endpoint = ep);
            let result = self
                .attempt(ep, body.clone(), stream, start)
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
                    return Ok(Answer::Unary(resp));
                }
                Ok(Attempted::Stream { reader, buffered }) => {
                    let ttft = start.elapsed();
                    self.inner.metrics.ttft(self.started.elapsed());
                    return Ok(Answer::Stream(StreamStart {
                        reader,
                        buffered,
                        guard,
                        ttft,
                    }));
                }
                Err(f) => f,
            };
            guard.failure(&failure.error, failure.is_endpoint_failure());
            if !failure.retryable() || attempt == max {
                return Err(failure.error);
            }
            let delay = {
                let mut s = self.inner.lock();
                let mut d = self.inner.backoff.delay(attempt, prev_delay, &mut s.rng);
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
            tracing::debug!(attempt, ?delay, %cause, "retrying");
            self.inner.events.emit(|| ClientEvent::Retry {
                attempt,
                delay,
                cause,
                endpoint: self.inner.endpoints[ep].base.clone(),
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

    /// One HTTP attempt; for streams it reads up to the first token so that
    /// failures before it are still retryable.
    async fn attempt(
        &self,
        ep: usize,
        body: Bytes,
        stream: bool,
        start: Instant,
    ) -> Result<Attempted, AttemptFailure> {
        let inner = &self.inner;
        let out = Outgoing {
            http: &inner.http,
            url: &inner.endpoints[ep].url,
            auth: inner.key.header(),
            body,
            traceparent: self.trace.traceparent(),
            stream,
        };
        let t = &inner.cfg.timeouts;
        let resp = transport::send(out, t, start, self.deadline).await?;
        if !stream {
            return transport::read_json(resp, t, self.deadline)
                .await
                .map(Attempted::Unary);
        }
        let status = resp.status().as_u16();
        let mut reader = ChunkReader::new(resp, t, start, self.deadline);
        let mut buffered = VecDeque::new();
        loop {
            match reader.next().await {
                Some(Ok(chunk)) => {
                    buffered.push_back(chunk);
                    if reader.got_token() {
                        return Ok(Attempted::Stream {
                            reader: Some(reader),
                            buffered,
                        });
                    }
                }
                Some(Err(error)) => {
                    return Err(AttemptFailure {
                        error,
                        status,
                        should_retry: None,
                    })
                }
                None => {
                    return Ok(Attempted::Stream {
                        reader: None,
                        buffered,
                    })
                }
            }
        }
    }
}

enum Attempted {
    Unary(ChatResponse),
    Stream {
        reader: Option<ChunkReader>,
        buffered: VecDeque<ChatChunk>,
    },
}

fn encode(req: &ChatRequest) -> Result<Bytes, Error> {
    serde_json::to_vec(req)
        .map(Bytes::from)
        .map_err(|e| Error::Request {
            reason: e.to_string(),
        })
}
