//! Listeners and connections: accept loop, one tracked task per connection,
//! the socket wrapper that turns a requested close into a FIN or a reset
//! (SO_LINGER 0 set just before the socket is dropped), the watchdog that
//! cuts slow heads and idle keep-alive connections, and the per-node
//! connection cap. The node's listening socket is its `door` (down nodes).
//! The per-connection context requests see is in `ctl.rs`.

use super::ctl::ConnCtl;
use super::door::{self, Door};
use super::guard::Guard;
use super::handler;
use super::state::Shared;
use crate::api::errors::ErrorReply;
use crate::config::fault::NodeDownMode;
use hyper::rt::Executor;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use socket2::SockRef;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The TCP stream hyper sees; on drop it turns the close into a reset when asked.
struct FaultIo {
    inner: TcpStream,
    ctl: Arc<ConnCtl>,
}

impl Drop for FaultIo {
    fn drop(&mut self) {
        if self.ctl.wants_rst() {
            // Linger 0 makes close() send RST instead of FIN.
            let _ = SockRef::from(&self.inner).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for FaultIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.ctl.note_read(&buf.filled()[before..]);
        }
        r
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Spawns HTTP/2 stream tasks on the tracker, so shutdown waits for them too.
#[derive(Clone)]
struct TrackedExecutor(TaskTracker);

impl<F> Executor<F> for TrackedExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        self.0.spawn(fut);
    }
}

/// Accepts connections on `listener` for node `index` until `cancel`.
pub async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    index: usize,
    guard: Arc<Guard>,
    cancel: CancellationToken,
    tracker: TaskTracker,
) {
    let mut builder = auto::Builder::new(TrackedExecutor(tracker.clone()));
    // hyper's own header_read_timeout arms a timer per request, which cost
    // ~10% of fault-free throughput; one watchdog timer per connection
    // (see `watch_heads`) enforces the same limit, within 2x.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let addr = shared.nodes[index].addr;
    let mut door = Door::Up(listener);
    // The node's open connections, for a `node_down: refuse` to reset them.
    let mut conns: Vec<Weak<ConnCtl>> = Vec::new();
    let mut tick = tokio::time::interval(door::TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // One log line per stretch of failing accepts, not one every 20 ms.
    let mut failing = false;
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => {
                door = check_door(door, &shared, index, addr, &mut conns);
                continue;
            }
            r = accept(&door) => r,
        };
        let stream = match accepted {
            Ok((s, _)) => {
                failing = false;
                s
            }
            Err(e) => {
                if !failing {
                    log_accept_failure(&shared, index, &e);
                    failing = true;
                }
                // Out of file descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let counters = &shared.nodes[index].counters;
        if counters.open() >= guard.max_connections {
            counters.status(503);
            tracker.spawn(refuse_connection(stream));
            continue;
        }
        let local = stream.local_addr().ok().map(|a| a.ip());
        let ctl = Arc::new(ConnCtl::new(
            shared.clone(),
            index,
            guard.clone(),
            local,
            cancel.child_token(),
        ));
        if conns.len() >= 64 && conns.len().is_power_of_two() {
            conns.retain(|c| c.strong_count() > 0);
        }
        conns.push(Arc::downgrade(&ctl));
        let io = TokioIo::new(FaultIo {
            inner: stream,
            ctl: ctl.clone(),
        });
        let builder = builder.clone();
        let head_timeout = shared.config.header_read_timeout.0;
        let idle_timeout = shared.config.idle_timeout.0;
        tracker.spawn(async move {
            let _guard = ctl.shared.nodes[index].counters.open_connection();
            let svc_ctl = ctl.clone();
            let svc = hyper::service::service_fn(move |req| handler::handle(svc_ctl.clone(), req));
            let conn = builder.serve_connection(io, svc);
            tokio::select! {
                biased;
                _ = conn => {}
                _ = ctl.kill().cancelled() => {}
                _ = watchdog(&ctl, head_timeout, idle_timeout) => {}
            }
        });
    }
}

/// Accepts on the door's listener; never resolves while the node is down.
async fn accept(door: &Door) -> io::Result<(TcpStream, std::net::SocketAddr)> {
    match door.listener() {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Opens, closes or black-holes the door as the fault set says now. A
/// failed switch (the port briefly taken) leaves the node down until the
/// next tick tries again.
fn check_door(
    door: Door,
    shared: &Shared,
    index: usize,
    addr: std::net::SocketAddr,
    conns: &mut Vec<Weak<ConnCtl>>,
) -> Door {
    let want = shared
        .faults()
        .and_then(|f| f.node_down(shared.elapsed(), index));
    if want == door.mode() {
        return door;
    }
    if want == Some(NodeDownMode::Refuse) {
        for c in conns.drain(..).filter_map(|c| c.upgrade()) {
            c.close(true);
        }
    }
    tracing::info!(node = index, ?want, "node door");
    match door.switch(want, addr) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(node = index, error = %e, "node door: could not switch; retrying");
            Door::Refusing
        }
    }
}

/// Returns when the connection must be cut: a request head has been
/// arriving for longer than `head` (slow-loris protection, HTTP/1 only), or
/// nothing at all happened on it for `idle` (a keep-alive connection left
/// open; `0` = never). One timer per connection, ticking every
/// `min(head, idle)`, so a cut comes within one tick after its limit.
async fn watchdog(ctl: &ConnCtl, head: Duration, idle: Duration) {
    let head = head.max(Duration::from_millis(1));
    let tick = if idle.is_zero() { head } else { head.min(idle) };
    let (mut pending_for, mut idle_for) = (Duration::ZERO, Duration::ZERO);
    let mut started = ctl.requests_started();
    let mut bytes = ctl.bytes_read();
    loop {
        tokio::time::sleep(tick).await;
        let now_started = ctl.requests_started();
        let now_bytes = ctl.bytes_read();
        let pending = !ctl.is_h2() && ctl.head_pending();
        pending_for = if pending && now_started == started {
            pending_for + tick
        } else {
            Duration::ZERO
        };
        let quiet = !pending && !ctl.busy() && now_started == started && now_bytes == bytes;
        idle_for = if quiet {
            idle_for + tick
        } else {
            Duration::ZERO
        };
        if pending_for >= head || (!idle.is_zero() && idle_for >= idle) {
            return;
        }
        started = now_started;
        bytes = now_bytes;
    }
}

/// Answers a connection over the per-node cap with DeepSeek's 503 body and
/// closes it, rather than letting it wait unserved (the client sees a
/// retryable overload, not a stall).
async fn refuse_connection(mut stream: TcpStream) {
    use tokio::io::AsyncWriteExt;
    let e = ErrorReply::new(
        503,
        Some("Server Overloaded: too many open connections on this node"),
        None,
    );
    let mut head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        e.body.len()
    )
    .into_bytes();
    head.extend_from_slice(&e.body);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&head).await?;
        stream.shutdown().await
    })
    .await;
}

/// The one line a failing `accept` logs: out of file descriptors says
/// what to change.
fn log_accept_failure(shared: &Shared, index: usize, e: &io::Error) {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    let open = shared.nodes[index].counters.open();
    match e.raw_os_error() {
        Some(EMFILE | ENFILE) => tracing::error!(
            node = index,
            open_connections = open,
            "out of file descriptors, new connections wait in the backlog: raise `ulimit -n`, lower server.max_connections or server.idle_timeout ({e})"
        ),
        _ => tracing::warn!(node = index, error = %e, "accept failed"),
    }
}
