//! The per-connection context that every request on a connection shares:
//! the server state, the node, the hook that lets request handling end its
//! own connection (FIN, or RST via SO_LINGER 0), and the byte and request
//! marks the head-timeout watchdog reads.
//!
//! A leaf of `server/`: `conn` (which owns the socket and the watchdog),
//! `handler` and `body` (which close the connection or hold it busy) depend
//! on it, and it on none of them.

use super::guard::Guard;
use super::state::Shared;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Per-connection context handed to every request.
#[derive(Debug)]
pub struct ConnCtl {
    /// Server state.
    pub shared: Arc<Shared>,
    /// Node index.
    pub index: usize,
    /// Who may use the control API, and the connection cap.
    pub guard: Arc<Guard>,
    /// The address this connection was accepted on (the name a client
    /// may use for the control API besides loopback ones).
    pub local: Option<IpAddr>,
    rst: AtomicBool,
    /// Bytes read from the client so far.
    read_bytes: AtomicU64,
    /// `read_bytes` when the last request started or ended.
    mark: AtomicU64,
    /// Requests started and requests in flight (head-timeout watchdog).
    started: AtomicU64,
    in_flight: AtomicU64,
    /// Set on an HTTP/2 preface: heads are h1-only, so the watchdog stands down.
    h2: AtomicBool,
    // A child of the server's token: cancelled by shutdown or by `close`.
    // Per connection, so polling it never contends with other connections.
    kill: CancellationToken,
}

impl ConnCtl {
    /// Context of a new connection on node `index`, accepted on `local`;
    /// `kill` ends it.
    pub fn new(
        shared: Arc<Shared>,
        index: usize,
        guard: Arc<Guard>,
        local: Option<IpAddr>,
        kill: CancellationToken,
    ) -> Self {
        ConnCtl {
            shared,
            index,
            guard,
            local,
            rst: AtomicBool::new(false),
            read_bytes: AtomicU64::new(0),
            mark: AtomicU64::new(0),
            started: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            h2: AtomicBool::new(false),
            kill,
        }
    }

    /// A request started; the guard marks its end.
    pub fn request_started(&self) -> RequestGuard<'_> {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.mark
            .store(self.read_bytes.load(Ordering::Relaxed), Ordering::Relaxed);
        RequestGuard(self)
    }

    /// Counts a streamed response body as in flight until it ends, so client
    /// bytes during it (HTTP/2 window updates) are not taken for a head.
    pub fn body_started(self: &Arc<Self>) -> BodyGuard {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        BodyGuard(self.clone())
    }

    /// Closes the connection: RST when `rst`, else FIN.
    pub fn close(&self, rst: bool) {
        if rst {
            self.rst.store(true, Ordering::Relaxed);
        }
        self.kill.cancel();
    }

    /// Cancelled when the connection must end (shutdown or [`close`](Self::close)).
    pub fn kill(&self) -> &CancellationToken {
        &self.kill
    }

    /// True once a request asked for a reset rather than a FIN.
    pub fn wants_rst(&self) -> bool {
        self.rst.load(Ordering::Relaxed)
    }

    /// Records bytes just read from the client.
    pub fn note_read(&self, bytes: &[u8]) {
        let before = self
            .read_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if before == 0 && bytes.starts_with(b"PRI * HTTP/2") {
            self.h2.store(true, Ordering::Relaxed);
        }
    }

    /// True when the client opened with the HTTP/2 preface.
    pub fn is_h2(&self) -> bool {
        self.h2.load(Ordering::Relaxed)
    }

    /// Requests started on this connection so far.
    pub fn requests_started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Bytes read from the client so far (the idle watchdog).
    pub fn bytes_read(&self) -> u64 {
        self.read_bytes.load(Ordering::Relaxed)
    }

    /// Requests (and streamed bodies) being handled now.
    pub fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) > 0
    }

    /// True when bytes arrived since the last request began or ended and no
    /// request is being handled: a request head is (still) coming in.
    pub fn head_pending(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
            && self.read_bytes.load(Ordering::Relaxed) > self.mark.load(Ordering::Relaxed)
    }
}

/// Ends a request for the head-timeout watchdog.
pub struct RequestGuard<'a>(&'a ConnCtl);

impl Drop for RequestGuard<'_> {
    fn drop(&mut self) {
        let c = self.0;
        // Body bytes read during the request are not part of a next head.
        c.mark
            .store(c.read_bytes.load(Ordering::Relaxed), Ordering::Relaxed);
        c.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Ends a streamed body for the head-timeout watchdog.
pub struct BodyGuard(Arc<ConnCtl>);

impl Drop for BodyGuard {
    fn drop(&mut self) {
        let c = &self.0;
        c.mark
            .store(c.read_bytes.load(Ordering::Relaxed), Ordering::Relaxed);
        c.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
