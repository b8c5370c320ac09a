//! Cost of recording one outcome: the whole `Recorder::record` path (interval
//! histograms, counters, row bookkeeping) and a bare HDR `record` for
//! comparison. The bar is well under 1 µs per outcome.

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use harness::outcome::{Arm, Outcome, OutcomeClass};
use harness::record::{latency_histogram, Recorder, RecorderConfig};

fn outcome(i: u64, stream: bool) -> Outcome {
    let intended = Duration::from_micros(i * 50);
    Outcome {
        arm: Arm::Resilient,
        intended,
        sent: intended + Duration::from_micros(i % 7),
        done: intended + Duration::from_micros(1_000 + (i * 7919) % 50_000),
        ttft: stream.then(|| Duration::from_micros(300 + i % 900)),
        itl: if stream {
            vec![Duration::from_micros(2_000); 16]
        } else {
            Vec::new()
        },
        tokens: if stream { 17 } else { 0 },
        class: if i.is_multiple_of(50) {
            OutcomeClass::Http5xx
        } else {
            OutcomeClass::Ok
        },
        statuses: vec![200],
        attempts: 1,
        queue_wait: Duration::from_micros(i % 100),
        note: None,
        priority: Default::default(),
    }
}

fn bench_record(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("harness-bench-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Elements(1));
    for (name, stream) in [("outcome_json", false), ("outcome_stream_16_tokens", true)] {
        let mut rec = Recorder::new(RecorderConfig {
            arms: vec![Arm::Resilient],
            events_path: dir.join(format!("{name}.events.jsonl")),
            hlog_path: dir.join(format!("{name}.hlog")),
            interval: Duration::from_secs(1),
        })
        .expect("recorder");
        // Outcomes every 50 µs of simulated time: the recorder also closes a
        // one-second interval (hlog write) every 20,000 outcomes, as in a run.
        let mut outcomes: Vec<Outcome> = (0..100_000).map(|i| outcome(i, stream)).collect();
        let mut i = 0usize;
        g.bench_function(name, |b| {
            b.iter(|| {
                rec.record(black_box(&outcomes[i]));
                i += 1;
                if i == outcomes.len() {
                    // Shift the batch forward in time (amortized: once per
                    // 100,000 outcomes) so intervals keep closing.
                    i = 0;
                    for o in &mut outcomes {
                        o.intended += Duration::from_secs(6);
                        o.sent += Duration::from_secs(6);
                        o.done += Duration::from_secs(6);
                    }
                }
            })
        });
    }
    // Closing one second: percentiles of the row, merge into the run
    // histograms and 11 deflate-compressed hlog lines (2 arms, streaming).
    let mut rec = Recorder::new(RecorderConfig {
        arms: vec![Arm::Resilient, Arm::Raw],
        events_path: dir.join("tick.events.jsonl"),
        hlog_path: dir.join("tick.hlog"),
        interval: Duration::from_secs(1),
    })
    .expect("recorder");
    let mut second = 0u64;
    g.bench_function("close_one_second_2_arms", |b| {
        b.iter(|| {
            for arm in [Arm::Resilient, Arm::Raw] {
                let mut o = outcome(second, true);
                o.arm = arm;
                o.intended = Duration::from_secs(second);
                o.sent = o.intended;
                o.done = o.intended + Duration::from_millis(20);
                rec.record(&o);
            }
            second += 1;
            rec.tick(Duration::from_secs(second));
        })
    });
    let mut h = latency_histogram();
    let mut v = 1u64;
    g.bench_function("hdr_record_alone", |b| {
        b.iter(|| {
            v = (v * 7919) % 3_000_000 + 1;
            h.saturating_record(black_box(v));
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    // Criterion's own plots need a registered font under this package's
    // plotters features (ab_glyph, no system fonts): numbers only.
    config = Criterion::default().without_plots();
    targets = bench_record
}
criterion_main!(benches);
