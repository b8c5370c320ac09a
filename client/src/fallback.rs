//! Turning a call's answer into what the caller gets: the static-reply
//! fallback as a response or a one-chunk stream, and a live stream wired to
//! its permits so that finishing it (or dropping it) reports to the breaker,
//! ejection and metrics exactly once.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::time::Instant;

use crate::call::StreamStart;
use crate::client::Inner;
use crate::error::Error;
use crate::guard::{Admission, AttemptGuard};
use crate::meta::CallMeta;
use crate::stream::{ChatStream, StreamFinish, StreamState};
use crate::types::{
    ChatChunk, ChatResponse, Choice, ChunkChoice, Delta, FinishReason, ResponseMessage,
};

/// Model name reported on static fallback answers.
pub const STATIC_MODEL: &str = "static-fallback";

pub(crate) fn static_response(text: String) -> ChatResponse {
    ChatResponse {
        id: "fallback".to_owned(),
        object: "chat.completion".to_owned(),
        created: 0,
        model: STATIC_MODEL.to_owned(),
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: "assistant".to_owned(),
                content: Some(text),
                ..Default::default()
            },
            finish_reason: Some(FinishReason::Stop),
        }],
        usage: None,
        system_fingerprint: None,
        meta: CallMeta::default(),
    }
}

pub(crate) fn static_stream(text: String, meta: CallMeta) -> ChatStream {
    let chunk = ChatChunk {
        id: "fallback".to_owned(),
        object: "chat.completion.chunk".to_owned(),
        created: 0,
        model: STATIC_MODEL.to_owned(),
        choices: vec![ChunkChoice {
            index: 0,
            delta: Delta {
                role: Some("assistant".to_owned()),
                content: Some(text),
                ..Default::default()
            },
            finish_reason: Some(FinishReason::Stop),
        }],
        usage: None,
    };
    let state = StreamState {
        reader: None,
        buffered: VecDeque::from([chunk]),
        finisher: None,
    };
    ChatStream::new(state, meta)
}

/// Reports the end of a live stream.
struct LiveFinish {
    inner: Arc<Inner>,
    guard: Option<AttemptGuard>,
    _admission: Option<Admission>,
    started: Instant,
    ttft: std::time::Duration,
    fallback: bool,
}

impl StreamFinish for LiveFinish {
    fn finish(&mut self, result: Result<(), &Error>) {
        let elapsed = self.started.elapsed();
        match result {
            Ok(()) => {
                if let Some(g) = self.guard.take() {
                    // Slow-call judgement uses the time to first token: a long
                    // answer is not a slow endpoint.
                    g.success(self.ttft);
                }
                let outcome = if self.fallback { "fallback" } else { "ok" };
                self.inner.metrics.request(outcome, 200, elapsed);
            }
            Err(e) => {
                if let Some(g) = self.guard.take() {
                    let endpoint_failure = !matches!(
                        e,
                        Error::Timeout {
                            phase: crate::error::TimeoutPhase::Total
                        }
                    );
                    g.failure(e, endpoint_failure);
                }
                self.inner.metrics.request(e.class(), 200, elapsed);
            }
        }
    }
}

impl Drop for LiveFinish {
    fn drop(&mut self) {
        if self.guard.is_some() {
            // Dropped before the end: the guard releases its permit itself.
            self.inner
                .metrics
                .request("cancelled", 200, self.started.elapsed());
        }
    }
}

pub(crate) fn live_stream(
    inner: Arc<Inner>,
    start: StreamStart,
    admission: Option<Admission>,
    started: Instant,
    meta: CallMeta,
) -> ChatStream {
    let finisher = LiveFinish {
        inner,
        guard: Some(start.guard),
        _admission: admission,
        started,
        ttft: start.ttft,
        fallback: meta.fallback.is_some(),
    };
    let state = StreamState {
        reader: start.reader,
        buffered: start.buffered,
        finisher: Some(Box::new(finisher)),
    };
    ChatStream::new(state, meta)
}
