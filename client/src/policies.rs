//! Building every policy from a [`ClientConfig`], once: the single place a
//! configuration is checked after parsing. Policy constructors return
//! path-free errors (what is wrong, and which of their own fields); this
//! module knows where each policy sits in the `client:` section and attaches
//! the full field path, as linkerd's `env.rs` does around
//! `ExponentialBackoff::try_new`. [`ClientConfig::validate`] and
//! `ClientBuilder::build` both call [`build_policies`]; the client keeps
//! what it returns.

use crate::config::{ClientConfig, ConfigError, EndpointConfig, FallbackConfig};
use crate::policy::backoff::Backoff;
use crate::policy::balancer::{Balancer, InvalidBalancer};
use crate::policy::breaker::CircuitBreaker;
use crate::policy::bulkhead::Bulkhead;
use crate::policy::ejection::OutlierDetector;
use crate::policy::priority::PriorityGate;
use crate::policy::rate_limit::RateLimiter;
use crate::policy::response_cache::ResponseCache;
use crate::policy::retry_budget::RetryBudget;

/// One instance of every policy, built from a checked config.
#[derive(Debug)]
pub(crate) struct Policies {
    pub(crate) backoff: Backoff,
    pub(crate) budget: RetryBudget,
    pub(crate) limiter: Option<RateLimiter>,
    /// One per endpoint (none for a config without endpoints, whose breaker
    /// settings are still checked).
    pub(crate) breakers: Vec<CircuitBreaker>,
    /// `None` only for a config without endpoints: a balancer needs at least
    /// one, and the harness fills endpoints in after validating.
    pub(crate) balancer: Option<Balancer>,
    pub(crate) ejection: OutlierDetector,
    pub(crate) bulkhead: Bulkhead,
    /// With `priorities`: the per-class shares, and the answer cache when a
    /// class falls back to it.
    pub(crate) gate: Option<PriorityGate>,
    pub(crate) cache: Option<ResponseCache>,
}

/// `client.<path>`: the full field path of a setting.
fn at(path: &str, message: impl std::fmt::Display) -> ConfigError {
    ConfigError {
        field: format!("client.{path}"),
        message: message.to_string(),
    }
}

/// Checks every value of `cfg` and builds its policies; the first problem
/// is returned with its full field path (`client.retry.backoff.base`).
pub(crate) fn build_policies(cfg: &ClientConfig) -> Result<Policies, ConfigError> {
    check_plain_values(cfg)?;
    let backoff = Backoff::new(&cfg.retry.backoff)
        .map_err(|e| at(&format!("retry.backoff.{}", e.field()), &e))?;
    let budget = RetryBudget::new(&cfg.retry.budget)
        .map_err(|e| at(&format!("retry.budget.{}", e.field()), &e))?;
    let breaker =
        CircuitBreaker::new(&cfg.breaker).map_err(|e| at(&format!("breaker.{}", e.field()), &e))?;
    let limiter = match &cfg.rate_limit {
        Some(rl) => {
            Some(RateLimiter::new(rl).map_err(|e| at(&format!("rate_limit.{}", e.field()), &e))?)
        }
        None => None,
    };
    let bulkhead =
        Bulkhead::new(&cfg.bulkhead).map_err(|e| at(&format!("bulkhead.{}", e.field()), &e))?;
    let weights: Vec<u32> = cfg.endpoints.iter().map(EndpointConfig::weight).collect();
    let balancer = if weights.is_empty() {
        None
    } else {
        Some(
            Balancer::new(&cfg.balancer.policy(), &weights).map_err(|e| match e {
                InvalidBalancer::ZeroWeight(i) => at(&format!("endpoints[{i}].weight"), &e),
                other => at("endpoints", &other),
            })?,
        )
    };
    let ejection = OutlierDetector::new(&cfg.balancer.ejection, weights.len().max(1))
        .map_err(|e| at(&format!("balancer.ejection.{}", e.field()), &e))?;
    if let Some(FallbackConfig::StaticReply(s)) = &cfg.fallback {
        if s.is_empty() {
            return Err(at("fallback.static_reply", "must not be empty"));
        }
    }
    let (gate, cache) = match &cfg.priorities {
        Some(p) => {
            // Without a bulkhead the shares apply to its configured size all the same.
            let gate = PriorityGate::new(p, cfg.bulkhead.max_concurrent as usize)
                .map_err(|e| at(&format!("priorities.{}", e.field()), &e))?;
            let cache = p
                .uses_cache()
                .then(|| ResponseCache::new(p.cache.ttl, p.cache.max_entries));
            (Some(gate), cache)
        }
        None => (None, None),
    };
    Ok(Policies {
        gate,
        cache,
        backoff,
        budget,
        limiter,
        breakers: vec![breaker; weights.len()],
        balancer,
        ejection,
        bulkhead,
    })
}

/// Values no policy owns: endpoint URLs and weights, the key variable, the
/// timeouts and the attempt count.
fn check_plain_values(cfg: &ClientConfig) -> Result<(), ConfigError> {
    for (i, e) in cfg.endpoints.iter().enumerate() {
        let u = e.url();
        if !(u.starts_with("http://") || u.starts_with("https://"))
            || reqwest::Url::parse(u).is_err()
        {
            return Err(at(
                &format!("endpoints[{i}]"),
                format!("must be an http:// or https:// URL, got {u:?}"),
            ));
        }
        if e.weight() == 0 {
            return Err(at(&format!("endpoints[{i}].weight"), "must be >= 1, got 0"));
        }
    }
    if cfg.api_key_env.trim().is_empty() {
        return Err(at("api_key_env", "must name an environment variable"));
    }
    let t = &cfg.timeouts;
    for (name, d) in [
        ("connect", t.connect),
        ("first_byte", t.first_byte),
        ("first_token", t.first_token),
        ("idle", t.idle),
        ("total", t.total),
    ] {
        if d.is_zero() {
            return Err(at(
                &format!("timeouts.{name}"),
                "must be greater than 0s, got 0s",
            ));
        }
    }
    if cfg.retry.max_attempts == 0 {
        return Err(at("retry.max_attempts", "must be >= 1, got 0"));
    }
    Ok(())
}

impl ClientConfig {
    /// Checks every value, naming the full field path in the error
    /// (`client.retry.backoff.base must be greater than 0`). Building a
    /// client runs the same check.
    pub fn validate(&self) -> Result<(), ConfigError> {
        build_policies(self).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::units::{PerSecond, Percent};

    fn field_and_text(cfg: &ClientConfig) -> (String, String) {
        let e = build_policies(cfg).unwrap_err();
        (e.field.clone(), e.to_string())
    }

    #[test]
    fn every_policy_error_gets_its_full_path() {
        let mut c = ClientConfig::default();
        c.retry.backoff.max = Duration::from_millis(100);
        c.retry.backoff.base = Duration::from_millis(200);
        assert_eq!(
            field_and_text(&c).1,
            "client.retry.backoff.max must be at least base (200ms), got 100ms"
        );
        let mut c = ClientConfig::default();
        c.retry.budget.ttl = Duration::from_millis(10);
        assert_eq!(field_and_text(&c).0, "client.retry.budget.ttl");
        let mut c = ClientConfig::default();
        c.breaker.failure_rate_threshold = Percent::ZERO;
        assert_eq!(
            field_and_text(&c).1,
            "client.breaker.failure_rate_threshold must be greater than 0%"
        );
        let c = ClientConfig {
            rate_limit: Some(crate::policy::rate_limit::RateLimitConfig::new(
                PerSecond::new(0.0).unwrap(),
            )),
            ..Default::default()
        };
        assert!(field_and_text(&c)
            .1
            .starts_with("client.rate_limit.rate must be greater than 0"));
        let mut c = ClientConfig::default();
        c.bulkhead.max_concurrent = 0;
        assert_eq!(field_and_text(&c).0, "client.bulkhead.max_concurrent");
        let mut c = ClientConfig::default();
        c.balancer.ejection.base_ejection_time = Duration::ZERO;
        assert_eq!(
            field_and_text(&c).0,
            "client.balancer.ejection.base_ejection_time"
        );
        let c = ClientConfig {
            fallback: Some(FallbackConfig::StaticReply(String::new())),
            ..Default::default()
        };
        assert_eq!(
            field_and_text(&c).1,
            "client.fallback.static_reply must not be empty"
        );
    }

    #[test]
    fn breaker_settings_are_checked_without_endpoints_and_built_per_endpoint() {
        let mut c = ClientConfig::default();
        c.breaker.window_size = 0;
        assert_eq!(
            field_and_text(&c).1,
            "client.breaker.window_size must be at least 1"
        );
        let p = build_policies(&ClientConfig::default()).unwrap();
        assert!(p.breakers.is_empty() && p.balancer.is_none());
        let c = ClientConfig {
            endpoints: vec![
                EndpointConfig::Url("http://127.0.0.1:1".into()),
                EndpointConfig::Weighted {
                    url: "http://127.0.0.1:2".into(),
                    weight: 3,
                },
            ],
            ..Default::default()
        };
        let p = build_policies(&c).unwrap();
        assert_eq!(p.breakers.len(), 2);
        assert_eq!(p.balancer.map(|b| b.len()), Some(2));
    }
}
