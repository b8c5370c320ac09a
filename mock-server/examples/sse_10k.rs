//! Opens N concurrent SSE streams (default 10,000) against a running fake
//! server and checks each one ends properly (`data: [DONE]` and the final
//! HTTP chunk). Prints errors by kind and the peak of open connections the
//! server reported via `/_mock/counters`. Used by `scripts/sse-10k.sh`.
//!
//! `cargo run --release -p mock-server --example sse_10k -- http://127.0.0.1:PORT [N]`

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

const BODY: &str = r#"{"model":"deepseek-v4-flash","stream":true,"messages":[{"role":"user","content":"stream please"}]}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .ok_or("usage: sse_10k http://127.0.0.1:PORT [N]")?;
    let n: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let addr: SocketAddr = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()?;
    let request = Arc::new(
        format!(
            "POST /chat/completions HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer sk-load\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        )
        .into_bytes(),
    );
    // Bounded connect concurrency so the listen backlog is not flooded.
    let connects = Arc::new(Semaphore::new(256));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let peak = tokio::spawn(watch_peak(base.clone(), done.clone(), n as u64));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (request, connects, done) = (request.clone(), connects.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let r = one_stream(addr, &request, &connects).await;
            done.fetch_add(1, Ordering::Relaxed);
            r
        }));
    }
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut ok = 0usize;
    for t in tasks {
        match t.await {
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) => *errors.entry(e).or_default() += 1,
            Err(e) => *errors.entry(format!("task: {e}")).or_default() += 1,
        }
    }
    let peak = peak.await.unwrap_or(0);
    println!(
        "streams: {n}, complete: {ok}, errors: {}, peak open connections on server: {peak}, elapsed: {:.1}s",
        n - ok,
        started.elapsed().as_secs_f64()
    );
    for (kind, count) in &errors {
        println!("  {count} x {kind}");
    }
    if ok == n {
        Ok(())
    } else {
        Err("some streams failed".into())
    }
}

async fn one_stream(addr: SocketAddr, request: &[u8], connects: &Semaphore) -> Result<(), String> {
    let mut s = {
        let _permit = connects.acquire().await.map_err(|e| e.to_string())?;
        tokio::time::timeout(Duration::from_secs(30), TcpStream::connect(addr))
            .await
            .map_err(|_| "connect timeout".to_string())?
            .map_err(|e| format!("connect: {}", e.kind()))?
    };
    s.write_all(request)
        .await
        .map_err(|e| format!("write: {}", e.kind()))?;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let n = tokio::time::timeout_at(deadline, s.read(&mut chunk))
            .await
            .map_err(|_| "stream timeout".to_string())?
            .map_err(|e| format!("read: {}", e.kind()))?;
        if n == 0 {
            return Err("closed before the end".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.ends_with(b"0\r\n\r\n") {
            break;
        }
    }
    if !buf.starts_with(b"HTTP/1.1 200") {
        return Err("non-200 status".into());
    }
    if !buf.windows(12).any(|w| w == b"data: [DONE]") {
        return Err("no [DONE]".into());
    }
    Ok(())
}

/// Polls the server's counters until every stream finished; returns the peak.
async fn watch_peak(base: String, done: Arc<AtomicU64>, n: u64) -> u64 {
    let client = reqwest::Client::new();
    let mut peak = 0;
    while done.load(Ordering::Relaxed) < n {
        if let Ok(r) = client.get(format!("{base}/_mock/counters")).send().await {
            if let Ok(v) = r.json::<serde_json::Value>().await {
                let open = v["nodes"][0]["open_connections"].as_u64().unwrap_or(0);
                peak = peak.max(open);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    peak
}
