//! The load driver: one scheduler decides when each request leaves (open
//! model: the precomputed [`Schedule`], [`open`]; closed model: N virtual
//! users, [`closed`]), a [`Sender`] sends it and [`measure`] times it, and
//! every [`Outcome`] goes over a channel to the recorder. Generic over the
//! sender, it never asks which one it drives. Nothing here keeps
//! per-request state after the outcome is sent.

mod burst;
mod closed;
mod ctx;
mod open;
mod picker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::outcome::{Arm, Outcome};
use crate::scenario::load::Pick;
use crate::schedule::Schedule;
use crate::sender::Sender;
use crate::threads::on_own_thread;
use burst::{forward_in_bursts, BATCH_CAPACITY};
use closed::{spawn_users, Users};
use ctx::Ctx;
pub use ctx::{measure, DriveStats, Gauges};
use picker::Picker;

/// How requests are paced.
#[derive(Debug, Clone)]
pub enum Pacing {
    /// Open model: send on the schedule; wait (and count it) when
    /// `max_in_flight` requests are already out.
    Open {
        /// Intended send offsets.
        schedule: Box<Schedule>,
        /// Most requests in flight at once.
        max_in_flight: usize,
    },
    /// Closed model: `users` loops, each waiting `think_time` between
    /// requests, until `duration` has passed.
    Closed {
        /// Virtual users.
        users: usize,
        /// Pause between one user's requests.
        think_time: Duration,
        /// When users stop starting new requests.
        duration: Duration,
    },
}

/// What one arm of a run sends.
#[derive(Debug, Clone)]
pub struct Job {
    /// Which client this is.
    pub arm: Arm,
    /// Pacing model.
    pub pacing: Pacing,
    /// How many request bodies there are to rotate through or sample
    /// from (the sender knows the bodies; the driver picks indices).
    pub bodies: usize,
    /// Rotation or seeded sampling.
    pub pick: Pick,
    /// Seed for request sampling.
    pub seed: u64,
    /// After the schedule ends, how long in-flight requests may still take
    /// before they are abandoned (and counted as such).
    pub drain: Duration,
}

/// How a run ends an arm's load early.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    /// Start no new request (Ctrl-C, `--abort-on-fail`); requests in
    /// flight still drain.
    pub load: CancellationToken,
    /// Abandon the requests in flight now, with no outcome (a second
    /// Ctrl-C); they are counted in [`DriveStats::abandoned`].
    pub in_flight: CancellationToken,
}

/// Run one arm to completion (or until `stop`), sending each outcome to
/// `out`. Returns when every started request has ended or been abandoned
/// after the drain limit (or `stop.in_flight`).
pub async fn drive<S: Sender>(
    sender: S,
    job: Job,
    t0: Instant,
    out: mpsc::Sender<Vec<Outcome>>,
    stop: Stop,
    gauges: Arc<Gauges>,
) -> DriveStats {
    let tracker = TaskTracker::new();
    // This arm's own: a drain limit running out here abandons only its
    // requests.
    let abort = stop.in_flight.child_token();
    let mut stats = DriveStats::default();
    let picker = Picker::new(job.bodies, job.pick, job.seed);
    let (batch_tx, batch_rx) = mpsc::channel(BATCH_CAPACITY);
    let forwarder = tokio::spawn(forward_in_bursts(batch_rx, out.clone()));
    let mut closed_started = None;
    let ctx = Ctx {
        sender,
        t0,
        out: batch_tx,
        gauges,
        shard: 0,
        abort: abort.clone(),
        arm: job.arm,
    };
    match job.pacing.clone() {
        Pacing::Open {
            schedule,
            max_in_flight,
        } => {
            // The scheduler gets a thread and a timer of its own, so send
            // instants do not wait behind request tasks or the recorder on
            // the shared workers; requests still run on the main runtime.
            let main = tokio::runtime::Handle::current();
            let scheduler = open::open_loop(
                *schedule,
                max_in_flight,
                ctx.clone(),
                stop.load.clone(),
                picker,
                tracker.clone(),
                main,
            );
            if let Ok(done) = on_own_thread("harness-scheduler", scheduler) {
                if let Ok(st) = done.await {
                    stats = st;
                }
            }
        }
        Pacing::Closed {
            users,
            think_time,
            duration,
        } => {
            let users = Users {
                users,
                think_time,
                end: t0 + duration,
                stop: stop.load.clone(),
                started: Arc::new(AtomicU64::new(0)),
            };
            spawn_users(&users, &ctx, &picker, &tracker, &out);
            tracker.close();
            tokio::select! {
                _ = stop.load.cancelled() => {}
                _ = tokio::time::sleep_until(users.end) => {}
            }
            closed_started = Some(users.started);
        }
    }
    let load_time = t0.elapsed();
    tracker.close();
    let drained = tokio::select! {
        // Abandoned tasks end at once too; the abandon must win the race
        // so they are counted.
        biased;
        _ = abort.cancelled() => false,
        _ = tracker.wait() => true,
        _ = tokio::time::sleep(job.drain) => false,
    };
    if !drained {
        stats.abandoned = ctx.gauges.in_flight();
        abort.cancel();
        tracker.wait().await;
        // Open-model requests count themselves: exact even when the abort
        // came first and they had already ended when in_flight was read.
        stats.abandoned = stats.abandoned.max(ctx.gauges.abandoned());
    }
    if let Some(started) = closed_started {
        // Users add what they started when they end.
        stats.started = started.load(Ordering::Relaxed);
    }
    // The last sender goes with `ctx`; the forwarder then drains and ends, so
    // every outcome has reached `out` when this returns.
    drop(ctx);
    let _ = forwarder.await;
    stats.load_time = load_time;
    stats
}

#[cfg(test)]
mod tests;
