//! The client against the real fake DeepSeek server (`mock-server`) and its
//! faults. Bounds are generous: these assert behaviour, not speed.

use std::time::{Duration, Instant};

use futures::StreamExt;
use mock_server::{MockServer, ServerConfig, StartOptions};
use resilient_client::{
    BreakerState, ChatRequest, Client, ClientConfig, ClientEvent, Error, Message, Model,
    TimeoutPhase,
};

async fn server(yaml: &str) -> MockServer {
    let cfg: ServerConfig = serde_yaml::from_str(yaml).expect("server yaml");
    mock_server::start(cfg, StartOptions::default())
        .await
        .expect("server starts")
}

const FAST: &str = "generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: 6 }\n";

fn client(yaml: &str, srv: &MockServer) -> Client {
    let cfg: ClientConfig = serde_yaml::from_str(yaml).expect("client yaml");
    Client::builder(cfg)
        .endpoints(srv.base_urls())
        .api_key("sk-fake")
        .build()
        .expect("client builds")
}

fn req() -> ChatRequest {
    let mut r = ChatRequest::new(Model::V4Flash, vec![Message::user("hello there")]);
    r.max_tokens = Some(16);
    r
}

#[tokio::test]
async fn plain_call_parses_the_fake_answer() {
    let srv = server(FAST).await;
    let c = client("{}", &srv);
    let resp = c.chat(req()).await.expect("ok");
    assert!(!resp.content().unwrap_or("").is_empty());
    assert!(resp.usage.as_ref().is_some_and(|u| u.completion_tokens > 0));
    assert_eq!(resp.meta.statuses, vec![200]);
    srv.shutdown().await;
}

#[tokio::test]
async fn status_429_with_retry_after_is_waited_out() {
    let srv = server(&format!(
        "{FAST}phases:\n  - name: burst\n    at: 0s\n    for: 500ms\n    faults:\n      - status: {{ code: 429, retry_after: 1 }}\n"
    ))
    .await;
    let c = client("retry: { backoff: { base: 1ms, max: 5ms } }", &srv);
    let t0 = Instant::now();
    let resp = c.chat(req()).await.expect("answered after the wait");
    assert!(
        t0.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(resp.meta.statuses, vec![429, 200]);
    srv.shutdown().await;
}

#[tokio::test]
async fn a_503_burst_opens_the_breaker_then_half_open_recovers() {
    let srv = server(&format!(
        "{FAST}phases:\n  - name: burst\n    at: 0s\n    for: 1s\n    faults:\n      - status: {{ code: 503 }}\n"
    ))
    .await;
    let c = client(
        "retry: { max_attempts: 1 }\nbreaker: { window_size: 4, minimum_number_of_calls: 4, wait_duration_in_open: 1500ms, permitted_calls_in_half_open: 1 }",
        &srv,
    );
    let mut events = c.events();
    for _ in 0..4 {
        assert_eq!(c.chat(req()).await.unwrap_err().status(), Some(503));
    }
    assert_eq!(c.breaker_states(), vec![BreakerState::Open]);
    let e = c.chat(req()).await.unwrap_err();
    assert!(matches!(e.kind, Error::BreakerOpen), "{e}");
    assert_eq!(e.meta.attempts, 0);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let resp = c.chat(req()).await.expect("the probe succeeds");
    assert_eq!(resp.meta.attempts, 1);
    assert_eq!(c.breaker_states(), vec![BreakerState::Closed]);
    let mut seen = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let ClientEvent::BreakerTransition { from, to, .. } = ev {
            seen.push((from, to));
        }
    }
    use BreakerState::*;
    assert_eq!(
        seen,
        vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)]
    );
    srv.shutdown().await;
}

/// Node 0 weighted 10, node 1 weighted 1, smooth weighted round robin: a
/// retry may only reach node 1 by failover (without it the first call's
/// attempts all pick node 0).
fn heavy_first(failover: bool) -> String {
    format!(
        "endpoints: [{{url: 'http://n0', weight: 10}}, {{url: 'http://n1', weight: 1}}]\n\
         balancer: {{ strategy: weighted, ejection: {{ enabled: false }} }}\n\
         retry: {{ failover: {failover}, backoff: {{ base: 1ms, max: 5ms }} }}\n\
         breaker: {{ enabled: false }}"
    )
}

fn requests_on(srv: &MockServer) -> Vec<u64> {
    srv.counters().nodes.iter().map(|n| n.requests).collect()
}

#[tokio::test]
async fn connection_reset_is_retried_on_another_endpoint() {
    for failover in [true, false] {
        let srv = server(&format!(
            "nodes: 2\n{FAST}faults:\n  - reset: {{ nodes: [0] }}\n"
        ))
        .await;
        let c = client(&heavy_first(failover), &srv);
        let got = c.chat(req()).await;
        if failover {
            let resp = got.expect("failover saves it");
            assert_eq!(resp.meta.endpoints, vec![0, 1]);
            assert_eq!(resp.meta.statuses, vec![0, 200]);
            assert_eq!(requests_on(&srv), vec![1, 1]);
        } else {
            let e = got.expect_err("without failover the retries hit the resetting node");
            assert_eq!(e.meta.endpoints, vec![0, 0, 0]);
            assert_eq!(e.meta.statuses, vec![0, 0, 0]);
            assert_eq!(e.class(), "connection");
            assert_eq!(requests_on(&srv), vec![3, 0]);
        }
        srv.shutdown().await;
    }
}

#[tokio::test]
async fn stream_drop_before_the_first_token_is_retried() {
    for failover in [true, false] {
        let srv = server(&format!(
            "nodes: 2\n{FAST}faults:\n  - stream_drop: {{ after_tokens: 0, mode: rst, nodes: [0] }}\n"
        ))
        .await;
        let c = client(&heavy_first(failover), &srv);
        match c.chat_stream(req()).await {
            Ok(s) => {
                assert!(failover, "without failover no attempt reaches node 1");
                assert_eq!(s.meta().endpoints, vec![0, 1]);
                let items: Vec<_> = s.collect().await;
                let text: String = items
                    .iter()
                    .map(|i| i.as_ref().expect("no error item").content().unwrap_or(""))
                    .collect();
                assert!(!text.is_empty(), "tokens arrived: {items:?}");
                assert_eq!(requests_on(&srv), vec![1, 1]);
            }
            Err(e) => {
                assert!(!failover, "failover should have saved the stream: {e}");
                assert_eq!(e.meta.endpoints, vec![0, 0, 0]);
                assert_eq!(requests_on(&srv), vec![3, 0]);
            }
        }
        srv.shutdown().await;
    }
}

#[tokio::test]
async fn stream_drop_after_the_first_token_is_not_retried() {
    let srv = server(&format!(
        "{FAST}faults:\n  - stream_drop: {{ after_tokens: 3 }}\n"
    ))
    .await;
    let c = client("retry: { backoff: { base: 1ms, max: 5ms } }", &srv);
    let s = c.chat_stream(req()).await.expect("stream starts");
    assert_eq!(s.meta().attempts, 1);
    let items: Vec<_> = s.collect().await;
    let tokens = items
        .iter()
        .filter(|c| c.as_ref().is_ok_and(|c| c.has_token()))
        .count();
    assert_eq!(tokens, 3, "{items:?}");
    assert!(
        matches!(items.last(), Some(Err(Error::StreamBroken { .. }))),
        "{items:?}"
    );
    assert_eq!(
        srv.counters().nodes.iter().map(|n| n.requests).sum::<u64>(),
        1
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn keep_alives_during_a_queue_wait_do_not_hold_off_the_first_token_timeout() {
    let srv = server(&format!(
        "{FAST}faults:\n  - queue_wait: {{ wait: 5s, keep_alive_every: 100ms }}\n"
    ))
    .await;
    let c = client(
        "timeouts: { first_token: 800ms }\nretry: { max_attempts: 1 }",
        &srv,
    );
    let t0 = Instant::now();
    let e = c.chat_stream(req()).await.map(|_| ()).unwrap_err();
    assert!(
        matches!(
            e.kind,
            Error::Timeout {
                phase: TimeoutPhase::FirstToken
            }
        ),
        "{e}"
    );
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    srv.shutdown().await;
}

#[tokio::test]
async fn a_non_streamed_call_waits_out_keep_alive_blank_lines() {
    let srv = server(&format!(
        "{FAST}faults:\n  - queue_wait: {{ wait: 1500ms, keep_alive_every: 100ms }}\n"
    ))
    .await;
    // idle < wait: only the blank lines keep the call alive.
    let c = client(
        "timeouts: { idle: 500ms, first_token: 500ms }\nretry: { max_attempts: 1 }",
        &srv,
    );
    let t0 = Instant::now();
    let resp = c.chat(req()).await.expect("answer after the queue wait");
    assert!(
        t0.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        t0.elapsed()
    );
    assert!(!resp.content().unwrap_or("").is_empty());
    let c = client(
        "timeouts: { total: 800ms }\nretry: { max_attempts: 1 }",
        &srv,
    );
    let e = c.chat(req()).await.unwrap_err();
    assert!(
        matches!(
            e.kind,
            Error::Timeout {
                phase: TimeoutPhase::Total
            }
        ),
        "{e}"
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn the_total_deadline_bounds_stalls_and_retries() {
    let srv = server(&format!("{FAST}faults:\n  - stall: {{}}\n")).await;
    let c = client(
        "timeouts: { total: 1s, first_byte: 10s }\nretry: { max_attempts: 5 }",
        &srv,
    );
    let t0 = Instant::now();
    let e = c.chat(req()).await.unwrap_err();
    assert!(
        matches!(
            e.kind,
            Error::Timeout {
                phase: TimeoutPhase::Total
            }
        ),
        "{e}"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(950) && t0.elapsed() < Duration::from_secs(3),
        "{:?}",
        t0.elapsed()
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn consecutive_failures_eject_an_endpoint_and_traffic_avoids_it() {
    let srv = server(&format!(
        "nodes: 2\n{FAST}faults:\n  - status: {{ code: 500, nodes: [0] }}\n"
    ))
    .await;
    let c = client(
        "retry: { backoff: { base: 1ms, max: 5ms } }\nbreaker: { enabled: false }\nbalancer: { ejection: { consecutive_failures: 2, base_ejection_time: 30s } }",
        &srv,
    );
    let mut events = c.events();
    for _ in 0..4 {
        c.chat(req()).await.expect("failover answers");
    }
    let ejected: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            ClientEvent::Ejected { endpoint, .. } => Some(endpoint),
            _ => None,
        })
        .collect();
    assert_eq!(ejected, vec![srv.base_urls()[0].clone()]);
    for _ in 0..4 {
        let resp = c.chat(req()).await.unwrap();
        assert_eq!(
            resp.meta.endpoints,
            vec![1],
            "the ejected node gets no traffic"
        );
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn the_total_deadline_also_bounds_a_stalled_stream() {
    let srv = server(&format!(
        "{FAST}faults:\n  - stream_stall: {{ after_tokens: 2 }}\n"
    ))
    .await;
    let c = client("timeouts: { total: 1s, idle: 30s }", &srv);
    let t0 = Instant::now();
    let s = c.chat_stream(req()).await.expect("starts");
    let items: Vec<_> = s.collect().await;
    assert!(
        matches!(
            items.last(),
            Some(Err(Error::Timeout {
                phase: TimeoutPhase::Total
            }))
        ),
        "{items:?}"
    );
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    srv.shutdown().await;
}

#[tokio::test]
async fn truncated_json_is_a_retried_decode_error() {
    let srv = server(&format!("{FAST}faults:\n  - truncated_json: {{}}\n")).await;
    let c = client(
        "retry: { backoff: { base: 1ms, max: 5ms } }\nbreaker: { enabled: false }",
        &srv,
    );
    let e = c.chat(req()).await.unwrap_err();
    assert!(matches!(e.kind, Error::Decode { .. }), "{e}");
    assert_eq!(e.meta.statuses, vec![200, 200, 200]);
    srv.shutdown().await;
}

/// A loopback relay in front of `upstream` that records the first bytes of
/// every connection: the wire protocol as the client spoke it.
async fn preface_recorder(
    upstream: std::net::SocketAddr,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut first = vec![0u8; 24];
                let n = inbound.read(&mut first).await.unwrap_or(0);
                first.truncate(n);
                log.lock().unwrap().push(first.clone());
                let mut outbound = tokio::net::TcpStream::connect(upstream).await.unwrap();
                tokio::io::AsyncWriteExt::write_all(&mut outbound, &first)
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn http2_prior_knowledge_works_against_the_fake_server() {
    let srv = server(FAST).await;
    for http2 in [true, false] {
        let (url, seen) = preface_recorder(srv.addrs()[0]).await;
        let cfg: ClientConfig =
            serde_yaml::from_str(&format!("pool: {{ http2: {http2} }}")).unwrap();
        let c = Client::builder(cfg)
            .endpoints(vec![url])
            .api_key("sk-fake")
            .build()
            .unwrap();
        let resp = c.chat(req()).await.expect("call");
        assert_eq!(resp.meta.statuses, vec![200]);
        assert!(!resp.content().unwrap_or("").is_empty());
        let s = c.chat_stream(req()).await.expect("stream");
        let items: Vec<_> = s.collect().await;
        let text: String = items
            .iter()
            .map(|i| i.as_ref().expect("no error item").content().unwrap_or(""))
            .collect();
        assert!(!text.is_empty(), "{items:?}");
        let seen = seen.lock().unwrap().clone();
        assert!(!seen.is_empty());
        for first in &seen {
            assert_eq!(
                first.starts_with(b"PRI * HTTP/2.0"),
                http2,
                "http2: {http2}, connection opened with {:?}",
                String::from_utf8_lossy(first)
            );
        }
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn dropping_a_stream_mid_way_frees_its_slot() {
    let srv =
        server("generation: { ttft: 0ms, tokens_per_second: 20, output_tokens: 100 }\n").await;
    let c = client("bulkhead: { max_concurrent: 1, max_queue: 0 }", &srv);
    let mut s = c.chat_stream(req()).await.expect("starts");
    assert!(s.next().await.is_some());
    let e = c
        .chat(req())
        .await
        .expect_err("the stream holds the only slot");
    assert!(matches!(e.kind, Error::Shed));
    drop(s);
    let s = c.chat_stream(req()).await.expect("slot freed by the drop");
    drop(s);
    assert!(c.metrics_text().contains("outcome=\"cancelled\""));
    srv.shutdown().await;
}
