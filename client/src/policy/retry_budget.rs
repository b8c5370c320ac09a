//! Retry budget: retries may be at most a fraction of recent requests, plus a
//! small per-second floor, so a brownout cannot turn into a retry storm.
//!
//! Same model as tower's `TpsBudget` and Finagle's `RetryBudget`: every
//! original request deposits, every retry withdraws; both are counted over a
//! sliding TTL window of time buckets. A retry is allowed when
//! `withdrawals + 1 <= deposits * ratio + min_per_second * ttl_seconds`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::units::{PerSecond, Percent};

/// Number of buckets the TTL window is split into (tower uses 10 too).
const BUCKETS: usize = 10;

/// Retry budget settings (YAML `retry.budget`). Defaults are tower's /
/// Finagle's: 20% of requests over a 10 s window, floor 10 retries/s.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryBudgetConfig {
    /// `false` allows every retry (max attempts still applies). Default `true`.
    pub enabled: bool,
    /// Retries allowed as a share of requests in the window. Default `20%`.
    pub ratio: Percent,
    /// Retries always allowed per second regardless of traffic. Default `10/s`.
    pub min_per_second: PerSecond,
    /// How long a deposit counts. Default `10s`.
    #[serde(with = "crate::units::duration")]
    pub ttl: Duration,
}

impl Default for RetryBudgetConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ratio: Percent::from_fraction(0.2).unwrap_or(Percent::ZERO),
            min_per_second: PerSecond::new(10.0).unwrap_or_default(),
            ttl: Duration::from_secs(10),
        }
    }
}

/// Why a [`RetryBudgetConfig`] was refused. Path-free: `Display` says what
/// is wrong, [`InvalidRetryBudget::field`] names the setting, the caller adds
/// the path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidRetryBudget {
    /// `ttl` was shorter than 1 s or longer than 60 s (tower's bounds).
    #[error("must be between 1s and 60s, got {0:?}")]
    Ttl(Duration),
}

impl InvalidRetryBudget {
    /// The offending field of [`RetryBudgetConfig`].
    pub fn field(&self) -> &'static str {
        match self {
            InvalidRetryBudget::Ttl(_) => "ttl",
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    epoch: u64,
    deposits: u32,
    withdrawals: u32,
}

/// A retry budget over a sliding window. Pure: every call takes `now`.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    enabled: bool,
    ratio: f64,
    reserve: f64,
    bucket_nanos: u64,
    origin: Option<Instant>,
    buckets: [Bucket; BUCKETS],
}

impl RetryBudget {
    /// Validates `cfg`.
    pub fn new(cfg: &RetryBudgetConfig) -> Result<Self, InvalidRetryBudget> {
        if cfg.ttl < Duration::from_secs(1) || cfg.ttl > Duration::from_secs(60) {
            return Err(InvalidRetryBudget::Ttl(cfg.ttl));
        }
        Ok(Self {
            enabled: cfg.enabled,
            ratio: cfg.ratio.fraction(),
            reserve: cfg.min_per_second.per_second() * cfg.ttl.as_secs_f64(),
            bucket_nanos: (cfg.ttl.as_nanos() / BUCKETS as u128) as u64,
            origin: None,
            buckets: [Bucket::default(); BUCKETS],
        })
    }

    /// Records one original (non-retry) request.
    pub fn deposit(&mut self, now: Instant) {
        let b = self.bucket(now);
        b.deposits = b.deposits.saturating_add(1);
    }

    /// Takes one retry from the budget; `false` means the retry must not be sent.
    pub fn try_withdraw(&mut self, now: Instant) -> bool {
        if !self.enabled {
            return true;
        }
        // The epsilon keeps 29% of 100 from rounding down to 28 retries.
        if self.balance(now) + 1e-9 < 1.0 {
            return false;
        }
        let b = self.bucket(now);
        b.withdrawals = b.withdrawals.saturating_add(1);
        true
    }

    /// Retries currently available (may be fractional). `f64::INFINITY` when disabled.
    pub fn balance(&mut self, now: Instant) -> f64 {
        if !self.enabled {
            return f64::INFINITY;
        }
        let epoch = self.epoch(now);
        let (mut deposits, mut withdrawals) = (0u64, 0u64);
        for b in &self.buckets {
            if epoch.saturating_sub(b.epoch) < BUCKETS as u64 && b.epoch <= epoch {
                deposits += u64::from(b.deposits);
                withdrawals += u64::from(b.withdrawals);
            }
        }
        deposits as f64 * self.ratio + self.reserve - withdrawals as f64
    }

    fn epoch(&mut self, now: Instant) -> u64 {
        let origin = *self.origin.get_or_insert(now);
        let elapsed = now.saturating_duration_since(origin).as_nanos();
        (elapsed / u128::from(self.bucket_nanos.max(1))) as u64
    }

    fn bucket(&mut self, now: Instant) -> &mut Bucket {
        let epoch = self.epoch(now);
        let b = &mut self.buckets[(epoch % BUCKETS as u64) as usize];
        if b.epoch != epoch {
            *b = Bucket {
                epoch,
                ..Bucket::default()
            };
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(ratio: f64, min_per_second: f64) -> RetryBudget {
        RetryBudget::new(&RetryBudgetConfig {
            enabled: true,
            ratio: Percent::from_fraction(ratio).unwrap(),
            min_per_second: PerSecond::new(min_per_second).unwrap(),
            ttl: Duration::from_secs(10),
        })
        .unwrap()
    }

    fn withdraw_all(b: &mut RetryBudget, now: Instant) -> usize {
        (0..10_000).take_while(|_| b.try_withdraw(now)).count()
    }

    #[test]
    fn ratio_of_deposits_without_floor() {
        let t0 = Instant::now();
        let mut b = budget(0.2, 0.0);
        assert!(!b.try_withdraw(t0), "no traffic, no floor: no retries");
        for _ in 0..100 {
            b.deposit(t0);
        }
        assert_eq!(withdraw_all(&mut b, t0), 20);
        assert!(!b.try_withdraw(t0));
        for _ in 0..5 {
            b.deposit(t0);
        }
        assert_eq!(withdraw_all(&mut b, t0), 1);
    }

    #[test]
    fn floor_allows_min_per_second_over_ttl() {
        let t0 = Instant::now();
        let mut b = budget(0.2, 10.0);
        // 10/s over a 10 s window: 100 retries with no traffic at all.
        assert_eq!(withdraw_all(&mut b, t0), 100);
        for _ in 0..50 {
            b.deposit(t0);
        }
        assert_eq!(withdraw_all(&mut b, t0), 10);
    }

    #[test]
    fn deposits_and_withdrawals_expire_after_ttl() {
        let t0 = Instant::now();
        let mut b = budget(0.5, 0.0);
        for _ in 0..10 {
            b.deposit(t0);
        }
        assert_eq!(withdraw_all(&mut b, t0), 5);
        assert_eq!(withdraw_all(&mut b, t0 + Duration::from_millis(9_999)), 0);
        // Both the deposits and the withdrawals of bucket 0 have left the window.
        assert_eq!(b.balance(t0 + Duration::from_secs(10)), 0.0);
        for _ in 0..4 {
            b.deposit(t0 + Duration::from_secs(10));
        }
        assert_eq!(withdraw_all(&mut b, t0 + Duration::from_secs(10)), 2);
        // Long idle: everything is gone, no stale bucket resurfaces.
        assert_eq!(b.balance(t0 + Duration::from_secs(1000)), 0.0);
    }

    #[test]
    fn partial_expiry_keeps_recent_buckets() {
        let t0 = Instant::now();
        let mut b = budget(1.0, 0.0);
        for s in 0..10u64 {
            b.deposit(t0 + Duration::from_secs(s));
        }
        assert_eq!(b.balance(t0 + Duration::from_secs(9)), 10.0);
        assert_eq!(b.balance(t0 + Duration::from_secs(12)), 7.0);
    }

    #[test]
    fn disabled_always_allows_and_ttl_is_validated() {
        let t0 = Instant::now();
        let mut b = RetryBudget::new(&RetryBudgetConfig {
            enabled: false,
            ..RetryBudgetConfig::default()
        })
        .unwrap();
        assert_eq!(withdraw_all(&mut b, t0), 10_000);
        let bad = RetryBudgetConfig {
            ttl: Duration::from_millis(10),
            ..RetryBudgetConfig::default()
        };
        assert!(matches!(
            RetryBudget::new(&bad),
            Err(InvalidRetryBudget::Ttl(_))
        ));
        let c: RetryBudgetConfig =
            serde_yaml::from_str("ratio: 10%\nmin_per_second: 60/min\nttl: 5s\n").unwrap();
        assert_eq!(c.ratio.fraction(), 0.1);
        assert_eq!(c.min_per_second.per_second(), 1.0);
        assert_eq!(c.ttl, Duration::from_secs(5));
    }
}
