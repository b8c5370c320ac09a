//! Sending through the client under test (`load.via: client`, and the bare
//! client of the raw arm): run one call (plain or streamed), copy what the
//! client reports about it (attempts, statuses, queue wait, fallback) into
//! the [`Outcome`], and map the client's error into the report's
//! [`OutcomeClass`].

use std::sync::Arc;

use futures::StreamExt;
use resilient_client::{CallMeta, ChatRequest, Client, Error};
use tokio::time::Instant;

use super::Sender;
use crate::outcome::{Outcome, OutcomeClass};

/// A [`Sender`] that runs each request through a [`Client`]. The client
/// keeps its own connections and spreads its work over the shared runtime,
/// so a sending task keeps nothing (`Conn = ()`) and users run as shared
/// tasks.
#[derive(Debug, Clone)]
pub struct ClientSender {
    client: Client,
    requests: Arc<Vec<ChatRequest>>,
    stream: bool,
}

impl ClientSender {
    /// Sends `requests[index]` through `client`, with `chat_stream` when
    /// `stream` (measuring TTFT and inter-token gaps), else `chat`.
    pub fn new(client: Client, requests: Arc<Vec<ChatRequest>>, stream: bool) -> ClientSender {
        ClientSender {
            client,
            requests,
            stream,
        }
    }
}

impl Sender for ClientSender {
    type Conn = ();

    async fn send(&self, _: &mut (), index: usize, start: Instant, o: &mut Outcome) {
        let req = self.requests[index].clone();
        o.priority = req.priority;
        if self.stream {
            run_stream(&self.client, req, start, o).await;
        } else {
            run_chat(&self.client, req, o).await;
        }
    }
}

/// Map a client error to its report class.
pub fn class_of(e: &Error) -> OutcomeClass {
    match e.class() {
        "shed" => OutcomeClass::Shed,
        "rate_limited" => OutcomeClass::RateLimited,
        "breaker_open" => OutcomeClass::BreakerOpen,
        "budget_exhausted" => OutcomeClass::BudgetExhausted,
        "timeout" => OutcomeClass::Timeout,
        "connection" => OutcomeClass::Connection,
        "stream_broken" => OutcomeClass::StreamBroken,
        "http_429" => OutcomeClass::Http429,
        "http_5xx" => OutcomeClass::Http5xx,
        "http_4xx" => OutcomeClass::Http4xx,
        _ => OutcomeClass::Other,
    }
}

fn copy_meta(o: &mut Outcome, m: &CallMeta) {
    o.attempts = m.attempts;
    o.statuses.clone_from(&m.statuses);
    o.queue_wait = m.queue_wait;
}

/// Like [`copy_meta`] for a call whose meta is owned here: the statuses move
/// instead of being copied (one allocation less per request).
fn take_meta(o: &mut Outcome, m: &mut CallMeta) {
    o.attempts = m.attempts;
    o.statuses = std::mem::take(&mut m.statuses);
    o.queue_wait = m.queue_wait;
}

fn success_class(m: &CallMeta) -> OutcomeClass {
    if m.fallback.is_some() {
        OutcomeClass::Fallback
    } else {
        OutcomeClass::Ok
    }
}

/// One non-streaming call.
pub async fn run_chat(client: &Client, req: ChatRequest, o: &mut Outcome) {
    match client.chat(req).await {
        Ok(mut resp) => {
            take_meta(o, &mut resp.meta);
            o.class = success_class(&resp.meta);
        }
        Err(mut e) => {
            take_meta(o, &mut e.meta);
            o.class = class_of(&e.kind);
        }
    }
}

/// One streamed call: TTFT from the send (`start`, the instant `o.sent`
/// stands for) to the first token (content or reasoning), and the gap
/// between consecutive tokens.
pub async fn run_stream(client: &Client, req: ChatRequest, start: Instant, o: &mut Outcome) {
    let mut stream = match client.chat_stream(req).await {
        Ok(s) => s,
        Err(e) => {
            copy_meta(o, &e.meta);
            o.class = class_of(&e.kind);
            return;
        }
    };
    let mut last: Option<Instant> = None;
    let mut failed = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => {
                if chunk.has_token() {
                    let now = Instant::now();
                    match last {
                        None => o.ttft = Some(now.saturating_duration_since(start)),
                        Some(prev) => o.itl.push(now - prev),
                    }
                    last = Some(now);
                    o.tokens += 1;
                }
            }
            Err(e) => {
                failed = Some(class_of(&e));
                break;
            }
        }
    }
    copy_meta(o, stream.meta());
    o.class = failed.unwrap_or_else(|| success_class(stream.meta()));
}
