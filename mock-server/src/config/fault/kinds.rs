//! The table of fault kinds, and each kind's own settings.
//!
//! Adding a kind touches three places, and the compiler points at the last
//! two: its row and settings struct here, its effect in `plan.rs`
//! (`action`), and its case in `plan_kinds_tests.rs`. Parsing, `rate` and
//! `nodes`, validation, the description, counter names and the README check
//! follow from the row.

use super::super::dist::DurationDist;
use super::super::units::HumanDuration;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use std::time::Duration;

fault_kinds! {
    /// Extra delay before the headers or before the first token.
    Latency = "latency" => LatencyFault;
    /// An error status with DeepSeek's error body.
    Status = "status" => StatusFault;
    /// TCP reset (SO_LINGER 0) before any response byte.
    Reset = "reset" => NoSettings;
    /// Response headers, part of the body, then a clean close (FIN).
    CloseMidBody = "close_mid_body" => NoSettings;
    /// A complete 200 response whose JSON is cut in half (framing intact).
    TruncatedJson = "truncated_json" => NoSettings;
    /// Hold the connection and send nothing until the client leaves.
    Stall = "stall" => NoSettings;
    /// End an SSE stream after N tokens, by FIN or RST.
    StreamDrop = "stream_drop" => StreamDropFault;
    /// Stop sending an SSE stream after N tokens, keeping the connection open.
    StreamStall = "stream_stall" => AfterTokens;
    /// Pace tokens at this rate instead of the generation model's.
    SlowDrip = "slow_drip" => SlowDripFault;
    /// One `data:` line with broken JSON after N tokens.
    MalformedChunk = "malformed_chunk" => AfterTokens;
    /// End the stream without `data: [DONE]`.
    MissingDone = "missing_done" => NoSettings;
    /// DeepSeek's queue wait: keep-alives for a while, then answer or close.
    QueueWait = "queue_wait" => QueueWaitFault;
    /// The node is down: its listener refuses or black-holes new
    /// connections for the phase; requests on surviving connections are
    /// reset (refuse) or never answered (blackhole).
    NodeDown = "node_down" => NodeDownFault;
}

// `Decision::fired` is a u32 bitmask of kinds.
const _: () = assert!(FaultKind::ALL.len() <= 32);

/// Settings of a kind that has none of its own (`reset`, `stall`, ...).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

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

/// `latency:` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyFault {
    /// Delay distribution.
    pub delay: DurationDist,
    /// `headers` (default) or `first_token`.
    #[serde(default)]
    pub on: LatencyOn,
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

/// `status:` settings.
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

/// `stream_drop:` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamDropFault {
    /// Tokens sent before the drop (default 0).
    #[serde(default)]
    pub after_tokens: u32,
    /// `fin` (default) or `rst`.
    #[serde(default)]
    pub mode: DropMode,
}

/// Settings of kinds that act after N tokens (`stream_stall`, `malformed_chunk`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfterTokens {
    /// Tokens sent first (default 0).
    #[serde(default)]
    pub after_tokens: u32,
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

/// `slow_drip:` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowDripFault {
    /// Tokens per second for this stream.
    pub tokens_per_second: PositiveRate,
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

/// `queue_wait:` settings.
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
}

/// How a down node treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeDownMode {
    /// A crashed process: the listener is closed, so connects get
    /// ECONNREFUSED at once, and open connections are reset (the default).
    #[default]
    Refuse,
    /// A network partition: connects are neither accepted nor refused (the
    /// client's connect timeout fires), open connections go silent.
    Blackhole,
}

/// `node_down:` settings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDownFault {
    /// `refuse` (default) or `blackhole`.
    #[serde(default)]
    pub mode: NodeDownMode,
}
