//! Live streams: a stream that reached its first token ([`StreamStart`])
//! becomes a [`ChatStream`] wired to the permits of its call, so that
//! finishing it (or dropping it) reports to the breaker, outlier ejection
//! and metrics exactly once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::reader::ChunkReader;
use super::{ChatStream, StreamFinish, StreamState};
use crate::error::{Error, TimeoutPhase};
use crate::guard::{Admission, AttemptGuard};
use crate::meta::CallMeta;
use crate::state::Inner;
use crate::types::ChatChunk;

/// A stream that reached its first token (or completed without one).
pub(crate) struct StreamStart {
    /// `None` when the stream already ended cleanly.
    pub(crate) reader: Option<ChunkReader>,
    /// Chunks read up to the first token.
    pub(crate) buffered: VecDeque<ChatChunk>,
    pub(crate) guard: AttemptGuard,
    /// Attempt start to first token: what slow-call judgement uses.
    pub(crate) ttft: Duration,
}

/// Reports the end of a live stream.
struct LiveFinish {
    inner: Arc<Inner>,
    guard: Option<AttemptGuard>,
    _admission: Option<Admission>,
    started: Instant,
    ttft: Duration,
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
                            phase: TimeoutPhase::Total
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

/// The caller's stream for a call that started at `started`.
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
        finisher: Some(finisher),
    };
    ChatStream::new(state, meta)
}
