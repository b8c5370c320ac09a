//! One attempt over any [`Transport`]: waiting for the head under the
//! first-byte timeout, turning non-2xx answers into typed errors (parsing
//! DeepSeek's error JSON, `Retry-After` and `x-should-retry`), reading a
//! non-streamed body under the idle timeout, and reading a stream up to its
//! first token so that failures before it stay retryable.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use http::HeaderMap;
use tokio::time::{timeout_at, Instant};

use crate::config::TimeoutsConfig;
use crate::error::{ConnectionKind, Error, TimeoutPhase};
use crate::policy::backoff::retry_after_from_headers;
use crate::stream::reader::ChunkReader;
use crate::transport::{bound, Body, Request, Response, Transport};
use crate::types::{ApiErrorBody, ChatChunk, ChatResponse};

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

/// What a successful attempt produced.
pub(crate) enum Attempted {
    Unary(ChatResponse),
    /// A stream that reached its first token (`reader` still open), or
    /// ended cleanly without one (`reader` is `None`).
    Stream {
        reader: Option<ChunkReader>,
        buffered: VecDeque<ChatChunk>,
    },
}

/// One attempt on endpoint `ep`, which started at `start`.
pub(crate) async fn attempt<T: Transport>(
    transport: &T,
    ep: usize,
    req: Request,
    t: &TimeoutsConfig,
    start: Instant,
    deadline: Instant,
) -> Result<Attempted, AttemptFailure> {
    let stream = req.stream;
    let resp = send(transport, ep, req, t, start, deadline).await?;
    if !stream {
        return read_json(resp, t, deadline).await.map(Attempted::Unary);
    }
    let status = resp.status;
    let mut reader = ChunkReader::new(resp.body, t, start, deadline);
    let mut buffered = VecDeque::new();
    loop {
        match reader.next().await {
            Some(Ok(chunk)) => {
                buffered.push_back(chunk);
                if reader.got_token() {
                    return Ok(Attempted::Stream {
                        reader: Some(reader),
                        buffered,
                    });
                }
            }
            Some(Err(error)) => {
                return Err(AttemptFailure {
                    error,
                    status,
                    should_retry: None,
                })
            }
            None => {
                return Ok(Attempted::Stream {
                    reader: None,
                    buffered,
                })
            }
        }
    }
}

/// Sends and waits for a 2xx head under the first-byte bound; anything else
/// is a failure.
async fn send<T: Transport>(
    transport: &T,
    ep: usize,
    req: Request,
    t: &TimeoutsConfig,
    start: Instant,
    deadline: Instant,
) -> Result<Response, AttemptFailure> {
    let (at, phase) = bound(start + t.first_byte, TimeoutPhase::FirstByte, deadline);
    let resp = match timeout_at(at, transport.send(ep, req)).await {
        Err(_) => return Err(AttemptFailure::new(Error::Timeout { phase })),
        Ok(Err(e)) => return Err(AttemptFailure::new(e)),
        Ok(Ok(r)) => r,
    };
    if (200..300).contains(&resp.status) {
        return Ok(resp);
    }
    Err(error_from_response(resp, t.idle, deadline).await)
}

/// Reads a non-2xx answer into a typed error.
async fn error_from_response(resp: Response, idle: Duration, deadline: Instant) -> AttemptFailure {
    let (at, _) = bound(Instant::now() + idle, TimeoutPhase::Idle, deadline);
    // A body that does not arrive in time still leaves a usable status.
    let body = timeout_at(at, read_capped(resp.body, MAX_ERROR_BODY))
        .await
        .unwrap_or_default();
    status_error(resp.status, &resp.headers, &body)
}

async fn read_capped(mut body: Body, cap: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    while let Some(Ok(chunk)) = body.next().await {
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
async fn read_json(
    resp: Response,
    t: &TimeoutsConfig,
    deadline: Instant,
) -> Result<ChatResponse, AttemptFailure> {
    let Response {
        status,
        content_length,
        mut body,
        ..
    } = resp;
    let fail = |e: Error| AttemptFailure {
        error: e,
        status,
        should_retry: None,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(content_length.unwrap_or(0).min(1 << 20) as usize);
    let mut started = false;
    let (mut at, mut phase) = bound(Instant::now() + t.idle, TimeoutPhase::Idle, deadline);
    loop {
        let chunk = match timeout_at(at, body.next()).await {
            Err(_) => return Err(fail(Error::Timeout { phase })),
            Ok(Some(Err(e))) => return Err(fail(e)),
            Ok(None) => break,
            Ok(Some(Ok(c))) => c,
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

#[cfg(test)]
mod tests {
    use http::HeaderValue;

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
}
