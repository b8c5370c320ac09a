//! `resilient-adapter`: the project's own `resilient-client` behind the
//! harness's adapter protocol (docs/adapter-protocol.md), so it is driven
//! and judged exactly like the Python, Node and Go clients.
//!
//! One `POST /chat` becomes one `Client::chat` (or `chat_stream`) call; the
//! answer goes back as the completion JSON, re-streamed SSE chunks, or an
//! error body naming how the client gave up (its own classes: `timeout`,
//! `status`, `connection`, `stream`, and `shed`, `rate_limited`,
//! `breaker_open`, `budget_exhausted` for its policies' refusals).
//!
//! Environment: `PORT` (loopback), `DEEPSEEK_BASE_URLS` (comma-separated
//! endpoints, e.g. the fake nodes; for the real API
//! `https://api.deepseek.com`), `DEEPSEEK_API_KEY`, and optionally
//! `CLIENT_CONFIG` (a YAML file holding a `client:` section, or the bare
//! section; defaults otherwise).

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use futures::StreamExt;
use http::{header, Request, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use resilient_client::{CallError, ChatRequest, Client, ClientConfig, Error};

type Body = UnsyncBoxBody<Bytes, Infallible>;

fn full(status: StatusCode, ctype: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed_unsync());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(ctype),
    );
    r
}

/// The protocol's `{"error": {...}}` body for how the client gave up.
fn error_body(e: &Error) -> Bytes {
    let kind = match e.class() {
        "timeout" => "timeout",
        "connection" => "connection",
        "stream_broken" => "stream",
        "http_429" | "http_5xx" | "http_4xx" => "status",
        "shed" | "rate_limited" | "breaker_open" | "budget_exhausted" => e.class(),
        _ => "other",
    };
    let v = serde_json::json!({"error": {"kind": kind, "status": e.status(), "message": e.to_string()}});
    Bytes::from(v.to_string())
}

fn failed(e: &CallError) -> Response<Body> {
    full(
        StatusCode::BAD_GATEWAY,
        "application/json",
        error_body(&e.kind),
    )
}

async fn chat(client: Client, req: Request<Incoming>) -> Response<Body> {
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return full(StatusCode::BAD_REQUEST, "text/plain", e.to_string()),
    };
    let creq: ChatRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            let v = serde_json::json!({"error": {"kind": "other", "message": format!("bad request body: {e}")}});
            return full(StatusCode::BAD_REQUEST, "application/json", v.to_string());
        }
    };
    if !creq.stream {
        return match client.chat(creq).await {
            Ok(r) => match serde_json::to_vec(&r) {
                Ok(json) => full(StatusCode::OK, "application/json", json),
                Err(e) => full(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    e.to_string(),
                ),
            },
            Err(e) => failed(&e),
        };
    }
    let stream = match client.chat_stream(creq).await {
        Ok(s) => s,
        Err(e) => return failed(&e),
    };
    // Each chunk as it arrives, then `[DONE]`; a break after the start
    // becomes an `event: error` and the end of the body instead.
    let frames = futures::stream::unfold((stream, false), |(mut s, ended)| async move {
        if ended {
            return None;
        }
        let (bytes, ended) = match s.next().await {
            Some(Ok(chunk)) => {
                let json = serde_json::to_string(&chunk).unwrap_or_default();
                (Bytes::from(format!("data: {json}\n\n")), false)
            }
            Some(Err(e)) => {
                let mut line = b"event: error\ndata: ".to_vec();
                line.extend_from_slice(&error_body(&e));
                line.extend_from_slice(b"\n\n");
                (Bytes::from(line), true)
            }
            None => (Bytes::from_static(b"data: [DONE]\n\n"), true),
        };
        Some((Ok::<_, Infallible>(Frame::data(bytes)), (s, ended)))
    });
    let mut r = Response::new(BodyExt::boxed_unsync(StreamBody::new(frames)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    r
}

async fn route(client: Client, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    Ok(match (req.method().as_str(), req.uri().path()) {
        ("GET", "/healthz") => full(StatusCode::OK, "text/plain", "ok"),
        ("POST", "/chat") => chat(client, req).await,
        _ => full(StatusCode::NOT_FOUND, "text/plain", "not found"),
    })
}

fn config() -> Result<ClientConfig, String> {
    let Ok(path) = std::env::var("CLIENT_CONFIG") else {
        return Ok(ClientConfig::default());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let section = doc.get("client").cloned().unwrap_or(doc);
    serde_yaml::from_value(section).map_err(|e| format!("{path}: client: {e}"))
}

#[tokio::main]
async fn main() {
    // No default: a test must never reach the real API by accident.
    let Ok(urls) = std::env::var("DEEPSEEK_BASE_URLS") else {
        eprintln!("DEEPSEEK_BASE_URLS is not set (comma-separated base URLs: the fake nodes, or https://api.deepseek.com)");
        std::process::exit(1);
    };
    let endpoints: Vec<String> = urls
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let client = match config().and_then(|c| {
        Client::builder(c)
            .endpoints(endpoints)
            .build()
            .map_err(|e| e.to_string())
    }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("resilient-adapter: {e}");
            std::process::exit(1);
        }
    };
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let listener =
        match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("resilient-adapter: cannot listen on 127.0.0.1:{port}: {e}");
                std::process::exit(1);
            }
        };
    if let Ok(a) = listener.local_addr() {
        println!("resilient-rust adapter on {a}");
    }
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("resilient-adapter: signals: {e}");
            std::process::exit(1);
        }
    };
    loop {
        let stream = tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let client = client.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| route(client.clone(), req));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
