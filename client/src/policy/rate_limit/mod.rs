//! Client-side rate limiter, with the four classic algorithms the guides
//! compare (`algorithm:` in YAML):
//!
//! | algorithm | admits | module |
//! |---|---|---|
//! | `gcra` (default; alias `token_bucket`) | `burst` at once, then `rate` | [`gcra`] |
//! | `fixed_window` | `rate x window` per window; up to 2x across a window edge | [`fixed_window`] |
//! | `sliding_window` | never more than `rate x window` in any `window` (exact log) | [`sliding_window`] |
//! | `leaky_bucket` | one per `1 / rate`, no burst ever | [`leaky_bucket`] |
//!
//! Each is a pure state machine with the same two steps: how long until a
//! request at `now` would conform (`wait_for`) and booking that slot
//! (`commit`). [`RateLimiter`] wraps them with the shared API:
//! [`RateLimiter::check`] answers now-or-never; [`RateLimiter::reserve`]
//! books a future slot so the caller can sleep up to `max_wait` instead of
//! being rejected. A rejection consumes nothing.

mod fixed_window;
mod gcra;
mod leaky_bucket;
mod sliding_window;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::units::PerSecond;

/// The largest `rate x window` the sliding window accepts: its log holds
/// that many instants (16 bytes each, so at most 1 MiB).
pub const MAX_LOG: u64 = 65_536;

/// Which algorithm decides (YAML `rate_limit.algorithm`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Token bucket as GCRA: `burst` at once, then `rate`. The default.
    #[default]
    #[serde(alias = "token_bucket")]
    Gcra,
    /// `rate x window` per fixed window; bursts across the window edge.
    FixedWindow,
    /// At most `rate x window` in any sliding `window`.
    SlidingWindow,
    /// Constant outflow of `rate`, no bursts.
    LeakyBucket,
}

impl Algorithm {
    /// The YAML name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Gcra => "gcra",
            Algorithm::FixedWindow => "fixed_window",
            Algorithm::SlidingWindow => "sliding_window",
            Algorithm::LeakyBucket => "leaky_bucket",
        }
    }
}

/// Rate limiter settings (YAML `rate_limit`; absent means no limit).
/// Defaults for `burst` and `max_wait` follow the spirit of governor / Envoy's
/// local rate limit: a small burst, and waiting briefly rather than failing.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// `gcra` (token bucket), `fixed_window`, `sliding_window` or
    /// `leaky_bucket`. Default `gcra`.
    #[serde(default)]
    pub algorithm: Algorithm,
    /// Sustained rate, e.g. `200/s` or `600/min`. Required, must be > 0.
    pub rate: PerSecond,
    /// `gcra` only: requests allowed back to back above the sustained rate
    /// (the bucket's capacity). Default `10`.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// `fixed_window` and `sliding_window` only: the window length; each
    /// window admits `rate x window` requests. Default `1s`.
    #[serde(default = "default_window", with = "crate::units::duration")]
    pub window: Duration,
    /// Longest a caller waits for a slot before being rejected; `0s` rejects
    /// immediately. Default `1s`.
    #[serde(default = "default_max_wait", with = "crate::units::duration")]
    pub max_wait: Duration,
}

fn default_burst() -> u32 {
    10
}

fn default_window() -> Duration {
    Duration::from_secs(1)
}

fn default_max_wait() -> Duration {
    Duration::from_secs(1)
}

impl RateLimitConfig {
    /// `rate` with every other setting at its default (`gcra`).
    pub fn new(rate: PerSecond) -> Self {
        Self {
            algorithm: Algorithm::default(),
            rate,
            burst: default_burst(),
            window: default_window(),
            max_wait: default_max_wait(),
        }
    }
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
    /// `rate x window` is below one request: no window could admit any.
    #[error(
        "must hold at least one request at the rate ({rate} x {window:?} < 1): use a longer window"
    )]
    WindowTooShort {
        /// The configured rate.
        rate: PerSecond,
        /// The configured window.
        window: Duration,
    },
    /// `rate x window` is too large for the limit counter or log.
    #[error("holds {limit} requests at the rate, above the {max} this algorithm keeps: use a shorter window, or `gcra`")]
    WindowTooLong {
        /// `rate x window`.
        limit: u64,
        /// The largest accepted.
        max: u64,
    },
}

impl InvalidRateLimit {
    /// The offending field of [`RateLimitConfig`].
    pub fn field(&self) -> &'static str {
        match self {
            InvalidRateLimit::Rate(_) => "rate",
            InvalidRateLimit::ZeroBurst => "burst",
            InvalidRateLimit::WindowTooShort { .. } | InvalidRateLimit::WindowTooLong { .. } => {
                "window"
            }
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

#[derive(Clone, Debug)]
enum Algo {
    Gcra(gcra::Gcra),
    FixedWindow(fixed_window::FixedWindow),
    SlidingWindow(sliding_window::SlidingWindow),
    LeakyBucket(leaky_bucket::LeakyBucket),
}

/// A rate limiter running one of the four algorithms. Pure: every call
/// takes `now`.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    algo: Algo,
    max_wait: Duration,
}

/// `rate x window` as a request count, checked against `max`.
fn window_limit(cfg: &RateLimitConfig, max: u64) -> Result<u64, InvalidRateLimit> {
    let exact = cfg.rate.per_second() * cfg.window.as_secs_f64();
    // A hair of slack so `100/s x 10ms` is 1, not 0.99999.
    let limit = (exact + 1e-9).floor();
    if limit < 1.0 {
        return Err(InvalidRateLimit::WindowTooShort {
            rate: cfg.rate,
            window: cfg.window,
        });
    }
    if limit > max as f64 {
        return Err(InvalidRateLimit::WindowTooLong {
            limit: limit.min(u64::MAX as f64) as u64,
            max,
        });
    }
    Ok(limit as u64)
}

impl RateLimiter {
    /// Validates `cfg`.
    pub fn new(cfg: &RateLimitConfig) -> Result<Self, InvalidRateLimit> {
        let interval = cfg
            .rate
            .interval()
            .ok_or(InvalidRateLimit::Rate(cfg.rate))?;
        let algo = match cfg.algorithm {
            Algorithm::Gcra => {
                if cfg.burst == 0 {
                    return Err(InvalidRateLimit::ZeroBurst);
                }
                Algo::Gcra(gcra::Gcra::new(interval, cfg.burst))
            }
            Algorithm::FixedWindow => {
                let limit = window_limit(cfg, u64::from(u32::MAX))?;
                Algo::FixedWindow(fixed_window::FixedWindow::new(cfg.window, limit as u32))
            }
            Algorithm::SlidingWindow => {
                let limit = window_limit(cfg, MAX_LOG)?;
                Algo::SlidingWindow(sliding_window::SlidingWindow::new(
                    cfg.window,
                    limit as usize,
                ))
            }
            Algorithm::LeakyBucket => Algo::LeakyBucket(leaky_bucket::LeakyBucket::new(interval)),
        };
        Ok(Self {
            algo,
            max_wait: cfg.max_wait,
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
        match &self.algo {
            Algo::Gcra(a) => a.wait_for(now),
            Algo::FixedWindow(a) => a.wait_for(now),
            Algo::SlidingWindow(a) => a.wait_for(now),
            Algo::LeakyBucket(a) => a.wait_for(now),
        }
    }

    /// Books the slot `wait_for(now)` named.
    fn commit(&mut self, now: Instant) {
        match &mut self.algo {
            Algo::Gcra(a) => a.commit(now),
            Algo::FixedWindow(a) => a.commit(now),
            Algo::SlidingWindow(a) => a.commit(now),
            Algo::LeakyBucket(a) => a.commit(now),
        }
    }
}

#[cfg(test)]
mod tests;
