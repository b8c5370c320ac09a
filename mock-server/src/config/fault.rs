//! Fault specifications as written in a scenario: one map entry per fault,
//! keyed by its kind, each with a probability `rate` (default 1) and an
//! optional `nodes` list (default: every node).
//!
//! ```yaml
//! - status: { code: 429, retry_after: 2, rate: 10% }
//! - latency: { delay: { lognormal: { median: 200ms, p99: 2s } }, on: headers }
//! - stream_drop: { after_tokens: 5, mode: rst, rate: 0.05, nodes: [1] }
//! ```

use super::dist::DurationDist;
use super::units::{HumanDuration, Probability};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One fault, keyed by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Extra delay before the headers or before the first token.
    Latency(LatencyFault),
    /// An error status with DeepSeek's error body.
    Status(StatusFault),
    /// TCP reset (SO_LINGER 0) before any response byte.
    Reset(Scope),
    /// Response headers, part of the body, then a clean close (FIN).
    CloseMidBody(Scope),
    /// A complete 200 response whose JSON is cut in half (framing intact).
    TruncatedJson(Scope),
    /// Hold the connection and send nothing until the client leaves.
    Stall(Scope),
    /// End an SSE stream after N tokens, by FIN or RST.
    StreamDrop(StreamDropFault),
    /// Stop sending an SSE stream after N tokens, keeping the connection open.
    StreamStall(AfterTokens),
    /// Pace tokens at this rate instead of the generation model's.
    SlowDrip(SlowDripFault),
    /// One `data:` line with broken JSON after N tokens.
    MalformedChunk(AfterTokens),
    /// End the stream without `data: [DONE]`.
    MissingDone(Scope),
    /// DeepSeek's queue wait: keep-alives for a while, then answer or close.
    QueueWait(QueueWaitFault),
}

const KINDS: &[&str] = &[
    "latency",
    "status",
    "reset",
    "close_mid_body",
    "truncated_json",
    "stall",
    "stream_drop",
    "stream_stall",
    "slow_drip",
    "malformed_chunk",
    "missing_done",
    "queue_wait",
];

// A hand-written one-key map visitor: serde_yaml 0.9 would want `!tag` syntax
// for a derived enum, and going through the map keeps line/column exact.
impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Fault;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a fault such as `{status: {code: 429}}` or `{reset: {}}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Fault, E> {
                // `- reset` as shorthand for `- reset: {}` (kinds with no required field).
                match v {
                    "reset" => Ok(Fault::Reset(Scope::default())),
                    "close_mid_body" => Ok(Fault::CloseMidBody(Scope::default())),
                    "truncated_json" => Ok(Fault::TruncatedJson(Scope::default())),
                    "stall" => Ok(Fault::Stall(Scope::default())),
                    "missing_done" => Ok(Fault::MissingDone(Scope::default())),
                    other if KINDS.contains(&other) => Err(E::custom(format!(
                        "`{other}` needs settings, e.g. `{other}: {{...}}`"
                    ))),
                    other => Err(E::unknown_variant(other, KINDS)),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Fault, A::Error> {
                let key: String = map
                    .next_key()?
                    .ok_or_else(|| de::Error::custom("a fault needs one kind key"))?;
                let fault = match key.as_str() {
                    "latency" => Fault::Latency(map.next_value()?),
                    "status" => Fault::Status(map.next_value()?),
                    "reset" => Fault::Reset(map.next_value()?),
                    "close_mid_body" => Fault::CloseMidBody(map.next_value()?),
                    "truncated_json" => Fault::TruncatedJson(map.next_value()?),
                    "stall" => Fault::Stall(map.next_value()?),
                    "stream_drop" => Fault::StreamDrop(map.next_value()?),
                    "stream_stall" => Fault::StreamStall(map.next_value()?),
                    "slow_drip" => Fault::SlowDrip(map.next_value()?),
                    "malformed_chunk" => Fault::MalformedChunk(map.next_value()?),
                    "missing_done" => Fault::MissingDone(map.next_value()?),
                    "queue_wait" => Fault::QueueWait(map.next_value()?),
                    other => return Err(de::Error::unknown_variant(other, KINDS)),
                };
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

/// Where a fault applies and how often.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Probability per request (default 1).
    #[serde(default)]
    pub rate: Probability,
    /// Node indices (default: all nodes).
    #[serde(default)]
    pub nodes: Option<Vec<usize>>,
}

/// When a latency fault delays the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyOn {
    /// Before the response headers (the default).
    #[default]
    Headers,
    /// Before the first token (streams); same as `headers` for JSON replies.
    FirstToken,
}

/// `latency:` fault.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyFault {
    /// Delay distribution.
    pub delay: DurationDist,
    /// `headers` (default) or `first_token`.
    #[serde(default)]
    pub on: LatencyOn,
    /// Probability per request (default 1).
    #[serde(default)]
    pub rate: Probability,
    /// Node indices (default: all).
    #[serde(default)]
    pub nodes: Option<Vec<usize>>,
}

/// An HTTP error status code (400..=599).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorCode(pub u16);

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if (400..=599).contains(&v) {
            Ok(ErrorCode(v as u16))
        } else {
            Err(de::Error::custom(format!(
                "must be an HTTP error status in [400, 599], got {v}"
            )))
        }
    }
}

/// `status:` fault.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusFault {
    /// Status code, 400..=599.
    pub code: ErrorCode,
    /// Error message (default: DeepSeek's message for that code).
    #[serde(default)]
    pub message: Option<String>,
    /// Error `type` (default: DeepSeek's type for that code).
    #[serde(default, rename = "type")]
    pub error_type: Option<String>,
    /// `Retry-After` header, in whole seconds.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// `retry-after-ms` header, in milliseconds.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// `x-should-retry` header (`true`/`false`).
    #[serde(default)]
    pub should_retry: Option<bool>,
    /// Probability per request (default 1).
    #[serde(default)]
    pub rate: Probability,
    /// Node indices (default: all).
    #[serde(default)]
    pub nodes: Option<Vec<usize>>,
}

/// How a dropped stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropMode {
    /// Clean close (FIN) without the terminating chunk.
    #[default]
    Fin,
    /// TCP reset.
    Rst,
}

/// `stream_drop:` fault.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamDropFault {
    /// Tokens sent before the drop (default 0).
    #[serde(default)]
    pub after_tokens: u32,
    /// `fin` (default) or `rst`.
    #[serde(default)]
    pub mode: DropMode,
    /// Probability per request (default 1).
    #[serde(default)]
    pub rate: Probability,
    /// Node indices (default: all).
    #[serde(default)]
    pub nodes: Option<Vec<usize>>,
}

/// Faults that act after N tokens (`stream_stall`, `malformed_chunk`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfterTokens {
    /// Tokens sent first (default 0).
    #[serde(default)]
    pub after_tokens: u32,
    /// Probability per request (default 1).
    #[serde(default)]
    pub rate: Probability,
    /// Node indices (default: all).
    #[serde(default)]
    pub nodes: Option<Vec<usize>>,
}

/// A strictly positive, finite rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PositiveRate(pub f64);

impl<'de> Deserialize<'de> for PositiveRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if v > 0.0 && v.is_finite() {
            Ok(PositiveRate(v))
        } else {
            Err(de::Error::custom(format!("must be > 0, got {v}")))
        }
    }
}

/// `slow_drip:` fault.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowDripFault {
    /// Tokens per second for this stream.
    pub tokens_per_second: PositiveRate,
    /// Probability per request (default 1).
    #[serde(default)]
    pub rate: Probability,
    /// Node indices (default: all).
    #[serde(default)]
    pub nodes: Option<Vec<usize>>,
}

/// What follows a queue wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterWait {
    /// Answer normally (the default).
    #[default]
    Answer,
    /// Close the connection (FIN) without an answer.
    Close,
}

/// A keep-alive interval (> 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KeepAliveEvery(pub HumanDuration);

impl Default for KeepAliveEvery {
    fn default() -> Self {
        KeepAliveEvery(HumanDuration(Duration::from_secs(1)))
    }
}

impl<'de> Deserialize<'de> for KeepAliveEvery {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = HumanDuration::deserialize(d)?;
        if v.0 >= Duration::from_millis(1) {
            Ok(KeepAliveEvery(v))
        } else {
            Err(de::Error::custom("must be at least 1ms"))
        }
    }
}

/// `queue_wait:` fault.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueWaitFault {
    /// How long the request waits.
    pub wait: DurationDist,
    /// `answer` (default) or `close`.
    #[serde(default)]
    pub then: AfterWait,
    /// Period of keep-alives (default 1s).
    #[serde(default)]
    pub keep_alive_every: KeepAliveEvery,
    /// Probability per request (default 1).
    #[serde(default)]
    pub rate: Probability,
    /// Node indices (default: all).
    #[serde(default)]
    pub nodes: Option<Vec<usize>>,
}

/// Fault kinds, used as counter keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// `latency`
    Latency,
    /// `status`
    Status,
    /// `reset`
    Reset,
    /// `close_mid_body`
    CloseMidBody,
    /// `truncated_json`
    TruncatedJson,
    /// `stall`
    Stall,
    /// `stream_drop`
    StreamDrop,
    /// `stream_stall`
    StreamStall,
    /// `slow_drip`
    SlowDrip,
    /// `malformed_chunk`
    MalformedChunk,
    /// `missing_done`
    MissingDone,
    /// `queue_wait`
    QueueWait,
    /// capacity cap hit (429 or queued)
    Capacity,
}

impl FaultKind {
    /// Every kind, in counter order.
    pub const ALL: [FaultKind; 13] = [
        FaultKind::Latency,
        FaultKind::Status,
        FaultKind::Reset,
        FaultKind::CloseMidBody,
        FaultKind::TruncatedJson,
        FaultKind::Stall,
        FaultKind::StreamDrop,
        FaultKind::StreamStall,
        FaultKind::SlowDrip,
        FaultKind::MalformedChunk,
        FaultKind::MissingDone,
        FaultKind::QueueWait,
        FaultKind::Capacity,
    ];

    /// The YAML / counter name.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Latency => "latency",
            FaultKind::Status => "status",
            FaultKind::Reset => "reset",
            FaultKind::CloseMidBody => "close_mid_body",
            FaultKind::TruncatedJson => "truncated_json",
            FaultKind::Stall => "stall",
            FaultKind::StreamDrop => "stream_drop",
            FaultKind::StreamStall => "stream_stall",
            FaultKind::SlowDrip => "slow_drip",
            FaultKind::MalformedChunk => "malformed_chunk",
            FaultKind::MissingDone => "missing_done",
            FaultKind::QueueWait => "queue_wait",
            FaultKind::Capacity => "capacity",
        }
    }

    /// Index into counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Fault {
    /// The kind of this fault.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Latency(_) => FaultKind::Latency,
            Fault::Status(_) => FaultKind::Status,
            Fault::Reset(_) => FaultKind::Reset,
            Fault::CloseMidBody(_) => FaultKind::CloseMidBody,
            Fault::TruncatedJson(_) => FaultKind::TruncatedJson,
            Fault::Stall(_) => FaultKind::Stall,
            Fault::StreamDrop(_) => FaultKind::StreamDrop,
            Fault::StreamStall(_) => FaultKind::StreamStall,
            Fault::SlowDrip(_) => FaultKind::SlowDrip,
            Fault::MalformedChunk(_) => FaultKind::MalformedChunk,
            Fault::MissingDone(_) => FaultKind::MissingDone,
            Fault::QueueWait(_) => FaultKind::QueueWait,
        }
    }

    /// Probability per request and node scope.
    pub fn scope(&self) -> (Probability, Option<&[usize]>) {
        match self {
            Fault::Latency(f) => (f.rate, f.nodes.as_deref()),
            Fault::Status(f) => (f.rate, f.nodes.as_deref()),
            Fault::Reset(s)
            | Fault::CloseMidBody(s)
            | Fault::TruncatedJson(s)
            | Fault::Stall(s)
            | Fault::MissingDone(s) => (s.rate, s.nodes.as_deref()),
            Fault::StreamDrop(f) => (f.rate, f.nodes.as_deref()),
            Fault::StreamStall(f) | Fault::MalformedChunk(f) => (f.rate, f.nodes.as_deref()),
            Fault::SlowDrip(f) => (f.rate, f.nodes.as_deref()),
            Fault::QueueWait(f) => (f.rate, f.nodes.as_deref()),
        }
    }
}
