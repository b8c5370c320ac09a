//! Criterion benchmarks of call-key extraction, which the fake server runs on
//! every chat-completions request: the traceparent fast path (headers only)
//! and the fingerprint fallback (parse and hash a typical ~300-byte body).
//!
//! `cargo bench -p mock-server --bench journal_key`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use http::{HeaderMap, HeaderValue};
use mock_server::journal::{call_key, Body};

// About 300 bytes, shaped like the harness's own requests.
const BODY: &[u8] = br#"{"model":"deepseek-v4-flash","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the causes of the 1970s oil crisis in three short bullet points, then name one lasting policy change."}],"stream":true,"max_tokens":256,"temperature":0.7}"#;

fn headers(with_traceparent: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("authorization", HeaderValue::from_static("Bearer sk-bench"));
    h.insert(
        "user-agent",
        HeaderValue::from_static("OpenAI/Python 1.40.0"),
    );
    h.insert("accept", HeaderValue::from_static("application/json"));
    h.insert("content-length", HeaderValue::from_static("300"));
    if with_traceparent {
        h.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
    }
    h
}

fn extraction(c: &mut Criterion) {
    assert!(
        (280..=320).contains(&BODY.len()),
        "body is {} bytes",
        BODY.len()
    );
    let traced = headers(true);
    let bare = headers(false);
    c.bench_function("call_key/traceparent", |b| {
        b.iter(|| {
            call_key(
                "POST",
                "/chat/completions",
                black_box(&traced),
                Body::Raw(BODY),
            )
        })
    });
    c.bench_function("call_key/fingerprint_300B", |b| {
        b.iter(|| {
            call_key(
                "POST",
                "/chat/completions",
                black_box(&bare),
                Body::Raw(BODY),
            )
        })
    });
    let marked = BODY.to_vec();
    let marked = String::from_utf8(marked)
        .unwrap()
        .replace("change.", "change. [call:bench-1]");
    c.bench_function("call_key/marker_300B", |b| {
        b.iter(|| {
            call_key(
                "POST",
                "/chat/completions",
                black_box(&bare),
                Body::Raw(marked.as_bytes()),
            )
        })
    });
}

criterion_group!(benches, extraction);
criterion_main!(benches);
