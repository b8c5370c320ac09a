//! Criterion benchmarks of the per-request hot path: the fault decision
//! (empty set, a typical brownout set with an active phase), request
//! validation, and building a non-streaming reply.
//!
//! `cargo bench -p mock-server --bench faults`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use mock_server::api::reply::{completion_body, ChunkWriter, Script};
use mock_server::api::request::parse;
use mock_server::config::{parse_yaml, Generation, RetiredModels, ServerConfig};
use mock_server::plan::FaultSet;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

const BROWNOUT: &str = r#"
nodes: 3
faults:
  - latency: { delay: { lognormal: { median: 50ms, p99: 400ms } }, rate: 20% }
  - stream_drop: { after_tokens: 10, mode: rst, rate: 2% }
phases:
  - name: storm
    at: 10s
    for: 20s
    nodes: [0, 1]
    faults:
      - status: { code: 429, retry_after: 1, rate: 30% }
      - status: { code: 503, rate: 10% }
      - reset: { rate: 2% }
      - queue_wait: { wait: { uniform: [1s, 5s] }, rate: 5% }
"#;

const BODY: &[u8] = br#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"Say hello to the benchmark."}]}"#;

fn decisions(c: &mut Criterion) {
    let config: ServerConfig = parse_yaml(BROWNOUT, "bench").unwrap();
    let set = FaultSet::new(&config.faults, &config.phases);
    let empty = FaultSet::default();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    c.bench_function("decide/empty", |b| {
        b.iter(|| empty.decide(black_box(Duration::from_secs(15)), 0, false, &mut rng))
    });
    c.bench_function("decide/brownout_in_phase", |b| {
        b.iter(|| set.decide(black_box(Duration::from_secs(15)), 0, true, &mut rng))
    });
    c.bench_function("decide/brownout_outside_phase", |b| {
        b.iter(|| set.decide(black_box(Duration::from_secs(40)), 2, false, &mut rng))
    });
}

fn replies(c: &mut Criterion) {
    let gen = Generation::instant();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    c.bench_function("request/parse", |b| {
        b.iter(|| parse(black_box(BODY), RetiredModels::Accept).unwrap())
    });
    let req = parse(BODY, RetiredModels::Accept).unwrap();
    c.bench_function("reply/script_draw", |b| {
        b.iter(|| Script::draw(&req, &gen, &mut rng))
    });
    let script = Script::draw(&req, &gen, &mut rng);
    c.bench_function("reply/completion_body", |b| {
        b.iter(|| completion_body(black_box(&script)))
    });
    let writer = ChunkWriter::new(&script);
    c.bench_function("reply/sse_token_chunk", |b| {
        b.iter(|| writer.token(black_box(" word"), false))
    });
}

criterion_group!(benches, decisions, replies);
criterion_main!(benches);
