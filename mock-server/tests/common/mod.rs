//! Helpers shared by the integration tests: start a server from YAML, and a
//! raw HTTP/1.1 client that reports exactly how the connection ended.
#![allow(dead_code)]

use mock_server::{config::parse_yaml, MockServer, ServerConfig, StartOptions};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generation with no delay and `tokens` answer tokens.
pub fn instant(tokens: u32) -> String {
    format!("generation: {{ ttft: 0ms, tokens_per_second: unlimited, output_tokens: {tokens} }}\n")
}

pub async fn start(yaml: &str) -> MockServer {
    let config: ServerConfig = parse_yaml(yaml, "test.yaml").expect("valid test config");
    mock_server::start(config, StartOptions::default())
        .await
        .expect("server starts")
}

pub const CHAT: &str =
    r#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"hello"}]}"#;
pub const CHAT_STREAM: &str =
    r#"{"model":"deepseek-v4-flash","stream":true,"messages":[{"role":"user","content":"hello"}]}"#;

/// How a raw connection ended.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum End {
    /// Orderly close (read returned 0).
    Fin,
    /// Connection reset.
    Reset,
    /// Still open when we gave up.
    Timeout,
}

pub fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer sk-test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends `request` and reads until the peer closes, resets, or `wait` passes.
pub async fn raw(addr: SocketAddr, request: &[u8], wait: Duration) -> (Vec<u8>, End) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    read_all(&mut s, wait).await
}

pub async fn read_all(s: &mut TcpStream, wait: Duration) -> (Vec<u8>, End) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return (out, End::Timeout),
            Ok(Ok(0)) => return (out, End::Fin),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (out, End::Reset)
            }
            Ok(Err(e)) => panic!("unexpected read error {e}"),
        }
    }
}

/// `data:` payloads of an SSE body (chunked framing left in place is skipped).
pub fn data_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| l.strip_prefix("data: ").map(str::to_string))
        .collect()
}

/// Number of token chunks (content or reasoning deltas that are not empty).
pub fn token_chunks(bytes: &[u8]) -> usize {
    data_lines(bytes)
        .iter()
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter(|v| {
            let delta = &v["choices"][0]["delta"];
            delta["role"].is_null()
                && (delta["content"].as_str().is_some_and(|s| !s.is_empty())
                    || delta["reasoning_content"]
                        .as_str()
                        .is_some_and(|s| !s.is_empty()))
        })
        .count()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("client")
}

pub async fn chat(c: &reqwest::Client, base: &str, body: &str) -> reqwest::Response {
    c.post(format!("{base}/chat/completions"))
        .bearer_auth("sk-test")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("response")
}
