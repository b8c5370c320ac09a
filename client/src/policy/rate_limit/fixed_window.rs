//! Fixed window: at most `limit = rate x window` requests per window, the
//! windows laid end to end from the first request. Simple and O(1), but a
//! burst at the end of one window and another at the start of the next let
//! through up to twice the limit within a moment: the weakness the guides
//! warn about, kept on purpose so a scenario can show it.

use std::time::Duration;

use tokio::time::Instant;

/// Counter per window. Pure: every call takes `now`.
#[derive(Clone, Debug)]
pub(super) struct FixedWindow {
    window_ns: u64,
    limit: u32,
    /// Start of window 0 (the first request's instant).
    origin: Option<Instant>,
    /// The latest window holding admissions (later than the current one
    /// when callers booked slots ahead), and how many it holds.
    win: u64,
    count: u32,
}

impl FixedWindow {
    /// `window` must be at least 1 ns and `limit` at least 1 (checked by the
    /// caller).
    pub(super) fn new(window: Duration, limit: u32) -> Self {
        Self {
            window_ns: u64::try_from(window.as_nanos()).unwrap_or(u64::MAX).max(1),
            limit,
            origin: None,
            win: 0,
            count: 0,
        }
    }

    fn offset(origin: Instant, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(origin).as_nanos()).unwrap_or(u64::MAX)
    }

    pub(super) fn wait_for(&self, now: Instant) -> Duration {
        let Some(origin) = self.origin else {
            return Duration::ZERO;
        };
        let now_ns = Self::offset(origin, now);
        if now_ns / self.window_ns > self.win {
            return Duration::ZERO;
        }
        let slot_win = if self.count < self.limit {
            self.win
        } else {
            self.win + 1
        };
        let start_ns = slot_win.saturating_mul(self.window_ns);
        Duration::from_nanos(start_ns.saturating_sub(now_ns))
    }

    pub(super) fn commit(&mut self, now: Instant) {
        let origin = *self.origin.get_or_insert(now);
        let cur = Self::offset(origin, now) / self.window_ns;
        if cur > self.win {
            self.win = cur;
            self.count = 0;
        }
        if self.count >= self.limit {
            self.win += 1;
            self.count = 0;
        }
        self.count += 1;
    }
}
