//! Fault specifications as written in a scenario: one map entry per fault,
//! keyed by its kind, with the kind's settings inside next to the two keys
//! every kind shares: `rate` (probability per request, default 1) and
//! `nodes` (node indices, default every node).
//!
//! ```yaml
//! - status: { code: 429, retry_after: 2, rate: 10% }
//! - latency: { delay: { lognormal: { median: 200ms, p99: 2s } }, on: headers }
//! - stream_drop: { after_tokens: 5, mode: rst, rate: 0.05, nodes: [1] }
//! - reset          # a kind whose settings all have defaults, as a bare word
//! ```
//!
//! The kinds are one table, in `kinds.rs`; this file holds what every kind
//! shares: the [`Fault`] type, its YAML form and its description.

#[macro_use]
mod table;
mod kinds;
mod scoped;

pub use kinds::{
    AfterTokens, AfterWait, DropMode, ErrorCode, FaultKind, FaultParams, KeepAliveEvery,
    LatencyFault, LatencyOn, NoSettings, PositiveRate, QueueWaitFault, SlowDripFault, StatusFault,
    StreamDropFault,
};

use super::units::Probability;
use serde::de::{self, DeserializeSeed, Deserializer};
use serde::Deserialize;
use std::fmt;

/// One fault: how often, where, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Probability per request (default 1).
    pub rate: Probability,
    /// Node indices (default: all nodes).
    pub nodes: Option<Vec<usize>>,
    /// The kind, with its own settings.
    pub params: FaultParams,
}

impl Fault {
    /// The kind of this fault.
    pub fn kind(&self) -> FaultKind {
        self.params.kind()
    }

    /// Probability per request and node scope.
    pub fn scope(&self) -> (Probability, Option<&[usize]>) {
        (self.rate, self.nodes.as_deref())
    }
}

/// `status 40% on nodes [0]`: kind, rate and scope, as `harness validate`
/// prints them.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:.0}%", self.kind().name(), self.rate.get() * 100.0)?;
        if let Some(n) = &self.nodes {
            write!(f, " on nodes {n:?}")?;
        }
        Ok(())
    }
}

// A hand-written one-key map visitor: serde_yaml 0.9 would want `!tag` syntax
// for a derived enum, and going through the map keeps line/column exact.
impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Fault;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a fault such as `{status: {code: 429}}` or `{reset: {}}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Fault, E> {
                // `- reset` as shorthand for `- reset: {}`, for every kind
                // whose settings all have defaults.
                let Some(kind) = FaultKind::from_name(v) else {
                    return Err(E::unknown_variant(v, kinds::NAMES));
                };
                let empty = de::value::MapDeserializer::<_, de::value::Error>::new(
                    std::iter::empty::<((), ())>(),
                );
                scoped::Settings(kind)
                    .deserialize(empty)
                    .map_err(|_| E::custom(format!("`{v}` needs settings, e.g. `{v}: {{...}}`")))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Fault, A::Error> {
                let key: String = map
                    .next_key()?
                    .ok_or_else(|| de::Error::custom("a fault needs one kind key"))?;
                let Some(kind) = FaultKind::from_name(&key) else {
                    return Err(de::Error::unknown_variant(&key, kinds::NAMES));
                };
                let fault = map.next_value_seed(scoped::Settings(kind))?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a fault has exactly one kind key, found `{key}` and `{extra}` (put `rate` and `nodes` inside `{key}: {{...}}`)"
                    )));
                }
                Ok(fault)
            }
        }
        d.deserialize_any(V)
    }
}
