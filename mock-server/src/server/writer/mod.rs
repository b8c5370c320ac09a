//! The attempt journal's writer (`docs/journal.md`, "Writing the journal"):
//! finished attempts go from the request path into a bounded queue with
//! `try_send` (a full queue counts a drop; a request never waits), and one
//! thread of its own numbers them (`seq`, in order of end), computes the
//! call keys that need the body, and hands each record to the sinks: the
//! in-memory [`Ring`] behind `GET /_mock/journal`, the optional file (a
//! `BufWriter` flushed every 200 ms and at the end) and the optional
//! in-process channel.
//!
//! The thread ends when every [`Journal`] handle is gone (the server's state
//! dropped after shutdown): it writes what is queued, flushes, and drops the
//! channel's `Sender`, so a reader's `recv` then returns `None`.

mod ring;
mod thread;

pub use ring::{Page, PageQuery, Ring, DEFAULT_RING, MAX_PAGE};

use crate::journal::{Attempt, CallKey, End};
use bytes::Bytes;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};

/// Finished attempts waiting for the writer thread. At 50,000 attempts/s
/// this is 160 ms of slack; each entry is ~200 bytes plus the request body
/// when the key still has to be read from it.
const INTAKE: usize = 8192;

/// A finished attempt on its way to the writer: instants in nanoseconds on
/// the server's clock (`Shared::clock_ns`), the call key when a header gave
/// it, else the body to find it in.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    /// Node index.
    pub node: u32,
    /// The key from the header rules; `None`: read it from `body`.
    pub key: Option<CallKey>,
    /// `/chat/completions` or `/v1/chat/completions` (part of a fingerprint).
    pub path: &'static str,
    /// The request body, kept only when the key or the model must be read from it.
    pub body: Bytes,
    /// t0 when the attempt ended.
    pub t0_ns: u64,
    /// Arrival of the head.
    pub at_ns: u64,
    /// Response head handed over.
    pub headers_ns: Option<u64>,
    /// End.
    pub end_ns: u64,
    /// How it ended.
    pub end: Option<End>,
    /// Bitmask of fired `FaultKind`s, by index.
    pub faults: u32,
    /// Status sent.
    pub status: Option<u16>,
    /// `Retry-After` sent (seconds).
    pub retry_after_s: Option<u64>,
    /// `retry-after-ms` sent.
    pub retry_after_ms: Option<u64>,
    /// `x-should-retry` sent.
    pub should_retry: Option<bool>,
    /// Tokens handed over before the end.
    pub tokens: u32,
    /// The request's model, when it parsed (else read from `body`).
    pub model: Option<&'static str>,
    /// The request's `stream`, when it parsed (else read from `body`).
    pub stream: Option<bool>,
    /// `x-stainless-retry-count`.
    pub sdk_retry_count: Option<u32>,
    /// When the server stopped sending for good (stall, stream stall).
    pub stalled_ns: Option<u64>,
}

/// Records lost, by where (each sink counts its own).
#[derive(Debug, Default)]
struct Lost {
    /// The intake queue was full (lost to every sink).
    intake: AtomicU64,
    /// The channel was full or its receiver gone.
    channel: AtomicU64,
    /// The file could not be written.
    file: AtomicU64,
}

/// Where the records go (besides the ring, always kept).
#[derive(Debug, Default)]
pub struct Sinks {
    /// Records held for `GET /_mock/journal` (0 = [`DEFAULT_RING`]).
    pub ring: usize,
    /// The file, already created, and its path for messages.
    pub file: Option<(File, PathBuf)>,
    /// The in-process channel.
    pub channel: Option<tokio::sync::mpsc::Sender<Attempt>>,
    /// Record nothing (to measure the journal's cost).
    pub disabled: bool,
}

/// The request path's handle on the journal.
#[derive(Debug)]
pub struct Journal {
    intake: SyncSender<Pending>,
    lost: Arc<Lost>,
    ring: Arc<Mutex<Ring>>,
    stopping: AtomicBool,
    enabled: bool,
}

/// Resolves when the writer thread has written everything and dropped the
/// channel's `Sender`.
pub type Done = tokio::sync::oneshot::Receiver<()>;

impl Journal {
    /// Starts the writer thread.
    pub fn start(sinks: Sinks) -> std::io::Result<(Journal, Done)> {
        let (intake, rx) = mpsc::sync_channel(INTAKE);
        let lost = Arc::new(Lost::default());
        let ring = Arc::new(Mutex::new(Ring::new(sinks.ring)));
        let (done_tx, done) = tokio::sync::oneshot::channel();
        let enabled = !sinks.disabled;
        if enabled {
            let writer = thread::Writer::new(rx, lost.clone(), ring.clone(), sinks, done_tx);
            std::thread::Builder::new()
                .name("mock-journal".into())
                .spawn(move || writer.run())?;
        }
        // Disabled: no thread; `done_tx` and the receiver drop here, so the
        // channel (if any) closes at once and `Done` resolves.
        Ok((
            Journal {
                intake,
                lost,
                ring,
                stopping: AtomicBool::new(false),
                enabled,
            },
            done,
        ))
    }

    /// False when the server records nothing (`--no-journal`).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Queues a finished attempt; never waits (a full queue counts a drop).
    pub fn submit(&self, p: Pending) {
        match self.intake.try_send(p) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.lost.intake.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records lost so far, summed over the sinks that lost them (a record
    /// the intake could not take counts once).
    pub fn dropped(&self) -> u64 {
        self.lost.intake.load(Ordering::Relaxed)
            + self.lost.channel.load(Ordering::Relaxed)
            + self.lost.file.load(Ordering::Relaxed)
    }

    /// One page of the ring.
    pub fn page(&self, q: PageQuery) -> Page {
        let dropped = self.dropped();
        self.ring
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .page(q.since, q.limit, dropped)
    }

    /// Marks the server as stopping: attempts that end from now on without
    /// an answer ended because of it (`end: shutdown`).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    /// True once [`stop`](Self::stop) was called.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }
}
