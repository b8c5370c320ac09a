//! The throughput reference for `scripts/bench-mock.sh`: the smallest hyper
//! server that answers every request with the same bytes the fake server
//! sends for a non-streaming completion (same headers, same body length).
//!
//! `cargo run --release -p mock-server --example minimal_hyper -- 127.0.0.1:0 [tokens]`

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{header, Response};
use hyper_util::rt::TokioIo;
use mock_server::api::reply::{completion_body, Script};
use mock_server::api::request::parse;
use mock_server::config::{Dist, Generation, NumberDist, RetiredModels};
use rand::SeedableRng;
use std::convert::Infallible;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let tokens: f64 = args.next().and_then(|t| t.parse().ok()).unwrap_or(60.0);
    let req = parse(
        br#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"Say hello to the benchmark."}]}"#,
        RetiredModels::Accept,
    )
    .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
    let gen = Generation {
        output_tokens: NumberDist(Dist::Constant(tokens)),
        ..Generation::instant()
    };
    let script = Script::draw(&req, &gen, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    let body: Bytes = completion_body(&script);
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |_req| {
                let mut resp = Response::new(Full::new(body.clone()));
                let h = resp.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("application/json"),
                );
                h.insert("x-mock-node", header::HeaderValue::from_static("0"));
                async move { Ok::<_, Infallible>(resp) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
