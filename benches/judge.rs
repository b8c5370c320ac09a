//! Throughput of the streaming judge: records pushed per second, for a
//! journal of 100 calls a second over 3 nodes with a quarter of the calls
//! retried (a 503 then a success on the next node), judged with call_idle
//! 10 s so eviction runs as it would on a long journal; and the same journal
//! read from JSONL bytes (parse + push), as `harness judge` would.
//!
//! `cargo bench --bench judge`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use harness::judge::{read_journal, Judge, VerdictConfig};
use mock_server::journal::{Attempt, CallFrom, End};

fn attempt(call: &str, node: u32, at: f64, status: u16) -> Attempt {
    Attempt {
        seq: 0,
        node,
        call: call.to_string(),
        call_from: CallFrom::Traceparent,
        at,
        headers_at: Some(at + 0.004),
        end_at: at + 0.012,
        end: End::Answered,
        faults: if status == 200 {
            Vec::new()
        } else {
            vec![mock_server::journal::FaultTag::Status]
        },
        status: Some(status),
        retry_after_s: None,
        retry_after_ms: None,
        should_retry: None,
        tokens: if status == 200 { 40 } else { 0 },
        model: Some("deepseek-v4-flash".into()),
        stream: true,
        sdk_retry_count: None,
        client_gone_after: None,
        stalled_at: None,
    }
}

/// `seconds` of journal, in end order.
fn journal(seconds: u32) -> Vec<Attempt> {
    let mut out = Vec::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for s in 0..seconds {
        for i in 0..100u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let call = format!("{:032x}", u128::from(x) << 64 | u128::from(s * 100 + i));
            let at = f64::from(s) + f64::from(i) * 0.01;
            let node = i % 3;
            if x.is_multiple_of(4) {
                let f = attempt(&call, node, at, 503);
                out.push(attempt(
                    &call,
                    (node + 1) % 3,
                    f.end_at + 0.1 + (x % 97) as f64 / 1000.0,
                    200,
                ));
                out.push(f);
            } else {
                out.push(attempt(&call, node, at, 200));
            }
        }
    }
    out.sort_by(|a, b| a.end_at.total_cmp(&b.end_at));
    for (i, a) in out.iter_mut().enumerate() {
        a.seq = i as u64 + 1;
    }
    out
}

fn config() -> VerdictConfig {
    let mut c = VerdictConfig::default();
    c.set("call_idle=10s").expect("valid override");
    c
}

fn bench_judge(c: &mut Criterion) {
    let records = journal(600);
    let mut jsonl = Vec::new();
    for r in &records {
        r.write_line(&mut jsonl);
    }
    let mut g = c.benchmark_group("judge");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function("push", |b| {
        b.iter(|| {
            let mut j = Judge::new(config()).expect("valid config");
            for r in &records {
                j.push(black_box(r)).expect("valid record");
            }
            black_box(j.finish())
        })
    });
    g.bench_function("read_jsonl", |b| {
        b.iter(|| {
            let mut j = Judge::new(config()).expect("valid config");
            read_journal(black_box(&jsonl[..]), &mut j).expect("readable");
            black_box(j.finish())
        })
    });
    g.finish();
}

criterion_group!(benches, bench_judge);
criterion_main!(benches);
