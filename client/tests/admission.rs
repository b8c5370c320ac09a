//! Admission and lifecycle: bulkhead shedding, the rate limiter, permits
//! freed on cancellation, the idle timer that keep-alive comments do not
//! reset (raw socket server), and the metrics endpoint.

use std::time::{Duration, Instant};

use futures::StreamExt;
use resilient_client::{
    ChatRequest, Client, ClientConfig, ClientEvent, Error, Message, Model, TimeoutPhase,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(yaml: &str, urls: Vec<String>) -> Client {
    let cfg: ClientConfig = serde_yaml::from_str(yaml).expect("client yaml");
    Client::builder(cfg)
        .endpoints(urls)
        .api_key("sk-x")
        .build()
        .expect("builds")
}

fn req() -> ChatRequest {
    ChatRequest::new(Model::V4Flash, vec![Message::user("hi")])
}

fn ok_body() -> serde_json::Value {
    serde_json::json!({"id":"c","object":"chat.completion","created":1,"model":"m",
        "choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]})
}

async fn slow_server(delay: Duration) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(ok_body())
                .set_delay(delay),
        )
        .mount(&s)
        .await;
    s
}

#[tokio::test]
async fn a_full_bulkhead_sheds_with_a_distinct_error() {
    let s = slow_server(Duration::from_millis(500)).await;
    let c = client(
        "bulkhead: { max_concurrent: 1, max_queue: 0 }",
        vec![s.uri()],
    );
    let mut events = c.events();
    let (a, b) = tokio::join!(c.chat(req()), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.chat(req()).await
    });
    assert!(a.is_ok());
    let e = b.expect_err("second call shed");
    assert!(matches!(e.kind, Error::Shed));
    assert_eq!((e.class(), e.meta.attempts), ("shed", 0));
    assert_eq!(events.try_recv().unwrap(), ClientEvent::Shed);
}

#[tokio::test]
async fn queued_calls_record_their_queue_wait() {
    let s = slow_server(Duration::from_millis(300)).await;
    let c = client(
        "bulkhead: { max_concurrent: 1, max_queue: 4, max_queue_wait: 5s }",
        vec![s.uri()],
    );
    let (a, b) = tokio::join!(c.chat(req()), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        c.chat(req()).await
    });
    assert_eq!(a.unwrap().meta.queue_wait, Duration::ZERO);
    let waited = b.unwrap().meta.queue_wait;
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
}

#[tokio::test]
async fn the_rate_limiter_rejects_beyond_its_wait_bound() {
    let s = slow_server(Duration::ZERO).await;
    let c = client(
        "rate_limit: { rate: 1/s, burst: 1, max_wait: 0s }",
        vec![s.uri()],
    );
    assert!(c.chat(req()).await.is_ok());
    let e = c.chat(req()).await.expect_err("over the rate");
    assert!(matches!(e.kind, Error::RateLimiterRejected));
    assert_eq!(e.class(), "rate_limited");

    let c = client(
        "rate_limit: { rate: 5/s, burst: 1, max_wait: 1s }",
        vec![s.uri()],
    );
    let mut events = c.events();
    assert!(c.chat(req()).await.is_ok());
    let resp = c.chat(req()).await.expect("waits for the slot");
    assert!(
        resp.meta.queue_wait >= Duration::from_millis(150),
        "{:?}",
        resp.meta.queue_wait
    );
    assert!(matches!(
        events.try_recv().unwrap(),
        ClientEvent::RateLimitedWait { .. }
    ));
}

#[tokio::test]
async fn dropping_a_call_frees_its_bulkhead_slot() {
    let s = slow_server(Duration::from_secs(5)).await;
    let c = client(
        "bulkhead: { max_concurrent: 1, max_queue: 0 }",
        vec![s.uri()],
    );
    for _ in 0..3 {
        let r = tokio::time::timeout(Duration::from_millis(100), c.chat(req())).await;
        assert!(r.is_err(), "cancelled by the caller");
    }
    // Had a slot leaked, this would be shed at once instead of timing out.
    let r = tokio::time::timeout(Duration::from_millis(100), c.chat(req())).await;
    assert!(r.is_err());
    assert!(
        c.metrics_text().contains("deepseek_client_in_flight 0"),
        "{}",
        c.metrics_text()
    );
}

/// A raw HTTP server: one SSE token, then only keep-alive comments.
async fn keepalive_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let token = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"}}]}\n\n";
                let chunk = |s: &str| format!("{:x}\r\n{s}\r\n", s.len());
                if sock.write_all(chunk(token).as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..100 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if sock
                        .write_all(chunk(": keep-alive\n\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn keep_alive_comments_do_not_reset_the_idle_timeout() {
    let url = keepalive_server().await;
    let c = client(
        "timeouts: { idle: 400ms }\nretry: { max_attempts: 1 }",
        vec![url],
    );
    let t0 = Instant::now();
    let mut s = c.chat_stream(req()).await.expect("first token arrives");
    let first = s.next().await.unwrap().unwrap();
    assert_eq!(first.content(), Some("hi"));
    let e = s
        .next()
        .await
        .unwrap()
        .expect_err("idle timeout despite keep-alives");
    assert!(
        matches!(
            e,
            Error::Timeout {
                phase: TimeoutPhase::Idle
            }
        ),
        "{e}"
    );
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert!(s.next().await.is_none(), "the stream ends after its error");
}

/// A raw HTTP server: 200 headers of a JSON answer, then silence.
async fn silent_body_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n3\r\n\n\n\n\r\n";
                let _ = sock.write_all(head.as_bytes()).await;
                tokio::time::sleep(Duration::from_secs(10)).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_silent_non_streamed_body_hits_the_idle_timeout() {
    let url = silent_body_server().await;
    let c = client(
        "timeouts: { idle: 300ms }\nretry: { max_attempts: 2, backoff: { base: 1ms, max: 2ms } }",
        vec![url],
    );
    let t0 = Instant::now();
    let e = c.chat(req()).await.unwrap_err();
    assert!(
        matches!(
            e.kind,
            Error::Timeout {
                phase: TimeoutPhase::Idle
            }
        ),
        "{e}"
    );
    assert_eq!(e.meta.statuses, vec![200, 200], "idle timeouts are retried");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn metrics_are_served_over_http() {
    let s = slow_server(Duration::ZERO).await;
    let c = client("{}", vec![s.uri()]);
    c.chat(req()).await.unwrap();
    let addr = c
        .serve_metrics("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK"));
    assert!(
        out.contains("deepseek_client_requests_total{outcome=\"ok\",status=\"200\"} 1"),
        "{out}"
    );
    assert!(
        out.contains("deepseek_client_attempts_total{endpoint=\"0\",status=\"200\"} 1"),
        "{out}"
    );
}

#[tokio::test]
async fn a_cancelled_half_open_probe_is_released() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&s)
        .await;
    let c = client(
        "retry: { max_attempts: 1 }\nbreaker: { window_size: 2, minimum_number_of_calls: 2, wait_duration_in_open: 200ms, permitted_calls_in_half_open: 1 }",
        vec![s.uri()],
    );
    for _ in 0..2 {
        assert_eq!(c.chat(req()).await.unwrap_err().status(), Some(503));
    }
    s.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(ok_body())
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&s)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The only probe hangs and is dropped by its caller.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), c.chat(req()))
            .await
            .is_err()
    );
    s.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .mount(&s)
        .await;
    let resp = c
        .chat(req())
        .await
        .expect("the freed probe slot admits this call");
    assert_eq!(resp.meta.attempts, 1);
    assert_eq!(
        c.breaker_states(),
        vec![resilient_client::BreakerState::Closed]
    );
}

#[tokio::test]
async fn metrics_listen_in_the_config_starts_the_endpoint_at_build() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client(
        &format!("metrics: {{ listen: \"127.0.0.1:{port}\" }}"),
        vec!["http://127.0.0.1:9".into()],
    );
    let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("metrics endpoint listens");
    sock.write_all(b"GET /metrics HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).await.unwrap();
    assert!(out.contains("deepseek_client_in_flight 0"), "{out}");
    drop(c);
}
