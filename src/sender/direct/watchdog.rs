//! The `total` timeout of a sequence of requests (a closed-model user's) as
//! one timer re-armed only when it would fire too early.

use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The `total` timeout of one closed-model user's requests, as one timer
/// re-armed only when it would fire too early: each request is then bounded
/// by between `total` and `total` + 1% (at least 1 ms), and the timer wheel
/// is touched about once per that slack instead of twice per request.
pub struct Watchdog {
    pub(super) sleep: Pin<Box<Sleep>>,
    armed_until: Instant,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog")
            .field("armed_until", &self.armed_until)
            .finish_non_exhaustive()
    }
}

impl Watchdog {
    /// A watchdog not armed yet.
    pub fn new() -> Watchdog {
        let now = Instant::now();
        Watchdog {
            sleep: Box::pin(tokio::time::sleep_until(now)),
            armed_until: now,
        }
    }

    pub(super) fn arm(&mut self, start: Instant, total: Duration) {
        let due = start + total;
        if self.armed_until < due {
            let slack = (total / 100).max(Duration::from_millis(1));
            self.armed_until = due + slack;
            self.sleep.as_mut().reset(self.armed_until);
        }
    }
}

impl Default for Watchdog {
    fn default() -> Self {
        Watchdog::new()
    }
}
