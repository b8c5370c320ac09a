//! Sending to an external system under test (`under_test:`): one POST of a
//! chat-completions body per request to the adapter or service, with a
//! `traceparent`, an `x-harness-call` header and (unless turned off) a
//! `[call:ID]` marker in the last user message, so the fake server can tie
//! the attempts it sees to this call. The answer is classified as
//! docs/adapter-protocol.md says; streamed answers are read chunk by chunk
//! for TTFT and inter-token gaps. Attempts and retries are not known here:
//! they come from the fake server's journal.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;

use super::Sender;
use crate::outcome::{Outcome, OutcomeClass};

/// A [`Sender`] posting to an external system under test.
#[derive(Debug, Clone)]
pub struct ExternalSender {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    url: String,
    headers: reqwest::header::HeaderMap,
    bodies: Vec<Value>,
    stream: bool,
    marker: bool,
    /// Distinguishes this arm's calls from another arm's.
    arm: &'static str,
    seed: u64,
    seq: AtomicU64,
}

/// The external sender could not be built.
#[derive(Debug, thiserror::Error)]
#[error("under_test ({arm}): {message}")]
pub struct ExternalError {
    /// The arm.
    pub arm: &'static str,
    /// What went wrong.
    pub message: String,
}

impl ExternalSender {
    /// Posts `bodies[index]` to `endpoint.url` with its headers (with `stream` set as the scenario
    /// says), bounding each call by `timeout`.
    pub fn new(
        arm: &'static str,
        endpoint: crate::sut::Endpoint,
        bodies: Vec<Value>,
        stream: bool,
        marker: bool,
        timeout: Duration,
        seed: u64,
    ) -> Result<ExternalSender, ExternalError> {
        let crate::sut::Endpoint { url, headers } = endpoint;
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes());
            let mut value = reqwest::header::HeaderValue::from_str(&v);
            if let Ok(v) = &mut value {
                v.set_sensitive(true);
            }
            match (name, value) {
                (Ok(n), Ok(v)) => {
                    map.append(n, v);
                }
                _ => {
                    return Err(ExternalError {
                        arm,
                        message: format!(
                            "header `{k}`: not a valid HTTP header (its value is not shown)"
                        ),
                    })
                }
            }
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .pool_max_idle_per_host(usize::MAX)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| ExternalError {
                arm,
                message: e.to_string(),
            })?;
        Ok(ExternalSender {
            inner: Arc::new(Inner {
                http,
                url,
                headers: map,
                bodies,
                stream,
                marker,
                arm,
                seed,
                seq: AtomicU64::new(0),
            }),
        })
    }
}

impl Sender for ExternalSender {
    type Conn = ();

    async fn send(&self, _: &mut (), index: usize, start: Instant, o: &mut Outcome) {
        let me = &self.inner;
        let seq = me.seq.fetch_add(1, Ordering::Relaxed);
        let call = format!("{}-{seq}", me.arm);
        let (trace, span) = trace_ids(me.seed, me.arm, seq);
        let mut body = me.bodies[index % me.bodies.len().max(1)].clone();
        body["stream"] = Value::Bool(me.stream);
        if me.marker {
            add_marker(&mut body, &call);
        }
        let resp = me
            .http
            .post(&me.url)
            .headers(me.headers.clone())
            .header("content-type", "application/json")
            .header("traceparent", format!("00-{trace}-{span}-01"))
            .header("x-harness-call", &call)
            .body(body.to_string())
            .send()
            .await;
        o.attempts = 1;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                o.class = transport_class(&e);
                o.note = Some(format!("POST {}: {e}", me.url).into());
                return;
            }
        };
        let status = resp.status().as_u16();
        o.statuses.push(status);
        let is_sse = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if (200..300).contains(&status) && is_sse {
            read_stream(resp, start, o).await;
            return;
        }
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                o.class = transport_class(&e);
                o.note = Some(format!("reading the answer: {e}").into());
                return;
            }
        };
        if (200..300).contains(&status) {
            match serde_json::from_slice::<Completion>(&bytes) {
                Ok(c) if !c.choices.is_empty() => {
                    o.class = OutcomeClass::Ok;
                    o.tokens = c.usage.map_or(0, |u| u.completion_tokens);
                }
                _ => {
                    o.class = OutcomeClass::SutProtocolError;
                    o.note = Some(
                        format!(
                            "{status} answer is not a chat completion: {}",
                            snippet(&bytes)
                        )
                        .into(),
                    );
                }
            }
            return;
        }
        o.class = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(e) => class_of_kind(&e.error.kind, e.error.status.or(Some(status))),
            Err(_) => class_of_status(status),
        };
    }
}

/// Deterministic W3C ids from the seed, the arm and the call's number.
fn trace_ids(seed: u64, arm: &str, seq: u64) -> (String, String) {
    fn mix(mut z: u64) -> u64 {
        // splitmix64
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let a = arm.bytes().fold(seed, |h, b| mix(h ^ u64::from(b)));
    let hi = mix(a ^ seq);
    let lo = mix(hi ^ 0x5151);
    let span = mix(lo ^ 0xa5a5) | 1;
    (format!("{hi:016x}{lo:016x}"), format!("{span:016x}"))
}

/// ` [call:ID]` after the last user message's text.
fn add_marker(body: &mut Value, call: &str) {
    let Some(msgs) = body.get_mut("messages").and_then(Value::as_array_mut) else {
        return;
    };
    let Some(last) = msgs
        .iter_mut()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
    else {
        return;
    };
    let tag = format!(" [call:{call}]");
    match last.get_mut("content") {
        Some(Value::String(s)) => s.push_str(&tag),
        Some(Value::Array(parts)) => {
            parts.push(serde_json::json!({"type": "text", "text": tag}));
        }
        _ => {}
    }
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Value>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    completion_tokens: u32,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    kind: String,
    #[serde(default)]
    status: Option<u16>,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Delta>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
}

/// The protocol's error kinds as outcome classes.
fn class_of_kind(kind: &str, status: Option<u16>) -> OutcomeClass {
    match kind {
        "timeout" => OutcomeClass::Timeout,
        "connection" => OutcomeClass::Connection,
        "stream" => OutcomeClass::StreamBroken,
        "shed" => OutcomeClass::Shed,
        "rate_limited" => OutcomeClass::RateLimited,
        "breaker_open" => OutcomeClass::BreakerOpen,
        "budget_exhausted" => OutcomeClass::BudgetExhausted,
        "status" => status.map_or(OutcomeClass::Other, class_of_status),
        _ => OutcomeClass::Other,
    }
}

/// An answer that says nothing else, by its HTTP status.
fn class_of_status(status: u16) -> OutcomeClass {
    match status {
        429 => OutcomeClass::Http429,
        500..=599 => OutcomeClass::Http5xx,
        400..=499 => OutcomeClass::Http4xx,
        _ => OutcomeClass::Other,
    }
}

/// The harness's own timeout is a timeout; anything else between the
/// harness and the system under test means the system misbehaved.
fn transport_class(e: &reqwest::Error) -> OutcomeClass {
    if e.is_timeout() {
        OutcomeClass::Timeout
    } else {
        OutcomeClass::SutProtocolError
    }
}

fn snippet(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(120)]);
    s.replace(['\n', '\r'], " ")
}

/// Longest SSE event accepted before the answer counts as garbage.
const MAX_EVENT: usize = 1 << 20;

/// Reads an SSE answer: each chunk with content or reasoning is a token;
/// `[DONE]` ends it well; `event: error` ends it with the kind it names;
/// an end without `[DONE]` is a broken stream.
async fn read_stream(resp: reqwest::Response, start: Instant, o: &mut Outcome) {
    let mut body = resp.bytes_stream();
    let mut buf = BytesMut::new();
    let mut last: Option<Instant> = None;
    loop {
        while let Some(end) = find_event_end(&buf) {
            let event = buf.split_to(end.0);
            buf.advance(end.1);
            match parse_event(&event) {
                Event::Done => {
                    o.class = OutcomeClass::Ok;
                    return;
                }
                Event::Error(class) => {
                    o.class = class;
                    return;
                }
                Event::Token => {
                    let now = Instant::now();
                    match last {
                        None => o.ttft = Some(now.saturating_duration_since(start)),
                        Some(prev) => o.itl.push(now - prev),
                    }
                    last = Some(now);
                    o.tokens += 1;
                }
                Event::Other => {}
                Event::Garbage(why) => {
                    o.class = OutcomeClass::SutProtocolError;
                    o.note = Some(why.into());
                    return;
                }
            }
        }
        if buf.len() > MAX_EVENT {
            o.class = OutcomeClass::SutProtocolError;
            o.note = Some("an SSE event longer than 1 MiB".into());
            return;
        }
        match body.next().await {
            Some(Ok(b)) => buf.extend_from_slice(&b),
            Some(Err(e)) => {
                o.class = if e.is_timeout() {
                    OutcomeClass::Timeout
                } else {
                    OutcomeClass::StreamBroken
                };
                return;
            }
            None => {
                o.class = OutcomeClass::StreamBroken;
                return;
            }
        }
    }
}

/// (end of the event, length of the blank-line separator).
fn find_event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

enum Event {
    Done,
    Token,
    Other,
    Error(OutcomeClass),
    Garbage(String),
}

fn parse_event(raw: &[u8]) -> Event {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Event::Garbage("an SSE event that is not UTF-8".into());
    };
    let mut name = "";
    let mut data = String::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    if name == "error" {
        return Event::Error(match serde_json::from_str::<ErrorBody>(&data) {
            Ok(e) => match class_of_kind(&e.error.kind, e.error.status) {
                OutcomeClass::Other => OutcomeClass::StreamBroken,
                c => c,
            },
            Err(_) => OutcomeClass::StreamBroken,
        });
    }
    if data.is_empty() {
        return Event::Other;
    }
    if data.trim() == "[DONE]" {
        return Event::Done;
    }
    match serde_json::from_str::<Chunk>(&data) {
        Ok(c) => {
            let token = c.choices.iter().any(|ch| {
                ch.delta.as_ref().is_some_and(|d| {
                    d.content.as_deref().is_some_and(|s| !s.is_empty())
                        || d.reasoning_content
                            .as_deref()
                            .is_some_and(|s| !s.is_empty())
                })
            });
            if token {
                Event::Token
            } else {
                Event::Other
            }
        }
        Err(_) => Event::Garbage(format!(
            "a data line that is not a chunk: {}",
            snippet(data.as_bytes())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_goes_after_the_last_user_message() {
        let mut b = serde_json::json!({"messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "a"},
            {"role": "user", "content": "second"}
        ]});
        add_marker(&mut b, "sut-7");
        assert_eq!(b["messages"][2]["content"], "second [call:sut-7]");
        assert_eq!(b["messages"][0]["content"], "first");
        let mut parts = serde_json::json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]});
        add_marker(&mut parts, "x-1");
        assert_eq!(parts["messages"][0]["content"][1]["text"], " [call:x-1]");
    }

    #[test]
    fn trace_ids_are_valid_distinct_and_reproducible() {
        let (t, s) = trace_ids(7, "py", 1);
        assert_eq!((t.len(), s.len()), (32, 16));
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(t, "0".repeat(32));
        assert_eq!(trace_ids(7, "py", 1), (t.clone(), s));
        assert_ne!(trace_ids(7, "py", 2).0, t);
        assert_ne!(trace_ids(7, "go", 1).0, t);
        assert_ne!(trace_ids(8, "py", 1).0, t);
    }

    #[test]
    fn protocol_errors_map_to_classes() {
        assert_eq!(class_of_kind("timeout", None), OutcomeClass::Timeout);
        assert_eq!(class_of_kind("status", Some(429)), OutcomeClass::Http429);
        assert_eq!(class_of_kind("status", Some(503)), OutcomeClass::Http5xx);
        assert_eq!(class_of_kind("status", Some(400)), OutcomeClass::Http4xx);
        assert_eq!(class_of_kind("connection", None), OutcomeClass::Connection);
        assert_eq!(class_of_kind("stream", None), OutcomeClass::StreamBroken);
        assert_eq!(
            class_of_kind("breaker_open", None),
            OutcomeClass::BreakerOpen
        );
        assert_eq!(class_of_kind("weird", None), OutcomeClass::Other);
        assert_eq!(class_of_status(502), OutcomeClass::Http5xx);
    }

    #[test]
    fn sse_events_are_told_apart() {
        let tok = br#"data: {"choices":[{"delta":{"content":"hi"}}]}"#;
        assert!(matches!(parse_event(tok), Event::Token));
        let reason = br#"data: {"choices":[{"delta":{"reasoning_content":"r","content":null}}]}"#;
        assert!(matches!(parse_event(reason), Event::Token));
        let role = br#"data: {"choices":[{"delta":{"role":"assistant","content":""}}]}"#;
        assert!(matches!(parse_event(role), Event::Other));
        assert!(matches!(parse_event(b"data: [DONE]"), Event::Done));
        assert!(matches!(parse_event(b": keep-alive"), Event::Other));
        let err = br#"event: error
data: {"error":{"kind":"timeout","message":"x"}}"#;
        assert!(matches!(
            parse_event(err),
            Event::Error(OutcomeClass::Timeout)
        ));
        assert!(matches!(parse_event(b"data: {nope"), Event::Garbage(_)));
        assert_eq!(find_event_end(b"a\n\nb"), Some((1, 2)));
        assert_eq!(find_event_end(b"a\r\n\r\nb"), Some((1, 4)));
        assert_eq!(find_event_end(b"a\n"), None);
    }
}
