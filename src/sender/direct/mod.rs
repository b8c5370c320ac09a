//! `load.via: direct`: the generator alone, with no client under test.
//! Each request goes straight over a keep-alive HTTP/1.1 connection (one
//! connection per request in flight, as `oha -c N` or `wrk -c N` hold them),
//! is read to its last byte and recorded. There is no retry, breaker, limiter
//! or fallback, and the answer is not decoded: what such a run measures is
//! the server and the generator itself (its ceiling, compared with oha in
//! `scripts/peers.sh`).
//!
//! Each request's bytes (head and body) are built once per endpoint and body
//! when the run starts; [`wire`] writes them and reads the answer in the
//! caller's task. Bounded like every request of the harness:
//! `client.timeouts.connect` for a new connection and
//! `client.timeouts.total` for the whole request.

mod watchdog;
pub mod wire;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Uri;
use resilient_client::ChatRequest;
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at, Instant};

use super::{Sender, Threads};
use crate::outcome::{Outcome, OutcomeClass};
use watchdog::Watchdog;
use wire::{Conn, WireError};

/// Sends requests over plain HTTP/1.1 connections. Clones share one set of
/// idle pools (the tasks of one load thread); [`Sender::fork`] makes a copy
/// sharing nothing, for another thread.
#[derive(Clone)]
pub struct Direct {
    inner: Arc<Inner>,
}

struct Inner {
    endpoints: Vec<Endpoint>,
    next: AtomicUsize,
    connect: Duration,
    total: Duration,
}

impl std::fmt::Debug for Direct {
    // The prebuilt requests hold the API key: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("endpoints", &self.inner.endpoints.len())
            .finish_non_exhaustive()
    }
}

struct Endpoint {
    addr: SocketAddr,
    /// One complete request (head and body) per scenario request body.
    requests: Vec<Vec<u8>>,
    idle: Mutex<Vec<Conn>>,
}

/// A connection a caller keeps between requests, with its endpoint.
#[derive(Debug)]
struct Held {
    endpoint: usize,
    conn: Conn,
}

/// What one sending task keeps: its connection, and for a sequence of
/// requests (a closed-model user) the timer bounding each of them.
#[derive(Debug, Default)]
pub struct DirectConn {
    held: Option<Held>,
    /// Created at the task's second request: a task that sends one request
    /// (open model) pays a plain timeout instead.
    watchdog: Option<Watchdog>,
    sent: bool,
}

/// Why one request ended without a complete answer.
enum Failure {
    Connection,
    Malformed,
    Timeout,
}

/// Why a direct sender could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectError {
    /// A request body could not be serialized.
    #[error("load.requests: cannot serialize: {0}")]
    Body(#[source] serde_json::Error),
    /// The API key cannot go into a header.
    #[error("the API key holds control characters a header cannot carry")]
    Key,
    /// An endpoint's base URL cannot be spoken to.
    #[error("load.via: direct: endpoint {index} ({url}): {reason}")]
    Endpoint {
        /// Its index in the list.
        index: usize,
        /// The base URL as given.
        url: String,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// No endpoint was given.
    #[error("load.via: direct: no endpoint to send to")]
    NoEndpoint,
}

impl Direct {
    /// Resolves every base URL (`http://host:port[/prefix]`) once and builds
    /// every request's bytes. Only plain `http://` is spoken.
    pub async fn new(
        base_urls: &[String],
        requests: &[ChatRequest],
        key: &str,
        connect: Duration,
        total: Duration,
    ) -> Result<Direct, DirectError> {
        let bodies = requests
            .iter()
            .map(serde_json::to_vec)
            .collect::<Result<Vec<_>, _>>()
            .map_err(DirectError::Body)?;
        if key.bytes().any(|b| b.is_ascii_control()) {
            return Err(DirectError::Key);
        }
        let mut endpoints = Vec::with_capacity(base_urls.len());
        for (index, base) in base_urls.iter().enumerate() {
            endpoints.push(Endpoint::new(base, &bodies, key).await.map_err(|reason| {
                DirectError::Endpoint {
                    index,
                    url: base.clone(),
                    reason,
                }
            })?);
        }
        if endpoints.is_empty() {
            return Err(DirectError::NoEndpoint);
        }
        Ok(Direct {
            inner: Arc::new(Inner {
                endpoints,
                next: AtomicUsize::new(0),
                connect,
                total,
            }),
        })
    }
}

impl Sender for Direct {
    type Conn = DirectConn;

    const THREADS: Threads = Threads::PerCore;

    /// A copy sharing no memory with `self` (request bytes, idle pools): a
    /// load thread gets its own, so no lock or cache line is touched by two
    /// cores on every request.
    fn fork(&self) -> Direct {
        let i = &self.inner;
        Direct {
            inner: Arc::new(Inner {
                endpoints: i
                    .endpoints
                    .iter()
                    .map(|e| Endpoint {
                        addr: e.addr,
                        requests: e.requests.clone(),
                        idle: Mutex::new(Vec::new()),
                    })
                    .collect(),
                next: AtomicUsize::new(0),
                connect: i.connect,
                total: i.total,
            }),
        }
    }

    /// Sends body `index` to the next endpoint (round robin) and fills in
    /// `o`: one attempt, its status (0 when none came), and the class.
    /// The task's connection is used when it goes to the chosen endpoint,
    /// and kept after a complete answer (a closed-model user keeps its own,
    /// as `oha -c N` does); otherwise one comes from the endpoint's idle
    /// pool or a new connect.
    async fn send(&self, conn: &mut DirectConn, index: usize, start: Instant, o: &mut Outcome) {
        let this = &*self.inner;
        let n = this.endpoints.len();
        let e = if n == 1 {
            0
        } else {
            this.next.fetch_add(1, Ordering::Relaxed) % n
        };
        if conn.held.as_ref().is_some_and(|h| h.endpoint != e) {
            if let Some(h) = conn.held.take() {
                this.checkin(h);
            }
        }
        o.attempts = 1;
        let attempt = this.attempt(e, &mut conn.held, index);
        if conn.sent && conn.watchdog.is_none() {
            conn.watchdog = Some(Watchdog::new());
        }
        conn.sent = true;
        let result = match &mut conn.watchdog {
            Some(w) => {
                w.arm(start, this.total);
                tokio::select! {
                    biased;
                    r = attempt => Ok(r),
                    () = w.sleep.as_mut() => Err(()),
                }
            }
            None => timeout_at(start + this.total, attempt)
                .await
                .map_err(|_| ()),
        };
        let (status, class) = match result {
            Ok(Ok(status)) => (status, class_of_status(status)),
            Ok(Err((status, Failure::Connection))) => (status, OutcomeClass::Connection),
            Ok(Err((status, Failure::Malformed))) => (status, OutcomeClass::Other),
            Ok(Err((status, Failure::Timeout))) => (status, OutcomeClass::Timeout),
            Err(_) => (0, OutcomeClass::Timeout),
        };
        o.statuses.push(status);
        o.class = class;
    }

    /// Returns the task's connection to its endpoint's idle pool.
    fn release(&self, conn: DirectConn) {
        if let Some(h) = conn.held {
            self.inner.checkin(h);
        }
    }
}

impl Inner {
    fn checkin(&self, h: Held) {
        if let Some(ep) = self.endpoints.get(h.endpoint) {
            ep.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(h.conn);
        }
    }

    async fn attempt(
        &self,
        e: usize,
        held: &mut Option<Held>,
        index: usize,
    ) -> Result<u16, (u16, Failure)> {
        let ep = &self.endpoints[e];
        let mut conn = match held.take() {
            Some(h) => h.conn,
            None => match ep.checkout() {
                Some(c) => c,
                None => ep.connect(self.connect).await.map_err(|f| (0, f))?,
            },
        };
        let request = &ep.requests[index % ep.requests.len()];
        match conn.exchange(request).await {
            Ok(answer) => {
                if answer.reusable {
                    *held = Some(Held { endpoint: e, conn });
                }
                Ok(answer.status)
            }
            Err((status, WireError::Io)) => Err((status, Failure::Connection)),
            Err((status, WireError::Malformed)) => Err((status, Failure::Malformed)),
        }
    }
}

const UA: &str = concat!("harness/", env!("CARGO_PKG_VERSION"));

impl Endpoint {
    async fn new(base: &str, bodies: &[Vec<u8>], key: &str) -> Result<Endpoint, String> {
        let uri: Uri = base
            .parse()
            .map_err(|e| format!("not a URL ({e}); write it as http://127.0.0.1:8080"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(format!(
                    "via: direct speaks plain http only, not {other}; use `via: client` for {other}"
                ))
            }
            None => return Err("no scheme; write it as http://127.0.0.1:8080".into()),
        }
        let authority = uri
            .authority()
            .ok_or("no host; write it as http://127.0.0.1:8080")?;
        let port = authority.port_u16().unwrap_or(80);
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let addr = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host} resolves to no address"))?;
        let path = format!("{}/chat/completions", uri.path().trim_end_matches('/'));
        let requests = bodies
            .iter()
            .map(|body| {
                let mut r = format!(
                    "POST {path} HTTP/1.1\r\nhost: {authority}\r\nauthorization: Bearer {key}\r\n\
                     content-type: application/json\r\naccept: application/json\r\n\
                     user-agent: {UA}\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(body);
                r
            })
            .collect();
        Ok(Endpoint {
            addr,
            requests,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn checkout(&self) -> Option<Conn> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    async fn connect(&self, limit: Duration) -> Result<Conn, Failure> {
        let tcp = match timeout(limit, TcpStream::connect(self.addr)).await {
            Err(_) => return Err(Failure::Timeout),
            Ok(Err(_)) => return Err(Failure::Connection),
            Ok(Ok(t)) => t,
        };
        let _ = tcp.set_nodelay(true);
        Ok(Conn::new(tcp))
    }
}

/// The report class of a final status.
pub fn class_of_status(status: u16) -> OutcomeClass {
    match status {
        200..=299 => OutcomeClass::Ok,
        429 => OutcomeClass::Http429,
        500..=599 => OutcomeClass::Http5xx,
        400..=499 => OutcomeClass::Http4xx,
        _ => OutcomeClass::Other,
    }
}
