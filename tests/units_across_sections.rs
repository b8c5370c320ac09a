//! One `units` crate reads every section of a scenario: the same spellings
//! are accepted, and the same mistakes get the same message (with the file,
//! line, column and field path), whether the value sits at the top
//! (`duration`), in `load:`, in the client's `client:` or in the fake
//! server's `server:`. Each case is a small YAML file loaded through
//! `harness::scenario::load`, as `harness validate` and `harness run` do.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use harness::scenario::{self, Scenario};
use mock_server::config::{Dist, FaultParams};

const DURATIONS: &str = "(durations are written 250ms, 2s, 1m 30s)";
const RATES: &str = "(rates are written 200/s, 10/min, 3600/h, 5/ms, or a bare number per second)";
const PERCENTAGES: &str = "(percentages are written 30% or 0.3)";

/// A field of one section: a scenario with `@@` where the value goes, and
/// how to read the parsed value back (seconds, events per second, or a
/// fraction).
struct Slot {
    field: &'static str,
    yaml: &'static str,
    read: fn(&Scenario) -> f64,
}

/// Where `@@` sits in `yaml`, 1-based as serde_yaml reports it.
fn line_col(yaml: &str) -> (usize, usize) {
    let at = yaml.find("@@").expect("slot marker");
    let before = &yaml[..at];
    let line = before.matches('\n').count() + 1;
    let col = at - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Writes `text` to a fresh file in the temp dir and loads it.
fn load(text: &str) -> (String, Result<Scenario, String>) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path: PathBuf = std::env::temp_dir().join(format!("units-{}-{n}.yaml", std::process::id()));
    std::fs::write(&path, text).expect("write scenario");
    let result = scenario::load(&path, &[]).map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&path);
    (path.display().to_string(), result)
}

fn accepts(slots: &[Slot], spellings: &[(&str, f64)]) {
    for slot in slots {
        for (written, want) in spellings {
            let (_, got) = load(&slot.yaml.replace("@@", written));
            let s = got.unwrap_or_else(|e| panic!("{} = {written}: {e}", slot.field));
            let v = (slot.read)(&s);
            assert!(
                (v - want).abs() < 1e-9,
                "{} = {written}: read {v}, want {want}",
                slot.field
            );
        }
    }
}

/// Every slot refuses `written` with exactly `file:line:col: field: message`.
fn explains(slots: &[Slot], written: &str, message: &str) {
    for slot in slots {
        let (line, col) = line_col(slot.yaml);
        let (file, got) = load(&slot.yaml.replace("@@", written));
        let e = got
            .err()
            .unwrap_or_else(|| panic!("{} = {written} parsed", slot.field));
        assert_eq!(
            e,
            format!("{file}:{line}:{col}: {}: {message}", slot.field),
            "{} = {written}",
            slot.field
        );
    }
}

fn constant_secs(d: &Dist) -> f64 {
    match d {
        Dist::Constant(v) => *v,
        other => panic!("not a constant: {other:?}"),
    }
}

fn duration_slots() -> Vec<Slot> {
    vec![
        Slot {
            field: "duration",
            yaml: "name: x\nduration: @@\nload: { rate: 5/s }\n",
            read: |s| s.duration.as_secs_f64(),
        },
        Slot {
            field: "load.think_time",
            yaml: "name: x\nduration: 2s\nload:\n  model: closed\n  users: 1\n  think_time: @@\n",
            read: |s| s.load.think_time.unwrap_or_default().as_secs_f64(),
        },
        Slot {
            field: "client.timeouts.total",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nclient:\n  timeouts:\n    total: @@\n",
            read: |s| s.client.timeouts.total.as_secs_f64(),
        },
        Slot {
            field: "client.retry.backoff.max",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nclient:\n  retry:\n    backoff:\n      base: 100ms\n      max: @@\n",
            read: |s| s.client.retry.backoff.max.as_secs_f64(),
        },
        Slot {
            field: "client.breaker.wait_duration_in_open",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nclient:\n  breaker:\n    wait_duration_in_open: @@\n",
            read: |s| s.client.breaker.wait_duration_in_open.as_secs_f64(),
        },
        Slot {
            field: "server.faults[0].latency.delay",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nserver:\n  faults:\n    - latency:\n        delay: @@\n",
            read: |s| match &s.server.faults[0].params {
                FaultParams::Latency(f) => constant_secs(&f.delay.0),
                other => panic!("{other:?}"),
            },
        },
        Slot {
            field: "server.generation.ttft",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nserver:\n  generation:\n    ttft: @@\n",
            read: |s| constant_secs(&s.server.generation.ttft.0),
        },
        Slot {
            field: "server.phases[0].at",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nserver:\n  phases:\n    - name: a\n      at: @@\n",
            read: |s| s.server.phases()[0].at.as_secs_f64(),
        },
        Slot {
            field: "server.phases[0].for",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nserver:\n  phases:\n    - name: a\n      at: 1s\n      for: @@\n",
            read: |s| s.server.phases()[0].duration.unwrap_or_default().as_secs_f64(),
        },
    ]
}

#[test]
fn durations_are_spelled_the_same_in_every_section() {
    accepts(
        &duration_slots(),
        &[
            ("250ms", 0.25),
            ("2s", 2.0),
            ("1.5s", 1.5),
            ("1m 30s", 90.0),
            ("1m30s", 90.0),
            ("\"90s\"", 90.0),
        ],
    );
}

#[test]
fn duration_mistakes_are_explained_the_same_in_every_section() {
    let slots = duration_slots();
    explains(&slots, "90", &format!("add a unit: `90s` {DURATIONS}"));
    explains(&slots, "\"90\"", &format!("add a unit: `90s` {DURATIONS}"));
    explains(&slots, "1.5", &format!("add a unit: `1.5s` {DURATIONS}"));
    explains(
        &slots,
        "fast",
        &format!("`fast` is not a duration {DURATIONS}"),
    );
    explains(
        &slots,
        "-1s",
        &format!("must not be negative, got `-1s` {DURATIONS}"),
    );
}

/// `0` alone is a duration everywhere; where zero makes no sense the field's
/// own range check says so (not the parser).
#[test]
fn a_bare_zero_is_a_duration_in_every_section() {
    let range_checks = [
        ("duration", "duration must be > 0, e.g. `duration: 20s`"),
        (
            "client.timeouts.total",
            "client.timeouts.total: must be greater than 0s, got 0s",
        ),
        (
            "client.retry.backoff.max",
            "client.retry.backoff.max must be at least base (100ms), got 0ns",
        ),
        (
            "client.breaker.wait_duration_in_open",
            "client.breaker.wait_duration_in_open must be greater than 0",
        ),
    ];
    for slot in duration_slots() {
        let (_, got) = load(&slot.yaml.replace("@@", "0"));
        match range_checks.iter().find(|(field, _)| *field == slot.field) {
            Some((_, why)) => {
                let e = got.expect_err(slot.field);
                assert!(e.ends_with(why), "{}: {e}", slot.field);
                assert!(!e.contains(DURATIONS), "{}: {e}", slot.field);
            }
            None => {
                let s = got.unwrap_or_else(|e| panic!("{} = 0: {e}", slot.field));
                assert_eq!((slot.read)(&s), 0.0, "{}", slot.field);
            }
        }
    }
}

fn rate_slots() -> Vec<Slot> {
    vec![
        Slot {
            field: "load.rate",
            yaml: "name: x\nduration: 2s\nload:\n  rate: @@\n",
            read: |s| s.load.rate.expect("rate").per_second(),
        },
        Slot {
            field: "client.rate_limit.rate",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nclient:\n  rate_limit:\n    rate: @@\n",
            read: |s| s.client.rate_limit.as_ref().expect("limit").rate.per_second(),
        },
        Slot {
            field: "client.retry.budget.min_per_second",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nclient:\n  retry:\n    budget:\n      min_per_second: @@\n",
            read: |s| s.client.retry.budget.min_per_second.per_second(),
        },
    ]
}

#[test]
fn rates_are_spelled_the_same_in_every_section() {
    accepts(
        &rate_slots(),
        &[
            ("200/s", 200.0),
            ("12000/min", 200.0),
            ("12000/m", 200.0),
            ("720000/h", 200.0),
            ("0.2/ms", 200.0),
            ("200", 200.0),
            ("\"200\"", 200.0),
            ("2.5", 2.5),
        ],
    );
}

#[test]
fn rate_mistakes_are_explained_the_same_in_every_section() {
    let slots = rate_slots();
    explains(
        &slots,
        "5/fortnight",
        &format!("unknown rate unit `/fortnight` in `5/fortnight` {RATES}"),
    );
    explains(&slots, "fast", &format!("`fast` is not a rate {RATES}"));
    explains(
        &slots,
        "-1/s",
        &format!("a rate must be a finite number >= 0, got `-1/s` {RATES}"),
    );
}

fn share_slots() -> Vec<Slot> {
    vec![
        Slot {
            field: "client.breaker.failure_rate_threshold",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nclient:\n  breaker:\n    failure_rate_threshold: @@\n",
            read: |s| s.client.breaker.failure_rate_threshold.fraction(),
        },
        Slot {
            field: "client.retry.budget.ratio",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nclient:\n  retry:\n    budget:\n      ratio: @@\n",
            read: |s| s.client.retry.budget.ratio.fraction(),
        },
        Slot {
            field: "client.balancer.ejection.max_ejection_percent",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nclient:\n  balancer:\n    ejection:\n      max_ejection_percent: @@\n",
            read: |s| s.client.balancer.ejection.max_ejection_percent.fraction(),
        },
        Slot {
            field: "server.faults[0].status.rate",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nserver:\n  faults:\n    - status:\n        code: 503\n        rate: @@\n",
            read: |s| s.server.faults[0].scope().0.get(),
        },
        Slot {
            field: "server.phases[0].faults[0].reset.rate",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nserver:\n  phases:\n    - name: a\n      at: 1s\n      faults:\n        - reset:\n            rate: @@\n",
            read: |s| s.server.phases[0].faults[0].scope().0.get(),
        },
        Slot {
            field: "server.generation.prompt_cache_hit",
            yaml: "name: x\nduration: 2s\nload: { rate: 5/s }\nserver:\n  generation:\n    prompt_cache_hit: @@\n",
            read: |s| s.server.generation.prompt_cache_hit.get(),
        },
    ]
}

#[test]
fn percentages_are_spelled_the_same_in_every_section() {
    accepts(
        &share_slots(),
        &[
            ("30%", 0.3),
            ("0.3", 0.3),
            ("12.5 %", 0.125),
            ("\"0.5\"", 0.5),
            ("1", 1.0),
            ("100%", 1.0),
        ],
    );
}

#[test]
fn percentage_mistakes_are_explained_the_same_in_every_section() {
    let slots = share_slots();
    explains(
        &slots,
        "30",
        &format!("must be in [0, 1], got 30: write `30%` for a percentage {PERCENTAGES}"),
    );
    explains(
        &slots,
        "1.5",
        &format!("must be in [0, 1], got 1.5: write `1.5%` for a percentage {PERCENTAGES}"),
    );
    explains(
        &slots,
        "150%",
        &format!("must be between 0% and 100%, got `150%` {PERCENTAGES}"),
    );
    explains(
        &slots,
        "lots",
        &format!("`lots` is not a percentage {PERCENTAGES}"),
    );
}

/// `--set` values are read by the same parser, so they get the same message
/// (the place is then the override, not a line of the file).
#[test]
fn overrides_are_explained_like_the_file() {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "units-set-{}-{}.yaml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, "name: x\nduration: 2s\nload: { rate: 5/s }\n").expect("write");
    let origin = format!("{} (after --set)", path.display());
    for (set, field, message) in [
        (
            "duration=90",
            "duration",
            format!("add a unit: `90s` {DURATIONS}"),
        ),
        (
            "client.timeouts.total=30",
            "client.timeouts.total",
            format!("add a unit: `30s` {DURATIONS}"),
        ),
        (
            "load.rate=5/fortnight",
            "load.rate",
            format!("unknown rate unit `/fortnight` in `5/fortnight` {RATES}"),
        ),
        (
            "client.breaker.failure_rate_threshold=50",
            "client.breaker.failure_rate_threshold",
            format!("must be in [0, 1], got 50: write `50%` for a percentage {PERCENTAGES}"),
        ),
    ] {
        let e = scenario::load(&path, &[set.to_string()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{origin}: {field}: {message}"),
            "{set}"
        );
    }
    let closed = [
        "load.rate=~",
        "load.model=closed",
        "load.users=1",
        "load.think_time=0",
    ];
    let sets: Vec<String> = closed.iter().map(|s| s.to_string()).collect();
    let s = scenario::load(&path, &sets).expect("a bare 0 is a duration in --set too");
    assert_eq!(s.load.think_time, Some(std::time::Duration::ZERO));
    let _ = std::fs::remove_file(&path);
}
