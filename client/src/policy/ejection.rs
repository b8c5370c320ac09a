//! Outlier ejection (Envoy's outlier detection, consecutive-failures flavour):
//! after N consecutive failures an endpoint is ejected for
//! `base_ejection_time * k`, capped at `max_ejection_time`, where `k` counts
//! recent ejections of that endpoint and decays by one for every
//! `base_ejection_time` it stays healthy. The last healthy endpoint is never
//! ejected, nor more than `max_ejection_percent` of them (at least one may be).
//!
//! Events (`Ejected`, `Returned`) are buffered; drain them with
//! [`OutlierDetector::take_events`], which also notices expired ejections.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::units::Percent;

/// Outlier ejection settings (YAML `ejection`). Envoy's field names; defaults
/// shortened for minute-long runs (Envoy: 30s base, 300s max, 10%).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EjectionConfig {
    /// `false` never ejects. Default `true`.
    pub enabled: bool,
    /// Consecutive failures that eject an endpoint. Default `5` (Envoy).
    pub consecutive_failures: u32,
    /// First ejection length; the k-th recent one lasts k times this. Default `10s`.
    #[serde(with = "crate::units::duration")]
    pub base_ejection_time: Duration,
    /// Cap on one ejection's length. Default `60s`.
    #[serde(with = "crate::units::duration")]
    pub max_ejection_time: Duration,
    /// Most endpoints ejected at once, as a share (one is always allowed when
    /// there are two or more). Default `50%`.
    pub max_ejection_percent: Percent,
}

impl Default for EjectionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            consecutive_failures: 5,
            base_ejection_time: Duration::from_secs(10),
            max_ejection_time: Duration::from_secs(60),
            max_ejection_percent: Percent::from_fraction(0.5).unwrap_or(Percent::HUNDRED),
        }
    }
}

/// Why an [`EjectionConfig`] was refused. Path-free: `Display` says what is
/// wrong, [`InvalidEjection::field`] names the setting, the caller adds the path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidEjection {
    /// `consecutive_failures` was 0.
    #[error("must be at least 1")]
    ZeroFailures,
    /// `base_ejection_time` was 0 or above `max_ejection_time`.
    #[error("must be > 0 and <= max_ejection_time")]
    Times,
}

impl InvalidEjection {
    /// The offending field of [`EjectionConfig`].
    pub fn field(&self) -> &'static str {
        match self {
            InvalidEjection::ZeroFailures => "consecutive_failures",
            InvalidEjection::Times => "base_ejection_time",
        }
    }
}

/// A change in an endpoint's ejection status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EjectionEvent {
    /// `endpoint` will get no traffic until `until`.
    Ejected {
        /// Endpoint index.
        endpoint: usize,
        /// When it was ejected.
        at: Instant,
        /// When it returns.
        until: Instant,
        /// Recent ejections including this one (the duration multiplier).
        ejections: u32,
    },
    /// `endpoint` is back in rotation since `at`.
    Returned {
        /// Endpoint index.
        endpoint: usize,
        /// When its ejection ended.
        at: Instant,
    },
}

#[derive(Clone, Copy, Debug, Default)]
struct Health {
    consecutive: u32,
    ejected_until: Option<Instant>,
    multiplier: u32,
    returned_at: Option<Instant>,
}

/// Tracks consecutive failures per endpoint and ejects outliers. Pure: takes `now`.
#[derive(Clone, Debug)]
pub struct OutlierDetector {
    cfg: EjectionConfig,
    endpoints: Vec<Health>,
    max_ejected: usize,
    events: Vec<EjectionEvent>,
}

impl OutlierDetector {
    /// Validates `cfg` for `endpoints` endpoints.
    pub fn new(cfg: &EjectionConfig, endpoints: usize) -> Result<Self, InvalidEjection> {
        if cfg.consecutive_failures == 0 {
            return Err(InvalidEjection::ZeroFailures);
        }
        if cfg.base_ejection_time.is_zero() || cfg.base_ejection_time > cfg.max_ejection_time {
            return Err(InvalidEjection::Times);
        }
        let by_percent = (endpoints as f64 * cfg.max_ejection_percent.fraction()).floor() as usize;
        Ok(Self {
            cfg: cfg.clone(),
            endpoints: vec![Health::default(); endpoints],
            // At least one may go, never all of them.
            max_ejected: by_percent.max(1).min(endpoints.saturating_sub(1)),
            events: Vec::new(),
        })
    }

    /// Whether `endpoint` is ejected at `now` (unknown indices are not).
    pub fn is_ejected(&self, endpoint: usize, now: Instant) -> bool {
        self.endpoints
            .get(endpoint)
            .and_then(|h| h.ejected_until)
            .is_some_and(|until| now < until)
    }

    /// Endpoints ejected at `now`.
    pub fn ejected_count(&self, now: Instant) -> usize {
        (0..self.endpoints.len())
            .filter(|&i| self.is_ejected(i, now))
            .count()
    }

    /// A call to `endpoint` succeeded: its failure streak ends.
    pub fn on_success(&mut self, endpoint: usize, _now: Instant) {
        if let Some(h) = self.endpoints.get_mut(endpoint) {
            h.consecutive = 0;
        }
    }

    /// A call to `endpoint` failed; may eject it.
    pub fn on_failure(&mut self, endpoint: usize, now: Instant) {
        if !self.cfg.enabled || self.is_ejected(endpoint, now) {
            return;
        }
        self.expire(now);
        let ejected = self.ejected_count(now);
        let Some(h) = self.endpoints.get_mut(endpoint) else {
            return;
        };
        h.consecutive = h.consecutive.saturating_add(1);
        // Keep the streak when capped, so it ejects once another endpoint returns.
        if h.consecutive < self.cfg.consecutive_failures || ejected >= self.max_ejected {
            return;
        }
        let base = self.cfg.base_ejection_time;
        let healthy_for = h
            .returned_at
            .map_or(Duration::ZERO, |r| now.saturating_duration_since(r));
        let decay = (healthy_for.as_nanos() / base.as_nanos().max(1)).min(u128::from(u32::MAX));
        h.multiplier = h.multiplier.saturating_sub(decay as u32).saturating_add(1);
        let length = base
            .saturating_mul(h.multiplier)
            .min(self.cfg.max_ejection_time);
        let until = now.checked_add(length).unwrap_or(now);
        h.consecutive = 0;
        h.ejected_until = Some(until);
        self.events.push(EjectionEvent::Ejected {
            endpoint,
            at: now,
            until,
            ejections: h.multiplier,
        });
    }

    /// Buffered events, after recording returns of ejections that ended by `now`.
    pub fn take_events(&mut self, now: Instant) -> Vec<EjectionEvent> {
        self.expire(now);
        std::mem::take(&mut self.events)
    }

    fn expire(&mut self, now: Instant) {
        for (endpoint, h) in self.endpoints.iter_mut().enumerate() {
            if let Some(until) = h.ejected_until.filter(|&u| u <= now) {
                h.ejected_until = None;
                h.returned_at = Some(until);
                self.events.push(EjectionEvent::Returned {
                    endpoint,
                    at: until,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn detector(n: usize) -> OutlierDetector {
        OutlierDetector::new(&EjectionConfig::default(), n).unwrap()
    }

    fn fail_n(d: &mut OutlierDetector, endpoint: usize, n: u32, now: Instant) {
        for _ in 0..n {
            d.on_failure(endpoint, now);
        }
    }

    #[test]
    fn ejects_after_consecutive_failures_and_returns() {
        let t0 = Instant::now();
        let mut d = detector(3);
        fail_n(&mut d, 0, 4, t0);
        d.on_success(0, t0); // streak broken
        fail_n(&mut d, 0, 4, t0);
        assert!(!d.is_ejected(0, t0));
        assert!(d.take_events(t0).is_empty());
        d.on_failure(0, t0);
        assert!(d.is_ejected(0, t0));
        assert_eq!(
            d.take_events(t0),
            [EjectionEvent::Ejected {
                endpoint: 0,
                at: t0,
                until: t0 + 10 * S,
                ejections: 1
            }]
        );
        assert!(d.is_ejected(0, t0 + 10 * S - Duration::from_nanos(1)));
        assert!(!d.is_ejected(0, t0 + 10 * S));
        assert_eq!(
            d.take_events(t0 + 11 * S),
            [EjectionEvent::Returned {
                endpoint: 0,
                at: t0 + 10 * S
            }]
        );
    }

    #[test]
    fn repeated_ejections_grow_then_cap_then_decay() {
        let t0 = Instant::now();
        let mut d = detector(2);
        let mut now = t0;
        let mut lengths = Vec::new();
        for _ in 0..8 {
            fail_n(&mut d, 1, 5, now);
            let until = match d.take_events(now).last() {
                Some(EjectionEvent::Ejected { until, .. }) => *until,
                e => panic!("{e:?}"),
            };
            lengths.push((until - now).as_secs());
            now = until; // fail again right after returning
        }
        assert_eq!(lengths, [10, 20, 30, 40, 50, 60, 60, 60]);
        // Healthy for 3 base periods: the multiplier (8) decays by 3 before +1.
        now += 30 * S;
        fail_n(&mut d, 1, 5, now);
        match d.take_events(now).last() {
            Some(EjectionEvent::Ejected {
                ejections, until, ..
            }) => {
                assert_eq!(*ejections, 6);
                assert_eq!(*until - now, 60 * S);
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn never_ejects_the_last_healthy_endpoint() {
        let t0 = Instant::now();
        let mut one = detector(1);
        fail_n(&mut one, 0, 50, t0);
        assert!(!one.is_ejected(0, t0));
        let mut d = OutlierDetector::new(
            &EjectionConfig {
                max_ejection_percent: Percent::HUNDRED,
                ..EjectionConfig::default()
            },
            3,
        )
        .unwrap();
        fail_n(&mut d, 0, 5, t0);
        fail_n(&mut d, 1, 5, t0);
        fail_n(&mut d, 2, 50, t0);
        assert_eq!(d.ejected_count(t0), 2);
        assert!(!d.is_ejected(2, t0));
        // Once endpoint 0 returns, the kept streak of 2 ejects it on its next failure.
        let t1 = t0 + 10 * S;
        d.on_failure(2, t1);
        assert!(d.is_ejected(2, t1));
        assert!(!d.is_ejected(0, t1));
    }

    #[test]
    fn max_ejection_percent_limits_but_allows_one() {
        let t0 = Instant::now();
        let mut d = detector(4); // 50% of 4 = 2
        for e in 0..4 {
            fail_n(&mut d, e, 5, t0);
        }
        assert_eq!(d.ejected_count(t0), 2);
        let mut d = OutlierDetector::new(
            &EjectionConfig {
                max_ejection_percent: Percent::ZERO,
                ..EjectionConfig::default()
            },
            2,
        )
        .unwrap();
        fail_n(&mut d, 0, 5, t0);
        assert_eq!(d.ejected_count(t0), 1);
    }

    #[test]
    fn disabled_and_validation() {
        let t0 = Instant::now();
        let c = EjectionConfig {
            enabled: false,
            ..EjectionConfig::default()
        };
        let mut d = OutlierDetector::new(&c, 3).unwrap();
        fail_n(&mut d, 0, 50, t0);
        assert_eq!(d.ejected_count(t0), 0);
        d.on_failure(99, t0);
        let bad = EjectionConfig {
            base_ejection_time: 120 * S,
            ..EjectionConfig::default()
        };
        assert_eq!(
            OutlierDetector::new(&bad, 2).unwrap_err(),
            InvalidEjection::Times
        );
        let y: EjectionConfig =
            serde_yaml::from_str("consecutive_failures: 3\nbase_ejection_time: 2s\n").unwrap();
        assert_eq!((y.consecutive_failures, y.base_ejection_time), (3, 2 * S));
    }
}
