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
    window_ns: u64,
    limit: usize,
    /// The first request's instant; the log holds offsets from it in ns
    /// (integer math instead of `Instant` arithmetic on every decision).
    origin: Option<Instant>,
    /// Admission offsets, oldest first, non-decreasing; at most `limit`.
    log: VecDeque<u64>,
}

impl SlidingWindow {
    /// `limit` must be at least 1 (checked by the caller).
    pub(super) fn new(window: Duration, limit: usize) -> Self {
        Self {
            window_ns: u64::try_from(window.as_nanos()).unwrap_or(u64::MAX),
            limit,
            origin: None,
            log: VecDeque::with_capacity(limit),
        }
    }

    fn offset(origin: Instant, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(origin).as_nanos()).unwrap_or(u64::MAX)
    }

    /// The offset of the next free slot at or after `now_ns`.
    fn slot(&self, now_ns: u64) -> u64 {
        match self.log.front() {
            Some(&oldest) if self.log.len() >= self.limit => {
                now_ns.max(oldest.saturating_add(self.window_ns))
            }
            _ => now_ns,
        }
    }

    pub(super) fn wait_for(&self, now: Instant) -> Duration {
        let Some(origin) = self.origin else {
            return Duration::ZERO;
        };
        let now_ns = Self::offset(origin, now);
        Duration::from_nanos(self.slot(now_ns) - now_ns)
    }

    pub(super) fn commit(&mut self, now: Instant) {
        let origin = *self.origin.get_or_insert(now);
        // The slot is at or after every logged offset: a booking ahead only
        // happens when the log is full, at `oldest + window`, which is no
        // earlier than the newest entry (itself at most `older + window`).
        let at = self.slot(Self::offset(origin, now));
        if self.log.len() >= self.limit {
            self.log.pop_front();
        }
        self.log.push_back(at);
    }
}
