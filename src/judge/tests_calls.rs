//! One case that must fire and one that must not, for each verdict judged
//! from a call's own attempts.

use mock_server::journal::End;

use super::testkit::{a, count, judge, A};
use super::verdicts::Kind;

/// A 503 answered after 10 ms, no Retry-After.
fn fail503(call: &str, at: f64) -> A {
    a(call, at).status(503).faults(&["status"])
}

#[test]
fn a_retry_after_a_400_fires_retried_non_retryable_and_a_400_alone_does_not() {
    let bad = a("c1", 1.0).status(400);
    let retry = a("c1", bad.end_at() + 0.5);
    let v = judge(vec![bad, retry]);
    assert_eq!(count(&v, Kind::RetriedNonRetryable), 1);
    assert!(v.failed());

    let alone = a("c2", 1.0).status(422);
    let retried_503 = fail503("c3", 1.0);
    let ok = a("c3", retried_503.end_at() + 0.5);
    let v = judge(vec![alone, retried_503, ok]);
    assert_eq!(count(&v, Kind::RetriedNonRetryable), 0);
}

#[test]
fn a_retry_40ms_after_retry_after_ms_100_fires_ignored_retry_after_and_one_at_120ms_does_not() {
    let f = a("early", 1.0).status(429).ra_ms(100);
    let early = a("early", f.end_at() + 0.040);
    let g = a("late", 1.0).status(429).ra_ms(100);
    let late = a("late", g.end_at() + 0.120);
    let v = judge(vec![f, early, g.clone(), late]);
    assert_eq!(count(&v, Kind::IgnoredRetryAfter), 1);
    let ex = &v.get(Kind::IgnoredRetryAfter).unwrap().examples[0];
    assert_eq!(ex.call.as_deref(), Some("early"));
    assert!((ex.attempts[1].delay.unwrap() - 0.040).abs() < 1e-9);
    // Within the 50 ms tolerance: 60 ms after a 100 ms Retry-After is fine.
    let ok = a("late", g.end_at() + 0.060);
    assert_eq!(count(&judge(vec![g, ok]), Kind::IgnoredRetryAfter), 0);
}

#[test]
fn retry_after_in_seconds_counts_when_no_milliseconds_were_sent() {
    let f = a("s", 1.0).status(503).ra_s(2);
    let half = a("s", f.end_at() + 1.0);
    assert_eq!(
        count(&judge(vec![f.clone(), half]), Kind::IgnoredRetryAfter),
        1
    );
    let full = a("s", f.end_at() + 2.0);
    assert_eq!(count(&judge(vec![f, full]), Kind::IgnoredRetryAfter), 0);
}

#[test]
fn an_immediate_retry_after_a_503_fires_no_backoff_and_a_50ms_one_does_not() {
    let f = fail503("now", 1.0);
    let at_once = a("now", f.end_at() + 0.002);
    let g = fail503("wait", 1.0);
    let waited = a("wait", g.end_at() + 0.050);
    let v = judge(vec![f, at_once, g, waited]);
    assert_eq!(count(&v, Kind::NoBackoff), 1);
    assert_eq!(
        v.get(Kind::NoBackoff).unwrap().examples[0].call.as_deref(),
        Some("now")
    );
}

#[test]
fn an_immediate_retry_on_another_node_is_failover_not_no_backoff() {
    let f = fail503("moved", 1.0);
    let elsewhere = a("moved", f.end_at() + 0.002).node(1);
    let g = fail503("same", 2.0);
    let same = a("same", g.end_at() + 0.002);
    let v = judge(vec![f, elsewhere, g, same]);
    assert_eq!(count(&v, Kind::NoBackoff), 1);
    assert_eq!(
        v.get(Kind::NoBackoff).unwrap().examples[0].call.as_deref(),
        Some("same")
    );
}

#[test]
fn no_backoff_covers_resets_and_stall_timeouts_but_not_failures_with_retry_after() {
    let reset = a("r", 1.0)
        .no_head()
        .end(End::ServerClosed)
        .faults(&["reset"]);
    let r2 = a("r", reset.end_at());
    let stall = a("t", 1.0)
        .no_head()
        .end(End::ClientClosed)
        .faults(&["stall"])
        .lasts(5.0);
    let t2 = a("t", stall.end_at() + 0.001);
    let told = a("ra", 1.0).status(429).ra_ms(0);
    let ra2 = a("ra", told.end_at());
    let v = judge(vec![reset, r2, stall, t2, told, ra2]);
    assert_eq!(count(&v, Kind::NoBackoff), 2);
}

#[test]
fn a_call_with_6_attempts_fires_retry_storm_and_one_with_5_does_not() {
    let chain = |call: &str, n: usize| {
        let mut out = Vec::new();
        let mut t = 1.0;
        for i in 0..n {
            let r = if i + 1 < n {
                fail503(call, t)
            } else {
                a(call, t)
            };
            t = r.end_at() + 0.5 * (i + 1) as f64;
            out.push(r);
        }
        out
    };
    let v = judge(chain("six", 6));
    assert_eq!(count(&v, Kind::RetryStorm), 1);
    assert_eq!(
        v.get(Kind::RetryStorm).unwrap().examples[0].attempts.len(),
        6
    );
    assert_eq!(count(&judge(chain("five", 5)), Kind::RetryStorm), 0);
}

#[test]
fn a_stall_held_70s_fires_no_timeout_on_stall_and_one_cut_at_10s_does_not() {
    let held = a("held", 1.0)
        .no_head()
        .faults(&["stall"])
        .end(End::ClientClosed)
        .lasts(70.0);
    let v = judge(vec![held]);
    assert_eq!(count(&v, Kind::NoTimeoutOnStall), 1);
    let cut = a("cut", 1.0)
        .no_head()
        .faults(&["stall"])
        .end(End::ClientClosed)
        .lasts(10.0);
    let retry = a("cut", cut.end_at() + 0.2);
    assert_eq!(count(&judge(vec![cut, retry]), Kind::NoTimeoutOnStall), 0);
}

#[test]
fn stalls_still_open_at_shutdown_count_and_stream_stalls_measure_from_the_stall() {
    let open = a("open", 1.0)
        .no_head()
        .faults(&["stall"])
        .end(End::Shutdown)
        .lasts(65.0);
    assert_eq!(count(&judge(vec![open]), Kind::NoTimeoutOnStall), 1);
    // Tokens flowed for 30 s, then the stream stalled for 40 s: under 60 s.
    let s = a("ss", 1.0)
        .faults(&["stream_stall"])
        .end(End::ClientClosed)
        .lasts(70.0)
        .stalled_at(31.0);
    assert_eq!(count(&judge(vec![s.clone()]), Kind::NoTimeoutOnStall), 0);
    let long = s.stalled_at(5.0);
    assert_eq!(count(&judge(vec![long]), Kind::NoTimeoutOnStall), 1);
    // A slow answer without a stall fault is not a stall.
    let slow = a("slow", 1.0).lasts(90.0);
    assert_eq!(count(&judge(vec![slow]), Kind::NoTimeoutOnStall), 0);
}

#[test]
fn a_call_ending_on_a_503_fires_gave_up_and_one_ending_on_success_or_400_does_not() {
    let f = fail503("gave", 1.0);
    let f2 = fail503("gave", f.end_at() + 1.0);
    let v = judge(vec![f, f2]);
    assert_eq!(count(&v, Kind::GaveUpOnRetryable), 1);
    assert!(!v.failed(), "gave_up is information");
    let g = fail503("ok", 1.0);
    let ok = a("ok", g.end_at() + 1.0);
    let bad = a("bad", 1.0).status(400);
    assert_eq!(count(&judge(vec![g, ok, bad]), Kind::GaveUpOnRetryable), 0);
}

#[test]
fn a_hang_up_in_a_queue_wait_then_a_resend_fires_abandoned_queue_wait() {
    let q = a("q", 1.0)
        .faults(&["queue_wait"])
        .end(End::ClientClosed)
        .tokens(0)
        .lasts(30.0);
    let again = a("q", q.end_at() + 1.0);
    let v = judge(vec![q.clone(), again]);
    assert_eq!(count(&v, Kind::AbandonedQueueWait), 1);
    // Leaving the queue without sending again is not this verdict.
    let v = judge(vec![q]);
    assert_eq!(count(&v, Kind::AbandonedQueueWait), 0);
    assert_eq!(count(&v, Kind::GaveUpOnRetryable), 1);
    // Hanging up once tokens flowed was not during the wait.
    let streamed = a("s", 1.0)
        .faults(&["queue_wait"])
        .end(End::ClientClosed)
        .tokens(5)
        .lasts(30.0);
    let again = a("s", streamed.end_at() + 1.0);
    assert_eq!(
        count(&judge(vec![streamed, again]), Kind::AbandonedQueueWait),
        0
    );
}

#[test]
fn a_retry_to_the_failing_node_while_another_succeeded_fires_no_failover() {
    let f = fail503("stuck", 5.0);
    let same = a("stuck", 5.5);
    let other_ok = a("other", 5.1).node(1);
    let v = judge(vec![f, same, other_ok.clone()]);
    assert_eq!(count(&v, Kind::NoFailover), 1);
    assert!(!v.failed(), "no_failover is a warning");

    // Retrying on the other node is failover.
    let f = fail503("moved", 5.0);
    let moved = a("moved", 5.5).node(1);
    assert_eq!(count(&judge(vec![f, moved, other_ok]), Kind::NoFailover), 0);
    // Nobody else succeeded within 1 s of the retry: nothing to fail over to.
    let f = fail503("alone", 5.0);
    let same = a("alone", 5.5);
    let far_ok = a("far", 7.0).node(1);
    assert_eq!(count(&judge(vec![f, same, far_ok]), Kind::NoFailover), 0);
}

#[test]
fn failover_verdicts_do_not_apply_with_one_node() {
    let f = fail503("c", 1.0);
    let again = a("c", 1.5);
    let v = judge(vec![f, again]);
    assert_eq!(v.nodes, 1);
    for k in [Kind::NoFailover, Kind::KeptSendingToFailingNode] {
        assert!(!v.get(k).unwrap().applicable, "{k:?}");
    }
    assert!(v.get(Kind::NoBackoff).unwrap().applicable);
}

#[test]
fn a_clean_journal_fires_nothing() {
    let mut recs = Vec::new();
    for i in 0..50 {
        let t = i as f64 * 0.2;
        recs.push(a(&format!("c{i}"), t).node(i % 2));
    }
    let v = judge(recs);
    assert_eq!(v.calls, 50);
    assert!(v.verdicts.iter().all(|x| x.count == 0), "{:?}", v.verdicts);
    assert!(!v.failed());
    assert!(v.complete);
}
