//! The load driver: one scheduler decides when each request leaves (open
//! model: the precomputed [`Schedule`]; closed model: N virtual users), one
//! executor ([`execute`]) runs a request through the client and measures it,
//! and every [`Outcome`] goes over a channel to the recorder. Nothing here
//! keeps per-request state after the outcome is sent.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use resilient_client::{ChatRequest, Client};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::classify;
use crate::direct::{Direct, Held, Watchdog};
use crate::outcome::{Arm, Outcome};
use crate::scenario::load::Pick;
use crate::schedule::Schedule;
use crate::threads::on_own_thread;

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
    /// Request bodies to rotate through or sample from.
    pub requests: Arc<Vec<ChatRequest>>,
    /// Rotation or seeded sampling.
    pub pick: Pick,
    /// Use `chat_stream` and measure TTFT / inter-token latency.
    pub stream: bool,
    /// Seed for request sampling.
    pub seed: u64,
    /// After the schedule ends, how long in-flight requests may still take
    /// before they are abandoned (and counted as such).
    pub drain: Duration,
}

/// What carries an arm's requests.
#[derive(Debug, Clone)]
pub enum Sender {
    /// The client under test (or the bare client of the raw arm).
    Client(Client),
    /// Plain HTTP/1.1 connections, no client (`load.via: direct`).
    Direct(Arc<Direct>),
}

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
}

/// Live counters the progress line and recorder sample.
#[derive(Debug, Default)]
pub struct Gauges {
    /// Requests in flight, one counter per load thread (each on its own
    /// cache line, so two cores never bump the same one).
    shards: [Shard; GAUGE_SHARDS],
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

    fn add(&self, shard: usize, delta: i64) {
        self.shards[shard % GAUGE_SHARDS]
            .0
            .fetch_add(delta, Ordering::Relaxed);
    }
}

/// Run one arm to completion (or until `stop` is cancelled), sending each
/// outcome to `out`. Returns when every started request has ended or been
/// abandoned after the drain limit.
pub async fn drive(
    sender: Sender,
    job: Job,
    t0: Instant,
    out: mpsc::Sender<Vec<Outcome>>,
    stop: CancellationToken,
    gauges: Arc<Gauges>,
) -> DriveStats {
    let tracker = TaskTracker::new();
    let abort = CancellationToken::new();
    let mut stats = DriveStats::default();
    let picker = Picker::new(&job);
    let (batch_tx, batch_rx) = mpsc::channel(BATCH_CAPACITY);
    let forwarder = tokio::spawn(forward_in_bursts(batch_rx, out.clone()));
    let mut closed_started = None;
    let ctx = Ctx {
        sender,
        requests: job.requests.clone(),
        t0,
        out: batch_tx,
        gauges,
        shard: 0,
        abort: abort.clone(),
        arm: job.arm,
        stream: job.stream,
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
            let scheduler = open_loop(
                *schedule,
                max_in_flight,
                ctx.clone(),
                stop.clone(),
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
            let started = Arc::new(AtomicU64::new(0));
            let end = t0 + duration;
            // Users look at a plain flag before each request: the token's
            // own check takes a lock shared by every core.
            let stopping = Arc::new(AtomicBool::new(false));
            {
                let (stop, stopping) = (stop.clone(), stopping.clone());
                tokio::spawn(async move {
                    stop.cancelled().await;
                    stopping.store(true, Ordering::Relaxed);
                });
            }
            let user = |ctx: Ctx, u: usize| {
                user_loop(
                    ctx,
                    picker.fork(u as u64),
                    stop.clone(),
                    stopping.clone(),
                    started.clone(),
                    end,
                    think_time,
                )
            };
            if let Sender::Direct(direct) = &ctx.sender {
                // Plain connections: one current-thread runtime per core,
                // each owning its users, their connections and a forwarder
                // of its own, as oha and wrk run. A request, its connection
                // and its outcome's hand-off then stay on one thread.
                let threads = std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(users);
                for t in 0..threads {
                    let (tx, rx) = mpsc::channel(BATCH_CAPACITY);
                    let local = Ctx {
                        out: tx,
                        sender: Sender::Direct(Arc::new(direct.fork())),
                        shard: t + 1,
                        ..ctx.clone()
                    };
                    let mut tasks: Vec<BoxedTask> = (t..users)
                        .step_by(threads)
                        .map(|u| Box::pin(tracker.track_future(user(local.clone(), u))) as _)
                        .collect();
                    drop(local);
                    tasks.push(Box::pin(
                        tracker.track_future(forward_in_bursts(rx, out.clone())),
                    ));
                    let all = async move {
                        let mut set = tokio::task::JoinSet::new();
                        for task in tasks {
                            set.spawn(task);
                        }
                        while set.join_next().await.is_some() {}
                    };
                    if on_own_thread(&format!("harness-users-{t}"), all).is_err() {
                        eprintln!("warning: cannot start a load thread; some users did not run");
                    }
                }
            } else {
                for u in 0..users {
                    tracker.spawn(user(ctx.clone(), u));
                }
            }
            tracker.close();
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep_until(end) => {}
            }
            closed_started = Some(started);
        }
    }
    tracker.close();
    let drained = tokio::select! {
        _ = tracker.wait() => true,
        _ = tokio::time::sleep(job.drain) => false,
    };
    if !drained {
        stats.abandoned = ctx.gauges.in_flight();
        abort.cancel();
        tracker.wait().await;
    }
    if let Some(started) = closed_started {
        // Users add what they started when they end.
        stats.started = started.load(Ordering::Relaxed);
    }
    // The last sender goes with `ctx`; the forwarder then drains and ends, so
    // every outcome has reached `out` when this returns.
    drop(ctx);
    let _ = forwarder.await;
    stats
}

/// How long finished outcomes gather before they go on together.
const FLUSH_EVERY: Duration = Duration::from_millis(1);
/// Outcomes buffered ahead of the recorder before requests wait for it.
const BATCH_CAPACITY: usize = 16_384;

/// Passes outcomes on to `out` in bursts, at most one per [`FLUSH_EVERY`].
/// The recorder runs on a thread of its own; handing it outcomes one by one
/// woke that thread once per request (an eventfd write and a context switch,
/// ~12% of the generator's CPU at 30k requests/s). A burst wakes it once. The
/// delay changes no measurement: every timestamp is taken before the send.
/// A burst is one message (a `Vec`), so the recorder's channel costs one
/// send per burst, not one per outcome.
async fn forward_in_bursts(mut rx: mpsc::Receiver<Outcome>, out: mpsc::Sender<Vec<Outcome>>) {
    let mut buf = Vec::with_capacity(1024);
    while rx.recv_many(&mut buf, BATCH_CAPACITY).await > 0 {
        let burst = std::mem::replace(&mut buf, Vec::with_capacity(1024));
        if out.send(burst).await.is_err() {
            // The recorder is gone (shutdown): nothing left to deliver to.
            return;
        }
        tokio::time::sleep(FLUSH_EVERY).await;
    }
}

/// How much of each wait the scheduler sleeps with the OS timer.
const FINE_SLEEP: Duration = Duration::from_millis(2);

async fn open_loop(
    schedule: Schedule,
    max_in_flight: usize,
    ctx: Ctx,
    stop: CancellationToken,
    mut picker: Picker,
    tracker: TaskTracker,
    main: tokio::runtime::Handle,
) -> DriveStats {
    let mut stats = DriveStats::default();
    let slots = Arc::new(Semaphore::new(max_in_flight));
    for intended in schedule {
        let at = ctx.t0 + intended;
        // tokio's timer wakes on whole milliseconds, late by up to 1 ms; the
        // last stretch is slept on this dedicated thread with the OS timer,
        // which keeps send lag in the tens of microseconds.
        let coarse = at.checked_sub(FINE_SLEEP).unwrap_or(at);
        if coarse > Instant::now() {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep_until(coarse) => {}
            }
        }
        if stop.is_cancelled() {
            break;
        }
        let left = at.saturating_duration_since(Instant::now());
        if !left.is_zero() {
            std::thread::sleep(left);
        }
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                stats.max_in_flight_hits += 1;
                tokio::select! {
                    _ = stop.cancelled() => break,
                    p = slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
        stats.started += 1;
        let req = picker.next();
        let ctx = ctx.clone();
        main.spawn(tracker.track_future(async move {
            ctx.run_one(req, intended).await;
            drop(permit);
        }));
    }
    stats
}

/// A task of a load thread (users and their forwarder).
type BoxedTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// One closed-model virtual user: send, wait for the answer, think, repeat
/// until `end` or `stop`. Abandoning (drain limit) drops the request in
/// flight, with no outcome.
async fn user_loop(
    ctx: Ctx,
    mut picker: Picker,
    stop: CancellationToken,
    stopping: Arc<AtomicBool>,
    started: Arc<AtomicU64>,
    end: Instant,
    think_time: Duration,
) {
    // Counted here and added once at the end: a shared counter bumped by
    // every request would bounce its cache line between cores.
    let sent = AtomicU64::new(0);
    let work = async {
        let mut conn = None;
        let mut watchdog = Watchdog::new();
        while Instant::now() < end && !stopping.load(Ordering::Relaxed) {
            sent.fetch_add(1, Ordering::Relaxed);
            let intended = ctx.t0.elapsed();
            ctx.gauges.add(ctx.shard, 1);
            let o = ctx
                .measure(&mut conn, Some(&mut watchdog), picker.next(), intended)
                .await;
            ctx.gauges.add(ctx.shard, -1);
            ctx.deliver(o).await;
            if !think_time.is_zero() {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(think_time) => {}
                }
            }
        }
        if let (Sender::Direct(direct), Some(c)) = (&ctx.sender, conn) {
            direct.checkin(c);
        }
    };
    tokio::select! {
        _ = ctx.abort.cancelled() => {}
        () = work => {}
    }
    started.fetch_add(sent.load(Ordering::Relaxed), Ordering::Relaxed);
}

#[derive(Clone)]
struct Ctx {
    sender: Sender,
    requests: Arc<Vec<ChatRequest>>,
    t0: Instant,
    out: mpsc::Sender<Outcome>,
    gauges: Arc<Gauges>,
    /// Which of `gauges`' counters this context bumps.
    shard: usize,
    abort: CancellationToken,
    arm: Arm,
    stream: bool,
}

impl Ctx {
    /// One open-model request, abandoned (no outcome) on `abort`.
    async fn run_one(&self, index: usize, intended: Duration) {
        self.gauges.add(self.shard, 1);
        let mut conn = None;
        let outcome = tokio::select! {
            // An abandoned request has no honest latency: it is counted in
            // DriveStats::abandoned instead of being recorded.
            _ = self.abort.cancelled() => None,
            o = self.measure(&mut conn, None, index, intended) => Some(o),
        };
        self.gauges.add(self.shard, -1);
        if let (Sender::Direct(direct), Some(c)) = (&self.sender, conn) {
            direct.checkin(c);
        }
        if let Some(o) = outcome {
            self.deliver(o).await;
        }
    }

    /// Sends request `index` and measures it. `conn` is the connection a
    /// `via: direct` caller keeps between requests.
    async fn measure(
        &self,
        conn: &mut Option<Held>,
        watchdog: Option<&mut Watchdog>,
        index: usize,
        intended: Duration,
    ) -> Outcome {
        let now = Instant::now();
        let sent = now.saturating_duration_since(self.t0);
        match &self.sender {
            Sender::Client(client) => {
                execute(
                    client,
                    self.requests[index].clone(),
                    self.stream,
                    self.t0,
                    self.arm,
                    intended,
                    sent,
                )
                .await
            }
            Sender::Direct(direct) => {
                let mut o = Outcome::new(self.arm, intended, sent);
                // Its bodies are serialized once, by index.
                direct.send(conn, index, now, watchdog, &mut o).await;
                o.done = self.t0.elapsed();
                o
            }
        }
    }

    async fn deliver(&self, o: Outcome) {
        // The recorder outlives the driver; a closed channel only happens
        // on shutdown, where dropping the outcome is right.
        let _ = self.out.send(o).await;
    }
}

/// Send one request through `client` and measure it.
pub async fn execute(
    client: &Client,
    req: ChatRequest,
    stream: bool,
    t0: Instant,
    arm: Arm,
    intended: Duration,
    sent: Duration,
) -> Outcome {
    let mut o = Outcome::new(arm, intended, sent);
    if stream {
        classify::run_stream(client, req, t0, &mut o).await;
    } else {
        classify::run_chat(client, req, &mut o).await;
    }
    o.done = t0.elapsed();
    o
}

/// Picks request bodies by rotation or seeded sampling.
struct Picker {
    /// How many request bodies there are.
    n: usize,
    pick: Pick,
    i: usize,
    rng: ChaCha8Rng,
    seed: u64,
}

impl Picker {
    fn new(job: &Job) -> Picker {
        Picker {
            n: job.requests.len().max(1),
            pick: job.pick,
            i: 0,
            rng: ChaCha8Rng::seed_from_u64(job.seed),
            seed: job.seed,
        }
    }

    fn fork(&self, stream: u64) -> Picker {
        Picker {
            n: self.n,
            pick: self.pick,
            i: stream as usize,
            rng: ChaCha8Rng::seed_from_u64(
                self.seed.wrapping_add(stream.wrapping_mul(0x9e37_79b9)),
            ),
            seed: self.seed,
        }
    }

    /// The index of the next request in the scenario's list.
    fn next(&mut self) -> usize {
        let n = self.n;
        match self.pick {
            Pick::Rotate => {
                let i = self.i % n;
                self.i = self.i.wrapping_add(1);
                i
            }
            Pick::Sample => self.rng.gen_range(0..n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::OutcomeClass;

    fn outcome(i: u64) -> Outcome {
        Outcome {
            arm: Arm::Resilient,
            intended: Duration::from_micros(i),
            sent: Duration::from_micros(i),
            done: Duration::from_micros(i + 10),
            ttft: None,
            itl: Vec::new(),
            tokens: 0,
            class: OutcomeClass::Ok,
            statuses: vec![200],
            attempts: 1,
            queue_wait: Duration::ZERO,
        }
    }

    #[tokio::test]
    async fn bursts_deliver_every_outcome_in_order_before_ending() {
        let (tx, rx) = mpsc::channel(BATCH_CAPACITY);
        // A small downstream channel: the forwarder must wait on it, not drop.
        let (out_tx, mut out_rx) = mpsc::channel(7);
        let fwd = tokio::spawn(forward_in_bursts(rx, out_tx));
        let collect = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(burst) = out_rx.recv().await {
                for o in burst {
                    got.push(o.intended.as_micros() as u64);
                }
            }
            got
        });
        for i in 0..1000 {
            tx.send(outcome(i)).await.unwrap();
            if i % 300 == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        drop(tx);
        fwd.await.unwrap();
        assert_eq!(collect.await.unwrap(), (0..1000).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_closed_recorder_ends_the_forwarder() {
        let (tx, rx) = mpsc::channel(BATCH_CAPACITY);
        let (out_tx, out_rx) = mpsc::channel(1);
        drop(out_rx);
        let fwd = tokio::spawn(forward_in_bursts(rx, out_tx));
        tx.send(outcome(1)).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), fwd)
            .await
            .expect("forwarder ended")
            .unwrap();
    }
}
