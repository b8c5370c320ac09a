//! One logical call through the stack: rate limiter -> bulkhead -> the
//! attempt loop (`retry`) -> the fallback if configured, and turning the
//! outcome into what `Client::chat` / `chat_stream` return (response or
//! stream, metrics, the call record). Generic over the [`Transport`], so the
//! whole orchestration is unit-tested with a scripted fake on paused time
//! (`tests.rs`). Every permit lives in a guard, so dropping the call frees it.
//! Modules depend one way: this file -> `retry` -> `attempt`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::{sleep, timeout_at, Instant};
use tracing::Instrument;

use crate::config::FallbackConfig;
use crate::error::{CallError, Error, TimeoutPhase};
use crate::events::ClientEvent;
use crate::fallback;
use crate::guard::Admission;
use crate::meta::{CallMeta, FallbackKind};
use crate::policy::priority::{ClassFallback, Priority};
use crate::policy::response_cache::prompt_key;
use crate::state::Inner;
use crate::stream::live::{live_stream, StreamStart};
use crate::stream::ChatStream;
use crate::transport::Transport;
use crate::types::{ChatRequest, ChatResponse};
use retry::{Answered, Call};

pub(crate) mod attempt;
mod retry;
#[cfg(test)]
mod tests;

/// What a successful call produced.
enum Answer {
    Unary(ChatResponse),
    Stream(StreamStart),
    Static(String),
    /// The last good answer for the same prompt (`fallback: cached`).
    Cached(ChatResponse),
}

impl From<Answered> for Answer {
    fn from(a: Answered) -> Self {
        match a {
            Answered::Unary(r) => Answer::Unary(r),
            Answered::Stream(s) => Answer::Stream(s),
        }
    }
}

/// Sends a non-streamed chat completion through the full stack.
pub(crate) async fn chat<T: Transport>(
    inner: &Arc<Inner>,
    transport: &T,
    req: ChatRequest,
) -> Result<ChatResponse, CallError> {
    let mut call = Call::new(inner.clone(), transport);
    let span = tracing::debug_span!("deepseek.chat", trace_id = %call.meta.trace_id, model = %req.model, stream = false);
    let result = call.run(req, false).instrument(span).await;
    let elapsed = call.started.elapsed();
    match result {
        Ok((Answer::Unary(mut resp), _)) => {
            let outcome = if call.meta.fallback.is_some() {
                "fallback"
            } else {
                "ok"
            };
            inner.metrics.request(outcome, 200, elapsed);
            resp.meta = call.meta;
            Ok(resp)
        }
        Ok((Answer::Static(text), _)) => {
            inner.metrics.request("fallback", 0, elapsed);
            let mut resp = fallback::static_response(text);
            resp.meta = call.meta;
            Ok(resp)
        }
        Ok((Answer::Cached(mut resp), _)) => {
            inner.metrics.request("fallback", 0, elapsed);
            resp.meta = call.meta;
            Ok(resp)
        }
        Ok((Answer::Stream(_), _)) => unreachable_stream(call.meta),
        Err(kind) => Err(failed(inner, kind, call.meta, elapsed)),
    }
}

/// Sends a streamed chat completion; returns once the first content token
/// arrived (retries and failover happen before that).
pub(crate) async fn chat_stream<T: Transport>(
    inner: &Arc<Inner>,
    transport: &T,
    req: ChatRequest,
) -> Result<ChatStream, CallError> {
    let mut call = Call::new(inner.clone(), transport);
    let span = tracing::debug_span!("deepseek.chat", trace_id = %call.meta.trace_id, model = %req.model, stream = true);
    let result = call.run(req, true).instrument(span).await;
    let elapsed = call.started.elapsed();
    match result {
        Ok((Answer::Stream(start), admission)) => Ok(live_stream(
            inner.clone(),
            start,
            admission,
            call.started,
            call.meta,
        )),
        Ok((Answer::Static(text), _)) => {
            inner.metrics.request("fallback", 0, elapsed);
            Ok(fallback::static_stream(text, call.meta))
        }
        Ok((Answer::Cached(resp), _)) => {
            inner.metrics.request("fallback", 0, elapsed);
            let text = resp.content().unwrap_or_default().to_owned();
            Ok(fallback::static_stream(text, call.meta))
        }
        Ok((Answer::Unary(_), _)) => unreachable_stream(call.meta),
        Err(kind) => Err(failed(inner, kind, call.meta, elapsed)),
    }
}

fn failed(inner: &Inner, kind: Error, meta: CallMeta, elapsed: Duration) -> CallError {
    inner
        .metrics
        .request(kind.class(), kind.status().unwrap_or(0), elapsed);
    CallError {
        kind,
        meta: Box::new(meta),
    }
}

#[cold]
fn unreachable_stream<T>(meta: CallMeta) -> Result<T, CallError> {
    // `run` answers in the mode it was asked for; reaching this is a bug,
    // reported as an error rather than a panic.
    Err(CallError {
        kind: Error::Request {
            reason: "internal: answer mode mismatch".into(),
        },
        meta: Box::new(meta),
    })
}

impl<T: Transport> Call<'_, T> {
    /// The whole call; returns the answer and, for live answers, the
    /// admission that must live as long as the answer is being read.
    async fn run(
        &mut self,
        mut req: ChatRequest,
        stream: bool,
    ) -> Result<(Answer, Option<Admission>), Error> {
        req.stream = stream;
        if !stream {
            req.stream_options = None;
        }
        let inner = self.inner.clone();
        let priority = req.priority;
        let class = inner
            .cfg
            .priorities
            .as_ref()
            .map(|p| &p.class(priority).fallback);
        // The fallback of the call's class replaces the client-wide one.
        let fallback_cfg = match class {
            Some(c) => c.as_config(),
            None => inner.cfg.fallback.clone(),
        };
        let cached = class == Some(&ClassFallback::Cached);
        let key = inner.lock().cache.is_some().then(|| prompt_key(&req));
        let admission = match self.admit(priority).await {
            Ok(a) => a,
            // Turned away before any attempt: only a class's fallback
            // answers (the client-wide one never did), and only with what
            // needs no request (the cache, a static reply).
            Err(err) if class.is_none() => return Err(err),
            Err(err) => {
                return match (&fallback_cfg, fallback::applies_to(&err)) {
                    (_, true) if cached => self.cached_answer(key, err).map(|a| (a, None)),
                    (Some(FallbackConfig::StaticReply(text)), true) => {
                        self.fell_back(FallbackKind::StaticReply);
                        Ok((Answer::Static(text.clone()), None))
                    }
                    _ => Err(err),
                };
            }
        };
        let body = encode(&req)?;
        inner.lock().budget.deposit(Instant::now());
        let max = inner.cfg.retry.max_attempts;
        let err = match self.attempts(body, stream, true, max).await {
            Ok(a) => {
                if let (Some(key), Answered::Unary(resp)) = (key, &a) {
                    if let Some(cache) = inner.lock().cache.as_mut() {
                        cache.put(key, resp, Instant::now());
                    }
                }
                return Ok((a.into(), Some(admission)));
            }
            Err(e) => e,
        };
        match (&fallback_cfg, fallback::applies_to(&err)) {
            (_, true) if cached => self.cached_answer(key, err).map(|a| (a, None)),
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
                        Ok((a.into(), Some(admission)))
                    }
                    Err(_) => Err(err),
                }
            }
            _ => Err(err),
        }
    }

    /// The last good answer for this prompt if the cache holds a fresh one;
    /// otherwise the call's own error.
    fn cached_answer(&mut self, key: Option<u64>, err: Error) -> Result<Answer, Error> {
        let hit = key.and_then(|k| {
            let s = self.inner.lock();
            s.cache.as_ref()?.get(k, Instant::now()).cloned()
        });
        match hit {
            Some(resp) => {
                self.fell_back(FallbackKind::Cached);
                Ok(Answer::Cached(resp))
            }
            None => Err(err),
        }
    }

    fn fell_back(&mut self, kind: FallbackKind) {
        self.meta.fallback = Some(kind);
        self.inner.events.emit(|| ClientEvent::Fallback { kind });
    }

    /// Rate limiter, then bulkhead (so a call waiting for a rate slot holds
    /// no concurrency slot).
    async fn admit(&mut self, priority: Priority) -> Result<Admission, Error> {
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
        // The class's share before the shared bulkhead: a class over its
        // share is shed at once and never takes a place in the queue.
        let class = match &self.inner.gate {
            Some(gate) => match gate.try_acquire(priority) {
                Some(p) => Some(p),
                None => {
                    self.inner.events.emit(|| ClientEvent::Shed);
                    return Err(Error::Shed);
                }
            },
            None => None,
        };
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
        Ok(Admission::new(permit, class, &self.inner.metrics.in_flight))
    }
}

fn encode(req: &ChatRequest) -> Result<Bytes, Error> {
    serde_json::to_vec(req)
        .map(Bytes::from)
        .map_err(|e| Error::Request {
            reason: e.to_string(),
        })
}
