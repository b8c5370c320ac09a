//! GCRA (generic cell rate algorithm): the token bucket, as `governor`
//! implements it, with one instant of state.
//!
//! The state is the theoretical arrival time (TAT). A request at `now`
//! conforms when `now >= TAT - tolerance`, where the emission interval is
//! `1 / rate` and `tolerance = interval * (burst - 1)`: a full bucket of
//! `burst` tokens goes out at once, then one token per interval.

use std::time::Duration;

use tokio::time::Instant;

/// Token bucket as GCRA. Pure: every call takes `now`.
#[derive(Clone, Debug)]
pub(super) struct Gcra {
    interval: Duration,
    tolerance: Duration,
    tat: Option<Instant>,
}

impl Gcra {
    pub(super) fn new(interval: Duration, burst: u32) -> Self {
        Self {
            interval,
            tolerance: interval.saturating_mul(burst.saturating_sub(1)),
            tat: None,
        }
    }

    pub(super) fn wait_for(&self, now: Instant) -> Duration {
        match self.tat {
            None => Duration::ZERO,
            // Conforms when now >= tat - tolerance, i.e. tat <= now + tolerance.
            Some(tat) => tat
                .saturating_duration_since(now)
                .saturating_sub(self.tolerance),
        }
    }

    pub(super) fn commit(&mut self, now: Instant) {
        let start = self.tat.map_or(now, |tat| tat.max(now));
        self.tat = Some(start.checked_add(self.interval).unwrap_or(start));
    }
}
