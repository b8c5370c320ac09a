//! The streaming judge as a whole: push order does not change the verdicts,
//! idle calls are evicted, memory stays bounded over a long journal, and the
//! reader and renderers handle real input.

use mock_server::journal::{Attempt, End};

use super::config::VerdictConfig;
use super::engine::Judge;
use super::reader::{judge_journal, ReadError};
use super::render::{junit_xml, table, timeline_text};
use super::testkit::{a, count, counts, journal, judge_with, Rng, A};
use super::verdicts::Kind;

/// A journal in which most verdicts fire at least once, over ~60 s.
fn mixed() -> Vec<Attempt> {
    let mut recs: Vec<A> = Vec::new();
    let mut rng = Rng(7);
    for c in 0..400 {
        let call = format!("m{c}");
        let mut t = c as f64 * 0.15;
        let node = (c % 3) as u32;
        let pattern = c % 8;
        for i in 0..=pattern.min(6) {
            let last = i == pattern.min(6);
            let r = match (pattern, last) {
                (_, true) if pattern != 5 => a(&call, t).node(node),
                (1, _) => a(&call, t).node(node).status(400),
                (2, _) => a(&call, t).node(node).status(429).ra_ms(200),
                (3, _) => a(&call, t)
                    .node(node)
                    .no_head()
                    .end(End::ServerClosed)
                    .faults(&["reset"]),
                (4, _) => a(&call, t)
                    .node(node)
                    .no_head()
                    .end(End::ClientClosed)
                    .faults(&["stall"])
                    .lasts(3.0),
                _ => a(&call, t).node(node).status(503),
            };
            t = r.end_at() + [0.0, 0.1, 0.5, 1.0][(rng.next_f64() * 4.0) as usize];
            recs.push(r);
        }
    }
    journal(recs)
}

fn idle_10s() -> VerdictConfig {
    VerdictConfig {
        call_idle: mock_server::config::HumanDuration(std::time::Duration::from_secs(10)),
        ..VerdictConfig::default()
    }
}

/// Counts with call_idle 10 s, so calls are evicted while records arrive.
fn judged(recs: &[Attempt]) -> Vec<(&'static str, u64)> {
    counts(&judge_with(idle_10s(), recs))
}

#[test]
fn records_pushed_out_of_end_order_give_the_same_verdicts() {
    let recs = mixed();
    let base = judged(&recs);
    assert!(base.iter().filter(|(_, n)| *n > 0).count() >= 5, "{base:?}");

    // Arrival order instead of end order.
    let mut by_arrival = recs.clone();
    by_arrival.sort_by(|x, y| x.at.total_cmp(&y.at));
    assert_eq!(judged(&by_arrival), base);

    // Shuffled within 2 s slices of end time: a record comes up to 2 s
    // after records that ended later (well under call_idle).
    let mut shuffled = Vec::new();
    let mut rng = Rng(99);
    for slice in recs.chunk_by(|x, y| (x.end_at / 2.0).floor() == (y.end_at / 2.0).floor()) {
        let mut slice = slice.to_vec();
        for i in (1..slice.len()).rev() {
            let j = (rng.next_f64() * (i + 1) as f64) as usize;
            slice.swap(i, j);
        }
        shuffled.extend(slice);
    }
    assert_ne!(shuffled, recs);
    let (mut now, mut lag) = (0.0f64, 0.0f64);
    for r in &shuffled {
        now = now.max(r.end_at);
        lag = lag.max(now - r.end_at);
    }
    assert!(lag > 1.0 && lag < 2.0, "disorder {lag}");
    assert_eq!(judged(&shuffled), base);
}

#[test]
fn a_call_idle_past_call_idle_is_evicted_and_its_key_starts_a_new_call() {
    let mut j = Judge::new(idle_10s()).unwrap();
    let recs = journal(vec![
        a("k", 1.0).status(400),
        a("other", 5.0),
        a("tick", 12.0),
        a("tick2", 13.0),
    ]);
    for r in &recs[..2] {
        j.push(r).unwrap();
    }
    assert_eq!(j.live_calls(), 2);
    for r in &recs[2..] {
        j.push(r).unwrap();
    }
    // t=13 is 12 s after "k" ended: it was judged and dropped; "other"
    // ended 8 s ago and stays.
    assert_eq!(j.live_calls(), 3);
    assert_eq!(j.footprint().live_attempts, j.live_calls());
    let mut late = a("k", 20.0).0;
    late.seq = 99;
    j.push(&late).unwrap();
    let v = j.finish();
    assert_eq!(v.calls, 5, "the late `k` is a call of its own");
    assert_eq!(count(&v, Kind::RetriedNonRetryable), 0);
}

#[test]
fn live_state_stays_bounded_over_200k_calls() {
    let mut j = Judge::new(idle_10s()).unwrap();
    let mut rng = Rng(3);
    let mut seq = 0;
    let mut peak = j.footprint();
    // 100 calls a second over 2000 s on 3 nodes; one call in 4 retries once.
    // Generated second by second, each second's records in end order.
    for s in 0..2000u32 {
        let mut batch = Vec::new();
        for i in 0..100usize {
            let call = format!("b{s}-{i}");
            let t = f64::from(s) + i as f64 * 0.01;
            let node = (i % 3) as u32;
            if rng.next_f64() < 0.25 {
                let f = a(&call, t).node(node).status(503);
                batch.push(a(&call, f.end_at() + 0.05 + rng.next_f64() * 0.2).node((node + 1) % 3));
                batch.push(f);
            } else {
                batch.push(a(&call, t).node(node));
            }
        }
        batch.sort_by(|x, y| x.0.end_at.total_cmp(&y.0.end_at));
        for r in batch {
            seq += 1;
            let mut r = r.0;
            r.seq = seq;
            j.push(&r).unwrap();
        }
        let f = j.footprint();
        peak.live_calls = peak.live_calls.max(f.live_calls);
        peak.successes = peak.successes.max(f.successes);
        peak.sync_groups = peak.sync_groups.max(f.sync_groups);
    }
    let v = j.finish();
    assert_eq!(v.calls, 200_000);
    // Rate x (call_idle + one sweep interval + a second of batching) = 1225.
    assert!(peak.live_calls <= 1300, "{peak:?}");
    assert!(peak.successes <= 100 * 15, "{peak:?}");
    assert!(peak.sync_groups <= 200, "{peak:?}");
    assert_eq!(count(&v, Kind::RetriedNonRetryable), 0);
}

#[test]
fn the_reader_skips_bad_lines_with_their_numbers_and_counts_gaps() {
    let recs = journal(vec![a("c", 1.0).status(503), a("c", 1.5)]);
    let mut text = String::new();
    for (i, r) in recs.iter().enumerate() {
        let mut line = Vec::new();
        r.write_line(&mut line);
        text.push_str(std::str::from_utf8(&line).unwrap());
        if i == 0 {
            text.push_str("{\"dropped\": 3}\nnot json\n\n");
        }
    }
    text.push_str(r#"{"seq":9,"node":0,"call":"c","call_from":"header","at":5,"end_at":4,"end":"answered","tokens":0,"stream":false}"#);
    text.push('\n');
    text.push_str(r#"{"seq":10,"node":0,"call":"#);
    let j = judge_journal(text.as_bytes(), VerdictConfig::default()).unwrap();
    assert_eq!(j.verdicts.attempts, 2);
    assert_eq!((j.stats.lines, j.stats.bad_lines), (7, 3));
    let lines: Vec<u64> = j.stats.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [3, 6, 7]);
    assert!(
        j.stats.warnings[1].message.contains("end_at"),
        "{:?}",
        j.stats.warnings
    );
    assert!(
        j.stats.warnings[2].message.contains("truncated"),
        "{:?}",
        j.stats.warnings
    );
    assert!(!j.verdicts.complete);
    assert_eq!((j.verdicts.dropped, j.verdicts.unreadable), (3, 3));
    assert!(table(&j.verdicts).contains("INCOMPLETE: 3 records dropped, 3 lines unreadable"));
}

#[test]
fn an_empty_journal_is_no_attempts_recorded() {
    let e = judge_journal(&b""[..], VerdictConfig::default()).unwrap_err();
    assert!(matches!(e, ReadError::NoAttempts { lines: 0, .. }));
    assert!(e.to_string().contains("no attempts recorded"));
    let e = judge_journal(&b"{\"dropped\":5}\n"[..], VerdictConfig::default()).unwrap_err();
    assert!(matches!(
        e,
        ReadError::NoAttempts {
            lines: 1,
            bad_lines: 0
        }
    ));
}

#[test]
fn the_table_and_junit_show_the_fired_verdicts_with_a_timeline() {
    let f1 = a("c1", 1.204).status(503).lasts(0.0);
    let f2 = a("c1", 1.204).status(503).lasts(0.0);
    let ok = a("c1", 2.205).node(1);
    let v = judge_with(VerdictConfig::default(), &journal(vec![f1, f2, ok]));
    let ex = &v.get(Kind::NoBackoff).unwrap().examples[0];
    assert_eq!(
        timeline_text(&ex.attempts),
        "t=1.204s n0 503 -> +0.000s n0 503 -> +1.001s n1 200"
    );
    let t = table(&v);
    assert!(t.contains("no_backoff"), "{t}");
    assert!(
        t.contains("call c1: t=1.204s n0 503 -> +0.000s n0 503 -> +1.001s n1 200"),
        "{t}"
    );
    assert!(t.contains("verdicts: 1 fail, 0 warn, 0 info fired"), "{t}");
    assert!(
        t.lines()
            .any(|l| l.starts_with("no_failover") && l.contains("0")),
        "{t}"
    );
    let x = junit_xml(&v, "judge <ci>");
    assert!(x.contains("tests=\"10\" failures=\"1\""), "{x}");
    assert!(x.contains("name=\"judge &lt;ci&gt;\""));
    assert!(
        x.contains("<failure type=\"fail\" message=\"1 calls: a retry came to the same node less than 10ms"),
        "{x}"
    );
    assert_eq!(x.matches("<testcase").count(), 10);
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["verdicts"][2]["name"], "no_backoff");
    assert_eq!(json["verdicts"][2]["count"], 1);
    assert_eq!(json["complete"], true);
}

#[test]
fn attempts_are_counted_per_call_key_rule_and_fingerprints_are_flagged() {
    let mut recs = journal(vec![a("c1", 1.0), a("c2", 2.0), a("c3", 3.0)]);
    recs[2].call_from = mock_server::journal::CallFrom::Fingerprint;
    let v = judge_with(VerdictConfig::default(), &recs);
    assert_eq!((v.call_keys.header, v.call_keys.fingerprint), (2, 1));
    assert!(table(&v).contains("1 attempts keyed by body fingerprint"));
    let clean = judge_with(VerdictConfig::default(), &recs[..2]);
    assert!(!table(&clean).contains("fingerprint"));
}
