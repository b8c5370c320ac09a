//! A sleep that ends within tens of microseconds of its deadline, for
//! injected latency. tokio's timer wheel fires on whole milliseconds, so a
//! 50 ms delay ends after 50-51 ms and every injected latency would read
//! about 1 ms high. Waits use tokio until the last 2 ms, then one shared
//! thread that sleeps with the OS timer wakes the waiting task.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant as StdInstant};

use tokio::sync::oneshot;
use tokio::time::Instant;

/// The stretch before a deadline handed to the precise thread.
const MARGIN: Duration = Duration::from_millis(2);

struct Entry {
    at: StdInstant,
    seq: u64,
    tx: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Timer {
    queue: Mutex<(BinaryHeap<Reverse<Entry>>, u64)>,
    wake: Condvar,
}

fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
    *TIMER.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::default());
        std::thread::Builder::new()
            .name("mock-precise-timer".into())
            .spawn(move || run(t))
            .ok()
            .map(|_| t)
    })
}

fn run(t: &'static Timer) {
    let mut q = t.queue.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let now = StdInstant::now();
        while q.0.peek().is_some_and(|Reverse(e)| e.at <= now) {
            if let Some(Reverse(e)) = q.0.pop() {
                // The sleeper may have been dropped (request cancelled).
                let _ = e.tx.send(());
            }
        }
        q = match q.0.peek().map(|Reverse(e)| e.at - now) {
            None => t.wake.wait(q).unwrap_or_else(|p| p.into_inner()),
            Some(d) => {
                t.wake
                    .wait_timeout(q, d)
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
        };
    }
}

/// Sleep until `deadline`, ending within tens of microseconds after it.
pub async fn sleep_until(deadline: Instant) {
    let now = Instant::now();
    if deadline <= now {
        return;
    }
    if deadline - now > MARGIN {
        tokio::time::sleep_until(deadline - MARGIN).await;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return;
    }
    let Some(t) = timer() else {
        // No thread could be started: fall back to tokio's precision.
        return tokio::time::sleep(left).await;
    };
    let (tx, rx) = oneshot::channel();
    let at = StdInstant::now() + left;
    {
        let mut q = t.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.1 += 1;
        let seq = q.1;
        let earliest = q.0.peek().is_none_or(|Reverse(e)| at < e.at);
        q.0.push(Reverse(Entry { at, seq, tx }));
        if earliest {
            t.wake.notify_one();
        }
    }
    let _ = rx.await;
}

/// Sleep for `d` (see [`sleep_until`]).
pub async fn sleep(d: Duration) {
    sleep_until(Instant::now() + d).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ends_close_after_the_deadline() {
        let mut late = Vec::new();
        for ms in [1u64, 3, 7, 12] {
            let start = Instant::now();
            sleep(Duration::from_millis(ms)).await;
            let took = start.elapsed();
            assert!(took >= Duration::from_millis(ms), "{ms} ms took {took:?}");
            late.push(took - Duration::from_millis(ms));
        }
        late.sort();
        // Generous: a loaded machine delays threads, but the median of tokio's
        // own timer would be ~0.5-1 ms late by construction.
        assert!(late[1] < Duration::from_millis(5), "{late:?}");
    }

    #[tokio::test]
    async fn many_sleepers_all_wake_in_deadline_order() {
        let start = Instant::now();
        let mut handles = Vec::new();
        for i in (0..50u64).rev() {
            handles.push(tokio::spawn(async move {
                sleep(Duration::from_micros(500 + i * 40)).await;
                (i, Instant::now())
            }));
        }
        let mut woke = Vec::new();
        for h in handles {
            woke.push(h.await.unwrap());
        }
        for (i, at) in &woke {
            assert!(*at - start >= Duration::from_micros(500 + i * 40));
        }
    }
}
