//! Exact wire expectations with wiremock: headers (auth, traceparent),
//! number of attempts, Retry-After, x-should-retry, non-retried 4xx, budget,
//! failover, fallback and streaming parse.

use std::time::{Duration, Instant};

use futures::StreamExt;
use resilient_client::types::FinishReason;
use resilient_client::{
    ChatRequest, Client, ClientConfig, ClientEvent, Error, FallbackKind, Message, Model,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-key-123";

fn config(yaml: &str) -> ClientConfig {
    let base = "retry: { backoff: { base: 1ms, max: 5ms } }\nbreaker: { enabled: false }\n";
    let doc = if yaml.is_empty() {
        base.to_owned()
    } else {
        yaml.to_owned()
    };
    serde_yaml::from_str(&doc).expect("test config parses")
}

fn client(cfg: ClientConfig, servers: &[&MockServer]) -> Client {
    Client::builder(cfg)
        .endpoints(servers.iter().map(|s| s.uri()).collect())
        .api_key(KEY)
        .build()
        .expect("client builds")
}

fn req() -> ChatRequest {
    ChatRequest::new(Model::V4Flash, vec![Message::user("hi")])
}

fn ok_body() -> serde_json::Value {
    serde_json::json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "deepseek-v4-flash",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2,
                  "prompt_cache_hit_tokens": 0, "prompt_cache_miss_tokens": 1}
    })
}

fn err_body(msg: &str) -> serde_json::Value {
    serde_json::json!({"error": {"message": msg, "type": "invalid_request_error", "param": null, "code": "x"}})
}

#[tokio::test]
async fn retries_carry_auth_and_one_trace_id_with_new_span_ids() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream overloaded"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(config(""), &[&server]);
    assert!(!format!("{c:?}").contains(KEY), "Debug redacts the key");
    let resp = c.chat(req()).await.expect("third attempt succeeds");
    assert_eq!(resp.content(), Some("hello"));
    assert_eq!(resp.meta.attempts, 3);
    assert_eq!(resp.meta.statuses, vec![503, 503, 200]);

    let reqs = server.received_requests().await.expect("recording on");
    assert_eq!(reqs.len(), 3);
    let mut spans = Vec::new();
    for r in &reqs {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {KEY}")
        );
        let tp = r
            .headers
            .get("traceparent")
            .expect("traceparent on every attempt")
            .to_str()
            .unwrap();
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts.len(), 4, "{tp}");
        assert_eq!(
            (parts[0], parts[1].len(), parts[2].len(), parts[3]),
            ("00", 32, 16, "01")
        );
        assert_eq!(parts[1], resp.meta.trace_id, "same trace id across retries");
        spans.push(parts[2].to_owned());
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["model"], "deepseek-v4-flash");
        assert_eq!(body["stream"], false);
    }
    spans.sort();
    spans.dedup();
    assert_eq!(spans.len(), 3, "a new span id per attempt");
}

#[tokio::test]
async fn invalid_request_is_not_retried_and_keeps_the_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(err_body("messages must not be empty")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(config(""), &[&server]);
    let e = c.chat(req()).await.expect_err("400 fails");
    assert!(
        matches!(&e.kind, Error::InvalidRequest { status: 400, message } if message == "messages must not be empty")
    );
    assert_eq!(e.meta.attempts, 1);
    assert_eq!(e.class(), "http_4xx");
    assert!(!format!("{e:?}{e}").contains(KEY), "key never in errors");
}

#[tokio::test]
async fn auth_and_balance_errors_are_not_retried() {
    for (status, class) in [(401u16, "auth"), (402, "balance"), (422, "invalid")] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_json(err_body(class)))
            .expect(1)
            .mount(&server)
            .await;
        let e = client(config(""), &[&server])
            .chat(req())
            .await
            .expect_err("fails");
        assert_eq!(e.status(), Some(status));
        assert!(!e.is_retryable());
        assert_eq!(e.meta.attempts, 1);
    }
}

#[tokio::test]
async fn retry_after_is_waited_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(err_body("slow down")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .mount(&server)
        .await;
    let c = client(config(""), &[&server]);
    let mut events = c.events();
    let t0 = Instant::now();
    let resp = c.chat(req()).await.expect("succeeds after the wait");
    assert!(
        t0.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        t0.elapsed()
    );
    assert_eq!(resp.meta.statuses, vec![429, 200]);
    match events.try_recv().expect("retry event") {
        ClientEvent::Retry {
            attempt,
            delay,
            cause,
            ..
        } => {
            assert_eq!((attempt, cause.as_str()), (1, "http_429"));
            assert!(delay >= Duration::from_secs(1));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn honor_retry_after_false_retries_on_the_backoff_alone() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "2")
                .set_body_json(err_body("slow down")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .mount(&server)
        .await;
    let cfg = config(
        "retry: { honor_retry_after: false, backoff: { base: 1ms, max: 5ms } }\nbreaker: { enabled: false }",
    );
    let c = client(cfg, &[&server]);
    let mut events = c.events();
    let t0 = Instant::now();
    let resp = c.chat(req()).await.expect("the retry succeeds");
    assert_eq!(resp.meta.statuses, vec![429, 200]);
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "did not wait the 2 s Retry-After: {:?}",
        t0.elapsed()
    );
    match events.try_recv().expect("retry event") {
        ClientEvent::Retry { delay, .. } => {
            assert!(delay <= Duration::from_millis(5), "backoff only: {delay:?}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_fails_fast() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "30"))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = config("timeouts: { total: 5s }\nretry: { backoff: { base: 1ms, max: 5ms } }\nbreaker: { enabled: false }");
    let t0 = Instant::now();
    let e = client(cfg, &[&server])
        .chat(req())
        .await
        .expect_err("fails fast");
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.meta.attempts, 1);
}

#[tokio::test]
async fn x_should_retry_overrides_the_status() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("x-should-retry", "false"))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(config(""), &[&server])
        .chat(req())
        .await
        .expect_err("not retried");
    assert_eq!(e.meta.attempts, 1);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).insert_header("x-should-retry", "true"))
        .expect(3)
        .mount(&server)
        .await;
    let e = client(config(""), &[&server])
        .chat(req())
        .await
        .expect_err("retried then fails");
    assert_eq!(e.meta.statuses, vec![400, 400, 400]);
}

#[tokio::test]
async fn empty_retry_budget_stops_the_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = config(
        "retry: { backoff: { base: 1ms, max: 5ms }, budget: { ratio: 0%, min_per_second: 0/s } }\nbreaker: { enabled: false }",
    );
    let c = client(cfg, &[&server]);
    let mut events = c.events();
    let e = c.chat(req()).await.expect_err("budget refuses the retry");
    assert!(matches!(&e.kind, Error::RetryBudgetExhausted { last } if last.status() == Some(500)));
    assert_eq!(e.class(), "budget_exhausted");
    assert_eq!(events.try_recv().unwrap(), ClientEvent::BudgetExhausted);
}

/// Two endpoints weighted 10:1 under smooth weighted round robin: without
/// failover every attempt of the first call goes to the heavy endpoint
/// (picks 0, 0, 0), so only failover explains a retry reaching the light one.
fn heavy_first(failover: bool) -> ClientConfig {
    config(&format!(
        "endpoints: [{{url: 'http://heavy', weight: 10}}, {{url: 'http://light', weight: 1}}]\n\
         balancer: {{ strategy: weighted, ejection: {{ enabled: false }} }}\n\
         retry: {{ failover: {failover}, backoff: {{ base: 1ms, max: 5ms }} }}\n\
         breaker: {{ enabled: false }}"
    ))
}

#[tokio::test]
async fn a_failed_attempt_fails_over_to_the_other_endpoint() {
    for failover in [true, false] {
        let bad = MockServer::start().await;
        let good = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(502))
            .mount(&bad)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
            .mount(&good)
            .await;
        let c = client(heavy_first(failover), &[&bad, &good]);
        let got = c.chat(req()).await;
        let (bad_hits, good_hits) = (
            bad.received_requests().await.unwrap().len(),
            good.received_requests().await.unwrap().len(),
        );
        if failover {
            let resp = got.expect("failover sends the retry to the light endpoint");
            assert_eq!(resp.meta.endpoints, vec![0, 1]);
            assert_eq!(resp.meta.statuses, vec![502, 200]);
            assert_eq!((bad_hits, good_hits), (1, 1));
        } else {
            let e = got.expect_err("without failover every attempt stays on the heavy endpoint");
            assert_eq!(e.meta.endpoints, vec![0, 0, 0]);
            assert_eq!(e.meta.statuses, vec![502, 502, 502]);
            assert_eq!((bad_hits, good_hits), (3, 0));
        }
    }
}

#[tokio::test]
async fn static_fallback_answers_when_everything_fails() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(2)
        .mount(&server)
        .await;
    let cfg = config(
        "retry: { max_attempts: 2, backoff: { base: 1ms, max: 5ms } }\nbreaker: { enabled: false }\nfallback: { static_reply: \"busy, try later\" }",
    );
    let c = client(cfg, &[&server]);
    let resp = c.chat(req()).await.expect("fallback answers");
    assert_eq!(resp.content(), Some("busy, try later"));
    assert_eq!(resp.meta.fallback, Some(FallbackKind::StaticReply));
    assert_eq!(resp.meta.attempts, 2);
    assert!(c.metrics_text().contains("outcome=\"fallback\""));
}

#[tokio::test]
async fn model_fallback_resends_with_the_other_model() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_partial_json(
            serde_json::json!({"model": "deepseek-v4-pro"}),
        ))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_partial_json(
            serde_json::json!({"model": "deepseek-v4-flash"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = config(
        "retry: { max_attempts: 2, backoff: { base: 1ms, max: 5ms } }\nbreaker: { enabled: false }\nfallback: { model: deepseek-v4-flash }",
    );
    let resp = client(cfg, &[&server])
        .chat(ChatRequest::new(Model::V4Pro, vec![Message::user("hi")]))
        .await
        .expect("fallback model answers");
    assert_eq!(resp.meta.fallback, Some(FallbackKind::Model));
    assert_eq!(resp.meta.statuses, vec![503, 503, 200]);
}

#[tokio::test]
async fn breaker_opens_and_then_rejects_without_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let cfg = config(
        "retry: { max_attempts: 1 }\nbreaker: { window_size: 4, minimum_number_of_calls: 4, wait_duration_in_open: 30s }",
    );
    let c = client(cfg, &[&server]);
    let mut events = c.events();
    for _ in 0..4 {
        assert_eq!(c.chat(req()).await.unwrap_err().status(), Some(503));
    }
    let e = c.chat(req()).await.expect_err("breaker open");
    assert!(matches!(e.kind, Error::BreakerOpen));
    assert_eq!(e.meta.attempts, 0);
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    match events.try_recv().unwrap() {
        ClientEvent::BreakerTransition { from, to, .. } => {
            assert_eq!((from.as_str(), to.as_str()), ("closed", "open"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(c
        .metrics_text()
        .contains("deepseek_client_breaker_state{endpoint=\"0\"} 2"));
}

fn sse(chunks: &[&str], done: bool) -> String {
    let mut s = String::from(": keep-alive\n\n");
    s.push_str(r#"data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#);
    s.push_str("\n\n");
    for c in chunks {
        s.push_str(&format!(
            "data: {{\"id\":\"s\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{c}\"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    if done {
        s.push_str("data: {\"id\":\"s\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n");
        s.push_str("data: [DONE]\n\n");
    }
    s
}

#[tokio::test]
async fn stream_yields_typed_deltas_until_done() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("accept", "text/event-stream"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(sse(&["Hel", "lo"], true), "text/event-stream"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(config(""), &[&server]);
    let mut s = c.chat_stream(req()).await.expect("stream starts");
    assert_eq!(s.meta().attempts, 1);
    let mut text = String::new();
    let mut usage = None;
    let mut role = None;
    while let Some(item) = s.next().await {
        let chunk = item.expect("no error");
        if let Some(r) = chunk.choices.first().and_then(|c| c.delta.role.clone()) {
            role = Some(r);
        }
        text.push_str(chunk.content().unwrap_or(""));
        usage = usage.or(chunk.usage);
    }
    assert_eq!(text, "Hello");
    assert_eq!(role.as_deref(), Some("assistant"));
    assert_eq!(usage.unwrap().completion_tokens, 2);
    let body: serde_json::Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(body["stream"], true);
}

#[tokio::test]
async fn stream_without_done_is_broken_and_not_retried_after_a_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(sse(&["a", "b"], false), "text/event-stream"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(config(""), &[&server]);
    let s = c.chat_stream(req()).await.expect("starts: a token arrived");
    let items: Vec<_> = s.collect().await;
    assert!(
        matches!(items.last(), Some(Err(Error::StreamBroken { .. }))),
        "{items:?}"
    );
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 3);
}

#[tokio::test]
async fn malformed_data_before_the_first_token_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("data: {not json\n\n", "text/event-stream"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(sse(&["ok"], true), "text/event-stream"),
        )
        .mount(&server)
        .await;
    let c = client(config(""), &[&server]);
    let s = c.chat_stream(req()).await.expect("second attempt streams");
    assert_eq!(s.meta().attempts, 2);
    let texts: Vec<String> = s
        .map(|c| c.unwrap().content().unwrap_or("").to_owned())
        .collect()
        .await;
    assert_eq!(texts.concat(), "ok");
}

#[tokio::test]
async fn first_byte_timeout_is_a_typed_retryable_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(ok_body())
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let cfg = config("timeouts: { first_byte: 200ms }\nretry: { max_attempts: 2, backoff: { base: 1ms, max: 5ms } }\nbreaker: { enabled: false }");
    let e = client(cfg, &[&server])
        .chat(req())
        .await
        .expect_err("times out");
    assert!(
        matches!(
            e.kind,
            Error::Timeout {
                phase: resilient_client::TimeoutPhase::FirstByte
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.meta.statuses, vec![0, 0]);
    assert_eq!(e.class(), "timeout");
}

#[tokio::test]
async fn missing_key_is_a_clear_build_error() {
    let cfg = ClientConfig {
        api_key_env: "RC_TEST_DEFINITELY_UNSET".into(),
        ..Default::default()
    };
    let e = Client::builder(cfg)
        .endpoints(vec!["http://127.0.0.1:9".into()])
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("RC_TEST_DEFINITELY_UNSET"), "{e}");
}

#[tokio::test]
async fn refused_connections_are_typed_and_fail_over() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let cfg = config("");
    let c = Client::builder(cfg.clone())
        .endpoints(vec![dead.clone()])
        .api_key(KEY)
        .build()
        .unwrap();
    let e = c.chat(req()).await.expect_err("nobody listens");
    assert!(
        matches!(
            e.kind,
            Error::Connection {
                kind: resilient_client::ConnectionKind::Refused,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        (e.class(), e.meta.statuses.clone()),
        ("connection", vec![0, 0, 0])
    );

    let live = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok_body()))
        .mount(&live)
        .await;
    for failover in [true, false] {
        let c = Client::builder(heavy_first(failover))
            .endpoints(vec![dead.clone(), live.uri()])
            .api_key(KEY)
            .build()
            .unwrap();
        let got = c.chat(req()).await;
        if failover {
            let resp = got.expect("the retry fails over to the live endpoint");
            assert_eq!(resp.meta.endpoints, vec![0, 1]);
            assert_eq!(resp.meta.statuses, vec![0, 200]);
        } else {
            let e = got.expect_err("without failover the retries stay on the dead endpoint");
            assert_eq!(e.meta.endpoints, vec![0, 0, 0]);
            assert_eq!(e.class(), "connection");
        }
    }
    assert_eq!(live.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_unterminated_done_at_eof_still_ends_the_stream_cleanly() {
    let server = MockServer::start().await;
    let mut body = sse(&["x"], true);
    body.truncate(body.len() - 2); // "data: [DONE]" with no blank line after it
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .mount(&server)
        .await;
    let s = client(config(""), &[&server])
        .chat_stream(req())
        .await
        .unwrap();
    let items: Vec<_> = s.collect().await;
    let text: String = items
        .iter()
        .map(|i| i.as_ref().expect("no error item").content().unwrap_or(""))
        .collect();
    assert_eq!(text, "x", "{items:?}");
    assert!(
        items.iter().any(|i| i
            .as_ref()
            .is_ok_and(|c| c.finish_reason() == Some(&FinishReason::Stop))),
        "the last chunk (finish_reason stop) arrived: {items:?}"
    );
}
