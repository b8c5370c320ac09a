//! Streamed answers. [`ChatStream`] is what callers get: a `Stream` of
//! chunks that owns the HTTP response and every permit of its call, so
//! dropping it aborts the request and frees them. `reader` turns an SSE
//! body into typed chunks under the stream timers; `live` wires a started
//! stream to its call's breaker permit, admission and metrics through
//! [`StreamFinish`] (so this file does not depend on `live`).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{BoxStream, Stream, StreamExt};

use crate::error::Error;
use crate::meta::CallMeta;
use crate::types::ChatChunk;
use reader::ChunkReader;

pub(crate) mod live;
pub(crate) mod reader;

/// What finishing a stream must report (breaker, metrics, permits);
/// `live::LiveFinish` implements it. Dropping it without `finish` means
/// the caller cancelled.
pub(crate) trait StreamFinish: Send + 'static {
    /// Called once with the stream's final result.
    fn finish(&mut self, result: Result<(), &Error>);
}

/// Nothing to report: a stream with no call behind it (the static reply).
impl StreamFinish for () {
    fn finish(&mut self, _: Result<(), &Error>) {}
}

/// Owned state behind a [`ChatStream`].
pub(crate) struct StreamState<F> {
    pub(crate) reader: Option<ChunkReader>,
    pub(crate) buffered: VecDeque<ChatChunk>,
    pub(crate) finisher: Option<F>,
}

impl<F: StreamFinish> StreamState<F> {
    async fn step(mut self) -> Option<(Result<ChatChunk, Error>, Self)> {
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
    pub(crate) fn new<F: StreamFinish>(state: StreamState<F>, meta: CallMeta) -> Self {
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
