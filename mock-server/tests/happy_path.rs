//! The fault-free API as an OpenAI/DeepSeek client sees it.

mod common;
use common::*;
use serde_json::Value;

#[tokio::test]
async fn json_completion_shape() {
    let s = start(&instant(8)).await;
    let base = &s.base_urls()[0];
    let r = chat(&client(), base, CHAT).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "deepseek-v4-flash");
    assert!(v["id"].is_string() && v["created"].is_u64() && v["system_fingerprint"].is_string());
    let choice = &v["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(
        choice["message"]["content"]
            .as_str()
            .unwrap()
            .split(' ')
            .count(),
        8
    );
    assert!(
        choice["message"].get("reasoning_content").is_none(),
        "flash defaults to non-thinking"
    );
    assert!(choice["logprobs"].is_null());
    assert_eq!(choice["finish_reason"], "stop");
    let u = &v["usage"];
    assert_eq!(u["completion_tokens"], 8);
    for f in [
        "prompt_tokens",
        "total_tokens",
        "prompt_cache_hit_tokens",
        "prompt_cache_miss_tokens",
    ] {
        assert!(u[f].is_u64(), "usage.{f}");
    }
    assert!(u["prompt_tokens_details"]["cached_tokens"].is_u64());
    // Also under /v1.
    let r = client()
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth("k")
        .body(CHAT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.shutdown().await;
}

#[tokio::test]
async fn thinking_and_length() {
    let s = start(&instant(50)).await;
    let base = &s.base_urls()[0];
    let body =
        r#"{"model":"deepseek-v4-pro","max_tokens":7,"messages":[{"role":"user","content":"hi"}]}"#;
    let v: Value = chat(&client(), base, body).await.json().await.unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["completion_tokens"], 7);
    assert!(
        v["choices"][0]["message"]["reasoning_content"].is_string(),
        "pro thinks by default"
    );
    assert!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    let off = r#"{"model":"deepseek-v4-pro","thinking":{"type":"disabled"},"messages":[{"role":"user","content":"hi"}]}"#;
    let v: Value = chat(&client(), base, off).await.json().await.unwrap();
    assert!(v["choices"][0]["message"]
        .get("reasoning_content")
        .is_none());
    s.shutdown().await;
}

#[tokio::test]
async fn sse_stream_shape() {
    let s = start(&instant(5)).await;
    let body = r#"{"model":"deepseek-reasoner","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#;
    let r = chat(&client(), &s.base_urls()[0], body).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let bytes = r.bytes().await.unwrap();
    let lines = data_lines(&bytes);
    assert_eq!(lines.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = lines[..lines.len() - 1]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    // Reasoning streams before content.
    let kinds: Vec<&str> = chunks[1..chunks.len() - 1]
        .iter()
        .map(|c| {
            if c["choices"][0]["delta"]["reasoning_content"].is_string() {
                "r"
            } else {
                "c"
            }
        })
        .collect();
    let first_c = kinds.iter().position(|k| *k == "c").unwrap();
    assert!(
        first_c > 0 && kinds[first_c..].iter().all(|k| *k == "c"),
        "{kinds:?}"
    );
    assert_eq!(kinds.len() - first_c, 5);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        last["usage"]["completion_tokens"].as_u64().unwrap(),
        kinds.len() as u64
    );
    s.shutdown().await;
}

#[tokio::test]
async fn chunks_arrive_over_time() {
    let s = start("generation: { ttft: 50ms, tokens_per_second: 20, output_tokens: 6 }").await;
    let t = std::time::Instant::now();
    let mut r = chat(&client(), &s.base_urls()[0], CHAT_STREAM).await;
    let mut arrivals = Vec::new();
    while let Some(chunk) = r.chunk().await.unwrap() {
        if chunk.windows(8).any(|w| w == b"content\"") {
            arrivals.push(t.elapsed());
        }
    }
    // 6 tokens at 20/s span >= 250ms after the first: paced, not one burst.
    assert!(arrivals.len() >= 6);
    let span = *arrivals.last().unwrap() - arrivals[0];
    assert!(
        span >= std::time::Duration::from_millis(200),
        "span {span:?}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn models_and_balance() {
    let s = start("{}").await;
    let base = &s.base_urls()[0];
    let c = client();
    for path in ["/models", "/v1/models"] {
        let v: Value = c
            .get(format!("{base}{path}"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["deepseek-v4-flash", "deepseek-v4-pro"]);
    }
    let v: Value = c
        .get(format!("{base}/user/balance"))
        .bearer_auth("k")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["is_available"], true);
    assert_eq!(v["balance_infos"][0]["currency"], "USD");
    s.shutdown().await;
}

#[tokio::test]
async fn http2_prior_knowledge_works_too() {
    let s = start(&instant(4)).await;
    let c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = chat(&c, &s.base_urls()[0], CHAT).await;
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
    let r = chat(&c, &s.base_urls()[0], CHAT_STREAM).await;
    let bytes = r.bytes().await.unwrap();
    assert_eq!(
        data_lines(&bytes).last().map(String::as_str),
        Some("[DONE]")
    );
    s.shutdown().await;
}
