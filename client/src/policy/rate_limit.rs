//! Client-side rate limiter: GCRA (generic cell rate algorithm), the
//! token-bucket equivalent used by `governor`, with a rate and a burst.
//!
//! State is one instant, the theoretical arrival time (TAT). A request at
//! `now` conforms when `now >= TAT - tolerance`, where the emission interval is
//! `1 / rate` and `tolerance = interval * (burst - 1)`. [`RateLimiter::check`]
//! answers now-or-never; [`RateLimiter::reserve`] books a future slot so the
//! caller can sleep up to `max_wait` instead of being rejected.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::units::PerSecond;

/// Rate limiter settings (YAML `rate_limit`; absent means no limit).
/// Defaults for `burst` and `max_wait` follow the spirit of governor / Envoy's
/// local rate limit: a small burst, and waiting briefly rather than failing.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained rate, e.g. `200/s` or `600/min`. Required, must be > 0.
    pub rate: PerSecond,
    /// Requests allowed back to back above the sustained rate. Default `10`.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Longest a caller waits for a slot before being rejected; `0s` rejects
    /// immediately. Default `1s`.
    #[serde(default = "default_max_wait", with = "crate::units::duration")]
    pub max_wait: Duration,
}

fn default_burst() -> u32 {
    10
}

fn default_max_wait() -> Duration {
    Duration::from_secs(1)
}

/// Why a [`RateLimitConfig`] was refused. Path-free: `Display` says what is
/// wrong, [`InvalidRateLimit::field`] names the setting, the caller adds the path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidRateLimit {
    /// `rate` was zero or so high that its interval rounds to 0 ns.
    #[error("must be greater than 0 and at most 1e9/s, got {0}")]
    Rate(PerSecond),
    /// `burst` was zero.
    #[error("must be at least 1")]
    ZeroBurst,
}

impl InvalidRateLimit {
    /// The offending field of [`RateLimitConfig`].
    pub fn field(&self) -> &'static str {
        match self {
            InvalidRateLimit::Rate(_) => "rate",
            InvalidRateLimit::ZeroBurst => "burst",
        }
    }
}

/// A request that may not proceed within the allowed wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rate limited: next slot in {wait:?}")]
pub struct RateLimited {
    /// How long until a request would conform.
    pub wait: Duration,
}

/// A GCRA rate limiter. Pure: every call takes `now`.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    interval: Duration,
    tolerance: Duration,
    max_wait: Duration,
    tat: Option<Instant>,
}

impl RateLimiter {
    /// Validates `cfg`.
    pub fn new(cfg: &RateLimitConfig) -> Result<Self, InvalidRateLimit> {
        let interval = cfg
            .rate
            .interval()
            .ok_or(InvalidRateLimit::Rate(cfg.rate))?;
        if cfg.burst == 0 {
            return Err(InvalidRateLimit::ZeroBurst);
        }
        Ok(Self {
            interval,
            tolerance: interval.saturating_mul(cfg.burst - 1),
            max_wait: cfg.max_wait,
            tat: None,
        })
    }

    /// The configured `max_wait`.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// Takes a slot if one is free now; otherwise `Err(wait)` with how long
    /// until one will be, and nothing is consumed.
    pub fn check(&mut self, now: Instant) -> Result<(), Duration> {
        match self.wait_for(now) {
            Duration::ZERO => {
                self.commit(now);
                Ok(())
            }
            wait => Err(wait),
        }
    }

    /// Books the next slot if it is at most `max_wait` away (the configured
    /// one, see [`reserve_within`](Self::reserve_within)). `Ok(d)`: sleep `d`
    /// then send; the slot stays consumed even if the caller gives up.
    pub fn reserve(&mut self, now: Instant) -> Result<Duration, RateLimited> {
        self.reserve_within(now, self.max_wait)
    }

    /// [`reserve`](Self::reserve) with an explicit bound, e.g. the smaller of
    /// `max_wait` and the request's remaining deadline.
    pub fn reserve_within(
        &mut self,
        now: Instant,
        max_wait: Duration,
    ) -> Result<Duration, RateLimited> {
        let wait = self.wait_for(now);
        if wait > max_wait {
            return Err(RateLimited { wait });
        }
        self.commit(now);
        Ok(wait)
    }

    fn wait_for(&self, now: Instant) -> Duration {
        match self.tat {
            None => Duration::ZERO,
            // Conforms when now >= tat - tolerance, i.e. tat <= now + tolerance.
            Some(tat) => tat
                .saturating_duration_since(now)
                .saturating_sub(self.tolerance),
        }
    }

    fn commit(&mut self, now: Instant) {
        let start = self.tat.map_or(now, |tat| tat.max(now));
        self.tat = Some(start.checked_add(self.interval).unwrap_or(start));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: f64, burst: u32, max_wait_ms: u64) -> RateLimiter {
        RateLimiter::new(&RateLimitConfig {
            rate: PerSecond::new(rate).unwrap(),
            burst,
            max_wait: Duration::from_millis(max_wait_ms),
        })
        .unwrap()
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn burst_then_exact_spacing() {
        let t0 = Instant::now();
        let mut l = limiter(100.0, 5, 0); // 10 ms interval
        for _ in 0..5 {
            assert_eq!(l.check(t0), Ok(()));
        }
        assert_eq!(l.check(t0), Err(10 * MS));
        assert_eq!(l.check(t0 + 9 * MS), Err(MS));
        assert_eq!(l.check(t0 + 10 * MS), Ok(()));
        assert_eq!(l.check(t0 + 10 * MS), Err(10 * MS));
    }

    #[test]
    fn sustained_rate_is_exact_over_a_second() {
        let t0 = Instant::now();
        let mut l = limiter(200.0, 1, 0);
        // Offer a request every 1 ms for 1 s: exactly 200 conform (at 0, 5, 10, .. 995 ms).
        let allowed = (0..1000u32)
            .filter(|&i| l.check(t0 + i * MS).is_ok())
            .count();
        assert_eq!(allowed, 200);
    }

    #[test]
    fn idle_time_refills_only_up_to_burst() {
        let t0 = Instant::now();
        let mut l = limiter(10.0, 3, 0);
        assert!(l.check(t0).is_ok());
        let later = t0 + Duration::from_secs(60);
        let burst = (0..10).take_while(|_| l.check(later).is_ok()).count();
        assert_eq!(burst, 3);
    }

    #[test]
    fn reserve_waits_up_to_max_wait_then_rejects() {
        let t0 = Instant::now();
        let mut l = limiter(10.0, 1, 250); // 100 ms interval
        assert_eq!(l.reserve(t0), Ok(Duration::ZERO));
        assert_eq!(l.reserve(t0), Ok(100 * MS));
        assert_eq!(l.reserve(t0), Ok(200 * MS));
        assert_eq!(l.reserve(t0), Err(RateLimited { wait: 300 * MS }));
        // A rejection consumes nothing: the next slot is still 300 ms away.
        assert_eq!(l.reserve_within(t0, 300 * MS), Ok(300 * MS));
        assert_eq!(l.check(t0 + 400 * MS), Ok(()));
    }

    #[test]
    fn validation() {
        let c = |rate, burst| RateLimitConfig {
            rate: PerSecond::new(rate).unwrap(),
            burst,
            max_wait: Duration::ZERO,
        };
        assert!(matches!(
            RateLimiter::new(&c(0.0, 1)),
            Err(InvalidRateLimit::Rate(_))
        ));
        assert_eq!(
            RateLimiter::new(&c(1.0, 0)).unwrap_err(),
            InvalidRateLimit::ZeroBurst
        );
        let y: RateLimitConfig = serde_yaml::from_str("rate: 600/min\n").unwrap();
        assert_eq!(
            (y.rate.per_second(), y.burst, y.max_wait),
            (10.0, 10, 1000 * MS)
        );
        assert!(serde_yaml::from_str::<RateLimitConfig>("burst: 3\n").is_err());
    }
}
