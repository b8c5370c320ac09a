//! Report written from a synthetic run with known latencies: counts add up,
//! percentiles match the known values within HDR error, the interval log
//! parses back to the same histograms, the CSV has one row per second and
//! arm, summary.json has the documented keys, charts are valid SVG and PNG,
//! and index.html references every chart.

mod report_common;

use std::time::Duration;

use harness::outcome::{Arm, OutcomeClass};
use harness::record::BreakerState;
use harness::report::{read_hlog, summary_table, write_report, RunInfo, Summary};
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use report_common::*;

const SECONDS: u64 = 12;
const RATE: u64 = 200;

fn two_arm_report(
    name: &str,
    stream: bool,
) -> (
    std::path::PathBuf,
    harness::record::RunData,
    RunInfo,
    harness::report::ReportFiles,
) {
    let dir = temp_dir(name);
    let (data, info) = run(
        &dir,
        &Synth {
            seconds: SECONDS,
            rate: RATE,
            arms: vec![Arm::Resilient, Arm::Raw],
            stream,
        },
    );
    let files = write_report(&dir.join("report"), &data, &info).unwrap();
    (dir, data, info, files)
}

/// Relative error allowed by 3 significant digits (plus 1 µs of rounding).
fn within_hdr(got_ms: f64, want_ms: f64) -> bool {
    (got_ms - want_ms).abs() <= want_ms * 0.001 + 0.001
}

#[test]
fn counts_add_up_and_percentiles_match_known_values() {
    let (_dir, data, info, files) = two_arm_report("counts", false);
    let s = &files.summary_data;
    let total = SECONDS * RATE;
    for (name, arm) in &s.arms {
        assert_eq!(arm.requests, total, "{name}");
        assert_eq!(
            arm.outcomes.values().sum::<u64>(),
            arm.requests,
            "{name}: requests = sum of outcomes"
        );
        assert_eq!(
            arm.outcomes.len(),
            OutcomeClass::ALL.len(),
            "every class listed"
        );
        assert_eq!(
            arm.statuses.values().sum::<u64>(),
            arm.attempts,
            "{name}: one status per attempt"
        );
        assert_eq!(arm.attempts_per_request.values().sum::<u64>(), arm.requests);
        // Invariants (true by construction); the strict difference follows.
        assert!(arm.latency.corrected.p99_ms >= arm.latency.uncorrected.p99_ms);
        assert!(arm.latency.corrected.max_ms >= arm.latency.uncorrected.max_ms);
        // The send lag (up to 4 ms) is charged to the corrected figures only.
        let charged = arm.latency.corrected.max_ms - arm.latency.uncorrected.max_ms;
        assert!(
            (charged - 4.0).abs() < 0.2,
            "{name}: lag charged {charged} ms"
        );
    }
    // Brownout 4 s..8 s: every 10th request fails on raw, is retried once on resilient.
    let failing = (0..total)
        .filter(|i| in_brownout(i * 1000 / RATE) && i.is_multiple_of(10))
        .count() as u64;
    assert_eq!(failing, 80);
    let res = &s.arms["resilient"];
    let raw = &s.arms["raw"];
    assert_eq!(res.outcomes["ok"], total);
    assert_eq!(res.retries, failing);
    assert_eq!(res.statuses["503"], failing);
    assert!((res.retry_amplification - (total + failing) as f64 / total as f64).abs() < 1e-12);
    assert_eq!(res.attempts_per_request["2"], failing);
    assert_eq!(raw.outcomes["http_5xx"], failing);
    assert!((raw.success_rate - (total - failing) as f64 / total as f64).abs() < 1e-12);
    assert!((raw.goodput_rps - (total - failing) as f64 / SECONDS as f64).abs() < 1e-9);
    assert_eq!(s.load.requests, total);
    assert!((s.load.achieved_rps - RATE as f64).abs() < 1e-9);

    // Known distributions: uncorrected = latency_ms(i), corrected adds lag_ms(i).
    let mut unc: Vec<u64> = (0..total).map(|i| latency_ms(i) * 1000).collect();
    let mut cor: Vec<u64> = (0..total)
        .map(|i| (latency_ms(i) + lag_ms(i)) * 1000)
        .collect();
    let mut lag: Vec<u64> = (0..total).map(|i| lag_ms(i) * 1000).collect();
    unc.sort_unstable();
    cor.sort_unstable();
    lag.sort_unstable();
    for (q, u, c) in [
        (
            0.5,
            res.latency.uncorrected.p50_ms,
            res.latency.corrected.p50_ms,
        ),
        (
            0.9,
            res.latency.uncorrected.p90_ms,
            res.latency.corrected.p90_ms,
        ),
        (
            0.99,
            res.latency.uncorrected.p99_ms,
            res.latency.corrected.p99_ms,
        ),
        (
            0.999,
            res.latency.uncorrected.p999_ms,
            res.latency.corrected.p999_ms,
        ),
        (
            1.0,
            res.latency.uncorrected.max_ms,
            res.latency.corrected.max_ms,
        ),
    ] {
        let want_u = exact_quantile(&unc, q) as f64 / 1000.0;
        let want_c = exact_quantile(&cor, q) as f64 / 1000.0;
        assert!(within_hdr(u, want_u), "uncorrected q{q}: {u} vs {want_u}");
        assert!(within_hdr(c, want_c), "corrected q{q}: {c} vs {want_c}");
    }
    // Lag is twice per request (both arms share the histogram).
    assert_eq!(s.generator.lag.count, 2 * total);
    assert!(within_hdr(
        s.generator.lag.p99_ms,
        exact_quantile(&lag, 0.99) as f64 / 1000.0
    ));
    assert!(s.generator.healthy, "lag p99 4 ms < 10 ms");
    assert!(s.generator.problems.is_empty());

    // Breaker of node 1: open 5 s..6.5 s, half-open 6.5 s..7 s.
    let ep = &res.breaker.endpoints[ENDPOINTS[1]];
    assert_eq!(ep.opens, 1);
    assert!((ep.time_open_s - 1.5).abs() < 1e-9, "{}", ep.time_open_s);
    assert!((ep.time_half_open_s - 0.5).abs() < 1e-9);
    assert_eq!(ep.final_state, "closed");
    assert_eq!(
        res.breaker.endpoints[ENDPOINTS[0]].opens, 0,
        "known endpoint listed with zeros"
    );
    assert!(raw.breaker.endpoints.is_empty());
    assert_eq!(res.events["retry"], failing);
    assert_eq!(res.events["breaker"], 3);
    assert_eq!(s.events.total, failing + 3 + 1);
    assert_eq!(s.events.server["phase_start"], 1);

    // events.jsonl: one line per event, each valid JSON with `at` and `kind`.
    let events = std::fs::read_to_string(&files.events).unwrap();
    assert_eq!(events.lines().count() as u64, s.events.total);
    for line in events.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["at"].is_f64() && v["kind"].is_string(), "{line}");
    }

    let table = summary_table(&data, &info);
    assert!(table.contains("resilient") && table.contains("raw"));
    assert!(table.contains("p99 corrected") && table.contains("generator: healthy"));
    assert!(table.contains("http_5xx 80"), "{table}");
}

#[test]
fn hlog_parses_back_to_the_same_histograms() {
    let (_dir, data, _info, files) = two_arm_report("hlog", false);
    let bytes = std::fs::read(&files.hlog).unwrap();
    // The crate's own iterator reads every line; StartTime/BaseTime present.
    let mut start = 0;
    let mut base = 0;
    let mut intervals = 0;
    for e in IntervalLogIterator::new(&bytes) {
        match e.unwrap() {
            LogEntry::StartTime(_) => start += 1,
            LogEntry::BaseTime(_) => base += 1,
            LogEntry::Interval(h) => {
                intervals += 1;
                assert!(h.tag().is_some(), "every interval is tagged");
                assert!(h.duration() <= Duration::from_secs(1));
            }
        }
    }
    assert_eq!((start, base), (1, 1));
    let logs = read_hlog(&bytes).unwrap();
    assert_eq!(logs.values().map(|v| v.1).sum::<usize>(), intervals);
    let rows = data.row_count();
    for a in &data.arms {
        let name = a.arm.as_str();
        for (suffix, mem) in [
            ("latency", &a.hist.corrected),
            ("latency_uncorrected", &a.hist.uncorrected),
            ("queue_wait", &a.hist.queue_wait),
        ] {
            let (h, n) = &logs[&format!("{name}.{suffix}")];
            assert_eq!(h.len(), mem.len(), "{name}.{suffix} count");
            for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
                assert_eq!(
                    h.value_at_quantile(q),
                    mem.value_at_quantile(q),
                    "{name}.{suffix} q{q}"
                );
            }
            if suffix == "latency" {
                assert_eq!(*n, rows, "one latency interval per second");
            }
        }
    }
    let (lag, _) = &logs["send_lag"];
    assert_eq!(lag.len(), data.send_lag.len());
    assert_eq!(
        lag.value_at_quantile(0.99),
        data.send_lag.value_at_quantile(0.99)
    );
}

#[test]
fn timeseries_has_one_row_per_second_and_arm() {
    let (_dir, data, _info, files) = two_arm_report("csv", false);
    let csv = std::fs::read_to_string(&files.timeseries).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..3], &["t_s", "arm", "sent"]);
    for c in OutcomeClass::ALL {
        assert!(header.contains(&c.as_str()), "column {}", c.as_str());
    }
    for col in ["p50_ms", "p99_ms", "in_flight"] {
        assert!(header.contains(&col));
    }
    let b1 = header
        .iter()
        .position(|h| *h == format!("\"breaker[{}]\"", ENDPOINTS[1]))
        .expect("breaker column of node 1");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // Completions run to 12.1 s, so 13 rows (the last one partial).
    let per_arm = data.row_count();
    assert!(
        per_arm == SECONDS as usize || per_arm == SECONDS as usize + 1,
        "{per_arm}"
    );
    for arm in ["resilient", "raw"] {
        let mine: Vec<&Vec<&str>> = rows.iter().filter(|r| r[1] == arm).collect();
        assert_eq!(mine.len(), per_arm, "{arm}");
        for (i, r) in mine.iter().enumerate() {
            assert_eq!(r.len(), header.len());
            assert_eq!(r[0], i.to_string(), "t_s consecutive");
        }
        let sent: u64 = mine.iter().map(|r| r[2].parse::<u64>().unwrap()).sum();
        assert_eq!(sent, SECONDS * RATE);
        for r in mine.iter().take(SECONDS as usize) {
            assert_eq!(r[2], RATE.to_string(), "sent per second");
        }
        if arm == "resilient" {
            let states: Vec<&str> = mine.iter().map(|r| r[b1]).collect();
            // Open 5 s..6.5 s, half-open until exactly 7 s, closed after.
            assert_eq!(&states[4..7], &["closed", "open", "open"], "{states:?}");
            assert!(states[8..].iter().all(|s| *s == "closed"), "{states:?}");
        }
    }
    // Recorder side: rows carry the worst breaker state of their second.
    let res = data.arm(Arm::Resilient).unwrap();
    assert_eq!(
        res.rows[6].breaker.first().copied(),
        Some(BreakerState::Open)
    );
}

#[test]
fn summary_json_has_the_documented_shape() {
    let (_dir, _data, _info, files) = two_arm_report("summary", false);
    let text = std::fs::read_to_string(&files.summary).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let pcts = [
        "count", "mean_ms", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms",
    ];
    assert_eq!(v["schema_version"], 1);
    for k in [
        "harness_version",
        "started_at",
        "elapsed_s",
        "partial",
        "load",
        "generator",
        "arms",
        "phases",
    ] {
        assert!(!v[k].is_null(), "missing {k}");
    }
    for k in ["name", "file", "seed", "duration_s"] {
        assert!(!v["scenario"][k].is_null(), "scenario.{k}");
    }
    assert!(v["started_at"].as_str().unwrap().ends_with('Z'));
    for k in [
        "model",
        "asked_rps",
        "achieved_rps",
        "users",
        "stream",
        "requests",
    ] {
        assert!(v["load"].get(k).is_some(), "load.{k}");
    }
    for k in ["healthy", "problems", "max_in_flight_hits", "lag"] {
        assert!(v["generator"].get(k).is_some(), "generator.{k}");
    }
    for k in pcts {
        assert!(v["generator"]["lag"][k].is_number(), "lag.{k}");
    }
    for arm in ["resilient", "raw"] {
        let a = &v["arms"][arm];
        for k in [
            "requests",
            "success_rate",
            "goodput_rps",
            "outcomes",
            "statuses",
            "attempts",
            "retries",
            "retry_amplification",
            "tokens",
            "latency",
            "ttft",
            "itl",
            "queue_wait",
            "breaker",
            "sheds",
            "fallbacks",
            "ejections",
        ] {
            assert!(a.get(k).is_some(), "arms.{arm}.{k}");
        }
        for k in pcts {
            assert!(a["latency"]["corrected"][k].is_number());
            assert!(a["latency"]["uncorrected"][k].is_number());
        }
        assert!(
            a["ttft"].is_null() && a["itl"].is_null(),
            "non-streaming run"
        );
        assert!(a["breaker"]["opens"].is_u64() && a["breaker"]["endpoints"].is_object());
    }
    assert_eq!(v["phases"][0]["name"], "brownout");
    assert_eq!(v["phases"][0]["at_s"], 4.0);
    assert_eq!(v["phases"][0]["for_s"], 4.0);
    assert!(v["arms"]["resilient"]["breaker"]["endpoints"][ENDPOINTS[1]]["time_open_s"].is_f64());
    // Typed round trip, as gates and baselines read it.
    // (Floats may differ in the last digit after a text round trip.)
    let typed: Summary = serde_json::from_str(&text).unwrap();
    assert_eq!(typed.scenario, files.summary_data.scenario);
    assert_eq!(
        typed.arms["resilient"].outcomes,
        files.summary_data.arms["resilient"].outcomes
    );
    assert_eq!(
        typed.arms["raw"].latency,
        files.summary_data.arms["raw"].latency
    );
    assert_eq!(typed.phases, files.summary_data.phases);
}

#[test]
fn charts_are_valid_svg_and_png_and_index_references_them() {
    let (_dir, _data, _info, files) = two_arm_report("charts", true);
    let names: Vec<&str> = files.charts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "latency_over_time",
            "latency_percentiles",
            "throughput",
            "attempts",
            "stream_latency"
        ]
    );
    assert!(
        files.png_skipped.is_none(),
        "DejaVu is installed: {:?}",
        files.png_skipped
    );
    assert!(files.warnings.is_empty(), "{:?}", files.warnings);
    let index = std::fs::read_to_string(&files.index).unwrap();
    assert!(index.starts_with("<!DOCTYPE html>"));
    // Opens from the file system: nothing anywhere points off the machine.
    assert!(!index.contains("http://"), "no http:// reference");
    assert!(!index.contains("https://"), "no https:// reference");
    assert!(!index.contains("<link"), "no external stylesheet");
    let srcs: Vec<&str> = index
        .split("src=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert!(!srcs.is_empty(), "charts are referenced with src=");
    for src in &srcs {
        assert!(
            !src.contains("://") && !src.starts_with("//") && !src.starts_with('/'),
            "src={src:?} is not a file next to index.html"
        );
        assert!(files.dir.join(src).exists(), "src={src:?} exists");
    }
    for c in &files.charts {
        let svg = std::fs::read_to_string(&c.svg).unwrap();
        assert_valid_svg(&svg);
        assert!(svg.contains("<text"), "{}: labels drawn", c.name);
        let png = c.png.as_ref().expect("png written");
        let (w, h) = png_size(&std::fs::read(png).unwrap());
        assert!(w >= 1200 && h >= 600, "{}: {w}x{h}", c.name);
        for f in [&c.svg, png] {
            let file = f.file_name().unwrap().to_str().unwrap();
            assert!(
                index.contains(&format!("\"{file}\"")),
                "index.html references {file}"
            );
        }
    }
    // No temporary files left behind.
    for e in std::fs::read_dir(&files.dir).unwrap() {
        let n = e.unwrap().file_name().into_string().unwrap();
        assert!(!n.contains(".tmp"), "leftover {n}");
    }
    let s = &files.summary_data;
    let ttft = s.arms["resilient"].ttft.expect("ttft in a streaming run");
    assert_eq!(ttft.count, SECONDS * RATE);
    let itl = s.arms["resilient"].itl.expect("itl");
    assert_eq!(itl.count, 4 * SECONDS * RATE);
    assert!(within_hdr(itl.p99_ms, 5.0));
    assert_eq!(s.arms["resilient"].tokens, 5 * SECONDS * RATE);
}
