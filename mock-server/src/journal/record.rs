//! One journal line: an [`Attempt`] record, or a `{"dropped": N}` gap line
//! the writer puts where records were lost. Field names are the contract of
//! `docs/journal.md`; readers accept absent optional fields and ignore
//! unknown ones, so an older judge still reads a newer journal.

use crate::config::MAX_NODES;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Longest call key a record may carry (the `x-harness-call` limit).
pub const MAX_CALL_LEN: usize = 128;

/// Largest time offset accepted, in seconds (about 116 days): far beyond any
/// run, small enough that per-second tables built from it stay bounded.
pub const MAX_OFFSET_S: f64 = 1e7;

/// One chat-completions attempt, recorded when it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Sequence number from 1 over the whole server, in order of end.
    pub seq: u64,
    /// Node index (0-based).
    pub node: u32,
    /// The call key (see [`super::key`]).
    pub call: String,
    /// Which rule gave the key.
    pub call_from: CallFrom,
    /// Arrival of the request head, seconds from t0.
    pub at: f64,
    /// When the response head was handed to the connection; `None` if none was sent.
    #[serde(default)]
    pub headers_at: Option<f64>,
    /// When the attempt ended, seconds from t0.
    pub end_at: f64,
    /// How it ended.
    pub end: End,
    /// Fault kinds that fired for this attempt.
    #[serde(default)]
    pub faults: Vec<FaultTag>,
    /// Status sent; `None` when no head was sent.
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` seconds the server sent.
    #[serde(default)]
    pub retry_after_s: Option<u64>,
    /// `retry-after-ms` the server sent.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// `x-should-retry` the server sent.
    #[serde(default)]
    pub should_retry: Option<bool>,
    /// Content/reasoning tokens sent before the end.
    #[serde(default)]
    pub tokens: u32,
    /// The request's `model`.
    #[serde(default)]
    pub model: Option<String>,
    /// The request's `stream`.
    #[serde(default)]
    pub stream: bool,
    /// `x-stainless-retry-count` (OpenAI SDKs), information only.
    #[serde(default)]
    pub sdk_retry_count: Option<u32>,
    /// For `client_closed`: seconds from `at` to the hang-up.
    #[serde(default)]
    pub client_gone_after: Option<f64>,
    /// When the server stopped sending for good on a `stall` (= `at`) or a
    /// `stream_stall` (after the last token); `None` otherwise. Without it a
    /// judge can only bound a stream stall from `headers_at`.
    #[serde(default)]
    pub stalled_at: Option<f64>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// The server sent its whole answer (any status, corrupt ones included).
    Answered,
    /// The server ended it on purpose before a full answer.
    ServerClosed,
    /// The client hung up first.
    ClientClosed,
    /// The server stopped while the attempt was open.
    Shutdown,
}

impl End {
    /// The journal spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            End::Answered => "answered",
            End::ServerClosed => "server_closed",
            End::ClientClosed => "client_closed",
            End::Shutdown => "shutdown",
        }
    }
}

/// Which call-key rule applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallFrom {
    /// The trace id of a valid W3C `traceparent`.
    Traceparent,
    /// The `x-harness-call` header.
    Header,
    /// A `[call:ID]` marker in the last user message.
    Marker,
    /// A hash of method, path and canonical body (identical prompts merge).
    Fingerprint,
}

/// A fault kind named in `faults`. Unknown names are kept as [`FaultTag::Other`]
/// so a journal from a newer server still reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultTag {
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
    /// `capacity`
    Capacity,
    /// A name this version does not know.
    Other(String),
}

/// Every known tag, in the order of `docs/journal.md`.
pub const KNOWN_FAULTS: [FaultTag; 13] = [
    FaultTag::Latency,
    FaultTag::Status,
    FaultTag::Reset,
    FaultTag::CloseMidBody,
    FaultTag::TruncatedJson,
    FaultTag::Stall,
    FaultTag::StreamDrop,
    FaultTag::StreamStall,
    FaultTag::SlowDrip,
    FaultTag::MalformedChunk,
    FaultTag::MissingDone,
    FaultTag::QueueWait,
    FaultTag::Capacity,
];

impl FaultTag {
    /// The journal spelling.
    pub fn as_str(&self) -> &str {
        match self {
            FaultTag::Latency => "latency",
            FaultTag::Status => "status",
            FaultTag::Reset => "reset",
            FaultTag::CloseMidBody => "close_mid_body",
            FaultTag::TruncatedJson => "truncated_json",
            FaultTag::Stall => "stall",
            FaultTag::StreamDrop => "stream_drop",
            FaultTag::StreamStall => "stream_stall",
            FaultTag::SlowDrip => "slow_drip",
            FaultTag::MalformedChunk => "malformed_chunk",
            FaultTag::MissingDone => "missing_done",
            FaultTag::QueueWait => "queue_wait",
            FaultTag::Capacity => "capacity",
            FaultTag::Other(s) => s,
        }
    }

    /// Reads a name; unknown names become [`FaultTag::Other`].
    pub fn from_name(name: &str) -> FaultTag {
        KNOWN_FAULTS
            .iter()
            .find(|k| k.as_str() == name)
            .cloned()
            .unwrap_or_else(|| FaultTag::Other(name.to_string()))
    }
}

impl fmt::Display for FaultTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FaultTag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FaultTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = FaultTag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a fault kind such as \"stall\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FaultTag, E> {
                Ok(FaultTag::from_name(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// A record that parsed but cannot be true.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A field is out of its range.
    #[error("`{field}` {problem}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

fn invalid(field: &'static str, problem: impl Into<String>) -> RecordError {
    RecordError::Invalid {
        field,
        problem: problem.into(),
    }
}

fn offset(field: &'static str, v: f64) -> Result<(), RecordError> {
    if v.is_finite() && (0.0..=MAX_OFFSET_S).contains(&v) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be seconds from t0 in [0, {MAX_OFFSET_S}], got {v}"),
        ))
    }
}

// Offsets are written with µs precision; allow that much rounding when
// comparing them.
const ROUNDING_S: f64 = 2e-6;

impl Attempt {
    /// Checks what serde cannot: offsets in range and in order, a node index
    /// a server can have, a call key of a sane length.
    pub fn check(&self) -> Result<(), RecordError> {
        offset("at", self.at)?;
        offset("end_at", self.end_at)?;
        if self.end_at + ROUNDING_S < self.at {
            return Err(invalid(
                "end_at",
                format!("{} is before `at` {}", self.end_at, self.at),
            ));
        }
        for (field, v) in [
            ("headers_at", self.headers_at),
            ("stalled_at", self.stalled_at),
        ] {
            if let Some(v) = v {
                offset(field, v)?;
                if v + ROUNDING_S < self.at || v > self.end_at + ROUNDING_S {
                    return Err(invalid(
                        field,
                        format!(
                            "{v} is outside [at, end_at] = [{}, {}]",
                            self.at, self.end_at
                        ),
                    ));
                }
            }
        }
        if self.node as usize >= MAX_NODES {
            return Err(invalid(
                "node",
                format!("must be below {MAX_NODES}, got {}", self.node),
            ));
        }
        // Counting chars is only needed when the bytes could exceed the limit.
        if self.call.is_empty()
            || (self.call.len() > MAX_CALL_LEN && self.call.chars().count() > MAX_CALL_LEN)
        {
            return Err(invalid(
                "call",
                format!("must be 1 to {MAX_CALL_LEN} characters"),
            ));
        }
        if let Some(g) = self.client_gone_after {
            if !g.is_finite() || g < 0.0 {
                return Err(invalid(
                    "client_gone_after",
                    format!("must be >= 0, got {g}"),
                ));
            }
        }
        Ok(())
    }

    /// Appends this record as one JSON line (with its `\n`) to `out`.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        // Serializing plain fields into a Vec cannot fail.
        serde_json::to_writer(&mut *out, self).expect("an attempt serializes");
        out.push(b'\n');
    }
}

/// One parsed journal line.
#[derive(Debug, Clone, PartialEq)]
// Lines are parsed one at a time and handed on at once; boxing the record
// would add an allocation per line for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Line {
    /// An attempt record.
    Attempt(Attempt),
    /// `{"dropped": N}`: N records were lost here.
    Dropped(u64),
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Gap {
    dropped: u64,
}

/// Why a line is not a journal line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// Not JSON, truncated, or a field of the wrong type.
    #[error("not a journal record: {0}")]
    Json(#[source] serde_json::Error),
    /// Parsed, but impossible.
    #[error("impossible record: {0}")]
    Invalid(#[from] RecordError),
}

impl Line {
    /// Parses one line (without its newline) and checks the record.
    pub fn parse(text: &str) -> Result<Line, LineError> {
        match serde_json::from_str::<Attempt>(text) {
            Ok(a) => {
                a.check()?;
                Ok(Line::Attempt(a))
            }
            // Gap lines are rare: try them only when the record form fails,
            // and report the record error, which says more.
            Err(e) => match serde_json::from_str::<Gap>(text) {
                Ok(g) => Ok(Line::Dropped(g.dropped)),
                Err(_) => Err(LineError::Json(e)),
            },
        }
    }

    /// Appends the gap line `{"dropped":N}` to `out`.
    pub fn write_dropped(n: u64, out: &mut Vec<u8>) {
        serde_json::to_writer(&mut *out, &Gap { dropped: n }).expect("a gap line serializes");
        out.push(b'\n');
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
