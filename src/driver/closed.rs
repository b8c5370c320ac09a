//! The closed model: N virtual users, each sending its next request when the
//! previous one has ended (plus think time), placed where the sender wants
//! them ([`Threads`]).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::burst::{forward_in_bursts, BATCH_CAPACITY};
use super::ctx::Ctx;
use super::picker::Picker;
use crate::outcome::Outcome;
use crate::sender::{Sender, Threads};

/// What the users of one arm share.
pub(super) struct Users {
    pub(super) users: usize,
    pub(super) think_time: Duration,
    /// When users stop starting new requests.
    pub(super) end: Instant,
    /// Stop starting new requests (Ctrl-C, `--abort-on-fail`).
    pub(super) stop: CancellationToken,
    /// Requests started, added by each user when it ends.
    pub(super) started: Arc<AtomicU64>,
}

/// Starts every user (tracked by `tracker`) and returns; outcomes of users
/// on threads of their own reach `out` through a forwarder per thread.
pub(super) fn spawn_users<S: Sender>(
    u: &Users,
    ctx: &Ctx<S>,
    picker: &Picker,
    tracker: &TaskTracker,
    out: &mpsc::Sender<Vec<Outcome>>,
) {
    // Users look at a plain flag before each request: the token's own
    // check takes a lock shared by every core.
    let stopping = Arc::new(AtomicBool::new(false));
    {
        let (stop, stopping) = (u.stop.clone(), stopping.clone());
        tokio::spawn(async move {
            stop.cancelled().await;
            stopping.store(true, Ordering::Relaxed);
        });
    }
    let user = |ctx: Ctx<S>, i: usize| {
        user_loop(
            ctx,
            picker.fork(i as u64),
            u.stop.clone(),
            stopping.clone(),
            u.started.clone(),
            u.end,
            u.think_time,
        )
    };
    match S::THREADS {
        Threads::Shared => {
            for i in 0..u.users {
                tracker.spawn(user(ctx.clone(), i));
            }
        }
        Threads::PerCore => {
            let threads = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(u.users);
            for t in 0..threads {
                let (tx, rx) = mpsc::channel(BATCH_CAPACITY);
                let local = Ctx {
                    out: tx,
                    sender: ctx.sender.fork(),
                    shard: t + 1,
                    ..ctx.clone()
                };
                let mut tasks: Vec<BoxedTask> = (t..u.users)
                    .step_by(threads)
                    .map(|i| Box::pin(tracker.track_future(user(local.clone(), i))) as _)
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
                if crate::threads::on_own_thread(&format!("harness-users-{t}"), all).is_err() {
                    eprintln!("warning: cannot start a load thread; some users did not run");
                }
            }
        }
    }
}

/// A task of a load thread (users and their forwarder).
type BoxedTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// One closed-model virtual user: send, wait for the answer, think, repeat
/// until `end` or `stop`. Abandoning (drain limit, second Ctrl-C) drops the
/// request in flight, with no outcome.
async fn user_loop<S: Sender>(
    ctx: Ctx<S>,
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
        let mut conn = S::Conn::default();
        while Instant::now() < end && !stopping.load(Ordering::Relaxed) {
            sent.fetch_add(1, Ordering::Relaxed);
            let intended = ctx.t0.elapsed();
            ctx.gauges.add(ctx.shard, 1);
            let o = ctx.measure(&mut conn, picker.next(), intended).await;
            ctx.gauges.add(ctx.shard, -1);
            ctx.deliver(o).await;
            if !think_time.is_zero() {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(think_time) => {}
                }
            }
        }
        ctx.sender.release(conn);
    };
    tokio::select! {
        _ = ctx.abort.cancelled() => {}
        () = work => {}
    }
    started.fetch_add(sent.load(Ordering::Relaxed), Ordering::Relaxed);
}
