//! Request routing and the chat-completions flow: auth, bounded body read,
//! validation, fault decision, capacity, then the reply (JSON or SSE). Each
//! chat-completions attempt carries its journal record ([`Open`]) from
//! arrival to the end of its body.

use super::attempt::{journaled_path, Open};
use super::body::{self, full, Body, Slots};
use super::control;
use super::ctl::ConnCtl;
use super::emit::{JsonEmitter, SseEmitter};
use super::state::{Node, Shared};
use crate::api::errors::ErrorReply;
use crate::api::models;
use crate::api::reply::{completion_body, Script, KEEP_ALIVE_SSE};
use crate::api::request::{self, ChatRequest};
use crate::config::fault::AfterWait;
use crate::config::{FaultKind, Keys, WhenFull};
use crate::plan::{Decision, ResponseFault};
use bytes::{Bytes, BytesMut};
use futures::FutureExt;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Body as _;
use hyper::body::Incoming;
use std::convert::Infallible;
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const SSE: HeaderValue = HeaderValue::from_static("text/event-stream; charset=utf-8");

/// Entry point for every request on node `index`.
pub async fn handle(
    ctl: Arc<ConnCtl>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (shared, index) = (&*ctl.shared, ctl.index);
    let _request = ctl.request_started();
    if req.uri().path().starts_with("/_mock/") {
        if let Err(refused) = ctl.guard.control.check(req.headers(), ctl.local) {
            return Ok(refused);
        }
        return Ok(control::handle(shared, index, req).await);
    }
    let node = &shared.nodes[index];
    node.counters.request();
    // Dropped with this future if the client leaves (or the server stops)
    // before the head is sent; then it records how the attempt ended.
    let mut attempt = journaled_path(req.method(), req.uri().path())
        .filter(|_| shared.journal.enabled())
        .map(|path| Open::new(ctl.clone(), path, req.headers()));
    let resp = route(shared, index, ctl.clone(), req, attempt.as_mut()).await;
    node.counters.status(resp.status().as_u16());
    Ok(match attempt {
        Some(mut a) => {
            a.respond(&resp);
            resp.map(|b| b.with_attempt(a))
        }
        None => resp,
    })
}

async fn route(
    shared: &Shared,
    index: usize,
    ctl: Arc<ConnCtl>,
    req: Request<Incoming>,
    attempt: Option<&mut Open>,
) -> Response<Body> {
    let node = &shared.nodes[index];
    let known = matches!(
        req.uri().path(),
        "/chat/completions" | "/v1/chat/completions" | "/models" | "/v1/models" | "/user/balance"
    );
    let method_ok = match req.uri().path() {
        "/chat/completions" | "/v1/chat/completions" => req.method() == Method::POST,
        _ => req.method() == Method::GET,
    };
    if !known {
        return error(node, &ErrorReply::not_found());
    }
    if !method_ok {
        return error(node, &ErrorReply::method_not_allowed());
    }
    if let Err(e) = authorize(&shared.config.auth.keys, req.headers()) {
        if let Some(a) = attempt {
            // The call key may be in the body: read it (bounded) before refusing.
            if let Ok(b) = read_body(
                req,
                shared.config.max_body.0,
                shared.config.body_read_timeout.0,
            )
            .await
            {
                a.refused_body(&b);
            }
        }
        return error(node, &e);
    }
    match (req.uri().path(), attempt) {
        ("/models" | "/v1/models", _) => ok(node, JSON, full(models::list_body())),
        ("/user/balance", _) => ok(node, JSON, full(Bytes::from_static(BALANCE_BODY))),
        (_, Some(a)) => chat(shared, node, ctl, req, a).await,
        (_, None) => {
            let mut detached = Open::detached(ctl.clone());
            chat(shared, node, ctl, req, &mut detached).await
        }
    }
}

const BALANCE_BODY: &[u8] = br#"{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]}"#;

fn authorize(keys: &Keys, headers: &http::HeaderMap) -> Result<(), ErrorReply> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let key = value.and_then(|v| {
        let (scheme, key) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
    });
    match (key, keys) {
        (Some(k), Keys::Any) if !k.is_empty() => Ok(()),
        (Some(k), Keys::List(list)) if list.iter().any(|l| l == k) => Ok(()),
        _ => Err(ErrorReply::unauthorized(value.is_some())),
    }
}

async fn chat(
    shared: &Shared,
    node: &Node,
    ctl: Arc<ConnCtl>,
    req: Request<Incoming>,
    attempt: &mut Open,
) -> Response<Body> {
    let max = shared.config.max_body.0;
    let body = match read_body(req, max, shared.config.body_read_timeout.0).await {
        Ok(b) => b,
        Err(e) => return error(node, &e),
    };
    let creq = match request::parse(&body, shared.config.retired_models) {
        Ok(r) => r,
        Err(e) => {
            attempt.refused_body(&body);
            return error(node, &e);
        }
    };
    attempt.request(&creq, &body);
    let (decision, script) = decide(shared, node, &creq);
    for kind in decision.fired_kinds() {
        node.counters.fault(kind);
    }
    attempt.fired(decision.fired);
    if !decision.header_delay.is_zero() {
        super::precise::sleep(decision.header_delay).await;
    }
    match &decision.response {
        Some(ResponseFault::Status(reply)) => return error(node, reply),
        Some(ResponseFault::Reset) => {
            attempt.server_closing();
            ctl.close(true);
            return std::future::pending().await;
        }
        Some(ResponseFault::Stall) => {
            attempt.stalled_from_arrival();
            return std::future::pending().await;
        }
        Some(ResponseFault::CloseMidBody) => {
            let full_body = if creq.stream {
                Bytes::new()
            } else {
                completion_body(&script)
            };
            let progress = attempt.progress(false);
            let mut resp = ok(
                node,
                if creq.stream { SSE } else { JSON },
                body::streamed(
                    JsonEmitter::cut(&full_body),
                    ctl,
                    Slots::default(),
                    Some(progress),
                ),
            );
            if !creq.stream {
                resp.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(full_body.len()));
            }
            return resp;
        }
        Some(ResponseFault::TruncatedJson) if !creq.stream => {
            // Answered, corrupt: the client gets no usable tokens.
            let b = completion_body(&script);
            return ok(node, JSON, full(b.slice(..b.len() / 2)));
        }
        _ => {}
    }
    let slots = match capacity(node, &creq) {
        Ok(s) => s,
        Err(e) => {
            attempt.fault(FaultKind::Capacity);
            return error(node, &e);
        }
    };
    if !slots.pending.is_empty() {
        attempt.fault(FaultKind::Capacity);
    }
    if creq.stream {
        let truncated = matches!(decision.response, Some(ResponseFault::TruncatedJson));
        let progress = attempt.progress(truncated);
        let resp = ok(
            node,
            SSE,
            body::streamed(
                SseEmitter::new(script, &decision),
                ctl,
                slots,
                Some(progress),
            ),
        );
        return with_sse_headers(resp);
    }
    let tokens = script.reasoning_tokens + script.content_tokens;
    let generation = script.ttft + script.generation_time();
    let queued = match &decision.response {
        Some(ResponseFault::QueueWait { wait, then, every }) => Some((*wait, *then, *every)),
        _ if !slots.pending.is_empty() => Some((Duration::ZERO, AfterWait::Answer, slots.every)),
        _ => None,
    };
    if let Some((wait, then, every)) = queued {
        let (ready, reply) = match then {
            AfterWait::Answer => (wait + generation, Some(completion_body(&script))),
            AfterWait::Close => (wait, None),
        };
        let emitter = JsonEmitter::queued(every, ready, reply).with_tokens(tokens);
        let progress = attempt.progress(false);
        return ok(
            node,
            JSON,
            body::streamed(emitter, ctl, slots, Some(progress)),
        );
    }
    if !generation.is_zero() {
        super::precise::sleep(generation).await;
    }
    drop(slots);
    attempt.tokens(tokens);
    ok(node, JSON, full(completion_body(&script)))
}

/// Fault decision and generation script, drawn together from the node RNG.
fn decide(shared: &Shared, node: &Node, creq: &ChatRequest) -> (Decision, Script) {
    let faults = shared.faults();
    let elapsed = match &faults {
        Some(_) => shared.elapsed(),
        None => Duration::ZERO,
    };
    let mut rng = node.rng.lock().unwrap_or_else(PoisonError::into_inner);
    let decision = match &faults {
        Some(f) => f.decide(elapsed, node.index, creq.stream, &mut *rng),
        None => Decision::default(),
    };
    let script = Script::draw(creq, &shared.config.generation, &mut *rng);
    (decision, script)
}

/// Takes the node and model slots, or says why not.
fn capacity(node: &Node, creq: &ChatRequest) -> Result<Slots, ErrorReply> {
    let caps = &node.caps;
    let sems = caps
        .node
        .iter()
        .chain(caps.models.get(creq.canonical))
        .cloned();
    let mut slots = Slots {
        keep_alive: if creq.stream { KEEP_ALIVE_SSE } else { b"\n" },
        every: caps.keep_alive_every,
        ..Slots::default()
    };
    for sem in sems {
        match sem.clone().try_acquire_owned() {
            Ok(p) => slots.held.push(p),
            Err(_) if caps.when_full == WhenFull::Queue => slots.pending.push(sem),
            Err(_) => {
                node.counters.fault(FaultKind::Capacity);
                return Err(ErrorReply::capacity());
            }
        }
    }
    if !slots.pending.is_empty() {
        node.counters.fault(FaultKind::Capacity);
    }
    Ok(slots)
}

/// Reads at most `max` bytes; a bigger body is drained (bounded) and refused
/// with 413 so the client sees the status instead of a reset.
async fn read_body(
    req: Request<Incoming>,
    max: u64,
    timeout: Duration,
) -> Result<Bytes, ErrorReply> {
    let drain_limit = max.saturating_mul(4).saturating_add(4 << 20);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > drain_limit) {
        return Err(ErrorReply::too_large(max));
    }
    let mut body = req.into_body();
    // One frame is the common case: keep it without copying.
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let mut total = 0u64;
    // Armed only if the body is not already buffered: a timer per request
    // costs more than everything else on the fast path.
    let mut deadline = None;
    while !body.is_end_stream() {
        let next = match body.frame().now_or_never() {
            Some(next) => next,
            None => {
                let at = *deadline.get_or_insert_with(|| Instant::now() + timeout);
                tokio::time::timeout_at(at, body.frame())
                    .await
                    .map_err(|_| ErrorReply::new(408, Some("Request Timeout"), None))?
            }
        };
        let Some(frame) = next else { break };
        let frame = frame
            .map_err(|_| ErrorReply::new(400, Some("could not read the request body"), None))?;
        if let Ok(data) = frame.into_data() {
            total += data.len() as u64;
            if total > drain_limit {
                break;
            }
            if total <= max {
                match first.take() {
                    None if buf.is_empty() => first = Some(data),
                    Some(f) => {
                        buf.extend_from_slice(&f);
                        buf.extend_from_slice(&data);
                    }
                    None => buf.extend_from_slice(&data),
                }
            }
        }
    }
    if total > max {
        return Err(ErrorReply::too_large(max));
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

fn ok(node: &Node, ctype: HeaderValue, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, ctype);
    h.insert("x-mock-node", node.header.clone());
    resp
}

fn with_sse_headers(mut resp: Response<Body>) -> Response<Body> {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// A DeepSeek error response.
pub fn error(node: &Node, e: &ErrorReply) -> Response<Body> {
    let mut resp = ok(node, JSON, full(e.body.clone()));
    *resp.status_mut() =
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in &e.headers {
        resp.headers_mut().insert(k.clone(), v.clone());
    }
    resp
}
