//! `node_down` on the wire: a refusing node answers a connect with
//! ECONNREFUSED and resets its open connections; a black-holed node lets a
//! connect hang and leaves requests on open connections unanswered; both
//! come back on the same port when the phase ends, and the other nodes never
//! notice.

mod common;
use common::*;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep_until, timeout, Instant};

const WAIT: Duration = Duration::from_secs(5);

/// A keep-alive request (no `Connection: close`).
fn keep_alive() -> Vec<u8> {
    let s = String::from_utf8(post("/chat/completions", CHAT)).unwrap();
    s.replace("Connection: close\r\n", "").into_bytes()
}

/// Sends a keep-alive request on `s` and reads one whole response; its status.
async fn exchange(s: &mut TcpStream) -> u16 {
    s.write_all(&keep_alive()).await.expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = timeout(WAIT, s.read(&mut chunk))
            .await
            .expect("answer in time")
            .expect("read");
        assert!(n > 0, "closed before a whole response");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .expect("content-length")
                .parse()
                .unwrap();
            if body.len() >= len {
                return head[9..12].parse().unwrap();
            }
        }
    }
}

async fn served(addr: SocketAddr) -> bool {
    let (bytes, _) = raw(addr, &post("/chat/completions", CHAT), WAIT).await;
    bytes.starts_with(b"HTTP/1.1 200")
}

async fn down_for(mode: &str, node: usize) -> (mock_server::MockServer, Instant) {
    let s = start(&format!(
        "nodes: 2\n{}phases:\n  - {{name: down, at: 400ms, for: 600ms, nodes: [{node}], faults: [ {{node_down: {{mode: {mode}}}}} ]}}\n",
        instant(3)
    ))
    .await;
    // The phase clock starts at server start; measure from just before.
    (s, Instant::now())
}

#[tokio::test]
async fn refuse_refuses_connects_resets_pooled_connections_then_recovers() {
    let (s, t0) = down_for("refuse", 1).await;
    let (a0, a1) = (s.addrs()[0], s.addrs()[1]);
    let mut pooled = TcpStream::connect(a1).await.unwrap();
    assert_eq!(exchange(&mut pooled).await, 200);

    sleep_until(t0 + Duration::from_millis(550)).await;
    let e = TcpStream::connect(a1).await.expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    let (_, end) = read_all(&mut pooled, Duration::from_millis(200)).await;
    assert_eq!(end, End::Reset, "the idle pooled connection was reset");
    assert!(served(a0).await, "node 0 is not affected");

    sleep_until(t0 + Duration::from_millis(1150)).await;
    assert!(served(a1).await, "node 1 is back on its port");
    s.shutdown().await;
}

#[tokio::test]
async fn blackhole_hangs_connects_and_silences_pooled_connections_then_recovers() {
    let (s, t0) = down_for("blackhole", 0).await;
    let (a0, a1) = (s.addrs()[0], s.addrs()[1]);
    let mut pooled = TcpStream::connect(a0).await.unwrap();
    assert_eq!(exchange(&mut pooled).await, 200);

    sleep_until(t0 + Duration::from_millis(550)).await;
    let started = Instant::now();
    let hung = timeout(Duration::from_millis(300), TcpStream::connect(a0)).await;
    assert!(
        hung.is_err(),
        "connect neither accepted nor refused: {hung:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    pooled.write_all(&keep_alive()).await.unwrap();
    let (bytes, end) = read_all(&mut pooled, Duration::from_millis(200)).await;
    assert_eq!(
        (bytes.len(), end),
        (0, End::Timeout),
        "no answer on the open connection"
    );
    assert!(served(a1).await, "node 1 is not affected");

    sleep_until(t0 + Duration::from_millis(1150)).await;
    assert!(served(a0).await, "node 0 is back on its port");
    s.shutdown().await;
}
