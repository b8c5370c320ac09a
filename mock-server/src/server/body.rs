//! Response bodies: a plain `Full` for one-piece replies (the fast path) and
//! a stream driven by an [`Emitter`] for paced or faulty ones.
//!
//! The stream is polled by hyper itself (no extra task), so a client that
//! leaves drops it and nothing is left running.

use super::ctl::{BodyGuard, ConnCtl};
use super::emit::{Emitter, Step};
use bytes::Bytes;
use futures::Stream;
use http_body_util::{Either, Full, StreamBody};
use hyper::body::Frame;
use std::pin::Pin;
use std::sync::Arc;
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

/// The body type of every response.
pub type Body = Either<Full<Bytes>, StreamBody<FrameStream>>;

/// A one-piece body.
pub fn full(b: impl Into<Bytes>) -> Body {
    Either::Left(Full::new(b.into()))
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
    _in_flight: BodyGuard,
    slots: Slots,
    next_keep_alive: Option<Instant>,
    done: bool,
}

/// A streamed body that runs `emitter`, after first acquiring any pending slots.
pub fn streamed<E: Emitter>(emitter: E, ctl: Arc<ConnCtl>, slots: Slots) -> Body {
    let drive = Drive {
        emitter,
        _in_flight: ctl.body_started(),
        ctl,
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
            match d.emitter.next(Instant::now()) {
                Step::Send(b) => return Some((Ok(Frame::data(b)), d)),
                Step::SleepUntil(t) => tokio::time::sleep_until(t).await,
                Step::Close { rst } => {
                    tokio::time::sleep(FLUSH_GRACE).await;
                    d.ctl.close(rst);
                    d.done = true;
                    return Some((Err(FaultClose), d));
                }
                Step::Stall => std::future::pending::<()>().await,
                Step::End => return None,
            }
        }
    });
    Either::Right(StreamBody::new(Box::pin(s)))
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
