//! The scenario's `server:` section: nodes, auth, generation model, capacity,
//! always-on faults and time phases, with the cross-field checks in
//! [`ServerConfig::validate`].

use super::dist::{Dist, DurationDist, NumberDist, TokenRate};
use super::error::ConfigError;
use super::fault::{Fault, KeepAliveEvery};
use super::units::{ByteSize, HumanDuration, Probability};
use crate::api::models::{self, RetiredModels};
use crate::api::request::MAX_OUTPUT_TOKENS;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Most listeners one server may start.
pub const MAX_NODES: usize = 64;

/// Largest `server.max_body`: bodies are read into memory, one per
/// connection, before they are checked.
pub const MAX_BODY_LIMIT: u64 = 64 << 20;

/// The fake server's configuration (a scenario's `server:` section).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Listeners, one fake endpoint each (default 1, at most 64).
    #[serde(default = "default_nodes", deserialize_with = "node_count")]
    pub nodes: usize,
    /// RNG seed (default: the scenario's top-level `seed`, else 0).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Accepted bearer keys (default: any non-empty key).
    #[serde(default)]
    pub auth: AuthConfig,
    /// `accept` (default) or `reject` the retired model names (see [`crate::api::models`]).
    #[serde(default)]
    pub retired_models: RetiredModels,
    /// Largest request body; bigger ones get 413 (default 1MiB).
    #[serde(default = "default_max_body")]
    pub max_body: ByteSize,
    /// Time a client gets to send the request head (default 10s).
    #[serde(default = "default_header_timeout")]
    pub header_read_timeout: HumanDuration,
    /// Time a client gets to send a whole request body, on every path
    /// (chat and control API): 408 after it (default 30s).
    #[serde(default = "default_body_timeout")]
    pub body_read_timeout: HumanDuration,
    /// A keep-alive connection with no request and no byte from the client
    /// for this long is closed (default 5m; `0` never closes), so idle
    /// sockets cannot pile up until the server runs out of descriptors.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: HumanDuration,
    /// Most open connections per node; one more is answered `503` with
    /// DeepSeek's error body and closed (default: the process's open-file
    /// limit, less a reserve, shared among the nodes).
    #[serde(default)]
    pub max_connections: Option<usize>,
    /// Time to first token, tokens per second, output lengths.
    #[serde(default)]
    pub generation: Generation,
    /// Concurrency caps (default: none).
    #[serde(default)]
    pub capacity: Option<Capacity>,
    /// Faults active for the whole run.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Faults active in time windows.
    #[serde(default)]
    pub phases: Vec<Phase>,
}

fn default_nodes() -> usize {
    1
}
fn node_count<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = i64::deserialize(d)?;
    if (1..=MAX_NODES as i64).contains(&n) {
        Ok(n as usize)
    } else {
        Err(serde::de::Error::custom(format!(
            "must be in [1, {MAX_NODES}], got {n}"
        )))
    }
}

fn default_max_body() -> ByteSize {
    ByteSize(1 << 20)
}
fn default_header_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}
fn default_body_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(30))
}
fn default_idle_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(300))
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            nodes: 1,
            seed: None,
            auth: AuthConfig::default(),
            retired_models: RetiredModels::Accept,
            max_body: default_max_body(),
            header_read_timeout: default_header_timeout(),
            body_read_timeout: default_body_timeout(),
            idle_timeout: default_idle_timeout(),
            max_connections: None,
            generation: Generation::default(),
            capacity: None,
            faults: Vec::new(),
            phases: Vec::new(),
        }
    }
}

/// `auth:` section.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// `any` (default) or a list of keys.
    #[serde(default)]
    pub keys: Keys,
}

/// Which bearer keys pass.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Keys {
    /// Any non-empty key.
    #[default]
    Any,
    /// Exactly these keys.
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            List(Vec<String>),
        }
        match Raw::deserialize(d)? {
            Raw::Word(w) if w == "any" => Ok(Keys::Any),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "must be `any` or a list of keys, got `{w}`"
            ))),
            Raw::List(l) if l.iter().any(|k| k.is_empty()) => {
                Err(serde::de::Error::custom("must not contain an empty key"))
            }
            Raw::List(l) => Ok(Keys::List(l)),
        }
    }
}

/// `generation:` section: the happy-path timing and length model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    /// Time to first token (default lognormal median 150ms, p99 600ms).
    #[serde(default = "default_ttft")]
    pub ttft: DurationDist,
    /// Tokens per second (default 60), or `unlimited`.
    #[serde(default = "default_tps")]
    pub tokens_per_second: TokenRate,
    /// Answer tokens (default uniform 20..120), cut by the request's `max_tokens`.
    #[serde(default = "default_output")]
    pub output_tokens: NumberDist,
    /// Reasoning tokens in thinking mode (default uniform 10..60).
    #[serde(default = "default_reasoning")]
    pub reasoning_tokens: NumberDist,
    /// Share of prompt tokens reported as cache hits (default 0).
    #[serde(default = "zero_probability")]
    pub prompt_cache_hit: Probability,
}

fn default_ttft() -> DurationDist {
    // median 150ms, p99 600ms
    DurationDist(Dist::LogNormal {
        mu: 0.15f64.ln(),
        sigma: 4f64.ln() / 2.326_347_874,
    })
}
fn default_tps() -> TokenRate {
    TokenRate::PerSecond(NumberDist(Dist::Constant(60.0)))
}
fn default_output() -> NumberDist {
    NumberDist(Dist::Uniform(20.0, 120.0))
}
fn default_reasoning() -> NumberDist {
    NumberDist(Dist::Uniform(10.0, 60.0))
}
fn zero_probability() -> Probability {
    Probability::new(0.0).unwrap_or_default()
}

impl Default for Generation {
    fn default() -> Self {
        Generation {
            ttft: default_ttft(),
            tokens_per_second: default_tps(),
            output_tokens: default_output(),
            reasoning_tokens: default_reasoning(),
            prompt_cache_hit: zero_probability(),
        }
    }
}

impl Generation {
    /// No delay at all: ttft 0 and unlimited tokens per second (benchmarks).
    pub fn instant() -> Self {
        Generation {
            ttft: DurationDist::constant(Duration::ZERO),
            tokens_per_second: TokenRate::Unlimited,
            ..Generation::default()
        }
    }
}

/// `capacity:` section: concurrency caps per node and per model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// In-flight requests per node (default: no cap).
    #[serde(default)]
    pub max_concurrent: Option<usize>,
    /// In-flight requests per model per node, e.g. `{deepseek-v4-pro: 16}`.
    #[serde(default)]
    pub per_model: BTreeMap<String, usize>,
    /// `reject` (429, the default) or `queue` (keep-alive wait for a slot).
    #[serde(default)]
    pub when_full: WhenFull,
    /// Period of keep-alives while queued (default 1s).
    #[serde(default)]
    pub keep_alive_every: KeepAliveEvery,
}

/// What happens to a request over a capacity cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// 429 "Rate Limit Reached".
    #[default]
    Reject,
    /// Wait for a slot, sending keep-alives.
    Queue,
}

/// A time window with its own faults.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Name shown in state, reports and charts.
    pub name: String,
    /// Start, as an offset from t0.
    pub at: HumanDuration,
    /// Length (default: until the end of the run).
    #[serde(default, rename = "for")]
    pub duration: Option<HumanDuration>,
    /// Node indices (default: all); narrows each fault's own `nodes`.
    #[serde(default)]
    pub nodes: Option<Vec<usize>>,
    /// Faults active during the phase.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

impl Phase {
    /// True when `elapsed` (since t0) falls in [at, at + for).
    pub fn is_active(&self, elapsed: Duration) -> bool {
        elapsed >= self.at.0
            && match self.duration {
                Some(d) => elapsed < self.at.0 + d.0,
                None => true,
            }
    }
}

/// A phase as reports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseInfo {
    /// Phase name.
    pub name: String,
    /// Start offset from t0.
    pub at: Duration,
    /// Length; `None` = until the end.
    #[serde(rename = "for")]
    pub duration: Option<Duration>,
    /// Nodes it applies to; `None` = all.
    pub nodes: Option<Vec<usize>>,
}

impl ServerConfig {
    /// Phases for report bands.
    pub fn phases(&self) -> Vec<PhaseInfo> {
        self.phases
            .iter()
            .map(|p| PhaseInfo {
                name: p.name.clone(),
                at: p.at.0,
                duration: p.duration.map(|d| d.0),
                nodes: p.nodes.clone(),
            })
            .collect()
    }

    /// Number of listeners.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Cross-field checks: node indices in range, phase names unique.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check_nodes = |path: String, nodes: &Option<Vec<usize>>| -> Result<(), ConfigError> {
            for (i, n) in nodes.iter().flatten().enumerate() {
                if *n >= self.nodes {
                    return Err(ConfigError::invalid(
                        format!("{path}.nodes[{i}]"),
                        format!(
                            "must be a node index below {} (nodes: {}), got {n}",
                            self.nodes, self.nodes
                        ),
                    ));
                }
            }
            Ok(())
        };
        for (i, f) in self.faults.iter().enumerate() {
            check_nodes(format!("server.faults[{i}].{}", f.kind().name()), &f.nodes)?;
        }
        for (p, phase) in self.phases.iter().enumerate() {
            check_nodes(format!("server.phases[{p}]"), &phase.nodes)?;
            for (i, f) in phase.faults.iter().enumerate() {
                check_nodes(
                    format!("server.phases[{p}].faults[{i}].{}", f.kind().name()),
                    &f.nodes,
                )?;
            }
            if self.phases[..p].iter().any(|q| q.name == phase.name) {
                return Err(ConfigError::invalid(
                    format!("server.phases[{p}].name"),
                    format!("must be unique, `{}` is used twice", phase.name),
                ));
            }
        }
        let gen = &self.generation;
        for (field, d) in [
            ("server.generation.output_tokens", gen.output_tokens),
            ("server.generation.reasoning_tokens", gen.reasoning_tokens),
        ] {
            let v = d.0.typical_max();
            if v.is_nan() || v > MAX_OUTPUT_TOKENS as f64 {
                return Err(ConfigError::invalid(
                    field,
                    format!(
                        "must stay at most {MAX_OUTPUT_TOKENS} tokens (DeepSeek's largest max_tokens; every answer is built in memory, so a bigger one could exhaust it), got {v}"
                    ),
                ));
            }
        }
        if self.max_connections == Some(0) {
            return Err(ConfigError::invalid(
                "server.max_connections",
                "must be at least 1",
            ));
        }
        if self.max_body.0 > MAX_BODY_LIMIT {
            return Err(ConfigError::invalid(
                "server.max_body",
                format!(
                    "must be at most {}MiB (a request body is held in memory while it is checked, once per connection), got {} bytes",
                    MAX_BODY_LIMIT >> 20,
                    self.max_body.0
                ),
            ));
        }
        if let Some(cap) = &self.capacity {
            if cap.max_concurrent == Some(0) {
                return Err(ConfigError::invalid(
                    "server.capacity.max_concurrent",
                    "must be at least 1",
                ));
            }
            if let Some(m) = cap
                .per_model
                .keys()
                .find(|k| models::canonical(k).is_none())
            {
                return Err(ConfigError::invalid(
                    format!("server.capacity.per_model.{m}"),
                    format!("must name a model: {}", models::names()),
                ));
            }
            if let Some((m, _)) = cap.per_model.iter().find(|(_, v)| **v == 0) {
                return Err(ConfigError::invalid(
                    format!("server.capacity.per_model.{m}"),
                    "must be at least 1",
                ));
            }
        }
        Ok(())
    }
}
