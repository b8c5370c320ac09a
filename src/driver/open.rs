//! The open model's scheduler: sends on the precomputed [`Schedule`],
//! whatever the answers do, waiting (and counting it) only when
//! `max_in_flight` requests are out.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ctx::{Ctx, DriveStats};
use super::picker::Picker;
use crate::schedule::Schedule;
use crate::sender::Sender;

/// How much of each wait the scheduler sleeps with the OS timer.
const FINE_SLEEP: Duration = Duration::from_millis(2);

/// Sends on `schedule` until it ends or `stop`; each request runs as a task
/// of `main` (tracked by `tracker`). Runs on a thread of its own.
pub(super) async fn open_loop<S: Sender>(
    schedule: Schedule,
    max_in_flight: usize,
    ctx: Ctx<S>,
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
