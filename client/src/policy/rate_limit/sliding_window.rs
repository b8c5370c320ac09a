//! Sliding window, kept exact as a sliding log: the instants of the last
//! `limit = rate x window` admissions. A request is admitted when the oldest
//! of them is at least one `window` old, so no interval of length `window`,
//! wherever it starts, ever holds more than `limit` admissions (no
//! approximation; the common "sliding window counter" that weights the
//! previous window's count is cheaper but can let through up to 2x when the
//! previous window's requests came at its end). The price is memory:
//! `limit` instants (16 bytes each), so `limit` is capped at
//! [`MAX_LOG`](super::MAX_LOG).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Log of the last `limit` admissions. Pure: every call takes `now`.
#[derive(Clone, Debug)]
pub(super) struct SlidingWindow {
    window: Duration,
    limit: usize,
    /// Admission instants, oldest first, non-decreasing; at most `limit`.
    log: VecDeque<Instant>,
}

impl SlidingWindow {
    /// `limit` must be at least 1 (checked by the caller).
    pub(super) fn new(window: Duration, limit: usize) -> Self {
        Self {
            window,
            limit,
            log: VecDeque::with_capacity(limit),
        }
    }

    pub(super) fn wait_for(&self, now: Instant) -> Duration {
        match self.log.front() {
            Some(&oldest) if self.log.len() >= self.limit => {
                let free_at = oldest.checked_add(self.window).unwrap_or(oldest);
                free_at.saturating_duration_since(now)
            }
            _ => Duration::ZERO,
        }
    }

    pub(super) fn commit(&mut self, now: Instant) {
        // The slot is at or after every logged instant: a booking ahead only
        // happens when the log is full, at `oldest + window`, which is no
        // earlier than the newest entry (itself at most `older + window`).
        let at = now + self.wait_for(now);
        if self.log.len() >= self.limit {
            self.log.pop_front();
        }
        self.log.push_back(at);
    }
}
