//! Fire / not-fire cases for the verdicts that look across calls:
//! synchronized retries, retry-storm windows, traffic kept on a failing
//! node, and the inferred breaker-open intervals.

use super::config::VerdictConfig;
use super::testkit::{a, count, journal, judge, judge_with, Rng, A};
use super::verdicts::{Interval, Kind};

/// `calls` calls failing together at t=10 (same 100 ms slot), retrying with
/// `delay(attempt index)` after each failure, succeeding on the 4th attempt.
fn herd(calls: usize, mut delay: impl FnMut(usize) -> f64) -> Vec<A> {
    let mut out = Vec::new();
    for c in 0..calls {
        let call = format!("h{c}");
        let mut t = 10.0 + c as f64 * 0.003;
        for i in 0..4 {
            let r = if i < 3 {
                a(&call, t).status(503).faults(&["status"])
            } else {
                a(&call, t)
            };
            t = r.end_at() + delay(i);
            out.push(r);
        }
    }
    out
}

#[test]
fn go_style_fixed_1_2_4s_delays_across_12_calls_fire_synchronized_retries() {
    let v = judge(herd(12, |i| [1.0, 2.0, 4.0, 0.0][i]));
    // Attempt numbers 2, 3 and 4, twelve calls each.
    assert_eq!(count(&v, Kind::SynchronizedRetries), 36);
    let ex = &v.get(Kind::SynchronizedRetries).unwrap().examples;
    assert!(!ex.is_empty() && ex.len() <= 5);
    assert!(!v.failed(), "a warning does not fail the run");
}

#[test]
fn full_jitter_across_12_calls_does_not_fire_synchronized_retries() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let v = judge(herd(12, |i| {
        let cap = [1.0, 2.0, 4.0, 0.0][i];
        cap * rng.next_f64()
    }));
    assert_eq!(count(&v, Kind::SynchronizedRetries), 0);
}

#[test]
fn fewer_calls_than_the_minimum_are_not_judged_for_synchronization() {
    let v = judge(herd(9, |i| [1.0, 2.0, 4.0, 0.0][i]));
    assert_eq!(count(&v, Kind::SynchronizedRetries), 0);
}

#[test]
fn retries_timed_by_retry_after_are_left_out_unless_asked() {
    let mut recs = Vec::new();
    for c in 0..12 {
        let call = format!("r{c}");
        let f = a(&call, 10.0 + c as f64 * 0.002).status(429).ra_s(1);
        recs.push(a(&call, f.end_at() + 1.0));
        recs.push(f);
    }
    let v = judge(recs.clone());
    assert_eq!(count(&v, Kind::SynchronizedRetries), 0);
    assert_eq!(count(&v, Kind::IgnoredRetryAfter), 0);
    let mut c = VerdictConfig::default();
    c.synchronized_retries.include_retry_after = true;
    assert_eq!(
        count(&judge_with(c, &journal(recs)), Kind::SynchronizedRetries),
        12
    );
}

#[test]
fn fixed_delays_of_calls_failing_at_different_times_fire_the_run_wide_check() {
    // One call per second for 15 s, each retried exactly 0.5 s after its
    // failure: no slot holds 10 calls, the run does.
    let mut recs = Vec::new();
    for c in 0..15 {
        let call = format!("s{c}");
        let f = a(&call, c as f64).status(500);
        recs.push(a(&call, f.end_at() + 0.5));
        recs.push(f);
    }
    assert_eq!(count(&judge(recs), Kind::SynchronizedRetries), 15);
}

/// `per_s` first attempts per second for `secs` seconds, each call retried
/// `retries` times (after a 503, 0.2 s apart).
fn load(per_s: usize, secs: usize, retries: impl Fn(usize) -> usize) -> Vec<A> {
    let mut out = Vec::new();
    for c in 0..per_s * secs {
        let call = format!("l{c}");
        let mut t = c as f64 / per_s as f64;
        let n = retries(c);
        for i in 0..=n {
            let r = if i < n {
                a(&call, t).status(503)
            } else {
                a(&call, t)
            };
            t = r.end_at() + 0.2 + 0.01 * (c % 7) as f64;
            out.push(r);
        }
    }
    out
}

#[test]
fn retries_above_half_of_first_attempts_in_a_window_fire_retry_storm() {
    // 3 first attempts a second for 20 s, each retried twice: 200% > 50%,
    // and no single call goes over 5 attempts.
    let v = judge(load(3, 20, |_| 2));
    let storm = v.get(Kind::RetryStorm).unwrap();
    assert!(storm.count >= 1, "{storm:?}");
    assert!(storm
        .examples
        .iter()
        .all(|e| e.call.is_none() && e.note.is_some()));
}

#[test]
fn a_few_retries_per_window_do_not_fire_retry_storm() {
    let v = judge(load(3, 20, |c| usize::from(c % 10 == 0)));
    assert_eq!(count(&v, Kind::RetryStorm), 0);
    // Below the 20 first attempts a window needs, even 200% is not judged.
    let v = judge(load(1, 15, |_| 2));
    assert_eq!(count(&v, Kind::RetryStorm), 0);
}

/// Two nodes, 10 calls a second each, for 20 s; node 1 fails from t=5 to
/// t=15; `to_node1(second, i)` says whether call i of that second goes to
/// node 1 (else node 0).
fn two_nodes(to_node1: impl Fn(u32, usize) -> bool) -> Vec<A> {
    let mut out = Vec::new();
    for s in 0..20u32 {
        for i in 0..20usize {
            let t = f64::from(s) + i as f64 * 0.05;
            let call = format!("n{s}-{i}");
            let node = u32::from(to_node1(s, i));
            let failing = node == 1 && (5..15).contains(&s);
            let r = a(&call, t).node(node);
            out.push(if failing { r.status(503) } else { r });
        }
    }
    out
}

#[test]
fn round_robin_onto_a_node_failing_for_10s_fires_kept_sending_to_failing_node() {
    let v = judge(two_nodes(|_, i| i % 2 == 1));
    let k = v.get(Kind::KeptSendingToFailingNode).unwrap();
    assert_eq!(k.count, 1, "{k:?}");
    assert!(k.examples[0].note.as_deref().unwrap().contains("node 1"));
    assert!(v.breaker_open.is_empty(), "{:?}", v.breaker_open);
}

#[test]
fn a_breaker_that_stops_traffic_does_not_fire_and_its_open_spans_are_inferred() {
    // Node 1 gets its share in second 5, then only a probe at 8, 11 and 14
    // (failing), and its share again from 15.
    let v = judge(two_nodes(|s, i| match s {
        5 => i % 2 == 1,
        8 | 11 | 14 => i == 0,
        6..=14 => false,
        _ => i % 2 == 1,
    }));
    assert_eq!(count(&v, Kind::KeptSendingToFailingNode), 0);
    let iv = |from: f64, to: f64| Interval { node: 1, from, to };
    assert_eq!(
        v.breaker_open,
        vec![iv(6.0, 8.0), iv(9.0, 11.0), iv(12.0, 14.0)]
    );
}

#[test]
fn a_short_failing_span_is_neither_a_verdict_nor_a_breaker() {
    // Node 1 fails for 3 s (< 5 s) with its share kept.
    let mut recs = Vec::new();
    for s in 0..10u32 {
        for i in 0..20usize {
            let r = a(&format!("x{s}-{i}"), f64::from(s) + i as f64 * 0.05).node((i % 2) as u32);
            recs.push(if i % 2 == 1 && (3..6).contains(&s) {
                r.status(502)
            } else {
                r
            });
        }
    }
    let v = judge(recs);
    assert_eq!(count(&v, Kind::KeptSendingToFailingNode), 0);
    assert!(v.breaker_open.is_empty());
}

#[test]
fn traffic_series_counts_ok_and_failed_per_node_per_second() {
    let v = judge(two_nodes(|_, i| i % 2 == 1));
    let n1 = &v.traffic[1];
    assert_eq!(n1.node, 1);
    assert_eq!(n1.seconds.len(), 20);
    let s7 = n1.seconds.iter().find(|c| c.second == 7).unwrap();
    assert_eq!((s7.ok, s7.failed, s7.other), (0, 10, 0));
    let s2 = &v.traffic[0].seconds[2];
    assert_eq!((s2.second, s2.ok, s2.failed), (2, 10, 0));
}
