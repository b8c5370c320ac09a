//! What one logical request produced, as the load driver hands it to the
//! recorder. Transient: the recorder folds it into histograms and counters and
//! drops it, so nothing is kept per request.

use std::time::Duration;

use resilient_client::Priority;
use serde::Serialize;

/// Which system under test a request went through: the resilient client
/// under test, the bare client of `compare: [raw]`, or an external system
/// under test (`under_test:`, or one listed in `compare:`) by its name.
///
/// A name, interned once per distinct name, so an arm is `Copy` and its
/// name is `&'static str` wherever reports need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arm(&'static str);

// The two built-in arms keep the spelling they had as enum variants, so
// `Arm::Resilient` reads (and matches) as before.
#[allow(non_upper_case_globals)]
impl Arm {
    /// The resilient client configured by the scenario's `client:` section.
    pub const Resilient: Arm = Arm("resilient");
    /// A bare client: same timeouts, no retry, breaker, limiter or fallback.
    pub const Raw: Arm = Arm("raw");

    /// The arm of that name (interned: the same name gives the same arm).
    pub fn named(name: &str) -> Arm {
        use std::sync::{Mutex, OnceLock, PoisonError};
        static NAMES: OnceLock<Mutex<Vec<&'static str>>> = OnceLock::new();
        for builtin in [Arm::Resilient, Arm::Raw] {
            if builtin.0 == name {
                return builtin;
            }
        }
        let mut names = NAMES
            .get_or_init(|| Mutex::new(Vec::new()))
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = names.iter().find(|n| **n == name) {
            return Arm(n);
        }
        // Leaked once per distinct name (a handful per process).
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        names.push(leaked);
        Arm(leaked)
    }

    /// Stable name used in files and charts (the summary's arm key).
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl Serialize for Arm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// Final classification of one logical request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeClass {
    /// A real answer from the server.
    Ok,
    /// The client's fallback answered (other model or static reply).
    Fallback,
    /// Rejected by the client's bulkhead/queue (load shedding).
    Shed,
    /// Rejected by the client-side rate limiter.
    RateLimited,
    /// Rejected because every endpoint's breaker was open.
    BreakerOpen,
    /// Retries were wanted but the retry budget was exhausted.
    BudgetExhausted,
    /// Any timeout (connect, first byte/token, idle gap, total deadline).
    Timeout,
    /// Connection refused, reset or closed before a complete answer.
    Connection,
    /// The stream broke after it started (drop, malformed chunk, no `[DONE]`).
    StreamBroken,
    /// HTTP 429 as the final answer.
    Http429,
    /// HTTP 5xx as the final answer.
    Http5xx,
    /// Other HTTP 4xx as the final answer (400, 401, 402, 422, ...).
    Http4xx,
    /// Anything else (decode errors, client bugs).
    Other,
    /// An external system under test answered something the adapter
    /// protocol does not allow (garbage, a 200 that is not a completion,
    /// a dropped connection to the adapter).
    SutProtocolError,
}

impl OutcomeClass {
    /// Every class, in report order.
    pub const ALL: [OutcomeClass; 14] = [
        OutcomeClass::Ok,
        OutcomeClass::Fallback,
        OutcomeClass::Shed,
        OutcomeClass::RateLimited,
        OutcomeClass::BreakerOpen,
        OutcomeClass::BudgetExhausted,
        OutcomeClass::Timeout,
        OutcomeClass::Connection,
        OutcomeClass::StreamBroken,
        OutcomeClass::Http429,
        OutcomeClass::Http5xx,
        OutcomeClass::Http4xx,
        OutcomeClass::Other,
        OutcomeClass::SutProtocolError,
    ];

    /// Stable snake_case name used in `summary.json`, CSV columns and charts.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeClass::Ok => "ok",
            OutcomeClass::Fallback => "fallback",
            OutcomeClass::Shed => "shed",
            OutcomeClass::RateLimited => "rate_limited",
            OutcomeClass::BreakerOpen => "breaker_open",
            OutcomeClass::BudgetExhausted => "budget_exhausted",
            OutcomeClass::Timeout => "timeout",
            OutcomeClass::Connection => "connection",
            OutcomeClass::StreamBroken => "stream_broken",
            OutcomeClass::Http429 => "http_429",
            OutcomeClass::Http5xx => "http_5xx",
            OutcomeClass::Http4xx => "http_4xx",
            OutcomeClass::Other => "other",
            OutcomeClass::SutProtocolError => "sut_protocol_error",
        }
    }

    /// Whether the caller got a usable answer (ok or fallback).
    pub fn is_success(self) -> bool {
        matches!(self, OutcomeClass::Ok | OutcomeClass::Fallback)
    }
}

/// One logical request, with every instant as an offset from the run's t0.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Which client served it.
    pub arm: Arm,
    /// When the schedule intended to send it (open model), or when the virtual
    /// user decided to send it (closed model: equals `sent`).
    pub intended: Duration,
    /// When the driver actually called the client.
    pub sent: Duration,
    /// When the final answer (or error) was known; for streams, the last byte.
    pub done: Duration,
    /// Time from `sent` to the first content token (streams only).
    pub ttft: Option<Duration>,
    /// Gaps between consecutive content tokens (streams only). Transient.
    pub itl: Vec<Duration>,
    /// Content tokens (stream chunks with content) received.
    pub tokens: u32,
    /// Final classification.
    pub class: OutcomeClass,
    /// HTTP status of every attempt in order; 0 where the attempt got no status
    /// (transport error, timeout before headers).
    pub statuses: Vec<u16>,
    /// Attempts made (1 = no retry; 0 = rejected before any attempt).
    pub attempts: u32,
    /// Time spent waiting in the client's queue / rate limiter.
    pub queue_wait: Duration,
    /// What went wrong, for the few outcomes that keep an example in the
    /// summary (an external system's protocol errors).
    pub note: Option<Box<str>>,
    /// The request's priority class (`load.requests[].priority`).
    pub priority: Priority,
}

impl Outcome {
    /// An outcome not yet filled in: sent at `sent`, nothing received.
    pub fn new(arm: Arm, intended: Duration, sent: Duration) -> Outcome {
        Outcome {
            arm,
            intended,
            sent,
            done: sent,
            ttft: None,
            itl: Vec::new(),
            tokens: 0,
            class: OutcomeClass::Ok,
            statuses: Vec::new(),
            attempts: 0,
            queue_wait: Duration::ZERO,
            note: None,
            priority: Priority::Normal,
        }
    }

    /// Latency from the intended instant (coordinated-omission corrected).
    pub fn corrected_latency(&self) -> Duration {
        self.done.saturating_sub(self.intended)
    }

    /// Latency from the actual send (what a naive tool would report).
    pub fn uncorrected_latency(&self) -> Duration {
        self.done.saturating_sub(self.sent)
    }

    /// Send lag: actual minus intended send instant.
    pub fn send_lag(&self) -> Duration {
        self.sent.saturating_sub(self.intended)
    }
}

/// A timestamped event from the client under test or the fake server, as it
/// goes into `events.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// Offset from t0.
    #[serde(serialize_with = "ser_secs")]
    pub at: Duration,
    /// Which client emitted it (`None` for server-side events such as phases).
    pub arm: Option<Arm>,
    /// Event kind: `breaker`, `retry`, `ejected`, `returned`, `shed`,
    /// `rate_limited`, `fallback`, `budget_exhausted`, `phase_start`, `phase_end`.
    pub kind: &'static str,
    /// Endpoint (base URL or node index) where it applies.
    pub endpoint: Option<String>,
    /// For `breaker`: the state entered (`closed`, `open`, `half_open`).
    pub state: Option<&'static str>,
    /// Free-form details (reason, attempt, delay, cause...).
    pub detail: serde_json::Value,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}
