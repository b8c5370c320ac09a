//! Leaky bucket as a queue: requests leave at a constant pace of one per
//! `1 / rate`, never faster, however long the limiter was idle. No burst at
//! all (it is GCRA with a tolerance of zero); the bucket's depth is how long
//! a caller may wait, `max_wait`, i.e. `rate x max_wait` queued requests.

use std::time::Duration;

use tokio::time::Instant;

/// Constant outflow. Pure: every call takes `now`.
#[derive(Clone, Debug)]
pub(super) struct LeakyBucket {
    interval: Duration,
    /// When the bucket lets the next request out; `None` before the first.
    next: Option<Instant>,
}

impl LeakyBucket {
    pub(super) fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: None,
        }
    }

    pub(super) fn wait_for(&self, now: Instant) -> Duration {
        self.next
            .map_or(Duration::ZERO, |n| n.saturating_duration_since(now))
    }

    pub(super) fn commit(&mut self, now: Instant) {
        let at = self.next.map_or(now, |n| n.max(now));
        self.next = Some(at.checked_add(self.interval).unwrap_or(at));
    }
}
