//! Each fault kind as a client observes it on the wire.

mod common;
use common::*;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(5);

async fn with_fault(fault: &str, tokens: u32) -> mock_server::MockServer {
    start(&format!("{}faults: [ {fault} ]\n", instant(tokens))).await
}

#[tokio::test]
async fn status_with_retry_headers() {
    let s = with_fault(
        "{status: {code: 429, retry_after: 2, retry_after_ms: 1500, should_retry: true}}",
        3,
    )
    .await;
    let r = chat(&client(), &s.base_urls()[0], CHAT).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(r.headers()["retry-after-ms"], "1500");
    assert_eq!(r.headers()["x-should-retry"], "true");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "Rate Limit Reached");
    assert_eq!(s.counters().fault("status"), 1);
    s.shutdown().await;
}

#[tokio::test]
async fn reset_before_any_byte() {
    let s = with_fault("{reset: {}}", 3).await;
    let (bytes, end) = raw(s.addrs()[0], &post("/chat/completions", CHAT), WAIT).await;
    assert_eq!((bytes.len(), end), (0, End::Reset));
    s.shutdown().await;
}

#[tokio::test]
async fn close_mid_body_json_and_stream() {
    let s = with_fault("{close_mid_body: {}}", 20).await;
    let (bytes, end) = raw(s.addrs()[0], &post("/chat/completions", CHAT), WAIT).await;
    assert_eq!(end, End::Fin);
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"));
    let declared: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        !body.is_empty() && body.len() < declared,
        "{} of {declared}",
        body.len()
    );
    let (bytes, end) = raw(s.addrs()[0], &post("/chat/completions", CHAT_STREAM), WAIT).await;
    assert_eq!(end, End::Fin);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 200") && text.contains("text/event-stream"));
    assert!(data_lines(&bytes).is_empty(), "headers only: {text}");
    s.shutdown().await;
}

#[tokio::test]
async fn truncated_json_keeps_framing() {
    let s = with_fault("{truncated_json: {}}", 5).await;
    let r = chat(&client(), &s.base_urls()[0], CHAT).await;
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.unwrap();
    assert!(body.starts_with(b"{\"id\""));
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
    s.shutdown().await;
}

#[tokio::test]
async fn stall_sends_nothing_and_frees_the_connection_when_client_leaves() {
    let s = with_fault("{stall: {}}", 3).await;
    let (bytes, end) = raw(
        s.addrs()[0],
        &post("/chat/completions", CHAT),
        Duration::from_millis(400),
    )
    .await;
    assert_eq!((bytes.len(), end), (0, End::Timeout));
    // The raw stream was dropped by `raw`; the server must notice and let go.
    let deadline = Instant::now() + Duration::from_secs(3);
    while s.counters().nodes[0].open_connections > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.counters().nodes[0].open_connections, 0);
    s.shutdown().await;
}

#[tokio::test]
async fn stream_drop_fin_and_rst_after_n_tokens() {
    for (mode, want) in [("fin", End::Fin), ("rst", End::Reset)] {
        let s = with_fault(
            &format!("{{stream_drop: {{after_tokens: 4, mode: {mode}}}}}"),
            30,
        )
        .await;
        let (bytes, end) = raw(s.addrs()[0], &post("/chat/completions", CHAT_STREAM), WAIT).await;
        assert_eq!(end, want, "{mode}");
        assert_eq!(token_chunks(&bytes), 4, "{mode}");
        assert!(!data_lines(&bytes).iter().any(|d| d == "[DONE]"));
        // No terminating zero-length chunk: the HTTP body was cut.
        assert!(!bytes.ends_with(b"0\r\n\r\n"), "{mode}");
        s.shutdown().await;
    }
}

#[tokio::test]
async fn stream_stall_after_n_tokens() {
    let s = with_fault("{stream_stall: {after_tokens: 3}}", 30).await;
    let (bytes, end) = raw(
        s.addrs()[0],
        &post("/chat/completions", CHAT_STREAM),
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(end, End::Timeout);
    assert_eq!(token_chunks(&bytes), 3);
    s.shutdown().await;
}

#[tokio::test]
async fn slow_drip_paces_tokens() {
    let s = with_fault("{slow_drip: {tokens_per_second: 20}}", 6).await;
    let t = Instant::now();
    let (bytes, end) = raw(s.addrs()[0], &post("/chat/completions", CHAT_STREAM), WAIT).await;
    assert_eq!(end, End::Fin);
    assert_eq!(token_chunks(&bytes), 6);
    // 5 gaps at 50ms each.
    assert!(
        t.elapsed() >= Duration::from_millis(240),
        "{:?}",
        t.elapsed()
    );
    s.shutdown().await;
}

#[tokio::test]
async fn malformed_chunk_and_missing_done() {
    let s = with_fault(
        "{malformed_chunk: {after_tokens: 2}}, {missing_done: {}}",
        5,
    )
    .await;
    let r = chat(&client(), &s.base_urls()[0], CHAT_STREAM).await;
    let bytes = r.bytes().await.unwrap();
    let lines = data_lines(&bytes);
    let broken = lines
        .iter()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
        .count();
    assert_eq!(broken, 1);
    assert!(!lines.iter().any(|l| l == "[DONE]"));
    assert_eq!(
        token_chunks(&bytes),
        5,
        "the stream goes on after the bad chunk"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn queue_wait_keep_alives_stream_and_json() {
    let s = with_fault("{queue_wait: {wait: 350ms, keep_alive_every: 100ms}}", 3).await;
    let (bytes, end) = raw(s.addrs()[0], &post("/chat/completions", CHAT_STREAM), WAIT).await;
    assert_eq!(end, End::Fin);
    let text = String::from_utf8_lossy(&bytes);
    assert_eq!(text.matches(": keep-alive\n\n").count(), 3, "{text}");
    assert!(text.find(": keep-alive").unwrap() < text.find("data: ").unwrap());
    assert!(data_lines(&bytes).iter().any(|d| d == "[DONE]"));
    // Non-streaming: blank lines, then the JSON; clients that trim parse it.
    let r = chat(&client(), &s.base_urls()[0], CHAT).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.starts_with("\n\n\n{"), "{body:?}");
    let v: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(v["object"], "chat.completion");
    s.shutdown().await;
}

#[tokio::test]
async fn queue_wait_then_close() {
    let s = with_fault(
        "{queue_wait: {wait: 250ms, keep_alive_every: 100ms, then: close}}",
        3,
    )
    .await;
    let (bytes, end) = raw(s.addrs()[0], &post("/chat/completions", CHAT_STREAM), WAIT).await;
    assert_eq!(end, End::Fin);
    assert!(data_lines(&bytes).is_empty());
    assert_eq!(
        String::from_utf8_lossy(&bytes)
            .matches(": keep-alive")
            .count(),
        2
    );
    s.shutdown().await;
}

#[tokio::test]
async fn latency_before_headers() {
    let s = with_fault("{latency: {delay: 300ms}}", 3).await;
    let t = Instant::now();
    let r = chat(&client(), &s.base_urls()[0], CHAT).await;
    assert!(t.elapsed() >= Duration::from_millis(290));
    assert_eq!(r.status(), 200);
    s.shutdown().await;
}

#[tokio::test]
async fn capacity_rejects_then_queues() {
    let yaml = "generation: { ttft: 300ms, tokens_per_second: unlimited, output_tokens: 2 }\ncapacity: { max_concurrent: 1 }\n";
    let s = start(yaml).await;
    let base = s.base_urls()[0].clone();
    let c = client();
    let (a, b) = tokio::join!(chat(&c, &base, CHAT), async {
        tokio::time::sleep(Duration::from_millis(80)).await;
        chat(&c, &base, CHAT).await
    });
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 429));
    assert_eq!(s.counters().fault("capacity"), 1);
    s.shutdown().await;
    let queued = yaml.replace(
        "max_concurrent: 1 }",
        "max_concurrent: 1, when_full: queue, keep_alive_every: 100ms }",
    );
    let s = start(&queued).await;
    let base = s.base_urls()[0].clone();
    let (a, b) = tokio::join!(chat(&c, &base, CHAT), async {
        tokio::time::sleep(Duration::from_millis(80)).await;
        chat(&c, &base, CHAT).await
    });
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let body = b.text().await.unwrap();
    assert!(
        body.starts_with('\n'),
        "keep-alive blank lines while queued: {body:?}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(body.trim()).is_ok());
    assert_eq!(s.counters().fault("capacity"), 1);
    s.shutdown().await;
}
