//! DeepSeek's error replies: `{"error":{"message","type","param":null,"code"}}`
//! with the status code and optional retry headers, serialized once.

use crate::config::fault::StatusFault;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use serde::Serialize;

/// A ready-to-send error response.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReply {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Bytes,
    /// Extra headers (`retry-after`, `retry-after-ms`, `x-should-retry`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: &'a str,
}

/// DeepSeek's default message, type and code for a status.
#[allow(clippy::match_overlapping_arm)] // specific codes first, then ranges
fn defaults(status: u16) -> (&'static str, &'static str, &'static str) {
    match status {
        400 => (
            "Invalid Format",
            "invalid_request_error",
            "invalid_request_error",
        ),
        401 => (
            "Authentication Fails (no such user)",
            "authentication_error",
            "invalid_request_error",
        ),
        402 => (
            "Insufficient Balance",
            "unknown_error",
            "invalid_request_error",
        ),
        404 => (
            "Not Found",
            "invalid_request_error",
            "invalid_request_error",
        ),
        413 => (
            "Request body too large",
            "invalid_request_error",
            "invalid_request_error",
        ),
        422 => (
            "Invalid Parameters",
            "invalid_request_error",
            "invalid_request_error",
        ),
        429 => (
            "Rate Limit Reached",
            "rate_limit_error",
            "rate_limit_exceeded",
        ),
        500 => ("Server Error", "api_error", "internal_server_error"),
        502 => ("Bad Gateway", "api_error", "bad_gateway"),
        503 => ("Server Overloaded", "api_error", "server_overloaded"),
        504 => ("Gateway Timeout", "api_error", "gateway_timeout"),
        400..=499 => (
            "Invalid Request",
            "invalid_request_error",
            "invalid_request_error",
        ),
        _ => ("Server Error", "api_error", "internal_server_error"),
    }
}

impl ErrorReply {
    /// An error with DeepSeek's body shape; `None` picks the code's defaults.
    pub fn new(status: u16, message: Option<&str>, kind: Option<&str>) -> Self {
        let (m, k, c) = defaults(status);
        let env = Envelope {
            error: Inner {
                message: message.unwrap_or(m),
                kind: kind.unwrap_or(k),
                param: None,
                code: c,
            },
        };
        let body = serde_json::to_vec(&env).unwrap_or_default();
        ErrorReply {
            status,
            body: Bytes::from(body),
            headers: Vec::new(),
        }
    }

    /// The reply of a `status:` fault.
    pub fn from_status_fault(f: &StatusFault) -> Self {
        let mut r = ErrorReply::new(f.code.0, f.message.as_deref(), f.error_type.as_deref());
        if let Some(s) = f.retry_after {
            r.headers
                .push((http::header::RETRY_AFTER, HeaderValue::from(s)));
        }
        if let Some(ms) = f.retry_after_ms {
            r.headers.push((
                HeaderName::from_static("retry-after-ms"),
                HeaderValue::from(ms),
            ));
        }
        if let Some(b) = f.should_retry {
            r.headers.push((
                HeaderName::from_static("x-should-retry"),
                HeaderValue::from_static(if b { "true" } else { "false" }),
            ));
        }
        r
    }

    /// 401 for a missing or unknown key.
    pub fn unauthorized(present: bool) -> Self {
        let msg = if present {
            "Authentication Fails, Your api key is invalid"
        } else {
            "Authentication Fails, no api key provided"
        };
        ErrorReply::new(401, Some(msg), None)
    }

    /// 400 for a model that does not exist.
    pub fn model_not_exist() -> Self {
        ErrorReply::new(400, Some("Model Not Exist"), Some("invalid_request_error"))
    }

    /// 400 for a body that is not JSON.
    pub fn bad_json(detail: &str) -> Self {
        let msg = format!("Failed to parse the request body as JSON: {detail}");
        ErrorReply::new(400, Some(&msg), None)
    }

    /// 422 naming the offending field.
    pub fn invalid_field(field: &str, problem: &str) -> Self {
        let msg =
            format!("Failed to deserialize the JSON body into the target type: {field}: {problem}");
        ErrorReply::new(422, Some(&msg), None)
    }

    /// 413 for a body over the limit.
    pub fn too_large(limit: u64) -> Self {
        let msg = format!("Request body too large: the limit is {limit} bytes");
        ErrorReply::new(413, Some(&msg), None)
    }

    /// 404 for an unknown path.
    pub fn not_found() -> Self {
        ErrorReply::new(404, None, None)
    }

    /// 405 for a known path with the wrong method.
    pub fn method_not_allowed() -> Self {
        ErrorReply::new(
            405,
            Some("Method Not Allowed"),
            Some("invalid_request_error"),
        )
    }

    /// 429 from the concurrency cap.
    pub fn capacity() -> Self {
        ErrorReply::new(
            429,
            Some("Rate Limit Reached: too many concurrent requests"),
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_deepseek_shape() {
        let r = ErrorReply::new(503, None, None);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["error"]["message"], "Server Overloaded");
        assert!(v["error"]["param"].is_null());
        assert!(v["error"]["type"].is_string() && v["error"]["code"].is_string());
    }
}
