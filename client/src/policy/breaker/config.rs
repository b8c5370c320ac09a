//! Circuit breaker configuration (YAML `breaker`) and its validation errors.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::units::Percent;

/// Kind of sliding window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowType {
    /// The last `window_size` calls.
    #[default]
    Count,
    /// The calls of the last `window_size` seconds, bucketed per second.
    Time,
}

/// Breaker settings (YAML `breaker`). Defaults follow resilience4j except where
/// noted: windows and timings are shorter because a harness run lasts minutes.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// `false` lets every call through and records nothing. Default `true`.
    pub enabled: bool,
    /// `count` or `time`. Default `count` (resilience4j).
    pub window_type: WindowType,
    /// Calls (count window) or seconds (time window). Default `20` (resilience4j: 100).
    pub window_size: u32,
    /// Calls needed in the window before rates are judged; clamped to
    /// `window_size` for count windows. Default `10` (resilience4j: 100).
    pub minimum_number_of_calls: u32,
    /// Opens when the failure rate is at or above this. Default `50%` (resilience4j).
    pub failure_rate_threshold: Percent,
    /// A successful call slower than this counts as slow. Default `60s` (resilience4j).
    #[serde(with = "crate::units::duration")]
    pub slow_call_duration_threshold: Duration,
    /// Opens when the slow-call rate is at or above this. Default `100%` (resilience4j).
    pub slow_call_rate_threshold: Percent,
    /// How long the breaker stays open before probing. Default `5s` (resilience4j: 60s).
    #[serde(with = "crate::units::duration")]
    pub wait_duration_in_open: Duration,
    /// A `Retry-After` hint on the failure that opens the breaker extends the
    /// open time up to this cap; `0s` ignores hints. Default `60s`.
    #[serde(with = "crate::units::duration")]
    pub max_wait_duration_in_open: Duration,
    /// Probes admitted in half-open; their outcomes decide. Default `3` (resilience4j: 10).
    pub permitted_calls_in_half_open: u32,
    /// Half-open longer than this reopens (a safety net for leaked permits);
    /// `0s` waits forever. Default `60s` (resilience4j defaults to forever,
    /// which lets one leaked permit wedge the breaker).
    #[serde(with = "crate::units::duration")]
    pub max_wait_duration_in_half_open: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_type: WindowType::Count,
            window_size: 20,
            minimum_number_of_calls: 10,
            failure_rate_threshold: Percent::from_fraction(0.5).unwrap_or(Percent::HUNDRED),
            slow_call_duration_threshold: Duration::from_secs(60),
            slow_call_rate_threshold: Percent::HUNDRED,
            wait_duration_in_open: Duration::from_secs(5),
            max_wait_duration_in_open: Duration::from_secs(60),
            permitted_calls_in_half_open: 3,
            max_wait_duration_in_half_open: Duration::from_secs(60),
        }
    }
}

/// Why a [`BreakerConfig`] was refused. Path-free: `Display` says what is
/// wrong, [`InvalidBreaker::field`] names the setting, the caller adds the path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBreaker {
    /// A count that must be at least 1 was 0 (the field's name).
    #[error("must be at least 1")]
    Zero(&'static str),
    /// A rate threshold of 0% would open on the first judged call.
    #[error("must be greater than 0%")]
    ZeroThreshold(&'static str),
    /// `wait_duration_in_open` was zero.
    #[error("must be greater than 0")]
    ZeroWait,
}

impl InvalidBreaker {
    /// The offending field of [`BreakerConfig`].
    pub fn field(&self) -> &'static str {
        match self {
            InvalidBreaker::Zero(f) | InvalidBreaker::ZeroThreshold(f) => f,
            InvalidBreaker::ZeroWait => "wait_duration_in_open",
        }
    }
}
