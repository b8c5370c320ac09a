//! One non-streamed request through the full resilience stack versus a bare
//! reqwest call, both against the in-process fake server (loopback, instant
//! generation). Criterion measures each; a final paired run prints the
//! throughput ratio the README quotes (bar: the stack costs <= 10%).
//!
//! `cargo bench -p resilient-client --bench stack`

use std::time::{Duration, Instant};

use criterion::Criterion;
use futures::future::join_all;
use resilient_client::{ChatRequest, ChatResponse, Client, ClientConfig, Message, Model};

const SERVER: &str = "generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: 16 }\n";
const CONCURRENCY: usize = 16;
const ROUNDS: usize = 9;

struct Fixture {
    _server: mock_server::MockServer,
    url: String,
    bare: reqwest::Client,
    stack: Client,
    /// The same client type with `ClientConfig::bare()`: plumbing without policies.
    plumbing: Client,
}

fn request() -> ChatRequest {
    let mut r = ChatRequest::new(Model::V4Flash, vec![Message::user("benchmark me")]);
    r.max_tokens = Some(16);
    r
}

async fn fixture() -> Fixture {
    let cfg: mock_server::ServerConfig = serde_yaml::from_str(SERVER).expect("server yaml");
    let server = mock_server::start(cfg, mock_server::StartOptions::default())
        .await
        .expect("server");
    let base = server.base_urls()[0].clone();
    // The full stack: retries, budget, breaker, bulkhead, rate limiter (high
    // enough never to bind), ejection, metrics, events, traceparent.
    let client_cfg: ClientConfig = serde_yaml::from_str(
        "rate_limit: { rate: 1000000/s, burst: 1000 }\nbulkhead: { max_concurrent: 256, max_queue: 1024 }",
    )
    .expect("client yaml");
    let plumbing = Client::builder(client_cfg.bare())
        .endpoints(vec![base.clone()])
        .api_key("sk-bench")
        .build()
        .expect("client");
    let stack = Client::builder(client_cfg)
        .endpoints(vec![base.clone()])
        .api_key("sk-bench")
        .build()
        .expect("client");
    let bare = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .build()
        .expect("reqwest");
    Fixture {
        _server: server,
        url: format!("{base}/chat/completions"),
        bare,
        stack,
        plumbing,
    }
}

async fn bare_call(f: &Fixture) {
    let body = serde_json::to_vec(&request()).expect("encode");
    let resp = f
        .bare
        .post(&f.url)
        .bearer_auth("sk-bench")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    assert!(resp.status().is_success());
    let r: ChatResponse = serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json");
    assert!(!r.choices.is_empty());
}

async fn stack_call(f: &Fixture) {
    let r = f.stack.chat(request()).await.expect("stack call");
    assert!(!r.choices.is_empty());
}

async fn throughput(f: &Fixture, stack: bool, total: usize, concurrency: usize) -> f64 {
    let t0 = Instant::now();
    for _ in 0..total / concurrency {
        if stack {
            join_all((0..concurrency).map(|_| stack_call(f))).await;
        } else {
            join_all((0..concurrency).map(|_| bare_call(f))).await;
        }
    }
    total as f64 / t0.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let f = rt.block_on(fixture());
    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(5));
    let mut g = c.benchmark_group("one_request");
    g.bench_function("bare_reqwest", |b| b.to_async(&rt).iter(|| bare_call(&f)));
    g.bench_function("full_stack", |b| b.to_async(&rt).iter(|| stack_call(&f)));
    g.bench_function("stack_policies_off", |b| {
        b.to_async(&rt).iter(|| async {
            let r = f.plumbing.chat(request()).await.expect("plumbing call");
            assert!(!r.choices.is_empty());
        })
    });
    g.finish();
    let mut g = c.benchmark_group("concurrent_16");
    g.bench_function("bare_reqwest", |b| {
        b.to_async(&rt)
            .iter(|| join_all((0..CONCURRENCY).map(|_| bare_call(&f))))
    });
    g.bench_function("full_stack", |b| {
        b.to_async(&rt)
            .iter(|| join_all((0..CONCURRENCY).map(|_| stack_call(&f))))
    });
    g.finish();
    c.final_summary();

    // Paired, interleaved rounds so drift and neighbours' load hit both arms
    // alike; the median of per-round ratios resists outlier rounds.
    for concurrency in [1, CONCURRENCY] {
        let mut ratios = Vec::new();
        let (mut bare_sum, mut stack_sum) = (0.0, 0.0);
        for _ in 0..ROUNDS {
            let bare = rt.block_on(throughput(&f, false, 1600, concurrency));
            let stack = rt.block_on(throughput(&f, true, 1600, concurrency));
            bare_sum += bare;
            stack_sum += stack;
            ratios.push(stack / bare);
        }
        ratios.sort_by(f64::total_cmp);
        println!(
            "throughput ({concurrency} concurrent, loopback, {ROUNDS} paired rounds): bare {:.0} req/s, full stack {:.0} req/s, median stack/bare = {:.3}",
            bare_sum / ROUNDS as f64,
            stack_sum / ROUNDS as f64,
            ratios[ROUNDS / 2]
        );
    }
}
