//! Every connection has a bound, and the control API a guard: idle
//! keep-alive connections are closed, a node over its connection cap
//! answers 503 with DeepSeek's body, control bodies time out, and foreign
//! `Host`/`Origin` headers cannot change the faults (issue 15).

mod common;
use common::*;
use mock_server::server::guard::ControlAccess;
use mock_server::{ServerConfig, StartOptions};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn start_with(yaml: &str, control: ControlAccess) -> mock_server::MockServer {
    let config: ServerConfig =
        mock_server::config::parse_yaml(yaml, "test.yaml").expect("valid test config");
    mock_server::start(
        config,
        StartOptions {
            control,
            ..StartOptions::default()
        },
    )
    .await
    .expect("server starts")
}

fn control_put(host: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "PUT /_mock/faults HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn status_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .split(' ')
        .nth(1)
        .unwrap_or("")
        .to_string()
}

/// Regression: idle connections were never closed, so ~1,000 of them under
/// a 1,024-descriptor limit silently stopped the server.
#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let s = start(&format!("idle_timeout: 300ms\n{}", instant(3))).await;
    let addr = s.addrs()[0];
    // One that never sends a byte, one that finished a request.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut used = TcpStream::connect(addr).await.unwrap();
    used.write_all(b"GET /models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    let (bytes, end) = read_all(&mut used, Duration::from_secs(5)).await;
    assert!(
        bytes.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(end, End::Fin);
    let (_, end) = read_all(&mut silent, Duration::from_secs(5)).await;
    assert_eq!(end, End::Fin);
    // Cut within one tick (300 ms) after the limit; generous for a busy machine.
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(s.counters().nodes[0].open_connections, 0);
    s.shutdown().await;
}

#[tokio::test]
async fn a_streaming_answer_is_not_idle() {
    let s = start(
        "idle_timeout: 200ms\ngeneration: { ttft: 0ms, tokens_per_second: 10, output_tokens: 8 }\n",
    )
    .await;
    let (bytes, end) = raw(
        s.addrs()[0],
        &post("/chat/completions", CHAT_STREAM),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(end, End::Fin);
    assert_eq!(token_chunks(&bytes), 8, "the whole ~800 ms stream arrived");
    s.shutdown().await;
}

#[tokio::test]
async fn a_node_over_its_connection_cap_answers_503_with_deepseeks_body() {
    let s = start(&format!("max_connections: 3\n{}", instant(3))).await;
    let addr = s.addrs()[0];
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while s.counters().nodes[0].open_connections < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (bytes, end) = raw(
        addr,
        &post("/chat/completions", CHAT),
        Duration::from_secs(3),
    )
    .await;
    assert_ne!(end, End::Timeout, "answered at once, not left waiting");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(body).expect(body);
    assert_eq!(v["error"]["code"], "server_overloaded");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1"),
        "{text}"
    );
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(3);
    while s.counters().nodes[0].open_connections > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = chat(&client(), &s.base_urls()[0], CHAT).await;
    assert_eq!(r.status(), 200);
    s.shutdown().await;
}

/// Regression: a control body sent a byte at a time was never cut.
#[tokio::test]
async fn a_slow_control_body_gets_408() {
    let s = start("body_read_timeout: 300ms\n").await;
    let mut c = TcpStream::connect(s.addrs()[0]).await.unwrap();
    c.write_all(b"PUT /_mock/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nf")
        .await
        .unwrap();
    let t = Instant::now();
    let (bytes, _) = read_all(&mut c, Duration::from_secs(5)).await;
    assert!(
        bytes.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    s.shutdown().await;
}

/// Regression: a cross-origin `text/plain` POST with a foreign `Host`
/// changed the faults (CSRF, DNS rebinding).
#[tokio::test]
async fn foreign_hosts_and_origins_cannot_change_the_faults() {
    let s = start(&instant(3)).await;
    let addr = s.addrs()[0];
    let port = addr.port();
    let evil = "faults: [ {status: {code: 503}} ]";
    let (b, _) = raw(
        addr,
        &control_put("attacker.example", "", evil),
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(status_of(&b), "403", "{}", String::from_utf8_lossy(&b));
    let (b, _) = raw(
        addr,
        &control_put(
            &format!("127.0.0.1:{port}"),
            "Origin: http://evil.example\r\n",
            evil,
        ),
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(status_of(&b), "403", "{}", String::from_utf8_lossy(&b));
    assert_eq!(chat(&client(), &s.base_urls()[0], CHAT).await.status(), 200);
    // The server's own name still works.
    let (b, _) = raw(
        addr,
        &control_put(&format!("localhost:{port}"), "", evil),
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(status_of(&b), "200", "{}", String::from_utf8_lossy(&b));
    assert_eq!(chat(&client(), &s.base_urls()[0], CHAT).await.status(), 503);
    s.shutdown().await;
}

#[tokio::test]
async fn the_control_api_can_be_disabled_or_need_a_token() {
    let off = start_with(
        &instant(3),
        ControlAccess {
            disabled: true,
            ..Default::default()
        },
    )
    .await;
    let r = client()
        .get(format!("{}/_mock/state", off.base_urls()[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    off.shutdown().await;

    let token = ControlAccess {
        token: Some("t0ken".into()),
        ..Default::default()
    };
    let s = start_with(&instant(3), token).await;
    let url = format!("{}/_mock/state", s.base_urls()[0]);
    assert_eq!(client().get(&url).send().await.unwrap().status(), 401);
    let r = client()
        .get(&url)
        .bearer_auth("t0ken")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The chat API keeps its own keys.
    assert_eq!(chat(&client(), &s.base_urls()[0], CHAT).await.status(), 200);
    s.shutdown().await;
}
