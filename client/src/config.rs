//! `ClientConfig`: exactly the scenario's `client:` section. Every section is
//! optional with a documented default; values are checked inside
//! `Deserialize` where possible (so serde_yaml reports line and column), and
//! once more, with the full field path, while the policies are built
//! (`policies.rs`, which also holds [`ClientConfig::validate`]).

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::policy::backoff::BackoffConfig;
use crate::policy::balancer::{BalancerConfig, Strategy};
use crate::policy::breaker::BreakerConfig;
use crate::policy::bulkhead::BulkheadConfig;
use crate::policy::ejection::EjectionConfig;
use crate::policy::rate_limit::RateLimitConfig;
use crate::policy::retry_budget::RetryBudgetConfig;
use crate::types::Model;

/// An invalid configuration value, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct ConfigError {
    /// Full path, e.g. `client.retry.max_attempts`.
    pub field: String,
    /// What is wrong and what was found, e.g. `must be >= 1, got 0`.
    pub message: String,
}

/// The resilience client's configuration (YAML `client:`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientConfig {
    /// Base URLs (`http://127.0.0.1:8080`, `https://api.deepseek.com`), each
    /// optionally `{url, weight}`; `/chat/completions` is appended. Default
    /// empty: the harness fills in the fake server's nodes.
    pub endpoints: Vec<EndpointConfig>,
    /// Environment variable holding the API key. Default `DEEPSEEK_API_KEY`.
    pub api_key_env: String,
    /// Phase timeouts.
    pub timeouts: TimeoutsConfig,
    /// Connection pool and transport.
    pub pool: PoolConfig,
    /// Retries, backoff and retry budget.
    pub retry: RetryConfig,
    /// Circuit breaker per endpoint.
    pub breaker: BreakerConfig,
    /// Client-side rate limiter; absent = off.
    pub rate_limit: Option<RateLimitConfig>,
    /// Bulkhead (max concurrency + bounded queue).
    pub bulkhead: BulkheadConfig,
    /// Endpoint selection and outlier ejection.
    pub balancer: BalancerSection,
    /// What answers when everything failed; absent = no fallback.
    pub fallback: Option<FallbackConfig>,
    /// Priority classes: bulkhead shares and a fallback per class; absent =
    /// every request alike. A class's fallback replaces `fallback`.
    pub priorities: Option<crate::policy::priority::PrioritiesConfig>,
    /// Optional Prometheus endpoint.
    pub metrics: MetricsConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            endpoints: Vec::new(),
            api_key_env: "DEEPSEEK_API_KEY".to_owned(),
            timeouts: TimeoutsConfig::default(),
            pool: PoolConfig::default(),
            retry: RetryConfig::default(),
            breaker: BreakerConfig::default(),
            rate_limit: None,
            bulkhead: BulkheadConfig::default(),
            balancer: BalancerSection::default(),
            fallback: None,
            priorities: None,
            metrics: MetricsConfig::default(),
        }
    }
}

/// One endpoint: a bare URL string or `{url, weight}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EndpointConfig {
    /// `"http://host:port"`, weight 1.
    Url(String),
    /// `{url: "...", weight: 3}`.
    Weighted {
        /// Base URL.
        url: String,
        /// Relative weight for the `weighted` strategy (>= 1). Default 1.
        #[serde(default = "one")]
        weight: u32,
    },
}

fn one() -> u32 {
    1
}

impl EndpointConfig {
    /// The base URL.
    pub fn url(&self) -> &str {
        match self {
            EndpointConfig::Url(u) | EndpointConfig::Weighted { url: u, .. } => u,
        }
    }
    /// The weight (1 for a bare URL).
    pub fn weight(&self) -> u32 {
        match self {
            EndpointConfig::Url(_) => 1,
            EndpointConfig::Weighted { weight, .. } => *weight,
        }
    }
}

/// Phase timeouts (YAML `timeouts`), each a human duration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutsConfig {
    /// TCP (+TLS) connect. Default `1s`.
    #[serde(
        serialize_with = "crate::units::duration::serialize",
        deserialize_with = "positive"
    )]
    pub connect: Duration,
    /// Request sent until response headers. Default `10s`.
    #[serde(
        serialize_with = "crate::units::duration::serialize",
        deserialize_with = "positive"
    )]
    pub first_byte: Duration,
    /// Streams: attempt start until the first content token; keep-alive
    /// comments do not count. (A non-streamed answer has no tokens: it is
    /// bounded by `idle` and `total`.) Default `15s`.
    #[serde(
        serialize_with = "crate::units::duration::serialize",
        deserialize_with = "positive"
    )]
    pub first_token: Duration,
    /// Streams: longest gap between two `data:` events; keep-alive comments
    /// and blank lines do not reset it. Non-streamed: longest gap between
    /// any two body bytes (DeepSeek's keep-alive blank lines count as life,
    /// since the JSON only comes at the end). Default `10s`.
    #[serde(
        serialize_with = "crate::units::duration::serialize",
        deserialize_with = "positive"
    )]
    pub idle: Duration,
    /// Deadline for the whole call: queueing, all attempts, backoff sleeps
    /// and, for streams, the whole stream. Default `60s`.
    #[serde(
        serialize_with = "crate::units::duration::serialize",
        deserialize_with = "positive"
    )]
    pub total: Duration,
}

impl Default for TimeoutsConfig {
    fn default() -> Self {
        TimeoutsConfig {
            connect: Duration::from_secs(1),
            first_byte: Duration::from_secs(10),
            first_token: Duration::from_secs(15),
            idle: Duration::from_secs(10),
            total: Duration::from_secs(60),
        }
    }
}

fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let v: Duration = crate::units::duration::deserialize(d)?;
    if v.is_zero() {
        return Err(serde::de::Error::custom("must be greater than 0s, got 0s"));
    }
    Ok(v)
}

/// Connection pool and transport (YAML `pool`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// Idle keep-alive connections kept per host. Default `32`.
    pub max_idle_per_host: usize,
    /// Idle connections are closed after this. Default `90s`.
    #[serde(with = "crate::units::duration")]
    pub idle_timeout: Duration,
    /// `true` = HTTP/2 (prior knowledge on `http://`), `false` = HTTP/1.1 only. Default `false`.
    pub http2: bool,
    /// Disable Nagle. Default `true`.
    pub tcp_nodelay: bool,
    /// Ask for gzip responses. Default `false`.
    pub compression: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_idle_per_host: 32,
            idle_timeout: Duration::from_secs(90),
            http2: false,
            tcp_nodelay: true,
            compression: false,
        }
    }
}

/// Retry policy (YAML `retry`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts per call including the first (1 = no retry). Default `3`.
    #[serde(deserialize_with = "at_least_one")]
    pub max_attempts: u32,
    /// Delay between attempts.
    pub backoff: BackoffConfig,
    /// Wait what `Retry-After` / `retry-after-ms` ask (when longer than the
    /// backoff); a wait beyond the total deadline fails fast. Default `true`.
    pub honor_retry_after: bool,
    /// Retry budget across all calls of this client.
    pub budget: RetryBudgetConfig,
    /// Send a retry to a different endpoint when there is one. Default `true`.
    pub failover: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            backoff: BackoffConfig::default(),
            honor_retry_after: true,
            budget: RetryBudgetConfig::default(),
            failover: true,
        }
    }
}

fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v == 0 {
        return Err(serde::de::Error::custom("must be >= 1, got 0"));
    }
    Ok(v)
}

/// Endpoint selection and outlier ejection (YAML `balancer`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BalancerSection {
    /// `round_robin`, `weighted` or `p2c`. Default `round_robin`.
    pub strategy: Strategy,
    /// Outlier ejection after consecutive failures.
    pub ejection: EjectionConfig,
}

impl BalancerSection {
    /// The balancer policy's own config.
    pub fn policy(&self) -> BalancerConfig {
        BalancerConfig {
            strategy: self.strategy,
        }
    }
}

/// Fallback when the call failed for good or every breaker is open
/// (YAML `fallback: {model: ...}` or `fallback: {static_reply: "..."}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "RawFallback", into = "RawFallback")]
pub enum FallbackConfig {
    /// Re-send once with this model (one attempt, same endpoints).
    Model(Model),
    /// Answer with this text without any request.
    StaticReply(String),
}

/// The YAML shape of `fallback`: exactly one of the two keys.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawFallback {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<Model>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    static_reply: Option<String>,
}

impl TryFrom<RawFallback> for FallbackConfig {
    type Error = String;
    fn try_from(r: RawFallback) -> Result<Self, String> {
        match (r.model, r.static_reply) {
            (Some(m), None) => Ok(FallbackConfig::Model(m)),
            (None, Some(s)) if !s.is_empty() => Ok(FallbackConfig::StaticReply(s)),
            (None, Some(_)) => Err("static_reply must not be empty".into()),
            _ => Err("set exactly one of `model` or `static_reply`".into()),
        }
    }
}

impl From<FallbackConfig> for RawFallback {
    fn from(f: FallbackConfig) -> Self {
        match f {
            FallbackConfig::Model(m) => RawFallback {
                model: Some(m),
                static_reply: None,
            },
            FallbackConfig::StaticReply(s) => RawFallback {
                model: None,
                static_reply: Some(s),
            },
        }
    }
}

/// Prometheus endpoint (YAML `metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `GET /metrics` here (loopback recommended) when set. Default off.
    pub listen: Option<SocketAddr>,
}

impl ClientConfig {
    /// The `compare: [raw]` arm: same endpoints, timeouts and pool; one
    /// attempt, and no breaker, limiter, bulkhead, ejection, priority
    /// classes or fallback.
    pub fn bare(&self) -> ClientConfig {
        let mut c = self.clone();
        c.retry.max_attempts = 1;
        c.retry.budget.enabled = false;
        c.breaker.enabled = false;
        c.rate_limit = None;
        c.bulkhead.enabled = false;
        c.balancer.ejection.enabled = false;
        c.fallback = None;
        c.priorities = None;
        c.metrics.listen = None;
        c
    }
}
