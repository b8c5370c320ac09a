//! Listeners and connections: accept loop, one tracked task per connection,
//! and the hook that lets a request close its own connection with a FIN or
//! a reset (SO_LINGER 0 set just before the socket is dropped).

use super::handler;
use super::state::Shared;
use hyper::rt::Executor;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use socket2::SockRef;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Per-connection context handed to every request: the server state, the
/// node, and the hook that lets request handling end its own connection.
#[derive(Debug)]
pub struct ConnCtl {
    /// Server state.
    pub shared: Arc<Shared>,
    /// Node index.
    pub index: usize,
    rst: AtomicBool,
    // A child of the server's token: cancelled by shutdown or by `close`.
    // Per connection, so polling it never contends with other connections.
    kill: CancellationToken,
}

impl ConnCtl {
    /// Closes the connection: RST when `rst`, else FIN.
    pub fn close(&self, rst: bool) {
        if rst {
            self.rst.store(true, Ordering::Relaxed);
        }
        self.kill.cancel();
    }
}

/// The TCP stream hyper sees; on drop it turns the close into a reset when asked.
struct FaultIo {
    inner: TcpStream,
    ctl: Arc<ConnCtl>,
}

impl Drop for FaultIo {
    fn drop(&mut self) {
        if self.ctl.rst.load(Ordering::Relaxed) {
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
        Pin::new(&mut self.inner).poll_read(cx, buf)
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
    cancel: CancellationToken,
    tracker: TaskTracker,
) {
    let mut builder = auto::Builder::new(TrackedExecutor(tracker.clone()));
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.header_read_timeout.0)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            r = listener.accept() => r,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of file descriptors or similar: back off instead of spinning.
                tracing::warn!(node = index, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let ctl = Arc::new(ConnCtl {
            shared: shared.clone(),
            index,
            rst: AtomicBool::new(false),
            kill: cancel.child_token(),
        });
        let io = TokioIo::new(FaultIo {
            inner: stream,
            ctl: ctl.clone(),
        });
        let builder = builder.clone();
        tracker.spawn(async move {
            let _guard = ctl.shared.nodes[index].counters.open_connection();
            let svc_ctl = ctl.clone();
            let svc = hyper::service::service_fn(move |req| handler::handle(svc_ctl.clone(), req));
            let conn = builder.serve_connection(io, svc);
            tokio::select! {
                biased;
                _ = conn => {}
                _ = ctl.kill.cancelled() => {}
            }
        });
    }
}
