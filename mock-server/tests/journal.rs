//! The attempt journal as the server writes it: one record per
//! chat-completions attempt through real HTTP, read from the in-process
//! channel, the `/_mock/journal` ring and the file sink.

mod common;
use common::{chat, client, instant, post, raw, token_chunks, CHAT, CHAT_STREAM};
use mock_server::journal::{fingerprint, Attempt, Body, CallFrom, End, FaultTag, Line};
// How a raw connection ended (the common helper's, not the journal's).
use common::End as Wire;
use mock_server::{config::parse_yaml, JournalOptions, MockServer, ServerConfig, StartOptions};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(5);

async fn start_with(yaml: &str, journal: JournalOptions) -> MockServer {
    let config: ServerConfig = parse_yaml(yaml, "test.yaml").expect("valid test config");
    mock_server::start(
        config,
        StartOptions {
            journal,
            ..Default::default()
        },
    )
    .await
    .expect("server starts")
}

/// A server whose journal goes to a channel the test reads.
async fn journaled(yaml: &str) -> (MockServer, mpsc::Receiver<Attempt>) {
    let (tx, rx) = mpsc::channel(1024);
    let s = start_with(
        yaml,
        JournalOptions {
            channel: Some(tx),
            ..Default::default()
        },
    )
    .await;
    (s, rx)
}

async fn next(rx: &mut mpsc::Receiver<Attempt>) -> Attempt {
    let a = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a record within 5 s")
        .expect("channel open");
    a.check().expect("the record is possible");
    a
}

fn with_fault(fault: &str, tokens: u32) -> String {
    format!("{}faults: [ {fault} ]\n", instant(tokens))
}

/// A raw request with extra header lines, kept open (no `Connection: close`).
fn request(path: &str, body: &str, extra: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer sk-test\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mock-journal-{}-{name}.jsonl", std::process::id()))
}

#[tokio::test]
async fn a_plain_answer_is_recorded_with_status_tokens_model_and_stream_flag() {
    let (s, mut rx) = journaled(&instant(7)).await;
    let r = chat(&client(), &s.base_urls()[0], CHAT).await;
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    let a = next(&mut rx).await;
    assert_eq!(a.seq, 1);
    assert_eq!((a.node, a.end, a.status), (0, End::Answered, Some(200)));
    assert_eq!(a.tokens, 7);
    assert_eq!(a.model.as_deref(), Some("deepseek-v4-flash"));
    assert!(!a.stream);
    assert!(a.faults.is_empty());
    let h = a.headers_at.expect("a head was sent");
    assert!(a.at <= h && h <= a.end_at, "{a:?}");
    assert_eq!(
        (a.retry_after_s, a.retry_after_ms, a.should_retry),
        (None, None, None)
    );
    assert_eq!(
        (a.client_gone_after, a.stalled_at, a.sdk_retry_count),
        (None, None, None)
    );
    // Control and model requests are not attempts.
    client()
        .get(format!("{}/models", s.base_urls()[0]))
        .bearer_auth("sk")
        .send()
        .await
        .unwrap();
    client()
        .get(format!("{}/_mock/state", s.base_urls()[0]))
        .send()
        .await
        .unwrap();
    s.shutdown().await;
    assert!(rx.recv().await.is_none(), "no other record, channel closed");
}

#[tokio::test]
async fn a_status_fault_records_the_retry_headers_it_sent() {
    let (s, mut rx) = journaled(&with_fault(
        "{status: {code: 429, retry_after: 2, retry_after_ms: 1500, should_retry: true}}",
        3,
    ))
    .await;
    let r = chat(&client(), &s.base_urls()[0], CHAT).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after-ms"], "1500");
    let a = next(&mut rx).await;
    assert_eq!((a.end, a.status), (End::Answered, Some(429)));
    assert_eq!(a.faults, vec![FaultTag::Status]);
    assert_eq!(a.retry_after_s, Some(2));
    assert_eq!(a.retry_after_ms, Some(1500));
    assert_eq!(a.should_retry, Some(true));
    assert_eq!(a.tokens, 0);
    s.shutdown().await;
}

#[tokio::test]
async fn a_reset_is_server_closed_with_no_status() {
    let (s, mut rx) = journaled(&with_fault("{reset: {}}", 3)).await;
    let (bytes, end) = raw(s.addrs()[0], &post("/chat/completions", CHAT), WAIT).await;
    assert_eq!((bytes.len(), end), (0, Wire::Reset));
    let a = next(&mut rx).await;
    assert_eq!(
        (a.end, a.status, a.headers_at),
        (End::ServerClosed, None, None)
    );
    assert_eq!(a.faults, vec![FaultTag::Reset]);
    assert_eq!(a.client_gone_after, None);
    s.shutdown().await;
}

/// Sends `req`, waits `hold`, hangs up; returns the record.
async fn hang_up_after(
    s: &MockServer,
    rx: &mut mpsc::Receiver<Attempt>,
    req: &[u8],
    hold: Duration,
) -> Attempt {
    let mut c = TcpStream::connect(s.addrs()[0]).await.unwrap();
    c.write_all(req).await.unwrap();
    tokio::time::sleep(hold).await;
    drop(c);
    next(rx).await
}

#[tokio::test]
async fn a_client_that_hangs_up_during_latency_or_a_stall_is_client_closed() {
    let (s, mut rx) = journaled(&with_fault("{latency: {delay: 3s}}", 3)).await;
    let a = hang_up_after(
        &s,
        &mut rx,
        &request("/chat/completions", CHAT, ""),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        (a.end, a.status, a.headers_at),
        (End::ClientClosed, None, None)
    );
    assert_eq!(a.faults, vec![FaultTag::Latency]);
    let gone = a.client_gone_after.expect("client_gone_after");
    assert!((0.25..2.0).contains(&gone), "{gone}");
    assert_eq!(a.stalled_at, None);
    s.shutdown().await;

    let (s, mut rx) = journaled(&with_fault("{stall: {}}", 3)).await;
    let a = hang_up_after(
        &s,
        &mut rx,
        &request("/chat/completions", CHAT, ""),
        Duration::from_millis(200),
    )
    .await;
    assert_eq!((a.end, a.status), (End::ClientClosed, None));
    assert_eq!(a.faults, vec![FaultTag::Stall]);
    assert_eq!(a.stalled_at, Some(a.at), "a stall starts at arrival");
    assert!(a.client_gone_after.unwrap() >= 0.15, "{a:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn streams_count_the_tokens_sent_before_the_end() {
    let (s, mut rx) = journaled(&instant(5)).await;
    let r = chat(&client(), &s.base_urls()[0], CHAT_STREAM).await;
    let body = r.bytes().await.unwrap();
    assert_eq!(token_chunks(&body), 5);
    let a = next(&mut rx).await;
    assert_eq!(
        (a.end, a.status, a.tokens, a.stream),
        (End::Answered, Some(200), 5, true)
    );
    s.shutdown().await;

    let (s, mut rx) = journaled(&with_fault("{stream_drop: {after_tokens: 2}}", 9)).await;
    let (bytes, _) = raw(s.addrs()[0], &post("/chat/completions", CHAT_STREAM), WAIT).await;
    assert_eq!(token_chunks(&bytes), 2);
    let a = next(&mut rx).await;
    assert_eq!(
        (a.end, a.status, a.tokens),
        (End::ServerClosed, Some(200), 2)
    );
    assert_eq!(a.faults, vec![FaultTag::StreamDrop]);
    s.shutdown().await;

    let (s, mut rx) = journaled(&with_fault("{stream_stall: {after_tokens: 3}}", 9)).await;
    let a = hang_up_after(
        &s,
        &mut rx,
        &request("/chat/completions", CHAT_STREAM, ""),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!((a.end, a.tokens), (End::ClientClosed, 3));
    let stalled = a.stalled_at.expect("stalled_at");
    assert!(
        a.headers_at.unwrap() <= stalled && stalled < a.end_at,
        "{a:?}"
    );
    assert!(a.end_at - stalled >= 0.2, "{a:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn truncated_json_is_answered_and_close_mid_body_is_server_closed() {
    let (s, mut rx) = journaled(&with_fault("{truncated_json: {}}", 4)).await;
    raw(s.addrs()[0], &post("/chat/completions", CHAT_STREAM), WAIT).await;
    let a = next(&mut rx).await;
    assert_eq!((a.end, a.status), (End::Answered, Some(200)));
    assert_eq!(a.faults, vec![FaultTag::TruncatedJson]);
    s.shutdown().await;

    let (s, mut rx) = journaled(&with_fault("{close_mid_body: {}}", 4)).await;
    raw(s.addrs()[0], &post("/chat/completions", CHAT), WAIT).await;
    let a = next(&mut rx).await;
    assert_eq!(
        (a.end, a.status, a.tokens),
        (End::ServerClosed, Some(200), 0)
    );
    s.shutdown().await;
}

#[tokio::test]
async fn call_keys_come_from_traceparent_header_marker_or_fingerprint() {
    let (s, mut rx) = journaled(&instant(2)).await;
    let addr = s.addrs()[0];
    let tp = "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n";
    let marked = r#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"hi [call:job-42]"}]}"#;
    let cases: [(&str, &str, &str, CallFrom); 4] = [
        (
            tp,
            marked,
            "4bf92f3577b34da6a3ce929d0e0e4736",
            CallFrom::Traceparent,
        ),
        ("x-harness-call: c-7\r\n", marked, "c-7", CallFrom::Header),
        ("", marked, "job-42", CallFrom::Marker),
        ("", CHAT, "", CallFrom::Fingerprint),
    ];
    for (extra, body, id, from) in cases {
        let req = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer k\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        raw(addr, req.as_bytes(), WAIT).await;
        let a = next(&mut rx).await;
        assert_eq!(a.call_from, from);
        if from == CallFrom::Fingerprint {
            let want = fingerprint("POST", "/v1/chat/completions", Body::Raw(CHAT.as_bytes()));
            assert_eq!(a.call, want);
        } else {
            assert_eq!(a.call, id);
        }
    }
    s.shutdown().await;
}

#[tokio::test]
async fn the_sdk_retry_count_header_is_recorded() {
    let (s, mut rx) = journaled(&instant(2)).await;
    let r = client()
        .post(format!("{}/chat/completions", s.base_urls()[0]))
        .bearer_auth("sk")
        .header("x-stainless-retry-count", "2")
        .body(CHAT)
        .send()
        .await
        .unwrap();
    r.bytes().await.unwrap();
    assert_eq!(next(&mut rx).await.sdk_retry_count, Some(2));
    s.shutdown().await;
}

#[tokio::test]
async fn refused_requests_are_attempts_too() {
    let (s, mut rx) = journaled("auth: { keys: [sk-good] }\n").await;
    let c = client();
    let base = &s.base_urls()[0];
    let marked =
        r#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"[call:a1]"}]}"#;
    let r = c
        .post(format!("{base}/chat/completions"))
        .bearer_auth("sk-bad")
        .body(marked)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let a = next(&mut rx).await;
    assert_eq!((a.status, a.end), (Some(401), End::Answered));
    assert_eq!((a.call.as_str(), a.call_from), ("a1", CallFrom::Marker));
    assert_eq!(a.model.as_deref(), Some("deepseek-v4-flash"));
    let r = c
        .post(format!("{base}/chat/completions"))
        .bearer_auth("sk-good")
        .body(
            r#"{"model":"no-such-model","stream":true,"messages":[{"role":"user","content":"x"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!(status == 400 || status == 422, "{status}");
    let a = next(&mut rx).await;
    assert_eq!(a.status, Some(status));
    assert_eq!(a.model.as_deref(), Some("no-such-model"));
    assert!(a.stream);
    s.shutdown().await;
}

#[tokio::test]
async fn seq_increases_strictly_over_concurrent_attempts_on_every_node() {
    let (tx, mut rx) = mpsc::channel(1024);
    let config: ServerConfig = parse_yaml(&instant(2), "t.yaml").unwrap();
    let s = mock_server::start(
        config,
        StartOptions {
            nodes: Some(2),
            journal: JournalOptions {
                channel: Some(tx),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = client();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (c, base) = (c.clone(), s.base_urls()[i % 2].clone());
        tasks.push(tokio::spawn(async move {
            chat(&c, &base, CHAT).await.bytes().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    s.shutdown().await;
    let mut seqs = Vec::new();
    let mut nodes = [0; 2];
    while let Some(a) = rx.recv().await {
        seqs.push(a.seq);
        nodes[a.node as usize] += 1;
    }
    assert_eq!(seqs, (1..=40).collect::<Vec<u64>>());
    assert_eq!(nodes, [20, 20]);
}

#[tokio::test]
async fn the_ring_pages_by_since_and_limit_after_it_overflowed() {
    let s = start_with(
        &instant(1),
        JournalOptions {
            ring: 5,
            ..Default::default()
        },
    )
    .await;
    let c = client();
    let base = s.base_urls()[0].clone();
    for _ in 0..8 {
        chat(&c, &base, CHAT).await.bytes().await.unwrap();
    }
    let get = |q: &'static str| {
        let (c, base) = (c.clone(), base.clone());
        async move {
            let r = c
                .get(format!("{base}/_mock/journal{q}"))
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    // The writer numbers records on its own thread: wait for all 8.
    let deadline = Instant::now() + WAIT;
    let mut v = get("").await.1;
    while v["records"]
        .as_array()
        .unwrap()
        .last()
        .map(|r| r["seq"].as_u64())
        != Some(Some(8))
    {
        assert!(Instant::now() < deadline, "{v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        v = get("").await.1;
    }
    let seqs = |v: &serde_json::Value| -> Vec<u64> {
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&v), vec![4, 5, 6, 7, 8]);
    assert_eq!(
        (
            v["oldest"].as_u64(),
            v["next"].as_u64(),
            v["dropped"].as_u64()
        ),
        (Some(4), Some(8), Some(0))
    );
    // Each record reads back as a journal line.
    for r in v["records"].as_array().unwrap() {
        assert!(
            matches!(Line::parse(&r.to_string()), Ok(Line::Attempt(_))),
            "{r}"
        );
    }
    let (st, v) = get("?since=5&limit=2").await;
    assert_eq!(
        (st, seqs(&v), v["next"].as_u64()),
        (200, vec![6, 7], Some(7))
    );
    let (_, v) = get("?since=1").await;
    assert_eq!(
        seqs(&v),
        vec![4, 5, 6, 7, 8],
        "older records are gone; `oldest` says so"
    );
    let (_, v) = get("?since=8").await;
    assert_eq!((seqs(&v), v["next"].as_u64()), (vec![], Some(8)));
    for (q, name) in [
        ("?limit=0", "limit"),
        ("?since=x", "since"),
        ("?sinse=1", "sinse"),
    ] {
        let (st, v) = get(q).await;
        assert_eq!(st, 400, "{q}");
        assert!(v["error"].as_str().unwrap().contains(name), "{q}: {v}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn the_file_sink_is_flushed_while_running_and_reads_back() {
    let path = temp_file("flush");
    let s = start_with(
        &instant(3),
        JournalOptions {
            file: Some(path.clone()),
            ..Default::default()
        },
    )
    .await;
    let c = client();
    for _ in 0..3 {
        chat(&c, &s.base_urls()[0], CHAT)
            .await
            .bytes()
            .await
            .unwrap();
    }
    // No shutdown yet: the writer flushes at least every 200 ms.
    let deadline = Instant::now() + WAIT;
    let lines = loop {
        let text = std::fs::read_to_string(&path).unwrap();
        if text.lines().count() >= 3 || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let parsed: Vec<Line> = lines.lines().map(|l| Line::parse(l).unwrap()).collect();
    assert_eq!(parsed.len(), 3, "{lines}");
    for (i, l) in parsed.iter().enumerate() {
        let Line::Attempt(a) = l else { panic!("{l:?}") };
        assert_eq!((a.seq, a.tokens, a.end), (i as u64 + 1, 3, End::Answered));
    }
    assert!(lines.ends_with('\n'));
    s.shutdown().await;
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn an_unwritable_journal_file_is_a_clear_error() {
    let config: ServerConfig = parse_yaml(&instant(1), "t.yaml").unwrap();
    let e = mock_server::start(
        config,
        StartOptions {
            journal: JournalOptions {
                file: Some("/nonexistent-dir/j.jsonl".into()),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("/nonexistent-dir/j.jsonl") && msg.contains("--journal"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_channel_never_read_counts_drops_and_requests_stay_prompt() {
    let (tx, rx) = mpsc::channel(1);
    let s = start_with(
        &instant(1),
        JournalOptions {
            channel: Some(tx),
            ..Default::default()
        },
    )
    .await;
    let c = client();
    let started = Instant::now();
    for _ in 0..50 {
        let t = Instant::now();
        let r = chat(&c, &s.base_urls()[0], CHAT).await;
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    let deadline = Instant::now() + WAIT;
    while s.journal_dropped() < 49 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.journal_dropped(), 49, "one record fits in the channel");
    let v: serde_json::Value = c
        .get(format!("{}/_mock/journal?since=0", s.base_urls()[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["dropped"], 49);
    assert_eq!(
        v["records"].as_array().unwrap().len(),
        50,
        "the ring keeps them all"
    );
    s.shutdown().await;
    drop(rx);
}

#[tokio::test]
async fn attempts_open_at_shutdown_end_as_shutdown_and_the_channel_closes() {
    let (s, mut rx) = journaled(&with_fault("{stall: {}}", 1)).await;
    let mut c = TcpStream::connect(s.addrs()[0]).await.unwrap();
    c.write_all(&request("/chat/completions", CHAT, ""))
        .await
        .unwrap();
    // Let the request reach the handler.
    let deadline = Instant::now() + WAIT;
    while s.counters().total_requests() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    s.shutdown().await;
    let a = next(&mut rx).await;
    assert_eq!(
        (a.end, a.status, a.faults.clone()),
        (End::Shutdown, None, vec![FaultTag::Stall])
    );
    assert_eq!(a.stalled_at, Some(a.at));
    assert!(rx.recv().await.is_none(), "the server dropped its Sender");
    drop(c);
}

#[tokio::test]
async fn dropping_the_server_closes_the_channel() {
    let (s, mut rx) = journaled(&instant(1)).await;
    chat(&client(), &s.base_urls()[0], CHAT)
        .await
        .bytes()
        .await
        .unwrap();
    drop(s);
    let a = next(&mut rx).await;
    assert_eq!(a.end, End::Answered);
    let end = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("closed in time");
    assert!(end.is_none());
}

#[tokio::test]
async fn a_disabled_journal_records_nothing_and_answers_as_usual() {
    let s = start_with(
        &instant(2),
        JournalOptions {
            disabled: true,
            ..Default::default()
        },
    )
    .await;
    let c = client();
    let r = chat(&c, &s.base_urls()[0], CHAT).await;
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let v: serde_json::Value = c
        .get(format!("{}/_mock/journal", s.base_urls()[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["oldest"], serde_json::Value::Null);
    s.shutdown().await;
}
