//! Typed errors and their classification. Every failure a call can end with is
//! one [`Error`] variant; [`Error::is_retryable`] is the single place that
//! decides what the retry loop may repeat, and [`Error::class`] maps a
//! variant to the report class a load harness counts it under.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::config::ConfigError;
use crate::meta::CallMeta;

/// Which timeout fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// TCP/TLS connect.
    Connect,
    /// Request sent, waiting for response headers.
    FirstByte,
    /// Streams: waiting for the first content token.
    FirstToken,
    /// Streams: gap between two `data:` events (keep-alive comments do not
    /// count). Non-streamed: gap between any two body bytes.
    Idle,
    /// The call's total deadline (all attempts and backoff sleeps).
    Total,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::FirstByte => "first byte",
            TimeoutPhase::FirstToken => "first token",
            TimeoutPhase::Idle => "idle gap",
            TimeoutPhase::Total => "total deadline",
        })
    }
}

/// What went wrong with the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionKind {
    /// Nobody listening.
    Refused,
    /// RST from the peer.
    Reset,
    /// The peer closed before a complete answer (EOF).
    Closed,
    /// Anything else at the transport level.
    Other,
}

impl fmt::Display for ConnectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionKind::Refused => "refused",
            ConnectionKind::Reset => "reset",
            ConnectionKind::Closed => "closed",
            ConnectionKind::Other => "other",
        })
    }
}

/// A transport error kept as the `source()` of [`Error::Connection`].
pub type BoxError = Arc<dyn std::error::Error + Send + Sync>;

/// Every way a call can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP 401: wrong or missing API key. Never retried.
    #[error("authentication failed (HTTP 401): {message}; check the API key")]
    Auth {
        /// Server message.
        message: String,
    },
    /// HTTP 402: the account is out of balance. Never retried.
    #[error("insufficient balance (HTTP 402): {message}")]
    InsufficientBalance {
        /// Server message.
        message: String,
    },
    /// HTTP 400/422: the request itself is wrong. Never retried.
    #[error("invalid request (HTTP {status}): {message}")]
    InvalidRequest {
        /// 400 or 422.
        status: u16,
        /// Server message.
        message: String,
    },
    /// HTTP 429 from the server.
    #[error("rate limited by the server (HTTP 429): {message}")]
    RateLimited {
        /// Server message.
        message: String,
        /// Parsed `Retry-After` / `retry-after-ms`.
        retry_after: Option<Duration>,
    },
    /// HTTP 5xx.
    #[error("server error (HTTP {status}): {body}")]
    Server {
        /// Status code.
        status: u16,
        /// Parsed error message, or the raw (truncated) body when not JSON.
        body: String,
        /// Parsed `Retry-After` / `retry-after-ms`.
        retry_after: Option<Duration>,
    },
    /// Any other non-success status (e.g. 404, 408).
    #[error("unexpected HTTP status {status}: {message}")]
    Http {
        /// Status code.
        status: u16,
        /// Server message or raw body.
        message: String,
        /// Parsed `Retry-After` / `retry-after-ms`.
        retry_after: Option<Duration>,
    },
    /// A phase timeout fired.
    #[error("timed out: {phase}")]
    Timeout {
        /// Which one.
        phase: TimeoutPhase,
    },
    /// Connection refused, reset or closed early.
    #[error("connection {kind}: {source}")]
    Connection {
        /// Kind.
        kind: ConnectionKind,
        /// The transport error.
        #[source]
        source: BoxError,
    },
    /// The SSE stream broke: malformed `data:` line, or the body ended
    /// without `data: [DONE]`.
    #[error("stream broken: {reason}")]
    StreamBroken {
        /// What was wrong.
        reason: String,
    },
    /// The bulkhead queue was full, or the queue wait exceeded its bound.
    #[error("shed by the bulkhead: too many requests in flight and queued")]
    Shed,
    /// The client-side rate limiter would have made the call wait too long.
    #[error("rejected by the client-side rate limiter")]
    RateLimiterRejected,
    /// Every endpoint's circuit breaker is open (or ejected).
    #[error("every endpoint's circuit breaker is open")]
    BreakerOpen,
    /// A retry was wanted but the retry budget is spent.
    #[error("retry budget exhausted; last error: {last}")]
    RetryBudgetExhausted {
        /// The error of the last attempt.
        #[source]
        last: Box<Error>,
    },
    /// A 2xx body that is not the expected JSON.
    #[error("could not decode the response: {reason}")]
    Decode {
        /// Parser message.
        reason: String,
    },
    /// The request could not be serialized or built.
    #[error("could not build the request: {reason}")]
    Request {
        /// What failed.
        reason: String,
    },
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Error {
    /// Whether repeating the call may succeed. `x-should-retry` response
    /// headers override this inside the retry loop.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Connection { .. } | Error::StreamBroken { .. } => {
                true
            }
            Error::Decode { .. } => true,
            Error::Server { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            Error::Http { status, .. } => *status == 408,
            Error::Timeout { phase } => *phase != TimeoutPhase::Total,
            _ => false,
        }
    }

    /// The HTTP status, when the error is an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Auth { .. } => Some(401),
            Error::InsufficientBalance { .. } => Some(402),
            Error::InvalidRequest { status, .. }
            | Error::Server { status, .. }
            | Error::Http { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            Error::RetryBudgetExhausted { last } => last.status(),
            _ => None,
        }
    }

    /// Server-provided retry delay (`Retry-After` / `retry-after-ms`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. }
            | Error::Server { retry_after, .. }
            | Error::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Report class: one of `shed`, `rate_limited`, `breaker_open`,
    /// `budget_exhausted`, `timeout`, `connection`, `stream_broken`,
    /// `http_429`, `http_5xx`, `http_4xx`, `other`.
    pub fn class(&self) -> &'static str {
        match self {
            Error::Shed => "shed",
            Error::RateLimiterRejected => "rate_limited",
            Error::BreakerOpen => "breaker_open",
            Error::RetryBudgetExhausted { .. } => "budget_exhausted",
            Error::Timeout { .. } => "timeout",
            Error::Connection { .. } => "connection",
            Error::StreamBroken { .. } => "stream_broken",
            Error::RateLimited { .. } => "http_429",
            Error::Server { .. } => "http_5xx",
            Error::Auth { .. }
            | Error::InsufficientBalance { .. }
            | Error::InvalidRequest { .. } => "http_4xx",
            Error::Http { status, .. } if (400..500).contains(status) => "http_4xx",
            Error::Http { status, .. } if *status >= 500 => "http_5xx",
            _ => "other",
        }
    }

    /// Short label for events and metrics (`http_503`, `timeout_idle`, ...).
    pub fn cause_label(&self) -> String {
        match self {
            Error::Timeout { phase } => format!("timeout_{}", phase.to_string().replace(' ', "_")),
            Error::Connection { kind, .. } => format!("connection_{kind}"),
            e => match e.status() {
                Some(s) => format!("http_{s}"),
                None => e.class().to_owned(),
            },
        }
    }
}

/// A failed call: the error plus what the client did before giving up.
/// Returned by [`crate::Client::chat`] and [`crate::Client::chat_stream`].
#[derive(Debug)]
pub struct CallError {
    /// The final error.
    pub kind: Error,
    /// Attempts, statuses, endpoints, queue wait and trace id (boxed to keep
    /// `Result`s small).
    pub meta: Box<CallMeta>,
}

impl CallError {
    /// The final error.
    pub fn error(&self) -> &Error {
        &self.kind
    }
    /// The call record.
    pub fn meta(&self) -> &CallMeta {
        &self.meta
    }
    /// See [`Error::class`].
    pub fn class(&self) -> &'static str {
        self.kind.class()
    }
    /// See [`Error::status`].
    pub fn status(&self) -> Option<u16> {
        self.kind.status()
    }
    /// See [`Error::is_retryable`].
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (after {} attempt(s), trace {})",
            self.kind, self.meta.attempts, self.meta.trace_id
        )
    }
}

impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// Why a [`crate::Client`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No API key was given and the environment variable is unset or empty.
    #[error("no API key: set the {env} environment variable or pass ClientBuilder::api_key")]
    MissingApiKey {
        /// The variable that was read.
        env: String,
    },
    /// The API key contains characters not allowed in an HTTP header.
    #[error("the API key contains characters that are not allowed in an HTTP header")]
    InvalidApiKey,
    /// An endpoint URL does not parse.
    #[error("endpoint {index} ({url:?}) is not a valid http(s) URL")]
    InvalidEndpoint {
        /// Index in the endpoint list.
        index: usize,
        /// The URL.
        url: String,
    },
    /// No endpoint configured.
    #[error("no endpoints: set client.endpoints or call ClientBuilder::endpoints")]
    NoEndpoints,
    /// The HTTP client could not be built (TLS backend).
    #[error("could not build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    /// The metrics listener could not bind.
    #[error("could not bind the metrics listener: {0}")]
    Metrics(#[source] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_matches_the_contract() {
        let never = [
            Error::Auth {
                message: String::new(),
            },
            Error::InsufficientBalance {
                message: String::new(),
            },
            Error::InvalidRequest {
                status: 400,
                message: String::new(),
            },
            Error::InvalidRequest {
                status: 422,
                message: String::new(),
            },
            Error::Timeout {
                phase: TimeoutPhase::Total,
            },
        ];
        assert!(never.iter().all(|e| !e.is_retryable()));
        for s in [500, 502, 503, 504] {
            assert!(Error::Server {
                status: s,
                body: String::new(),
                retry_after: None
            }
            .is_retryable());
        }
        assert!(Error::Http {
            status: 408,
            message: String::new(),
            retry_after: None
        }
        .is_retryable());
        assert!(Error::RateLimited {
            message: String::new(),
            retry_after: None
        }
        .is_retryable());
        assert!(Error::Timeout {
            phase: TimeoutPhase::Idle
        }
        .is_retryable());
        assert_eq!(
            Error::RateLimited {
                message: String::new(),
                retry_after: None
            }
            .class(),
            "http_429"
        );
        assert_eq!(Error::Shed.class(), "shed");
        assert_eq!(
            Error::Timeout {
                phase: TimeoutPhase::FirstByte
            }
            .cause_label(),
            "timeout_first_byte"
        );
    }
}
