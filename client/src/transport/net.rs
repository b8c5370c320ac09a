//! One HTTP attempt over reqwest: building the pooled client, sending with the
//! first-byte timeout, turning non-2xx answers into typed errors (parsing
//! DeepSeek's error JSON, `Retry-After` and `x-should-retry`), reading a
//! non-streamed body under the first-token and idle timeouts, and mapping
//! transport errors to [`ConnectionKind`]s.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use tokio::time::{timeout_at, Instant};

use crate::config::{PoolConfig, TimeoutsConfig};
use crate::error::{BuildError, ConnectionKind, Error, TimeoutPhase};
use crate::policy::backoff::retry_after_from_headers;
use crate::types::{ApiErrorBody, ChatResponse};

/// Error bodies beyond this are cut: they are for humans and logs.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// A non-streamed answer larger than this is refused rather than buffered.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Why one attempt failed, with what the retry loop needs to decide.
#[derive(Debug)]
pub(crate) struct AttemptFailure {
    pub(crate) error: Error,
    /// HTTP status, 0 when there was none.
    pub(crate) status: u16,
    /// `x-should-retry` override from the server.
    pub(crate) should_retry: Option<bool>,
}

impl AttemptFailure {
    pub(crate) fn new(error: Error) -> Self {
        AttemptFailure {
            status: error.status().unwrap_or(0),
            error,
            should_retry: None,
        }
    }

    pub(crate) fn retryable(&self) -> bool {
        self.should_retry
            .unwrap_or_else(|| self.error.is_retryable())
    }

    /// Whether the failure says something about the endpoint's health (feeds
    /// the breaker and outlier ejection). Client-side mistakes do not.
    pub(crate) fn is_endpoint_failure(&self) -> bool {
        match &self.error {
            Error::Auth { .. }
            | Error::InsufficientBalance { .. }
            | Error::InvalidRequest { .. } => false,
            Error::Request { .. } | Error::Config(_) => false,
            Error::Timeout { phase } => *phase != TimeoutPhase::Total,
            Error::Http { status, .. } => *status == 408 || *status >= 500,
            _ => true,
        }
    }
}

/// Builds the pooled HTTP client. `loopback_only` (every endpoint is on
/// this machine) turns off `HTTP_PROXY`-style proxies, which would otherwise
/// route a local fake server through a corporate proxy.
pub(crate) fn build_http(
    pool: &PoolConfig,
    t: &TimeoutsConfig,
    loopback_only: bool,
) -> Result<reqwest::Client, BuildError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(t.connect)
        .pool_max_idle_per_host(pool.max_idle_per_host)
        .pool_idle_timeout(pool.idle_timeout)
        .tcp_nodelay(pool.tcp_nodelay)
        .gzip(pool.compression)
        .user_agent(concat!("resilient-client/", env!("CARGO_PKG_VERSION")));
    b = if pool.http2 {
        b.http2_prior_knowledge()
    } else {
        b.http1_only()
    };
    if loopback_only {
        b = b.no_proxy();
    }
    b.build().map_err(BuildError::Http)
}

/// The instant a phase timer fires and which phase to blame: the phase's own
/// bound, or the call deadline when that comes first.
pub(crate) fn bound(
    phase_end: Instant,
    phase: TimeoutPhase,
    deadline: Instant,
) -> (Instant, TimeoutPhase) {
    if phase_end < deadline {
        (phase_end, phase)
    } else {
        (deadline, TimeoutPhase::Total)
    }
}

/// What one attempt sends.
pub(crate) struct Outgoing<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) url: &'a reqwest::Url,
    pub(crate) auth: &'a HeaderValue,
    pub(crate) body: Bytes,
    pub(crate) traceparent: String,
    pub(crate) stream: bool,
}

/// Sends the request and waits for a 2xx head; anything else is a failure.
pub(crate) async fn send(
    out: Outgoing<'_>,
    t: &TimeoutsConfig,
    start: Instant,
    deadline: Instant,
) -> Result<reqwest::Response, AttemptFailure> {
    let accept = if out.stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    let req = out
        .http
        .post(out.url.clone())
        .header(AUTHORIZATION, out.auth.clone())
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(ACCEPT, HeaderValue::from_static(accept))
        .header("traceparent", out.traceparent)
        .body(out.body);
    let (at, phase) = bound(start + t.first_byte, TimeoutPhase::FirstByte, deadline);
    let resp = match timeout_at(at, req.send()).await {
        Err(_) => return Err(AttemptFailure::new(Error::Timeout { phase })),
        Ok(Err(e)) => {
            return Err(AttemptFailure::new(classify_reqwest(
                e,
                TimeoutPhase::FirstByte,
            )))
        }
        Ok(Ok(r)) => r,
    };
    if resp.status().is_success() {
        return Ok(resp);
    }
    Err(error_from_response(resp, t.idle, deadline).await)
}

/// Reads a non-2xx answer into a typed error.
async fn error_from_response(
    resp: reqwest::Response,
    idle: Duration,
    deadline: Instant,
) -> AttemptFailure {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let (at, _) = bound(Instant::now() + idle, TimeoutPhase::Idle, deadline);
    // A body that does not arrive in time still leaves a usable status.
    let body = timeout_at(at, read_capped(resp, MAX_ERROR_BODY))
        .await
        .unwrap_or_default();
    status_error(status, &headers, &body)
}

async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = cap.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= cap {
            break;
        }
    }
    buf
}

/// Maps a status, its headers and body to an [`AttemptFailure`].
pub(crate) fn status_error(status: u16, headers: &HeaderMap, body: &[u8]) -> AttemptFailure {
    let message = match serde_json::from_slice::<ApiErrorBody>(body) {
        Ok(b) if !b.error.message.is_empty() => b.error.message,
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let mut end = text.len().min(512);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text[..end].to_owned()
        }
    };
    let retry_after = retry_after_from_headers(headers, SystemTime::now());
    let should_retry = match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    let error = match status {
        401 => Error::Auth { message },
        402 => Error::InsufficientBalance { message },
        400 | 422 => Error::InvalidRequest { status, message },
        429 => Error::RateLimited {
            message,
            retry_after,
        },
        500..=599 => Error::Server {
            status,
            body: message,
            retry_after,
        },
        _ => Error::Http {
            status,
            message,
            retry_after,
        },
    };
    AttemptFailure {
        error,
        status,
        should_retry,
    }
}

/// Reads a non-streamed 2xx body. Its JSON only exists once generation is
/// complete, so there is no first token to time: the body is bounded by the
/// total deadline, and by `idle` between any two received byte runs. Unlike
/// streams, DeepSeek's keep-alive blank lines do reset that idle timer here:
/// they are the only sign of life a long non-streamed generation gives.
pub(crate) async fn read_json(
    mut resp: reqwest::Response,
    t: &TimeoutsConfig,
    deadline: Instant,
) -> Result<ChatResponse, AttemptFailure> {
    let status = resp.status().as_u16();
    let fail = |e: Error| AttemptFailure {
        error: e,
        status,
        should_retry: None,
    };
    let mut buf: Vec<u8> =
        Vec::with_capacity(resp.content_length().unwrap_or(0).min(1 << 20) as usize);
    let mut started = false;
    let (mut at, mut phase) = bound(Instant::now() + t.idle, TimeoutPhase::Idle, deadline);
    loop {
        let chunk = match timeout_at(at, resp.chunk()).await {
            Err(_) => return Err(fail(Error::Timeout { phase })),
            Ok(Err(e)) => return Err(fail(classify_reqwest(e, TimeoutPhase::Idle))),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(c))) => c,
        };
        if !started && chunk.iter().any(|b| !b.is_ascii_whitespace()) {
            started = true;
        }
        if buf.len() + chunk.len() > MAX_BODY {
            return Err(fail(Error::Decode {
                reason: format!("response body larger than {MAX_BODY} bytes"),
            }));
        }
        buf.extend_from_slice(&chunk);
        (at, phase) = bound(Instant::now() + t.idle, TimeoutPhase::Idle, deadline);
    }
    if !started {
        let eof = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "body ended before any JSON",
        );
        return Err(fail(Error::Connection {
            kind: ConnectionKind::Closed,
            source: Arc::new(eof),
        }));
    }
    serde_json::from_slice(&buf).map_err(|e| {
        fail(Error::Decode {
            reason: e.to_string(),
        })
    })
}

/// Maps a reqwest error to a typed error; `timeout_phase` names a timeout
/// reqwest itself reports outside connect.
pub(crate) fn classify_reqwest(e: reqwest::Error, timeout_phase: TimeoutPhase) -> Error {
    if e.is_timeout() {
        let phase = if e.is_connect() {
            TimeoutPhase::Connect
        } else {
            timeout_phase
        };
        return Error::Timeout { phase };
    }
    if e.is_builder() {
        return Error::Request {
            reason: e.to_string(),
        };
    }
    let kind = connection_kind(&e);
    Error::Connection {
        kind,
        source: Arc::new(e),
    }
}

fn connection_kind(e: &reqwest::Error) -> ConnectionKind {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    let mut text_closed = false;
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return ConnectionKind::Refused,
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                    return ConnectionKind::Reset
                }
                K::UnexpectedEof => return ConnectionKind::Closed,
                _ => {}
            }
        }
        // hyper reports an early close as "connection closed before message
        // completed" / "incomplete message" without an io::Error inside.
        let msg = err.to_string();
        if msg.contains("closed") || msg.contains("incomplete") || msg.contains("end of file") {
            text_closed = true;
        }
        cur = err.source();
    }
    if text_closed {
        ConnectionKind::Closed
    } else if e.is_connect() {
        ConnectionKind::Refused
    } else {
        ConnectionKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepseek_error_json_and_headers_are_parsed() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        h.insert("x-should-retry", HeaderValue::from_static("false"));
        let f = status_error(
            429,
            &h,
            br#"{"error":{"message":"slow down","type":"rate_limit","param":null,"code":429}}"#,
        );
        assert_eq!(f.status, 429);
        assert_eq!(f.should_retry, Some(false));
        assert!(!f.retryable());
        match f.error {
            Error::RateLimited {
                message,
                retry_after,
            } => {
                assert_eq!(message, "slow down");
                assert_eq!(retry_after, Some(Duration::from_secs(2)));
            }
            e => panic!("wrong variant {e:?}"),
        }
    }

    #[test]
    fn non_json_5xx_body_is_kept_as_text() {
        let f = status_error(502, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert!(f.retryable());
        assert!(
            matches!(f.error, Error::Server { status: 502, ref body, .. } if body == "<html>bad gateway</html>")
        );
        let f = status_error(422, &HeaderMap::new(), b"");
        assert!(!f.retryable());
        assert!(!f.is_endpoint_failure());
    }

    #[test]
    fn phase_bound_blames_the_deadline_when_it_comes_first() {
        let now = Instant::now();
        let d = now + Duration::from_secs(1);
        assert_eq!(
            bound(now + Duration::from_secs(2), TimeoutPhase::Idle, d),
            (d, TimeoutPhase::Total)
        );
        let p = now + Duration::from_millis(5);
        assert_eq!(bound(p, TimeoutPhase::Idle, d), (p, TimeoutPhase::Idle));
    }
}
