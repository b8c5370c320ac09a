//! Bad input and lifecycle: garbage, slow clients, disconnects, binding rules, shutdown.

mod common;
use common::*;
use mock_server::{ServerConfig, StartOptions};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn garbage_and_slow_headers_are_dropped_and_server_lives() {
    let s = start("header_read_timeout: 300ms").await;
    let addr = s.addrs()[0];
    let (bytes, end) = raw(
        addr,
        b"\x00\x01\x02 garbage\r\n\r\n",
        Duration::from_secs(3),
    )
    .await;
    assert_ne!(end, End::Timeout);
    assert!(bytes.is_empty() || bytes.starts_with(b"HTTP/1.1 400"));
    // A client that never finishes its head is cut off by the header
    // timeout, after 1x to 2x of it as documented (300..600 ms; plus 300 ms
    // of scheduling slack on a busy machine).
    let t = Instant::now();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /chat/completions HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (_, end) = read_all(&mut slow, Duration::from_secs(5)).await;
    assert_ne!(end, End::Timeout);
    let cut = t.elapsed();
    assert!(
        cut >= Duration::from_millis(300) && cut < Duration::from_millis(900),
        "cut after {cut:?}, documented 300..600 ms"
    );
    // A body shorter than its Content-Length, then the client leaves.
    let mut s2 = TcpStream::connect(addr).await.unwrap();
    s2.write_all(b"POST /chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 100\r\n\r\n{\"mo").await.unwrap();
    drop(s2);
    // Still serving.
    let r = chat(&client(), &s.base_urls()[0], CHAT).await;
    assert_eq!(r.status(), 200);
    s.shutdown().await;
}

#[tokio::test]
async fn client_disconnect_mid_stream_frees_everything() {
    let s = start("generation: { ttft: 0ms, tokens_per_second: 50, output_tokens: 1000 }").await;
    let mut conns = Vec::new();
    for _ in 0..20 {
        let mut c = TcpStream::connect(s.addrs()[0]).await.unwrap();
        c.write_all(&post("/chat/completions", CHAT_STREAM))
            .await
            .unwrap();
        conns.push(c);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.counters().nodes[0].open_connections, 20);
    drop(conns);
    let deadline = Instant::now() + Duration::from_secs(3);
    while s.counters().nodes[0].open_connections > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.counters().nodes[0].open_connections, 0);
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_aborts_in_flight_streams_promptly() {
    let s = start("faults: [ {stall: {}} ]").await;
    let mut conns = Vec::new();
    for _ in 0..5 {
        let mut c = TcpStream::connect(s.addrs()[0]).await.unwrap();
        c.write_all(&post("/chat/completions", CHAT)).await.unwrap();
        conns.push(c);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = s.addrs()[0];
    let t = Instant::now();
    s.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    for c in &mut conns {
        let (_, end) = read_all(c, Duration::from_secs(2)).await;
        assert_ne!(end, End::Timeout, "in-flight connections are closed");
    }
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn refuses_non_loopback_without_flag() {
    let opts = StartOptions {
        host: "0.0.0.0".parse().unwrap(),
        ..StartOptions::default()
    };
    let e = mock_server::start(ServerConfig::default(), opts)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--allow-non-loopback"), "{e}");
}

#[tokio::test]
async fn nodes_and_seed_overrides() {
    let opts = StartOptions {
        nodes: Some(3),
        ..StartOptions::default()
    };
    let s = mock_server::start(ServerConfig::default(), opts)
        .await
        .unwrap();
    assert_eq!(s.addrs().len(), 3);
    assert_eq!(s.counters().nodes.len(), 3);
    let r = client()
        .get(format!("{}/models", s.base_urls()[2]))
        .bearer_auth("k")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-mock-node"], "2");
    s.shutdown().await;
}

#[tokio::test]
async fn head_watchdog_spares_long_streams_and_idle_keep_alive() {
    let s = start("header_read_timeout: 150ms\ngeneration: { ttft: 0ms, tokens_per_second: 10, output_tokens: 8 }").await;
    // A stream longer than several watchdog periods completes.
    let (bytes, end) = raw(
        s.addrs()[0],
        &post("/chat/completions", CHAT_STREAM),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(end, End::Fin);
    assert_eq!(
        data_lines(&bytes).last().map(String::as_str),
        Some("[DONE]")
    );
    // An idle keep-alive connection is reused after idling past the limit.
    let c = client();
    let base = s.base_urls()[0].clone();
    assert_eq!(
        c.get(format!("{base}/models"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        c.get(format!("{base}/models"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        s.counters().nodes[0].connections_total,
        2,
        "raw + one reused keep-alive connection"
    );
    s.shutdown().await;
}
