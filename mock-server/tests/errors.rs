//! Auth, validation and size errors, with DeepSeek's error body.

mod common;
use common::*;
use serde_json::Value;

async fn error_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["param"].is_null(), "{v}");
    assert!(
        v["error"]["type"].is_string() && v["error"]["code"].is_string(),
        "{v}"
    );
    (status, v)
}

#[tokio::test]
async fn auth_missing_wrong_and_listed() {
    let s = start("auth: { keys: [sk-good] }").await;
    let base = &s.base_urls()[0];
    let c = client();
    let url = format!("{base}/chat/completions");
    let (st, v) = error_of(c.post(&url).body(CHAT).send().await.unwrap()).await;
    assert_eq!(st, 401);
    assert_eq!(v["error"]["type"], "authentication_error");
    let (st, _) = error_of(
        c.post(&url)
            .bearer_auth("sk-bad")
            .body(CHAT)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, 401);
    let r = c
        .post(&url)
        .bearer_auth("sk-good")
        .body(CHAT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c.get(format!("{base}/models")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    s.shutdown().await;
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let s = start("{}").await;
    let base = &s.base_urls()[0];
    let c = client();
    let (st, _) = error_of(chat(&c, base, "{nope").await).await;
    assert_eq!(st, 400);
    let cases = [
        (r#"{"messages":[{"role":"user","content":"x"}]}"#, "model"),
        (r#"{"model":"deepseek-v4-flash"}"#, "messages"),
        (
            r#"{"model":"deepseek-v4-flash","messages":"hi"}"#,
            "messages",
        ),
        (
            r#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"x"}],"temperature":2.5}"#,
            "temperature",
        ),
        (
            r#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#,
            "max_tokens",
        ),
        (
            r#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"x"}],"max_tokens":9999999}"#,
            "max_tokens",
        ),
    ];
    for (body, field) in cases {
        let (st, v) = error_of(chat(&c, base, body).await).await;
        assert_eq!(st, 422, "{body}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{field}: {v}"
        );
    }
    let (st, v) = error_of(
        chat(
            &c,
            base,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}"#,
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, v["error"]["message"].as_str().unwrap()),
        (400, "Model Not Exist")
    );
    let counters = s.counters();
    assert_eq!(counters.status(422), 6);
    assert_eq!(counters.status(400), 2);
    s.shutdown().await;
}

#[tokio::test]
async fn retired_models_can_be_rejected() {
    let s = start("retired_models: reject").await;
    let body = r#"{"model":"deepseek-chat","messages":[{"role":"user","content":"x"}]}"#;
    let (st, v) = error_of(chat(&client(), &s.base_urls()[0], body).await).await;
    assert_eq!(
        (st, v["error"]["message"].as_str().unwrap()),
        (400, "Model Not Exist")
    );
    s.shutdown().await;
    let s = start("{}").await;
    assert_eq!(chat(&client(), &s.base_urls()[0], body).await.status(), 200);
    s.shutdown().await;
}

#[tokio::test]
async fn oversized_body_gets_413() {
    let s = start("max_body: 64KiB").await;
    let big = format!(
        r#"{{"model":"deepseek-v4-flash","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "a".repeat(100_000)
    );
    let (st, _) = error_of(chat(&client(), &s.base_urls()[0], &big).await).await;
    assert_eq!(st, 413);
    // A declared length far over the limit is refused without reading it.
    let req = "POST /chat/completions HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer k\r\nContent-Length: 999999999\r\n\r\n{";
    let (bytes, _) = raw(
        s.addrs()[0],
        req.as_bytes(),
        std::time::Duration::from_secs(3),
    )
    .await;
    assert!(
        bytes.starts_with(b"HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    s.shutdown().await;
}

#[tokio::test]
async fn unknown_path_and_method() {
    let s = start("{}").await;
    let base = &s.base_urls()[0];
    let r = client().get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .get(format!("{base}/chat/completions"))
        .bearer_auth("k")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    s.shutdown().await;
}
