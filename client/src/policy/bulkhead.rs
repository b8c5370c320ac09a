//! Bulkhead: at most `max_concurrent` calls in flight, at most `max_queue`
//! callers waiting, each for at most `max_queue_wait`; beyond that, load is
//! shed with a distinct error so callers can tell "full" from "failed".
//!
//! Unlike the other policies this one is async by nature: it wraps a FIFO
//! `tokio::sync::Semaphore` plus an atomic count of waiters. Both the permit
//! and a waiting caller's queue slot are released on drop, so cancelling an
//! `acquire` future or dropping a finished call can never leak capacity.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Bulkhead settings (YAML `bulkhead`). Defaults from resilience4j:
/// `maxConcurrentCalls` 25 and the thread-pool bulkhead's queue capacity 100;
/// the queue wait is ours.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BulkheadConfig {
    /// `false` admits every call immediately. Default `true`.
    pub enabled: bool,
    /// Calls in flight at once. Default `25`.
    pub max_concurrent: u32,
    /// Callers allowed to wait for a slot; `0` sheds as soon as all slots are
    /// busy. Default `100`.
    pub max_queue: u32,
    /// Longest a caller waits in the queue before being shed. Default `5s`.
    #[serde(with = "crate::units::duration")]
    pub max_queue_wait: Duration,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_concurrent: 25,
            max_queue: 100,
            max_queue_wait: Duration::from_secs(5),
        }
    }
}

/// Why a [`BulkheadConfig`] was refused. Path-free: `Display` says what is
/// wrong, [`InvalidBulkhead::field`] names the setting, the caller adds the path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBulkhead {
    /// `max_concurrent` was 0 or above the semaphore's limit.
    #[error("must be between 1 and {max}, got {got}")]
    MaxConcurrent {
        /// Configured value.
        got: u32,
        /// Largest accepted value.
        max: usize,
    },
}

impl InvalidBulkhead {
    /// The offending field of [`BulkheadConfig`].
    pub fn field(&self) -> &'static str {
        match self {
            InvalidBulkhead::MaxConcurrent { .. } => "max_concurrent",
        }
    }
}

/// A call refused by the bulkhead (load shed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Shed {
    /// All slots busy and the wait queue full: rejected without waiting.
    #[error("bulkhead full: {max_queue} callers already waiting")]
    QueueFull {
        /// The configured queue size.
        max_queue: u32,
    },
    /// Waited `max_queue_wait` without getting a slot.
    #[error("bulkhead queue wait exceeded after {waited:?}")]
    QueueTimeout {
        /// Time spent in the queue.
        waited: Duration,
    },
}

/// Capacity held by one call; dropping it frees the slot.
#[derive(Debug)]
#[must_use = "dropping the permit frees the bulkhead slot immediately"]
pub struct BulkheadPermit {
    _permit: Option<OwnedSemaphorePermit>,
    queue_wait: Duration,
}

impl BulkheadPermit {
    /// Time this call spent queued before it was admitted (zero if a slot was free).
    pub fn queue_wait(&self) -> Duration {
        self.queue_wait
    }
}

/// A concurrency limiter with a bounded wait queue. Cheap to clone; clones
/// share capacity.
#[derive(Clone, Debug)]
pub struct Bulkhead {
    semaphore: Option<Arc<Semaphore>>,
    queued: Arc<AtomicUsize>,
    max_concurrent: usize,
    max_queue: u32,
    max_queue_wait: Duration,
}

/// Decrements the waiter count when the waiting future finishes or is dropped.
struct QueueSlot<'a>(&'a AtomicUsize);

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Bulkhead {
    /// Validates `cfg`.
    pub fn new(cfg: &BulkheadConfig) -> Result<Self, InvalidBulkhead> {
        let max_concurrent = cfg.max_concurrent as usize;
        if cfg.enabled && (max_concurrent == 0 || max_concurrent > Semaphore::MAX_PERMITS) {
            return Err(InvalidBulkhead::MaxConcurrent {
                got: cfg.max_concurrent,
                max: Semaphore::MAX_PERMITS,
            });
        }
        Ok(Self {
            semaphore: cfg
                .enabled
                .then(|| Arc::new(Semaphore::new(max_concurrent))),
            queued: Arc::new(AtomicUsize::new(0)),
            max_concurrent,
            max_queue: cfg.max_queue,
            max_queue_wait: cfg.max_queue_wait,
        })
    }

    /// Waits for a slot: immediately if one is free, else in FIFO order for up
    /// to `max_queue_wait`, or fails at once if the queue is full.
    pub async fn acquire(&self) -> Result<BulkheadPermit, Shed> {
        let Some(sem) = &self.semaphore else {
            return Ok(BulkheadPermit {
                _permit: None,
                queue_wait: Duration::ZERO,
            });
        };
        if let Ok(p) = sem.clone().try_acquire_owned() {
            return Ok(BulkheadPermit {
                _permit: Some(p),
                queue_wait: Duration::ZERO,
            });
        }
        // Claim a queue slot without ever exceeding max_queue under races.
        let claimed = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                (q < self.max_queue as usize).then_some(q + 1)
            });
        if claimed.is_err() {
            return Err(Shed::QueueFull {
                max_queue: self.max_queue,
            });
        }
        let _slot = QueueSlot(&self.queued);
        let start = Instant::now();
        match tokio::time::timeout(self.max_queue_wait, sem.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(BulkheadPermit {
                _permit: Some(p),
                queue_wait: start.elapsed(),
            }),
            // The semaphore is never closed; treat it like a timeout anyway.
            Ok(Err(_)) | Err(_) => Err(Shed::QueueTimeout {
                waited: start.elapsed(),
            }),
        }
    }

    /// Calls currently holding a slot.
    pub fn in_flight(&self) -> usize {
        self.semaphore.as_ref().map_or(0, |s| {
            self.max_concurrent.saturating_sub(s.available_permits())
        })
    }

    /// Callers currently waiting (the queue depth gauge).
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};

    fn bulkhead(max_concurrent: u32, max_queue: u32, wait_ms: u64) -> Bulkhead {
        Bulkhead::new(&BulkheadConfig {
            enabled: true,
            max_concurrent,
            max_queue,
            max_queue_wait: Duration::from_millis(wait_ms),
        })
        .unwrap()
    }

    /// Polls a future once without a runtime waker being needed afterwards.
    fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        let waker = futures::task::noop_waker();
        f.poll(&mut Context::from_waker(&waker))
    }

    #[tokio::test(start_paused = true)]
    async fn fourth_caller_is_shed_and_queue_wait_is_measured() {
        let b = bulkhead(2, 1, 5_000);
        let p1 = b.acquire().await.unwrap();
        let p2 = b.acquire().await.unwrap();
        assert_eq!(p1.queue_wait(), Duration::ZERO);
        assert_eq!(b.in_flight(), 2);
        let waiter = {
            let b = b.clone();
            tokio::spawn(async move { b.acquire().await })
        };
        tokio::task::yield_now().await;
        assert_eq!(b.queued(), 1);
        assert_eq!(
            b.acquire().await.unwrap_err(),
            Shed::QueueFull { max_queue: 1 }
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(p1);
        let p3 = waiter.await.unwrap().unwrap();
        assert_eq!(p3.queue_wait(), Duration::from_millis(300));
        assert_eq!((b.in_flight(), b.queued()), (2, 0));
        drop((p2, p3));
        assert_eq!(b.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_a_waiting_future_frees_its_queue_slot() {
        let b = bulkhead(1, 1, 5_000);
        let held = b.acquire().await.unwrap();
        {
            let mut waiting = pin!(b.acquire());
            assert!(poll_once(waiting.as_mut()).is_pending());
            assert_eq!(b.queued(), 1);
            assert!(matches!(b.acquire().await, Err(Shed::QueueFull { .. })));
        }
        assert_eq!(b.queued(), 0);
        let mut next = pin!(b.acquire());
        assert!(poll_once(next.as_mut()).is_pending());
        drop(held);
        let p = next.await.unwrap();
        assert_eq!(b.in_flight(), 1);
        drop(p);
        assert_eq!(b.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn queue_timeout_sheds_after_max_queue_wait() {
        let b = bulkhead(1, 4, 250);
        let _held = b.acquire().await.unwrap();
        let start = Instant::now();
        let e = b.acquire().await.unwrap_err();
        assert_eq!(
            e,
            Shed::QueueTimeout {
                waited: Duration::from_millis(250)
            }
        );
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        assert_eq!(b.queued(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_queue_sheds_at_once_and_disabled_admits_all() {
        let b = bulkhead(1, 0, 1_000);
        let _held = b.acquire().await.unwrap();
        assert_eq!(
            b.acquire().await.unwrap_err(),
            Shed::QueueFull { max_queue: 0 }
        );
        let off = Bulkhead::new(&BulkheadConfig {
            enabled: false,
            ..BulkheadConfig::default()
        })
        .unwrap();
        let permits: Vec<_> = futures::future::join_all((0..1000).map(|_| off.acquire())).await;
        assert!(permits.iter().all(|p| p.is_ok()));
        assert!(matches!(
            Bulkhead::new(&BulkheadConfig {
                max_concurrent: 0,
                ..BulkheadConfig::default()
            }),
            Err(InvalidBulkhead::MaxConcurrent { got: 0, .. })
        ));
    }
}
