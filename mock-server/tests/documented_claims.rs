//! Claims of the README checked on the wire: `reasoning_effort` scales the
//! reasoning length, `capacity.per_model` caps one model and not the other,
//! `latency on: first_token` delays the first token, not the headers, and
//! a body that does not arrive within 30 s gets 408.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn reasoning_tokens(v: &serde_json::Value) -> u64 {
    v["usage"]["completion_tokens_details"]["reasoning_tokens"]
        .as_u64()
        .unwrap_or_else(|| panic!("usage.completion_tokens_details.reasoning_tokens in {v}"))
}

#[tokio::test]
async fn reasoning_effort_scales_the_reasoning_length() {
    let s = start("generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: 4, reasoning_tokens: 20 }").await;
    let c = client();
    let base = &s.base_urls()[0];
    let mut got = Vec::new();
    for effort in [None, Some("low"), Some("high"), Some("max")] {
        let mut body = serde_json::json!({
            "model": "deepseek-v4-pro",
            "messages": [{"role": "user", "content": "think"}],
        });
        if let Some(e) = effort {
            body["reasoning_effort"] = e.into();
        }
        let r = chat(&c, base, &body.to_string()).await;
        assert_eq!(r.status(), 200);
        got.push(reasoning_tokens(&r.json().await.unwrap()));
    }
    // Documented: low x0.5, max x2, of the configured 20.
    assert_eq!(got, vec![20, 10, 20, 40], "default, low, high, max");
    // And it turns thinking on for a model that does not think by default.
    let body = r#"{"model":"deepseek-v4-flash","reasoning_effort":"max","messages":[{"role":"user","content":"x"}]}"#;
    let v: serde_json::Value = chat(&c, base, body).await.json().await.unwrap();
    assert_eq!(reasoning_tokens(&v), 40);
    s.shutdown().await;
}

#[tokio::test]
async fn capacity_per_model_caps_that_model_only() {
    // Each answer takes ~1 s (10 tokens at 10/s), so the first v4-pro
    // request holds the model's only slot while the others arrive.
    let s = start(
        "generation: { ttft: 0ms, tokens_per_second: 10, output_tokens: 10 }\ncapacity: { per_model: { deepseek-v4-pro: 1 }, when_full: reject }",
    )
    .await;
    let c = client();
    let base = s.base_urls()[0].clone();
    let pro = r#"{"model":"deepseek-v4-pro","thinking":{"type":"disabled"},"messages":[{"role":"user","content":"x"}]}"#;
    let first = {
        let (c, base) = (c.clone(), base.clone());
        tokio::spawn(async move { chat(&c, &base, pro).await.status().as_u16() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = chat(&c, &base, pro).await;
    assert_eq!(second.status(), 429, "v4-pro is at its cap of 1");
    let flash = chat(&c, &base, CHAT).await;
    assert_eq!(flash.status(), 200, "v4-flash has no cap");
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(s.counters().fault("capacity"), 1);
    s.shutdown().await;
}

#[tokio::test]
async fn latency_on_first_token_delays_the_token_not_the_headers() {
    let s = start(&format!(
        "{}faults:\n  - latency: {{ delay: 600ms, on: first_token }}\n",
        instant(3)
    ))
    .await;
    let c = client();
    let t0 = Instant::now();
    let mut r = chat(&c, &s.base_urls()[0], CHAT_STREAM).await;
    let headers = t0.elapsed();
    assert_eq!(r.status(), 200);
    let first = r.chunk().await.unwrap().expect("a first chunk");
    let mut body = first.to_vec();
    while let Some(more) = r.chunk().await.unwrap() {
        body.extend_from_slice(&more);
    }
    let done = t0.elapsed();
    assert!(
        headers < Duration::from_millis(400),
        "headers after {headers:?}"
    );
    assert!(
        done >= Duration::from_millis(600),
        "first token after {done:?}"
    );
    assert_eq!(token_chunks(&body), 3);

    // The default, `on: headers`, holds the headers back instead.
    let s2 = start(&format!(
        "{}faults:\n  - latency: {{ delay: 600ms }}\n",
        instant(3)
    ))
    .await;
    let t0 = Instant::now();
    let r = chat(&c, &s2.base_urls()[0], CHAT_STREAM).await;
    assert_eq!(r.status(), 200);
    assert!(
        t0.elapsed() >= Duration::from_millis(600),
        "{:?}",
        t0.elapsed()
    );
    s.shutdown().await;
    s2.shutdown().await;
}

/// "body not received within 30 s: 408", on paused time: the runtime jumps
/// the 30 s while the client holds back the rest of its body.
#[tokio::test(start_paused = true)]
async fn a_body_not_received_within_30_s_gets_408() {
    let s = start(&instant(3)).await;
    let head = "POST /chat/completions HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer sk-test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\"";
    let t0 = tokio::time::Instant::now();
    let (bytes, _) = raw(s.addrs()[0], head.as_bytes(), Duration::from_secs(120)).await;
    let waited = t0.elapsed();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "answered after {waited:?}"
    );
    s.shutdown().await;
}
