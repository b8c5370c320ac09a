//! Synthetic runs shared by the report tests: a deterministic stream of
//! outcomes and events with known latencies, fed through a real Recorder.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use harness::outcome::{Arm, EventRecord, Outcome, OutcomeClass};
use harness::record::{Recorder, RecorderConfig, RunData};
use harness::report::{PhaseInfo, RunInfo};

/// A fresh, unique directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!("harness-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Shape of the synthetic run.
pub struct Synth {
    pub seconds: u64,
    pub rate: u64,
    pub arms: Vec<Arm>,
    pub stream: bool,
}

/// Endpoints as the binary names them in every report file (`node<i>`).
pub const ENDPOINTS: [&str; 2] = ["node0", "node1"];

/// Known uncorrected latency of request `i`: 1..=100 ms cycling, so each
/// value has the same share and p50 = 50 ms, p99 = 99 ms exactly.
pub fn latency_ms(i: u64) -> u64 {
    i % 100 + 1
}

/// Known send lag of request `i`: 0..=4 ms cycling.
pub fn lag_ms(i: u64) -> u64 {
    i % 5
}

/// Is request `i` (sent at `t_ms`) failing? During the brownout phase
/// (4 s..8 s) every 10th request of the raw arm fails with a 503; the
/// resilient arm retries it once and succeeds.
pub fn in_brownout(t_ms: u64) -> bool {
    (4000..8000).contains(&t_ms)
}

/// Runs the synthetic stream through a Recorder writing into `dir`.
pub fn run(dir: &std::path::Path, s: &Synth) -> (RunData, RunInfo) {
    let mut rec = Recorder::new(RecorderConfig {
        arms: s.arms.clone(),
        events_path: dir.join("events.jsonl.partial"),
        hlog_path: dir.join("latency.hlog.partial"),
        interval: Duration::from_secs(1),
    })
    .unwrap();
    let total = s.seconds * s.rate;
    let step_us = 1_000_000 / s.rate;
    let mut breaker_done = [false; 3];
    for i in 0..total {
        let intended = Duration::from_micros(i * step_us);
        let t_ms = intended.as_millis() as u64;
        // Breaker of node 1 opens at 5 s, probes at 6.5 s, closes at 7 s.
        for (k, (at, state)) in [(5000, "open"), (6500, "half_open"), (7000, "closed")]
            .into_iter()
            .enumerate()
        {
            if !breaker_done[k] && t_ms >= at && s.arms.contains(&Arm::Resilient) {
                breaker_done[k] = true;
                rec.record_event(EventRecord {
                    at: Duration::from_millis(at),
                    arm: Some(Arm::Resilient),
                    kind: "breaker",
                    endpoint: Some(ENDPOINTS[1].to_string()),
                    state: Some(state),
                    detail: serde_json::json!({"reason": "failure_rate"}),
                });
            }
        }
        for arm in &s.arms {
            let sent = intended + Duration::from_millis(lag_ms(i));
            let done = sent + Duration::from_millis(latency_ms(i));
            let failing = in_brownout(t_ms) && i.is_multiple_of(10);
            let (class, statuses, attempts) = match (*arm, failing) {
                (Arm::Raw, true) => (OutcomeClass::Http5xx, vec![503], 1),
                (Arm::Resilient, true) => (OutcomeClass::Ok, vec![503, 200], 2),
                _ => (OutcomeClass::Ok, vec![200], 1),
            };
            let (ttft, itl, tokens) = if s.stream {
                (
                    Some(Duration::from_millis(latency_ms(i) / 2)),
                    vec![Duration::from_millis(5); 4],
                    5,
                )
            } else {
                (None, Vec::new(), 0)
            };
            rec.set_in_flight(*arm, 3 + i % 4);
            rec.record(&Outcome {
                arm: *arm,
                intended,
                sent,
                done,
                ttft,
                itl,
                tokens,
                class,
                statuses,
                attempts,
                queue_wait: Duration::from_micros(100),
                note: None,
                priority: Default::default(),
            });
            if failing && *arm == Arm::Resilient {
                rec.record_event(EventRecord {
                    at: sent,
                    arm: Some(Arm::Resilient),
                    kind: "retry",
                    endpoint: Some(ENDPOINTS[1].to_string()),
                    state: None,
                    detail: serde_json::json!({"cause": "503", "attempt": 2}),
                });
            }
        }
        rec.tick(intended);
    }
    rec.record_event(EventRecord {
        at: Duration::from_secs(4),
        arm: None,
        kind: "phase_start",
        endpoint: None,
        state: None,
        detail: serde_json::json!({"phase": "brownout"}),
    });
    let end = Duration::from_secs(s.seconds);
    let started_at = rec.started_at();
    let data = rec.finish(end).unwrap();
    let info = RunInfo {
        scenario_name: "synthetic-brownout".into(),
        scenario_file: "scenarios/synthetic.yaml".into(),
        seed: 42,
        duration: end,
        elapsed: end,
        started_at,
        partial: false,
        load_model: "open".into(),
        asked_rps: Some(s.rate as f64),
        users: None,
        stream: s.stream,
        phases: vec![PhaseInfo {
            name: "brownout".into(),
            at: Duration::from_secs(4),
            duration: Duration::from_secs(4),
            nodes: Some(vec![1]),
        }],
        endpoints: ENDPOINTS.iter().map(|e| e.to_string()).collect(),
        max_in_flight_hits: 0,
        schedule_len: Some(total),
        ..RunInfo::default()
    };
    (data, info)
}

/// Checks that `svg` is an SVG document whose tags are balanced (a light
/// XML well-formedness check: every opened element is closed in order).
pub fn assert_valid_svg(svg: &str) {
    let t = svg.trim_start();
    assert!(
        t.starts_with("<svg") || t.starts_with("<?xml"),
        "not an SVG: {}",
        &t[..t.len().min(80)]
    );
    assert!(svg.trim_end().ends_with("</svg>"), "SVG not closed");
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("close without open: {name}"));
            assert_eq!(open, name.trim(), "mismatched close tag");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or("").to_string();
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
}

/// PNG signature check; returns (width, height) from the IHDR chunk.
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24, "PNG too short");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "bad PNG magic");
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    (w, h)
}

/// Quantile of a sorted list the way HdrHistogram defines it: the smallest
/// value with at least `q * n` values at or below it.
pub fn exact_quantile(sorted: &[u64], q: f64) -> u64 {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1]
}
