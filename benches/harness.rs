//! The harness's own hot paths: parsing a scenario, the open-model schedule
//! iterator (one call per request sent), and one request measured by the
//! generator (`driver::measure` with a `ClientSender`) through a bare client
//! (the raw path) versus the full resilient client, both against the
//! in-process fake server answering instantly on loopback.
//!
//! `cargo bench --bench harness` (add `-- --save-baseline before` /
//! `-- --baseline before` to compare two versions).

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use futures::future::join_all;
use harness::driver::{drive, measure, Gauges, Job, Pacing, Stop};
use harness::outcome::{Arm, OutcomeClass};
use harness::scenario::load::{Pick, Shape};
use harness::schedule::Schedule;
use harness::sender::client::ClientSender;
use harness::sender::direct::Direct;
use harness::sender::Sender;
use harness::units::Rate;
use resilient_client::{ChatRequest, Client, ClientConfig, Message, Model};
use tokio::sync::mpsc;
use tokio::time::Instant;

const BROWNOUT: &str = include_str!("../scenarios/brownout.yaml");
const SERVER: &str =
    "generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }\n";
const CONCURRENCY: usize = 16;
const PAIRED_ROUNDS: usize = 9;
const PAIRED_REQUESTS: usize = 3200;
/// Closed-model users (connections) of the generator-overhead comparison.
const USERS: usize = 50;
/// Length of one arm's run in that comparison.
const LOOP_FOR: Duration = Duration::from_secs(2);

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
    Rate::new(r).expect("rate")
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

/// One request as the generator measures it, checked so a broken fixture
/// cannot produce fast numbers.
async fn one(sender: &ClientSender, t0: Instant, arm: Arm) {
    let intended = t0.elapsed();
    let o = measure(sender, &mut (), 0, t0, arm, intended).await;
    assert_eq!(o.class, OutcomeClass::Ok, "statuses {:?}", o.statuses);
}

/// A sender of the one benchmark request through `client`.
fn through(client: &Client) -> ClientSender {
    ClientSender::new(client.clone(), std::sync::Arc::new(vec![request()]), false)
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
    let raw_client = build(full_cfg.bare());
    let raw = through(&raw_client);
    let full = through(&build(full_cfg));
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
    generator_overhead(&rt, &base, &raw_client);
    rt.block_on(server.shutdown());
}

/// User + system CPU seconds of this process so far (Linux `/proc`, clock
/// ticks of 10 ms: good to ~1% over a 2 s arm). None elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// `USERS` closed-model users through `driver::drive` with `sender` for
/// `LOOP_FOR`; returns requests done.
async fn drive_closed<S: Sender>(sender: S) -> u64 {
    let (tx, mut rx) = mpsc::channel::<Vec<harness::outcome::Outcome>>(4_096);
    let count = tokio::spawn(async move {
        let mut n = 0u64;
        while let Some(burst) = rx.recv().await {
            for o in burst {
                assert_eq!(o.class, OutcomeClass::Ok);
                n += 1;
            }
        }
        n
    });
    let job = Job {
        arm: Arm::Raw,
        pacing: Pacing::Closed {
            users: USERS,
            think_time: Duration::ZERO,
            duration: LOOP_FOR,
        },
        bodies: 1,
        pick: Pick::Rotate,
        seed: 1,
        drain: Duration::from_secs(5),
    };
    let gauges = std::sync::Arc::new(Gauges::default());
    drive(sender, job, Instant::now(), tx, Stop::default(), gauges).await;
    count.await.expect("counter")
}

/// `USERS` loops sending back to back for `LOOP_FOR`; returns requests done.
async fn loops<F, Fut>(send: F) -> u64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let end = Instant::now() + LOOP_FOR;
    let tasks: Vec<_> = (0..USERS)
        .map(|_| {
            let send = send.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    send().await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in join_all(tasks).await {
        total += t.expect("loop task");
    }
    total
}

/// How much the generator costs on top of the client it drives, the
/// question behind "harness vs oha" (scripts/peers.sh): USERS closed-model
/// users through `driver::drive` (tasks, outcome channel, bursts), the same
/// number of plain loops calling the same bare client, plain loops on bare
/// reqwest (the client's transport), and `driver::drive` with no client
/// (`load.via: direct`). Rounds alternate the order.
fn generator_overhead(rt: &tokio::runtime::Runtime, base: &str, raw: &Client) {
    let url = format!("{base}/chat/completions");
    let body = serde_json::to_vec(&request()).expect("encode");
    let http = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .no_proxy()
        .build()
        .expect("reqwest");
    let names = [
        "bare reqwest loops",
        "client.chat loops",
        "driver::drive (closed)",
        "driver::drive via direct",
    ];
    let direct = rt
        .block_on(Direct::new(
            &[base.to_string()],
            &[request()],
            "sk-bench",
            Duration::from_secs(1),
            Duration::from_secs(10),
        ))
        .expect("direct sender");
    let mut sums = [(0.0, 0.0); 4];
    let rounds = 3;
    for round in 0..rounds {
        for k in 0..names.len() {
            let arm = (round + k) % names.len();
            let c0 = cpu_seconds();
            let t = std::time::Instant::now();
            let n = rt.block_on(async {
                match arm {
                    0 => {
                        let (http, url, body) = (http.clone(), url.clone(), body.clone());
                        loops(move || {
                            let req = http
                                .post(&url)
                                .bearer_auth("sk-bench")
                                .header("content-type", "application/json")
                                .body(body.clone())
                                .send();
                            async move {
                                let r = req.await.expect("send");
                                assert!(r.status().is_success());
                                r.bytes().await.expect("body");
                            }
                        })
                        .await
                    }
                    1 => {
                        let raw = raw.clone();
                        loops(move || {
                            let raw = raw.clone();
                            async move {
                                raw.chat(request()).await.expect("chat");
                            }
                        })
                        .await
                    }
                    2 => drive_closed(through(raw)).await,
                    _ => drive_closed(direct.clone()).await,
                }
            });
            let secs = t.elapsed().as_secs_f64();
            let cpu = match (c0, cpu_seconds()) {
                (Some(a), Some(b)) => (b - a) / n as f64 * 1e6,
                _ => f64::NAN,
            };
            sums[arm].0 += n as f64 / secs;
            sums[arm].1 += cpu;
        }
    }
    println!("generator overhead ({USERS} users, {rounds} rounds of {LOOP_FOR:?}, in-process server; cpu includes the server):");
    for (name, (rps, cpu)) in names.iter().zip(sums) {
        println!(
            "  {name:24} {:>8.0} req/s  {:>5.1} us CPU/request  ({:.2}x bare reqwest)",
            rps / rounds as f64,
            cpu / rounds as f64,
            rps / sums[0].0
        );
    }
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
