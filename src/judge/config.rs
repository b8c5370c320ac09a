//! Thresholds of the verdicts: the scenario's `verdicts:` section, and
//! `name.field=value` overrides (for `harness judge` flags). Human units as
//! everywhere else: durations `50ms`, fractions `50%` or `0.5`.
//!
//! ```yaml
//! verdicts:
//!   call_idle: 60s
//!   no_backoff: { bound: 20ms }
//!   retry_storm: { max_attempts: 4, share: 30% }
//! ```

use std::time::Duration;

use mock_server::config::{HumanDuration, Probability};
use serde::{Deserialize, Serialize};

fn ms(v: u64) -> HumanDuration {
    HumanDuration(Duration::from_millis(v))
}

fn pct(v: f64) -> Probability {
    Probability::new(v).expect("a default fraction is in [0, 1]")
}

/// Every threshold of the verdicts; each section is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerdictConfig {
    /// A call is finished once it had no attempt for this much journal
    /// time. Default `120s`.
    pub call_idle: HumanDuration,
    /// `ignored_retry_after`.
    pub ignored_retry_after: IgnoredRetryAfter,
    /// `no_backoff`.
    pub no_backoff: NoBackoff,
    /// `synchronized_retries`.
    pub synchronized_retries: SynchronizedRetries,
    /// `retry_storm`.
    pub retry_storm: RetryStorm,
    /// `no_timeout_on_stall`.
    pub no_timeout_on_stall: NoTimeoutOnStall,
    /// `no_failover`.
    pub no_failover: NoFailover,
    /// `kept_sending_to_failing_node` (and the inferred breaker intervals).
    pub kept_sending_to_failing_node: KeptSending,
}

impl Default for VerdictConfig {
    fn default() -> Self {
        VerdictConfig {
            call_idle: ms(120_000),
            ignored_retry_after: IgnoredRetryAfter::default(),
            no_backoff: NoBackoff::default(),
            synchronized_retries: SynchronizedRetries::default(),
            retry_storm: RetryStorm::default(),
            no_timeout_on_stall: NoTimeoutOnStall::default(),
            no_failover: NoFailover::default(),
            kept_sending_to_failing_node: KeptSending::default(),
        }
    }
}

/// `ignored_retry_after:` thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IgnoredRetryAfter {
    /// A retry may come this much before the Retry-After elapsed (clock
    /// and scheduling slack). Default `50ms`.
    pub tolerance: HumanDuration,
}

impl Default for IgnoredRetryAfter {
    fn default() -> Self {
        IgnoredRetryAfter { tolerance: ms(50) }
    }
}

/// `no_backoff:` thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoBackoff {
    /// A retry sooner than this after the failure had no backoff. Default `10ms`.
    pub bound: HumanDuration,
}

impl Default for NoBackoff {
    fn default() -> Self {
        NoBackoff { bound: ms(10) }
    }
}

/// `synchronized_retries:` thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SynchronizedRetries {
    /// Calls needed in a group before its spread is judged. Default 10.
    pub min_calls: u32,
    /// A group whose delays have a coefficient of variation below this is
    /// synchronized. Default 0.05.
    pub max_cv: f64,
    /// Failures in one slot of this length form a group. Default `100ms`.
    pub slot: HumanDuration,
    /// Also count retries whose delay the server set with Retry-After (a
    /// client that obeys a fixed Retry-After retries in step because it was
    /// told to). Default false.
    pub include_retry_after: bool,
}

impl Default for SynchronizedRetries {
    fn default() -> Self {
        SynchronizedRetries {
            min_calls: 10,
            max_cv: 0.05,
            slot: ms(100),
            include_retry_after: false,
        }
    }
}

/// `retry_storm:` thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryStorm {
    /// A call with more attempts than this is a storm. Default 5.
    pub max_attempts: u32,
    /// Retries above this share of first attempts in a window are a storm. Default `50%`.
    pub share: Probability,
    /// Window length, whole seconds. Default `10s`.
    pub window: HumanDuration,
    /// Windows with fewer first attempts are not judged. Default 20.
    pub min_first_attempts: u32,
}

impl Default for RetryStorm {
    fn default() -> Self {
        RetryStorm {
            max_attempts: 5,
            share: pct(0.5),
            window: ms(10_000),
            min_first_attempts: 20,
        }
    }
}

/// `no_timeout_on_stall:` thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoTimeoutOnStall {
    /// A stalled attempt open longer than this had no timeout. Default `60s`.
    pub bound: HumanDuration,
}

impl Default for NoTimeoutOnStall {
    fn default() -> Self {
        NoTimeoutOnStall { bound: ms(60_000) }
    }
}

/// `no_failover:` thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoFailover {
    /// Another node's success this close to the retry shows failover was
    /// possible. Default `1s`.
    pub window: HumanDuration,
}

impl Default for NoFailover {
    fn default() -> Self {
        NoFailover { window: ms(1000) }
    }
}

/// `kept_sending_to_failing_node:` thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeptSending {
    /// A second in which a node failed at least this share of its attempts
    /// is failing. Default `50%`.
    pub ratio: Probability,
    /// Failing seconds must span at least this long, whole seconds. Default `5s`.
    pub span: HumanDuration,
    /// Fires when the node's share of traffic over the rest of the span
    /// stays at least this fraction of its share in the first second. Default `80%`.
    pub keep: Probability,
}

impl Default for KeptSending {
    fn default() -> Self {
        KeptSending {
            ratio: pct(0.5),
            span: ms(5000),
            keep: pct(0.8),
        }
    }
}

/// A threshold that is not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field is out of range.
    #[error("verdicts.{field} {problem}")]
    Invalid {
        /// Dotted path under `verdicts`.
        field: &'static str,
        /// What is wrong and what would do.
        problem: String,
    },
    /// A `name.field=value` override could not be applied.
    #[error("`{spec}`: {problem}")]
    Override {
        /// The override as given.
        spec: String,
        /// Why.
        problem: String,
    },
}

fn invalid(field: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        problem: problem.into(),
    }
}

fn whole_seconds(field: &'static str, d: HumanDuration) -> Result<u32, ConfigError> {
    let d = d.get();
    if d < Duration::from_secs(1) || d.subsec_nanos() != 0 || d.as_secs() > 86_400 {
        return Err(invalid(
            field,
            format!(
                "must be whole seconds between 1s and 1 day (the judge counts per second), got {}",
                humantime::format_duration(d)
            ),
        ));
    }
    Ok(d.as_secs() as u32)
}

impl VerdictConfig {
    /// Checks every threshold; the error names the field and the fix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.call_idle.get() < Duration::from_secs(1) {
            return Err(invalid("call_idle", "must be at least 1s"));
        }
        if self.call_idle.get() <= self.no_failover.window.get() {
            return Err(invalid(
                "call_idle",
                "must be longer than no_failover.window",
            ));
        }
        let s = &self.synchronized_retries;
        if s.min_calls < 2 {
            return Err(invalid(
                "synchronized_retries.min_calls",
                format!(
                    "must be at least 2 (a spread needs two delays), got {}",
                    s.min_calls
                ),
            ));
        }
        if !(s.max_cv.is_finite() && s.max_cv > 0.0) {
            return Err(invalid(
                "synchronized_retries.max_cv",
                format!("must be a number above 0, e.g. 0.05; got {}", s.max_cv),
            ));
        }
        if s.slot.get().is_zero() {
            return Err(invalid(
                "synchronized_retries.slot",
                "must be above 0, e.g. 100ms",
            ));
        }
        if self.retry_storm.max_attempts == 0 {
            return Err(invalid("retry_storm.max_attempts", "must be at least 1"));
        }
        whole_seconds("retry_storm.window", self.retry_storm.window)?;
        whole_seconds(
            "kept_sending_to_failing_node.span",
            self.kept_sending_to_failing_node.span,
        )?;
        if self.no_timeout_on_stall.bound.get().is_zero() {
            return Err(invalid(
                "no_timeout_on_stall.bound",
                "must be above 0, e.g. 60s",
            ));
        }
        Ok(())
    }

    /// Window of `retry_storm` in seconds (valid after [`Self::validate`]).
    pub fn storm_window_s(&self) -> u32 {
        whole_seconds("retry_storm.window", self.retry_storm.window).unwrap_or(10)
    }

    /// Span of `kept_sending_to_failing_node` in seconds (valid after [`Self::validate`]).
    pub fn failing_span_s(&self) -> u32 {
        whole_seconds(
            "kept_sending_to_failing_node.span",
            self.kept_sending_to_failing_node.span,
        )
        .unwrap_or(5)
    }

    /// Applies `name.field=value` (or `call_idle=value`), read exactly as
    /// the YAML section would be, then re-validates. On error `self` is
    /// unchanged.
    pub fn set(&mut self, spec: &str) -> Result<(), ConfigError> {
        let fail = |problem: String| ConfigError::Override {
            spec: spec.to_string(),
            problem,
        };
        let (path, raw) = spec
            .split_once('=')
            .ok_or_else(|| fail("write name.field=value, e.g. no_backoff.bound=20ms".into()))?;
        let value: serde_yaml::Value = serde_yaml::from_str(raw.trim())
            .map_err(|e| fail(format!("the value is not valid YAML: {e}")))?;
        let mut tree = serde_yaml::to_value(&*self).map_err(|e| fail(e.to_string()))?;
        let mut node = &mut tree;
        for key in path.trim().split('.') {
            let map = node
                .as_mapping_mut()
                .ok_or_else(|| fail(format!("`{key}` is inside a value that is not a section")))?;
            let known: Vec<String> = map
                .keys()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect();
            node = map.get_mut(key).ok_or_else(|| {
                fail(format!(
                    "unknown threshold `{key}`; known here: {}",
                    known.join(", ")
                ))
            })?;
        }
        *node = value;
        let next: VerdictConfig = serde_path_to_error::deserialize(tree)
            .map_err(|e| fail(format!("{}: {}", e.path(), e.inner())))?;
        next.validate().map_err(|e| fail(e.to_string()))?;
        *self = next;
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
