//! One chat-completions attempt while it is open: what the handler learns
//! about it (key, model, faults, the head it sent, tokens) and how it ends.
//!
//! The [`Open`] record moves with the attempt: it lives in the handler's
//! future until the response is returned, then in the response body
//! (`body::Body`). Whoever holds it last ends it: the body when its last
//! frame is handed over (`answered`), or its `Drop`, the usual hyper way of
//! seeing a client leave, when the future or the body is dropped first. Then
//! the end is what the server had decided (a reset or close: `server_closed`),
//! else a shutdown in progress (`shutdown`), else the client (`client_closed`).
//! Streamed bodies report tokens, a stall and a deliberate close through a
//! shared [`Progress`].

use super::ctl::ConnCtl;
use super::writer::Pending;
use crate::api::request::ChatRequest;
use crate::config::FaultKind;
use crate::journal::{header_key, End};
use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::time::Instant;

const NONE: u64 = u64::MAX;

/// What a streamed body tells the attempt's record while it runs.
#[derive(Debug)]
pub struct Progress {
    tokens: AtomicU32,
    stalled_ns: AtomicU64,
    closed: AtomicBool,
    /// The close ends a corrupt but complete answer (`truncated_json`).
    close_is_answer: bool,
}

impl Progress {
    /// Tokens handed over so far.
    pub fn tokens(&self, n: u32) {
        self.tokens.store(n, Ordering::Relaxed);
    }

    /// The body went silent for good at `ns` (server clock).
    pub fn stalled(&self, ns: u64) {
        self.stalled_ns.store(ns, Ordering::Relaxed);
    }

    /// The body is about to close the connection on purpose.
    pub fn closing(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }
}

/// An attempt that has not ended yet; ends (and is queued for the journal)
/// exactly once, explicitly or on drop.
#[derive(Debug)]
pub struct Open {
    ctl: Arc<ConnCtl>,
    rec: Pending,
    progress: Option<Arc<Progress>>,
    server_closing: bool,
    ended: bool,
}

/// The path of a request the journal records, as a static string.
pub fn journaled_path(method: &http::Method, path: &str) -> Option<&'static str> {
    if method != http::Method::POST {
        return None;
    }
    match path {
        "/chat/completions" => Some("/chat/completions"),
        "/v1/chat/completions" => Some("/v1/chat/completions"),
        _ => None,
    }
}

impl Open {
    /// An attempt that arrived now on `ctl`'s node; the header rules of the
    /// call key are applied here (cheap), the body rules later by the writer.
    pub fn new(ctl: Arc<ConnCtl>, path: &'static str, headers: &HeaderMap) -> Open {
        let shared = &ctl.shared;
        let rec = Pending {
            node: ctl.index as u32,
            key: header_key(headers),
            path,
            at_ns: shared.clock_ns(Instant::now()),
            sdk_retry_count: headers
                .get("x-stainless-retry-count")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
            ..Pending::default()
        };
        Open {
            ctl,
            rec,
            progress: None,
            server_closing: false,
            ended: false,
        }
    }

    /// A record that is never written (the journal is disabled): the chat
    /// flow stays one code path.
    pub fn detached(ctl: Arc<ConnCtl>) -> Open {
        Open {
            ctl,
            rec: Pending::default(),
            progress: None,
            server_closing: false,
            ended: true,
        }
    }

    /// The body of a request refused before it parsed (401, 400, 422):
    /// copied, as the key and the model are read from it later.
    ///
    /// A copy, not a reference: a `Bytes` of hyper's read buffer kept past
    /// the request stops hyper from reusing that buffer, so the next request
    /// on the connection would allocate a new one.
    pub fn refused_body(&mut self, body: &Bytes) {
        if !self.ended {
            self.rec.body = Bytes::copy_from_slice(body);
        }
    }

    /// The request parsed: its model and `stream`; the body is copied only
    /// when no header gave the call key.
    pub fn request(&mut self, creq: &ChatRequest, body: &Bytes) {
        self.rec.model = Some(creq.model);
        self.rec.stream = Some(creq.stream);
        if self.rec.key.is_none() && !self.ended {
            self.rec.body = Bytes::copy_from_slice(body);
        }
    }

    /// Fault kinds that fired (a `Decision::fired` mask).
    pub fn fired(&mut self, mask: u32) {
        self.rec.faults |= mask;
    }

    /// One more fault kind that fired.
    pub fn fault(&mut self, kind: FaultKind) {
        self.rec.faults |= 1 << kind.index();
    }

    /// Tokens in the answer handed over in one piece.
    pub fn tokens(&mut self, n: u32) {
        self.rec.tokens = n;
    }

    /// The server sends nothing from arrival on (`stall`).
    pub fn stalled_from_arrival(&mut self) {
        self.rec.stalled_ns = Some(self.rec.at_ns);
    }

    /// The server is about to close the connection (reset before a head).
    pub fn server_closing(&mut self) {
        self.server_closing = true;
    }

    /// Shared progress for a streamed body; `close_is_answer` when its
    /// deliberate close ends a (corrupt) full answer rather than cuts one.
    pub fn progress(&mut self, close_is_answer: bool) -> Arc<Progress> {
        let p = Arc::new(Progress {
            tokens: AtomicU32::new(0),
            stalled_ns: AtomicU64::new(NONE),
            closed: AtomicBool::new(false),
            close_is_answer,
        });
        self.progress = Some(p.clone());
        p
    }

    /// The response head is being handed over now: its status and the
    /// retry headers it carries.
    pub fn respond<B>(&mut self, resp: &Response<B>) {
        self.rec.headers_ns = Some(self.ctl.shared.clock_ns(Instant::now()));
        self.rec.status = Some(resp.status().as_u16());
        if resp.status() < StatusCode::BAD_REQUEST {
            return;
        }
        let h = resp.headers();
        let num = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        self.rec.retry_after_s = num("retry-after");
        self.rec.retry_after_ms = num("retry-after-ms");
        self.rec.should_retry = h
            .get("x-should-retry")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
    }

    /// Ends the attempt: the whole answer was handed over.
    pub fn answered(mut self) {
        self.end(End::Answered);
    }

    fn end(&mut self, end: End) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let shared = &self.ctl.shared;
        let rec = &mut self.rec;
        rec.end = Some(end);
        rec.end_ns = shared.clock_ns(Instant::now());
        rec.t0_ns = shared.t0_ns();
        if let Some(p) = &self.progress {
            rec.tokens = rec.tokens.max(p.tokens.load(Ordering::Relaxed));
            let s = p.stalled_ns.load(Ordering::Relaxed);
            if s != NONE {
                rec.stalled_ns = Some(s);
            }
        }
        shared.journal.submit(std::mem::take(rec));
    }

    /// How an attempt ended that nobody ended explicitly.
    fn inferred_end(&self) -> End {
        let closed = self
            .progress
            .as_ref()
            .map(|p| (p.closed.load(Ordering::Relaxed), p.close_is_answer));
        match closed {
            Some((true, true)) => End::Answered,
            Some((true, false)) => End::ServerClosed,
            _ if self.server_closing => End::ServerClosed,
            _ if self.ctl.shared.journal.stopping() => End::Shutdown,
            _ => End::ClientClosed,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if !self.ended {
            let end = self.inferred_end();
            self.end(end);
        }
    }
}
