//! What the client did for one logical call: attempts, per-attempt statuses
//! and endpoints, queue wait, fallback and trace id. Returned with every
//! answer and every error so a load harness can classify the call without
//! listening to events.

use std::time::Duration;

/// Which fallback answered a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FallbackKind {
    /// The request was re-sent with the configured fallback model.
    Model,
    /// The configured static reply was returned without a request.
    StaticReply,
    /// The last good answer for the same prompt, from the cache of
    /// `priorities` (`fallback: cached`), within its TTL.
    Cached,
}

impl FallbackKind {
    /// Stable name for logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackKind::Model => "model",
            FallbackKind::StaticReply => "static_reply",
            FallbackKind::Cached => "cached",
        }
    }
}

/// Per-call record of what the resilience stack did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallMeta {
    /// HTTP attempts made (0 = rejected before any attempt).
    pub attempts: u32,
    /// HTTP status per attempt, in order; 0 when the attempt got no status
    /// (transport error or timeout before headers).
    pub statuses: Vec<u16>,
    /// Endpoint index (into the configured endpoint list) per attempt.
    pub endpoints: Vec<usize>,
    /// Time spent in the rate limiter and the bulkhead queue.
    pub queue_wait: Duration,
    /// Set when a fallback produced the answer.
    pub fallback: Option<FallbackKind>,
    /// W3C trace id (32 hex digits) sent in `traceparent` on every attempt.
    pub trace_id: String,
}

impl CallMeta {
    pub(crate) fn record_attempt(&mut self, endpoint: usize, status: u16) {
        self.attempts += 1;
        self.statuses.push(status);
        self.endpoints.push(endpoint);
    }
}
