//! The harness's own hot paths: parsing a scenario, the open-model schedule
//! iterator (one call per request sent), and one request through the
//! generator's executor (`driver::execute`) with a bare client (the raw path)
//! versus the full resilient client, both against the in-process fake server
//! answering instantly on loopback.
//!
//! `cargo bench --bench harness` (add `-- --save-baseline before` /
//! `-- --baseline before` to compare two versions).

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use futures::future::join_all;
use harness::driver::execute;
use harness::outcome::{Arm, OutcomeClass};
use harness::scenario::load::Shape;
use harness::schedule::Schedule;
use harness::units::Rate;
use resilient_client::{ChatRequest, Client, ClientConfig, Message, Model};
use tokio::time::Instant;

const BROWNOUT: &str = include_str!("../scenarios/brownout.yaml");
const SERVER: &str =
    "generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }\n";
const CONCURRENCY: usize = 16;
const PAIRED_ROUNDS: usize = 9;
const PAIRED_REQUESTS: usize = 3200;

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("scenario");
    g.bench_function("parse_brownout", |b| {
        b.iter(|| {
            harness::scenario::parse(black_box(BROWNOUT), "scenarios/brownout.yaml", &[])
                .expect("brownout parses")
        })
    });
    g.finish();
}

fn rate(r: f64) -> Rate {
    Rate::per_second(r).expect("rate")
}

fn bench_schedule(c: &mut Criterion) {
    let mut g = c.benchmark_group("schedule_next");
    g.throughput(Throughput::Elements(1));
    // A day at the rate: the iterator never runs dry inside a measurement.
    let day = Duration::from_secs(86_400);
    let shapes = [
        ("constant", Shape::Constant(rate(5000.0))),
        ("poisson", Shape::Poisson(rate(5000.0))),
        (
            "ramp",
            Shape::Ramp {
                from: rate(100.0),
                to: rate(5000.0),
            },
        ),
        (
            "sine",
            Shape::Sine {
                mean: rate(2000.0),
                amplitude: rate(1500.0),
                period: Duration::from_secs(10),
            },
        ),
    ];
    for (name, shape) in shapes {
        let mut s = Schedule::new(shape, day, 1);
        g.bench_function(name, |b| b.iter(|| black_box(s.next())));
    }
    g.finish();
}

fn request() -> ChatRequest {
    let mut r = ChatRequest::new(Model::V4Flash, vec![Message::user("benchmark me")]);
    r.max_tokens = Some(16);
    r
}

/// One request through the executor, checked so a broken fixture cannot
/// produce fast numbers.
async fn one(client: &Client, t0: Instant, arm: Arm) {
    let sent = t0.elapsed();
    let o = execute(client, request(), false, t0, arm, sent, sent).await;
    assert_eq!(o.class, OutcomeClass::Ok, "statuses {:?}", o.statuses);
}

fn bench_request(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cfg: mock_server::ServerConfig = serde_yaml::from_str(SERVER).expect("server yaml");
    let server = rt
        .block_on(mock_server::start(
            cfg,
            mock_server::StartOptions::default(),
        ))
        .expect("fake server");
    let base = server.base_urls()[0].clone();
    // The full client as a scenario would run it: default retry, budget,
    // breaker and ejection, a bulkhead wide enough never to queue here.
    let full_cfg: ClientConfig =
        serde_yaml::from_str("bulkhead: { max_concurrent: 256, max_queue: 1024 }")
            .expect("client yaml");
    let build = |cfg: ClientConfig| {
        let _guard = rt.enter();
        Client::builder(cfg)
            .endpoints(vec![base.clone()])
            .api_key("sk-bench")
            .build()
            .expect("client")
    };
    let raw = build(full_cfg.bare());
    let full = build(full_cfg);
    let t0 = Instant::now();

    let mut g = c.benchmark_group("request");
    g.throughput(Throughput::Elements(1));
    g.bench_function("raw_generator_path", |b| {
        b.to_async(&rt).iter(|| one(&raw, t0, Arm::Raw))
    });
    g.bench_function("resilient_client", |b| {
        b.to_async(&rt).iter(|| one(&full, t0, Arm::Resilient))
    });
    g.finish();

    let mut g = c.benchmark_group("request_16_concurrent");
    g.throughput(Throughput::Elements(CONCURRENCY as u64));
    g.bench_function("raw_generator_path", |b| {
        b.to_async(&rt)
            .iter(|| join_all((0..CONCURRENCY).map(|_| one(&raw, t0, Arm::Raw))))
    });
    g.bench_function("resilient_client", |b| {
        b.to_async(&rt)
            .iter(|| join_all((0..CONCURRENCY).map(|_| one(&full, t0, Arm::Resilient))))
    });
    g.finish();

    // Paired, interleaved rounds (order alternating) so a neighbour's CPU
    // burst hits both arms alike; the median per-round ratio is the figure
    // docs/benchmarks.md quotes.
    let mut ratios = Vec::new();
    let (mut raw_sum, mut full_sum) = (0.0, 0.0);
    for round in 0..PAIRED_ROUNDS {
        let mut rates = [0.0; 2];
        for k in 0..2 {
            let arm = (round + k) % 2;
            let client = if arm == 0 { &raw } else { &full };
            let start = std::time::Instant::now();
            rt.block_on(async {
                for _ in 0..PAIRED_REQUESTS / CONCURRENCY {
                    join_all((0..CONCURRENCY).map(|_| one(client, t0, Arm::Raw))).await;
                }
            });
            rates[arm] = PAIRED_REQUESTS as f64 / start.elapsed().as_secs_f64();
        }
        raw_sum += rates[0];
        full_sum += rates[1];
        ratios.push(rates[1] / rates[0]);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "paired ({CONCURRENCY} concurrent, {PAIRED_ROUNDS} rounds of {PAIRED_REQUESTS}): raw generator path {:.0} req/s, \
         resilient client {:.0} req/s, median resilient/raw = {:.3}",
        raw_sum / PAIRED_ROUNDS as f64,
        full_sum / PAIRED_ROUNDS as f64,
        ratios[PAIRED_ROUNDS / 2]
    );
    rt.block_on(server.shutdown());
}

fn config() -> Criterion {
    // plotters has no system fonts here: no plots, text results only.
    Criterion::default()
        .without_plots()
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_parse, bench_schedule, bench_request
}
criterion_main!(benches);
