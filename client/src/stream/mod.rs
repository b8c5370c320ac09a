//! Streamed answers. `ChunkReader` turns an SSE body into typed chunks under
//! the first-token, idle and total timers; only `data:` events move the idle
//! timer, so `: keep-alive` comments and blank lines cannot keep a dead
//! stream alive. [`ChatStream`] is what callers get: a `Stream` of chunks
//! that owns the HTTP response and every permit of its call, so dropping it
//! aborts the request and frees them.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt};
use tokio::time::{sleep_until, Instant, Sleep};

use crate::config::TimeoutsConfig;
use crate::error::{Error, TimeoutPhase};
use crate::meta::CallMeta;
use crate::sse::{SseEvent, SseParser};
use crate::transport::{bound, classify_reqwest};
use crate::types::ChatChunk;

/// Reads typed chunks from one SSE response.
pub(crate) struct ChunkReader {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: SseParser,
    timer: Pin<Box<Sleep>>,
    phase: TimeoutPhase,
    idle: std::time::Duration,
    deadline: Instant,
    got_token: bool,
    finished: bool,
    /// The body ended and the parser got its final terminator.
    eof: bool,
    partial_at_eof: bool,
}

impl ChunkReader {
    /// `start` is when the attempt began: the first-token timer runs from there.
    pub(crate) fn new(
        resp: reqwest::Response,
        t: &TimeoutsConfig,
        start: Instant,
        deadline: Instant,
    ) -> Self {
        let (at, phase) = bound(start + t.first_token, TimeoutPhase::FirstToken, deadline);
        ChunkReader {
            body: resp.bytes_stream().boxed(),
            parser: SseParser::default(),
            timer: Box::pin(sleep_until(at)),
            phase,
            idle: t.idle,
            deadline,
            got_token: false,
            finished: false,
            eof: false,
            partial_at_eof: false,
        }
    }

    /// Whether a content or reasoning token has been read.
    pub(crate) fn got_token(&self) -> bool {
        self.got_token
    }

    /// The next chunk; `None` after `data: [DONE]`. A body that ends without
    /// `[DONE]` or a `data:` line that is not a chunk is [`Error::StreamBroken`].
    pub(crate) async fn next(&mut self) -> Option<Result<ChatChunk, Error>> {
        if self.finished {
            return None;
        }
        let r = self.next_inner().await;
        if !matches!(r, Some(Ok(_))) {
            self.finished = true;
        }
        r
    }

    async fn next_inner(&mut self) -> Option<Result<ChatChunk, Error>> {
        loop {
            match self.parser.next_event() {
                Err(reason) => return Some(Err(Error::StreamBroken { reason })),
                Ok(Some(SseEvent::Done)) => return None,
                Ok(Some(SseEvent::Data(data))) => {
                    let chunk = match serde_json::from_str::<ChatChunk>(&data) {
                        Ok(c) => c,
                        Err(e) => {
                            let mut shown = data.chars().take(80).collect::<String>();
                            if data.len() > shown.len() {
                                shown.push('…');
                            }
                            return Some(Err(Error::StreamBroken {
                                reason: format!("data line is not a chunk ({e}): {shown:?}"),
                            }));
                        }
                    };
                    if chunk.has_token() {
                        self.got_token = true;
                    }
                    if self.got_token {
                        // Before the first token the first-token bound stays in
                        // force: a role-only chunk is not an answer yet.
                        let (at, phase) = bound(
                            Instant::now() + self.idle,
                            TimeoutPhase::Idle,
                            self.deadline,
                        );
                        self.timer.as_mut().reset(at);
                        self.phase = phase;
                    }
                    return Some(Ok(chunk));
                }
                Ok(None) if self.eof => {
                    let reason = if self.partial_at_eof {
                        "stream ended in the middle of an event"
                    } else {
                        "stream ended without data: [DONE]"
                    };
                    return Some(Err(Error::StreamBroken {
                        reason: reason.to_owned(),
                    }));
                }
                Ok(None) => {}
            }
            tokio::select! {
                biased;
                bytes = self.body.next() => match bytes {
                    Some(Ok(b)) => self.parser.push(&b),
                    Some(Err(e)) => return Some(Err(body_error(e))),
                    None => {
                        // An unterminated last event (`data: [DONE]` then EOF)
                        // still counts, as EventSource implementations do.
                        self.eof = true;
                        self.partial_at_eof = self.parser.has_partial();
                        self.parser.push(b"\n\n");
                    }
                },
                () = self.timer.as_mut() => return Some(Err(Error::Timeout { phase: self.phase })),
            }
        }
    }
}

/// A body error mid-stream: a timeout keeps its class, anything else means
/// the stream broke.
fn body_error(e: reqwest::Error) -> Error {
    match classify_reqwest(e, TimeoutPhase::Idle) {
        t @ Error::Timeout { .. } => t,
        Error::Connection { kind, source } => Error::StreamBroken {
            reason: format!("connection {kind}: {source}"),
        },
        other => Error::StreamBroken {
            reason: other.to_string(),
        },
    }
}

/// What finishing a stream must report (breaker, metrics, permits). The
/// client implements it; dropping it without `finish` means cancellation.
pub(crate) trait StreamFinish: Send {
    /// Called once with the stream's final result.
    fn finish(&mut self, result: Result<(), &Error>);
}

/// Owned state behind a [`ChatStream`].
pub(crate) struct StreamState {
    pub(crate) reader: Option<ChunkReader>,
    pub(crate) buffered: VecDeque<ChatChunk>,
    pub(crate) finisher: Option<Box<dyn StreamFinish>>,
}

impl StreamState {
    async fn step(mut self) -> Option<(Result<ChatChunk, Error>, StreamState)> {
        if let Some(c) = self.buffered.pop_front() {
            return Some((Ok(c), self));
        }
        let item = match self.reader.as_mut() {
            Some(r) => r.next().await,
            None => None,
        };
        match item {
            Some(Ok(c)) => Some((Ok(c), self)),
            Some(Err(e)) => {
                if let Some(mut f) = self.finisher.take() {
                    f.finish(Err(&e));
                }
                self.reader = None;
                Some((Err(e), self))
            }
            None => {
                if let Some(mut f) = self.finisher.take() {
                    f.finish(Ok(()));
                }
                None
            }
        }
    }
}

/// A streamed answer: `Stream<Item = Result<ChatChunk, Error>>`. Ends after
/// `data: [DONE]`, or after yielding one error. [`ChatStream::meta`] says how
/// the stream was obtained (attempts, statuses, fallback, trace id).
pub struct ChatStream {
    inner: BoxStream<'static, Result<ChatChunk, Error>>,
    meta: CallMeta,
}

impl ChatStream {
    pub(crate) fn new(state: StreamState, meta: CallMeta) -> Self {
        let inner = futures::stream::unfold(state, StreamState::step).boxed();
        ChatStream { inner, meta }
    }

    /// Attempts, statuses, endpoints, queue wait, fallback and trace id. Final
    /// once the stream is returned: streams are never retried after their
    /// first token.
    pub fn meta(&self) -> &CallMeta {
        &self.meta
    }
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk, Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
