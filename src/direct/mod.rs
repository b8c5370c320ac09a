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

pub mod wire;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use http::Uri;
use resilient_client::ChatRequest;
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at, Instant, Sleep};

use crate::outcome::{Outcome, OutcomeClass};
use wire::{Conn, WireError};

/// Sends requests over plain HTTP/1.1 connections; shared by the tasks of
/// one load thread (each thread has its own, see [`Direct::fork`]).
pub struct Direct {
    endpoints: Vec<Endpoint>,
    next: AtomicUsize,
    connect: Duration,
    total: Duration,
}

impl std::fmt::Debug for Direct {
    // The prebuilt requests hold the API key: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("endpoints", &self.endpoints.len())
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
pub struct Held {
    endpoint: usize,
    conn: Conn,
}

/// Why one request ended without a complete answer.
enum Failure {
    Connection,
    Malformed,
    Timeout,
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
    ) -> Result<Direct, String> {
        let bodies = requests
            .iter()
            .map(serde_json::to_vec)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("load.requests: cannot serialize: {e}"))?;
        if key.bytes().any(|b| b.is_ascii_control()) {
            return Err("the API key holds control characters a header cannot carry".into());
        }
        let mut endpoints = Vec::with_capacity(base_urls.len());
        for (i, base) in base_urls.iter().enumerate() {
            endpoints.push(
                Endpoint::new(base, &bodies, key)
                    .await
                    .map_err(|e| format!("load.via: direct: endpoint {i} ({base}): {e}"))?,
            );
        }
        if endpoints.is_empty() {
            return Err("load.via: direct: no endpoint to send to".into());
        }
        Ok(Direct {
            endpoints,
            next: AtomicUsize::new(0),
            connect,
            total,
        })
    }

    /// A copy sharing no memory with `self` (request bytes, idle pools): a
    /// load thread gets its own, so no lock or cache line is touched by two
    /// cores on every request.
    pub fn fork(&self) -> Direct {
        Direct {
            endpoints: self
                .endpoints
                .iter()
                .map(|e| Endpoint {
                    addr: e.addr,
                    requests: e.requests.clone(),
                    idle: Mutex::new(Vec::new()),
                })
                .collect(),
            next: AtomicUsize::new(0),
            connect: self.connect,
            total: self.total,
        }
    }

    /// Sends body `index` to the next endpoint (round robin) and fills in
    /// `o`: one attempt, its status (0 when none came), and the class.
    /// `held` is the caller's connection: used when it goes to the chosen
    /// endpoint, and left there after a complete answer (a closed-model
    /// user keeps its own, as `oha -c N` does); otherwise one comes from the
    /// endpoint's idle pool or a new connect.
    pub async fn send(
        &self,
        held: &mut Option<Held>,
        index: usize,
        start: Instant,
        watchdog: Option<&mut Watchdog>,
        o: &mut Outcome,
    ) {
        let n = self.endpoints.len();
        let e = if n == 1 {
            0
        } else {
            self.next.fetch_add(1, Ordering::Relaxed) % n
        };
        if held.as_ref().is_some_and(|h| h.endpoint != e) {
            if let Some(h) = held.take() {
                self.checkin(h);
            }
        }
        o.attempts = 1;
        let attempt = self.attempt(e, held, index);
        let result = match watchdog {
            Some(w) => {
                w.arm(start, self.total);
                tokio::select! {
                    biased;
                    r = attempt => Ok(r),
                    () = w.sleep.as_mut() => Err(()),
                }
            }
            None => timeout_at(start + self.total, attempt)
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

    /// Returns a connection to its endpoint's idle pool.
    pub fn checkin(&self, h: Held) {
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

/// The `total` timeout of one closed-model user's requests, as one timer
/// re-armed only when it would fire too early: each request is then bounded
/// by between `total` and `total` + 1% (at least 1 ms), and the timer wheel
/// is touched about once per that slack instead of twice per request.
pub struct Watchdog {
    sleep: Pin<Box<Sleep>>,
    armed_until: Instant,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog")
            .field("armed_until", &self.armed_until)
            .finish_non_exhaustive()
    }
}

impl Watchdog {
    /// A watchdog not armed yet.
    pub fn new() -> Watchdog {
        let now = Instant::now();
        Watchdog {
            sleep: Box::pin(tokio::time::sleep_until(now)),
            armed_until: now,
        }
    }

    fn arm(&mut self, start: Instant, total: Duration) {
        let due = start + total;
        if self.armed_until < due {
            let slack = (total / 100).max(Duration::from_millis(1));
            self.armed_until = due + slack;
            self.sleep.as_mut().reset(self.armed_until);
        }
    }
}

impl Default for Watchdog {
    fn default() -> Self {
        Watchdog::new()
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
