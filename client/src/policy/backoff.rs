//! Exponential backoff with jitter, and `Retry-After` / `retry-after-ms` parsing.
//!
//! Jitter kinds follow the AWS Architecture Blog post "Exponential Backoff And
//! Jitter" (Marc Brooker, 2015): `none`, `full`, `equal` and `decorrelated`.
//! The RNG is a parameter so tests can fix it.

use std::time::{Duration, SystemTime};

use rand::Rng;
use serde::{Deserialize, Serialize};

/// How randomness is mixed into the exponential delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// `min(max, base * multiplier^(attempt-1))`, no randomness.
    None,
    /// Uniform in `[0, exp]` where `exp` is the capped exponential delay.
    #[default]
    Full,
    /// `exp/2 + uniform[0, exp/2]`: never shorter than half the exponential delay.
    Equal,
    /// `min(max, uniform[base, prev * 3])`: depends on the previous delay, not the attempt.
    Decorrelated,
}

/// Backoff settings (YAML `retry.backoff`). Defaults follow the OpenAI/DeepSeek
/// SDKs (0.5 s initial, 8 s cap) with full jitter as AWS recommends.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackoffConfig {
    /// Delay before the first retry, before jitter. Default `500ms`.
    #[serde(with = "humantime_serde")]
    pub base: Duration,
    /// Growth factor per attempt, `>= 1`. Default `2`.
    pub multiplier: f64,
    /// Cap on any single delay. Default `8s`.
    #[serde(with = "humantime_serde")]
    pub max: Duration,
    /// Jitter kind: `none`, `full`, `equal` or `decorrelated`. Default `full`.
    pub jitter: Jitter,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            multiplier: 2.0,
            max: Duration::from_secs(8),
            jitter: Jitter::Full,
        }
    }
}

/// Why a [`BackoffConfig`] was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBackoff {
    /// `base` was zero.
    #[error("backoff.base must be greater than 0")]
    ZeroBase,
    /// `max` was below `base`.
    #[error("backoff.max ({max:?}) must be at least backoff.base ({base:?})")]
    MaxBelowBase {
        /// Configured base.
        base: Duration,
        /// Configured max.
        max: Duration,
    },
    /// `multiplier` was below 1 or not finite.
    #[error("backoff.multiplier must be a finite number >= 1, got {0}")]
    Multiplier(f64),
}

/// A validated backoff policy. Stateless: the caller passes the attempt number
/// and the previous delay, so one `Backoff` is shared by all requests.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: f64,
    multiplier: f64,
    max: f64,
    jitter: Jitter,
}

impl Backoff {
    /// Validates `cfg`.
    pub fn new(cfg: &BackoffConfig) -> Result<Self, InvalidBackoff> {
        if cfg.base.is_zero() {
            return Err(InvalidBackoff::ZeroBase);
        }
        if cfg.max < cfg.base {
            return Err(InvalidBackoff::MaxBelowBase {
                base: cfg.base,
                max: cfg.max,
            });
        }
        if !(cfg.multiplier.is_finite() && cfg.multiplier >= 1.0) {
            return Err(InvalidBackoff::Multiplier(cfg.multiplier));
        }
        Ok(Self {
            base: cfg.base.as_secs_f64(),
            multiplier: cfg.multiplier,
            max: cfg.max.as_secs_f64(),
            jitter: cfg.jitter,
        })
    }

    /// The jitter kind in use.
    pub fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// Delay before retry number `attempt` (1 = the first retry).
    ///
    /// `prev_delay` is the delay returned for the previous retry (`Duration::ZERO`
    /// before the first); only `decorrelated` jitter uses it. The result never
    /// exceeds `max`.
    pub fn delay(&self, attempt: u32, prev_delay: Duration, rng: &mut impl Rng) -> Duration {
        let secs = match self.jitter {
            Jitter::None => self.exponential(attempt),
            Jitter::Full => rng.gen::<f64>() * self.exponential(attempt),
            Jitter::Equal => {
                let half = self.exponential(attempt) / 2.0;
                half + rng.gen::<f64>() * half
            }
            Jitter::Decorrelated => {
                let prev = prev_delay.as_secs_f64().max(self.base);
                let hi = (prev * 3.0).min(self.max);
                self.base + rng.gen::<f64>() * (hi - self.base).max(0.0)
            }
        };
        // The clamp also absorbs float rounding above `max`.
        Duration::from_secs_f64(secs.clamp(0.0, self.max))
    }

    fn exponential(&self, attempt: u32) -> f64 {
        let exp = attempt.saturating_sub(1).min(i32::MAX as u32) as i32;
        // powi overflows to +inf for huge attempts, which min() then caps.
        (self.base * self.multiplier.powi(exp)).min(self.max)
    }
}

/// Parses a `Retry-After` header value: delay-seconds (`"120"`, fractions such
/// as `"1.5"` accepted as the OpenAI SDK does) or an HTTP-date (RFC 7231
/// IMF-fixdate, also RFC 850 and asctime). A date in the past yields zero.
/// Returns `None` for anything unparseable or negative.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs >= 0.0)
            .then(|| Duration::try_from_secs_f64(secs).ok())
            .flatten();
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses a `retry-after-ms` header value (milliseconds, possibly fractional),
/// as sent by OpenAI-compatible APIs.
pub fn parse_retry_after_ms(value: &str) -> Option<Duration> {
    let ms: f64 = value.trim().parse().ok()?;
    (ms >= 0.0)
        .then(|| Duration::try_from_secs_f64(ms / 1000.0).ok())
        .flatten()
}

/// The server's requested delay from response headers: `retry-after-ms` wins
/// over `Retry-After` because it is more precise (same order as the OpenAI SDK).
pub fn retry_after_from_headers(headers: &http::HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    text("retry-after-ms")
        .and_then(parse_retry_after_ms)
        .or_else(|| text("retry-after").and_then(|v| parse_retry_after(v, now)))
}
