//! Response bodies: a plain `Full` for one-piece replies (the fast path) and
//! a stream driven by an [`Emitter`] for paced or faulty ones, each carrying
//! the journal record of its attempt (if it is one) until the body ends.
//!
//! The stream is polled by hyper itself (no extra task), so a client that
//! leaves drops it and nothing is left running.

use super::attempt::{Open, Progress};
use super::ctl::{BodyGuard, ConnCtl};
use super::emit::{Emitter, Step};
use bytes::Bytes;
use futures::Stream;
use http_body_util::{Either, Full, StreamBody};
use hyper::body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Pause before a deliberate close, so bytes already handed to hyper are
/// flushed to the socket first.
pub const FLUSH_GRACE: Duration = Duration::from_millis(15);

/// Error that ends a body on purpose (fault) — hyper then drops the connection.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by fault injection")]
pub struct FaultClose;

type FrameStream = Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, FaultClose>> + Send>>;

type Inner = Either<Full<Bytes>, StreamBody<FrameStream>>;

/// The body type of every response: the bytes, and the open journal record
/// of the attempt they answer, ended when the last frame is handed over or,
/// if the body is dropped before that, by the record's own drop.
pub struct Body {
    inner: Inner,
    attempt: Option<Open>,
}

/// A one-piece body.
pub fn full(b: impl Into<Bytes>) -> Body {
    Body {
        inner: Either::Left(Full::new(b.into())),
        attempt: None,
    }
}

impl Body {
    /// Gives the body the record of the attempt it answers.
    pub fn with_attempt(mut self, attempt: Open) -> Body {
        self.attempt = Some(attempt);
        self
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = <Inner as hyper::body::Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_frame(cx);
        if this.attempt.is_some() {
            let over = match &r {
                Poll::Ready(None) => true,
                Poll::Ready(Some(Ok(_))) => this.inner.is_end_stream(),
                // A deliberate close: the record's drop reads how from its progress.
                Poll::Ready(Some(Err(_))) => {
                    this.attempt = None;
                    false
                }
                Poll::Pending => false,
            };
            if over {
                if let Some(a) = this.attempt.take() {
                    a.answered();
                }
            }
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        use hyper::body::Body as _;
        // hyper may never poll a body that is already at its end.
        if self.inner.is_end_stream() {
            if let Some(a) = self.attempt.take() {
                a.answered();
            }
        }
    }
}

/// Capacity slots a reply holds until its body ends.
#[derive(Default)]
pub struct Slots {
    /// Permits already granted.
    pub held: Vec<OwnedSemaphorePermit>,
    /// Semaphores still to acquire (capacity queue), with keep-alive bytes
    /// and period to send while waiting.
    pub pending: Vec<Arc<Semaphore>>,
    /// Keep-alive bytes while waiting for `pending`.
    pub keep_alive: &'static [u8],
    /// Keep-alive period.
    pub every: Duration,
}

struct Drive<E> {
    emitter: E,
    ctl: Arc<ConnCtl>,
    progress: Option<Arc<Progress>>,
    _in_flight: BodyGuard,
    slots: Slots,
    next_keep_alive: Option<Instant>,
    done: bool,
}

/// A streamed body that runs `emitter`, after first acquiring any pending
/// slots, reporting tokens, a stall and a deliberate close to `progress`.
pub fn streamed<E: Emitter>(
    emitter: E,
    ctl: Arc<ConnCtl>,
    slots: Slots,
    progress: Option<Arc<Progress>>,
) -> Body {
    let drive = Drive {
        emitter,
        _in_flight: ctl.body_started(),
        ctl,
        progress,
        slots,
        next_keep_alive: None,
        done: false,
    };
    let s = futures::stream::unfold(drive, |mut d| async move {
        if d.done {
            return None;
        }
        if let Some(bytes) = d.wait_for_slots().await {
            return Some((Ok(Frame::data(bytes)), d));
        }
        loop {
            let now = Instant::now();
            match d.emitter.next(now) {
                Step::Send(b) => {
                    if let Some(p) = &d.progress {
                        p.tokens(d.emitter.tokens());
                    }
                    return Some((Ok(Frame::data(b)), d));
                }
                Step::SleepUntil(t) => tokio::time::sleep_until(t).await,
                Step::Close { rst } => {
                    if let Some(p) = &d.progress {
                        p.closing();
                    }
                    tokio::time::sleep(FLUSH_GRACE).await;
                    d.ctl.close(rst);
                    d.done = true;
                    return Some((Err(FaultClose), d));
                }
                Step::Stall => {
                    if let Some(p) = &d.progress {
                        p.stalled(d.ctl.shared.clock_ns(now));
                    }
                    std::future::pending::<()>().await
                }
                Step::End => return None,
            }
        }
    });
    Body {
        inner: Either::Right(StreamBody::new(Box::pin(s))),
        attempt: None,
    }
}

impl<E> Drive<E> {
    /// Acquires queued capacity slots; returns keep-alive bytes whenever one
    /// is due before the slots are free.
    async fn wait_for_slots(&mut self) -> Option<Bytes> {
        while let Some(sem) = self.slots.pending.last().cloned() {
            let due = *self
                .next_keep_alive
                .get_or_insert_with(|| Instant::now() + self.slots.every);
            tokio::select! {
                permit = sem.acquire_owned() => {
                    self.slots.pending.pop();
                    // A closed semaphore cannot happen (never closed); skip the cap if it does.
                    if let Ok(p) = permit {
                        self.slots.held.push(p);
                    }
                }
                _ = tokio::time::sleep_until(due) => {
                    self.next_keep_alive = Some(due + self.slots.every);
                    return Some(Bytes::from_static(self.slots.keep_alive));
                }
            }
        }
        None
    }
}
