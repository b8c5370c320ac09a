//! Recorder edge cases: an empty interrupted run, outcomes arriving without
//! ticks, the live progress figures, and absurd timestamps (no panic, rows
//! stay bounded).

mod report_common;

use std::time::Duration;

use harness::outcome::{Arm, EventRecord, Outcome, OutcomeClass};
use harness::record::{BreakerState, Recorder, RecorderConfig};
use harness::report::{summary_table, write_report, RunInfo};
use report_common::*;

#[test]
fn empty_and_partial_run_still_writes_a_report() {
    let dir = temp_dir("empty");
    let rec = Recorder::new(RecorderConfig {
        arms: vec![Arm::Resilient],
        events_path: dir.join("ev.tmp"),
        hlog_path: dir.join("hl.tmp"),
        interval: Duration::from_secs(1),
    })
    .unwrap();
    let data = rec.finish(Duration::from_millis(300)).unwrap();
    let info = RunInfo {
        scenario_name: "empty".into(),
        partial: true,
        elapsed: Duration::from_millis(300),
        duration: Duration::from_secs(10),
        max_in_flight_hits: 3,
        ..RunInfo::default()
    };
    let files = write_report(&dir.join("r"), &data, &info).unwrap();
    let s = &files.summary_data;
    assert!(s.partial);
    assert_eq!(s.arms["resilient"].requests, 0);
    assert_eq!(s.arms["resilient"].success_rate, 0.0);
    assert!(
        !s.generator.healthy,
        "max_in_flight hits make the generator unhealthy"
    );
    assert!(s.generator.problems[0].contains("max_in_flight"));
    assert_eq!(data.row_count(), 1);
    assert!(files.warnings.is_empty(), "{:?}", files.warnings);
    for c in &files.charts {
        assert_valid_svg(&std::fs::read_to_string(&c.svg).unwrap());
    }
    assert!(summary_table(&data, &info).contains("PARTIAL"));
}

#[test]
fn late_ticks_and_live_stats() {
    let dir = temp_dir("live");
    let mut rec = Recorder::new(RecorderConfig {
        arms: vec![Arm::Resilient],
        events_path: dir.join("ev"),
        hlog_path: dir.join("hl"),
        interval: Duration::from_secs(1),
    })
    .unwrap();
    let ms = Duration::from_millis;
    let mk = |t: u64, class| Outcome {
        arm: Arm::Resilient,
        intended: ms(t),
        sent: ms(t),
        done: ms(t + 20),
        ttft: None,
        itl: Vec::new(),
        tokens: 0,
        class,
        statuses: vec![200],
        attempts: 1,
        queue_wait: Duration::ZERO,
        note: None,
        priority: Default::default(),
    };
    for t in (0..2000).step_by(10) {
        rec.record(&mk(
            t,
            if t.is_multiple_of(100) {
                OutcomeClass::Timeout
            } else {
                OutcomeClass::Ok
            },
        ));
    }
    rec.record_event(EventRecord {
        at: ms(2100),
        arm: Some(Arm::Resilient),
        kind: "breaker",
        endpoint: Some("n0".into()),
        state: Some("open"),
        detail: serde_json::Value::Null,
    });
    rec.tick(ms(2500));
    let live = rec.live();
    assert_eq!(live.arms[0].requests, 200);
    assert_eq!(live.arms[0].errors, 20);
    assert_eq!(
        live.arms[0].rate, 100.0,
        "completions in the last full second"
    );
    assert!(live.arms[0].p99 >= ms(20) && live.arms[0].p99 <= ms(21));
    assert_eq!(
        live.arms[0].breakers,
        vec![("n0".to_string(), BreakerState::Open)]
    );
    let line = live.line();
    assert!(
        line.contains("resilient 200 req") && line.contains("breaker n0 open"),
        "{line}"
    );
    let data = rec.finish(ms(3000)).unwrap();
    // Outcomes arrived without ticks in between: rows still split by second.
    assert_eq!(data.row_count(), 3);
    let res = data.arm(Arm::Resilient).unwrap();
    assert_eq!(res.rows[0].sent, 100);
    assert_eq!(res.rows[1].sent, 100);
    assert_eq!(
        res.rows[0].completed() + res.rows[1].completed() + res.rows[2].completed(),
        200
    );
    assert_eq!(res.breakers[0].time_open, ms(900));
}

#[test]
fn absurd_timestamps_do_not_panic_or_grow_memory() {
    let dir = temp_dir("absurd");
    let mut rec = Recorder::new(RecorderConfig {
        arms: vec![Arm::Resilient],
        events_path: dir.join("ev"),
        hlog_path: dir.join("hl"),
        interval: Duration::from_secs(1),
    })
    .unwrap();
    // done before sent before intended, a far-future done, and no statuses.
    for (intended, sent, done) in [
        (
            Duration::from_secs(5),
            Duration::from_secs(3),
            Duration::from_secs(1),
        ),
        (Duration::ZERO, Duration::ZERO, Duration::MAX),
        (Duration::MAX, Duration::MAX, Duration::MAX),
    ] {
        rec.record(&Outcome {
            arm: Arm::Raw,
            intended,
            sent,
            done,
            ttft: Some(Duration::MAX),
            itl: vec![Duration::MAX, Duration::ZERO],
            tokens: u32::MAX,
            class: OutcomeClass::Other,
            statuses: Vec::new(),
            attempts: u32::MAX,
            queue_wait: Duration::MAX,
            note: Some("a note".into()),
            priority: Default::default(),
        });
    }
    rec.record_event(EventRecord {
        at: Duration::MAX,
        arm: Some(Arm::Resilient),
        kind: "breaker",
        endpoint: Some("n0".into()),
        state: Some("not-a-state"),
        detail: serde_json::Value::Null,
    });
    rec.tick(Duration::from_secs(2));
    let data = rec.finish(Duration::from_secs(2)).unwrap();
    assert!(
        data.row_count() <= 3,
        "rows stay bounded: {}",
        data.row_count()
    );
    let raw = data.arm(Arm::Raw).unwrap();
    assert_eq!(raw.requests, 3);
    assert_eq!(raw.hist.corrected.len(), 3);
    let info = RunInfo {
        elapsed: Duration::from_secs(2),
        duration: Duration::from_secs(2),
        ..RunInfo::default()
    };
    let files = write_report(&dir.join("r"), &data, &info).unwrap();
    assert_eq!(files.summary_data.arms["raw"].requests, 3);
}
