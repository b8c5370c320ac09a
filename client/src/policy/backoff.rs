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
    #[serde(with = "crate::units::duration")]
    pub base: Duration,
    /// Growth factor per attempt, `>= 1`. Default `2`.
    pub multiplier: f64,
    /// Cap on any single delay. Default `8s`.
    #[serde(with = "crate::units::duration")]
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

/// Why a [`BackoffConfig`] was refused. Path-free, as linkerd's
/// `InvalidBackoff`: `Display` says what is wrong, [`InvalidBackoff::field`]
/// names the setting, and the caller that knows where the config sits in
/// its file adds the path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBackoff {
    /// `base` was zero.
    #[error("must be greater than 0")]
    ZeroBase,
    /// `max` was below `base`.
    #[error("must be at least base ({base:?}), got {max:?}")]
    MaxBelowBase {
        /// Configured base.
        base: Duration,
        /// Configured max.
        max: Duration,
    },
    /// `multiplier` was below 1 or not finite.
    #[error("must be a finite number >= 1, got {0}")]
    Multiplier(f64),
}

impl InvalidBackoff {
    /// The offending field of [`BackoffConfig`].
    pub fn field(&self) -> &'static str {
        match self {
            InvalidBackoff::ZeroBase => "base",
            InvalidBackoff::MaxBelowBase { .. } => "max",
            InvalidBackoff::Multiplier(_) => "multiplier",
        }
    }
}

/// A validated backoff policy. Stateless: the caller passes the attempt number
/// and the previous delay, so one `Backoff` is shared by all requests.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: f64,
    multiplier: f64,
    max: f64,
    max_duration: Duration,
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
            max_duration: cfg.max,
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
        if !secs.is_finite() {
            return self.max_duration;
        }
        // The clamp also absorbs float rounding above `max`.
        Duration::try_from_secs_f64(secs.clamp(0.0, self.max))
            .map_or(self.max_duration, |d| d.min(self.max_duration))
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn backoff(jitter: Jitter) -> Backoff {
        Backoff::new(&BackoffConfig {
            base: Duration::from_millis(100),
            multiplier: 2.0,
            max: Duration::from_secs(1),
            jitter,
        })
        .unwrap()
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn none_is_exponential_and_capped() {
        let b = backoff(Jitter::None);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let got: Vec<_> = (1..=6)
            .map(|a| b.delay(a, Duration::ZERO, &mut rng))
            .collect();
        assert_eq!(
            got,
            [100 * MS, 200 * MS, 400 * MS, 800 * MS, 1000 * MS, 1000 * MS]
        );
        assert_eq!(b.delay(u32::MAX, Duration::ZERO, &mut rng), 1000 * MS);
        assert_eq!(b.delay(0, Duration::ZERO, &mut rng), 100 * MS);
    }

    #[test]
    fn full_and_equal_stay_in_bounds_and_spread() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (jitter, lo_frac) in [(Jitter::Full, 0.0), (Jitter::Equal, 0.5)] {
            let b = backoff(jitter);
            for attempt in 1..=6u32 {
                let exp = (100.0 * 2f64.powi(attempt as i32 - 1)).min(1000.0);
                let ds: Vec<f64> = (0..500)
                    .map(|_| b.delay(attempt, Duration::ZERO, &mut rng).as_secs_f64() * 1e3)
                    .collect();
                let (min, max) = ds
                    .iter()
                    .fold((f64::MAX, 0f64), |(a, b), &d| (a.min(d), b.max(d)));
                assert!(
                    min >= exp * lo_frac - 1e-6 && max <= exp + 1e-6,
                    "{jitter:?} {attempt}"
                );
                // 500 uniform samples cover most of the range.
                assert!(
                    max - min > 0.9 * exp * (1.0 - lo_frac),
                    "{jitter:?} {attempt}"
                );
            }
        }
    }

    #[test]
    fn decorrelated_grows_from_previous_delay_within_base_and_cap() {
        let b = backoff(Jitter::Decorrelated);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut prev = Duration::ZERO;
        for attempt in 1..=50 {
            let d = b.delay(attempt, prev, &mut rng);
            let hi = (prev.max(100 * MS) * 3).min(1000 * MS);
            assert!(d >= 100 * MS && d <= hi, "{d:?} prev {prev:?}");
            prev = d;
        }
    }

    #[test]
    fn same_seed_same_delays() {
        let b = backoff(Jitter::Full);
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (1..10)
                .map(|a| b.delay(a, Duration::ZERO, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn validation() {
        let c = |base, max, multiplier| BackoffConfig {
            base: Duration::from_millis(base),
            max: Duration::from_millis(max),
            multiplier,
            jitter: Jitter::Full,
        };
        assert_eq!(
            Backoff::new(&c(0, 10, 2.0)).unwrap_err(),
            InvalidBackoff::ZeroBase
        );
        assert!(matches!(
            Backoff::new(&c(20, 10, 2.0)),
            Err(InvalidBackoff::MaxBelowBase { .. })
        ));
        assert!(Backoff::new(&c(1, 10, 0.5)).is_err());
        assert!(Backoff::new(&c(1, 10, f64::NAN)).is_err());
        let y: BackoffConfig = serde_yaml::from_str("base: 250ms\njitter: decorrelated\n").unwrap();
        assert_eq!(
            (y.base, y.jitter, y.max),
            (250 * MS, Jitter::Decorrelated, 8000 * MS)
        );
        assert!(serde_yaml::from_str::<BackoffConfig>("jitter: sometimes\n").is_err());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 1.5 ", now), Some(1500 * MS));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["-1", "soon", "", "NaN", "inf", "1e300"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
        assert_eq!(parse_retry_after_ms("250"), Some(250 * MS));
        assert_eq!(
            parse_retry_after_ms("0.5"),
            Some(Duration::from_micros(500))
        );
        assert_eq!(parse_retry_after_ms("-5"), None);
        assert_eq!(parse_retry_after_ms("x"), None);
    }

    #[test]
    fn headers_prefer_retry_after_ms() {
        let now = SystemTime::UNIX_EPOCH;
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after_from_headers(&h, now), None);
        h.insert("retry-after", http::HeaderValue::from_static("2"));
        assert_eq!(
            retry_after_from_headers(&h, now),
            Some(Duration::from_secs(2))
        );
        h.insert("retry-after-ms", http::HeaderValue::from_static("1500"));
        assert_eq!(retry_after_from_headers(&h, now), Some(1500 * MS));
        h.insert("retry-after-ms", http::HeaderValue::from_static("junk"));
        assert_eq!(
            retry_after_from_headers(&h, now),
            Some(Duration::from_secs(2))
        );
    }
}
