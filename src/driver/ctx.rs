//! What every sending task of one arm shares: the sender, the clock origin,
//! the outcome channel, the in-flight gauges and the abandon token; and
//! [`measure`], the one place a request is timed.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::outcome::{Arm, Outcome};
use crate::sender::Sender;

/// Generator facts of one arm, for the report's `generator` section.
#[derive(Debug, Clone, Default)]
pub struct DriveStats {
    /// Requests started.
    pub started: u64,
    /// Times the open model found `max_in_flight` requests out and waited.
    pub max_in_flight_hits: u64,
    /// Requests still running when the drain limit (or a second Ctrl-C)
    /// ended them; they have no outcome.
    pub abandoned: u64,
    /// From t0 until the load stopped (the schedule ran out, the users'
    /// time ended, or a stop): longer than the duration when the generator
    /// fell behind its schedule. Rates are divided by this.
    pub load_time: std::time::Duration,
}

/// Live counters the progress line and recorder sample.
#[derive(Debug, Default)]
pub struct Gauges {
    /// Requests in flight, one counter per load thread (each on its own
    /// cache line, so two cores never bump the same one).
    shards: [Shard; GAUGE_SHARDS],
    /// Open-model requests abandoned on `abort`, counted by the requests
    /// themselves (the in-flight count may already be back to 0 when the
    /// abort came before the driver started waiting).
    abandoned: AtomicU64,
}

const GAUGE_SHARDS: usize = 8;

#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(AtomicI64);

impl Gauges {
    /// Requests currently in flight.
    pub fn in_flight(&self) -> u64 {
        let n: i64 = self
            .shards
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum();
        n.max(0) as u64
    }

    /// Open-model requests that saw the abort while in flight.
    pub fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }

    pub(super) fn add(&self, shard: usize, delta: i64) {
        self.shards[shard % GAUGE_SHARDS]
            .0
            .fetch_add(delta, Ordering::Relaxed);
    }
}

/// Sends request `index` with `sender` and measures it: `sent` is taken
/// just before the send, `done` when the sender returns, both as offsets
/// from `t0`.
pub async fn measure<S: Sender>(
    sender: &S,
    conn: &mut S::Conn,
    index: usize,
    t0: Instant,
    arm: Arm,
    intended: Duration,
) -> Outcome {
    let start = Instant::now();
    let sent = start.saturating_duration_since(t0);
    let mut o = Outcome::new(arm, intended, sent);
    sender.send(conn, index, start, &mut o).await;
    o.done = t0.elapsed();
    o
}

#[derive(Clone)]
pub(super) struct Ctx<S> {
    pub(super) sender: S,
    pub(super) t0: Instant,
    pub(super) out: mpsc::Sender<Outcome>,
    pub(super) gauges: Arc<Gauges>,
    /// Which of `gauges`' counters this context bumps.
    pub(super) shard: usize,
    /// Abandons every request in flight (drain limit, second Ctrl-C).
    pub(super) abort: CancellationToken,
    pub(super) arm: Arm,
}

impl<S: Sender> Ctx<S> {
    /// One open-model request, abandoned (no outcome) on `abort`.
    pub(super) async fn run_one(&self, index: usize, intended: Duration) {
        self.gauges.add(self.shard, 1);
        let mut conn = S::Conn::default();
        let outcome = tokio::select! {
            // An abandoned request has no honest latency: it is counted in
            // DriveStats::abandoned instead of being recorded.
            _ = self.abort.cancelled() => None,
            o = self.measure(&mut conn, index, intended) => Some(o),
        };
        self.gauges.add(self.shard, -1);
        self.sender.release(conn);
        match outcome {
            Some(o) => self.deliver(o).await,
            None => {
                self.gauges.abandoned.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Sends request `index` and measures it; `conn` is what the calling
    /// task keeps between its requests.
    pub(super) async fn measure(
        &self,
        conn: &mut S::Conn,
        index: usize,
        intended: Duration,
    ) -> Outcome {
        measure(&self.sender, conn, index, self.t0, self.arm, intended).await
    }

    pub(super) async fn deliver(&self, o: Outcome) {
        // The recorder outlives the driver; a closed channel only happens
        // on shutdown, where dropping the outcome is right.
        let _ = self.out.send(o).await;
    }
}
