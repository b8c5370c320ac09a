//! The call loop without sockets: a scripted fake transport on paused time
//! with a seeded RNG, as tower's tests drive `tower_test::mock`. Retries,
//! failover, the breaker's half-open probe, `Retry-After`, the retry budget
//! and the total deadline, each asserted on what reached the "wire" (the
//! fake's record of attempts) and on the call record.

use std::time::Duration;

use futures::StreamExt;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::broadcast;
use tokio::time::{sleep, Instant};

use super::{chat, chat_stream};
use crate::config::ClientConfig;
use crate::error::{Error, TimeoutPhase};
use crate::events::ClientEvent;
use crate::policy::backoff::Backoff;
use crate::policy::breaker::BreakerState;
use crate::testing::{inner, request, FakeTransport, Reply, Sent};

const MS: Duration = Duration::from_millis(1);

fn cfg(yaml: &str) -> ClientConfig {
    serde_yaml::from_str(yaml).expect("test config")
}

/// Time between consecutive attempts.
fn gaps(sent: &[Sent]) -> Vec<Duration> {
    sent.windows(2).map(|w| w[1].at - w[0].at).collect()
}

/// Asserts `gap` is `delay`, give or take the timer wheel's 1 ms tick.
fn assert_slept(gap: Duration, delay: Duration) {
    assert!(
        gap >= delay && gap <= delay + MS,
        "slept {gap:?}, expected {delay:?}"
    );
}

/// The delays of the `Retry` events received so far.
fn retry_delays(rx: &mut broadcast::Receiver<ClientEvent>) -> Vec<Duration> {
    let mut out = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let ClientEvent::Retry { delay, .. } = ev {
            out.push(delay);
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn two_503s_then_200_take_three_attempts_on_three_endpoints_with_seeded_backoff() {
    let c = cfg("retry: { max_attempts: 3, backoff: { base: 200ms, max: 5s, jitter: full } }");
    let expected = |seed| {
        // Round robin draws nothing from the RNG: the two backoffs are its
        // only draws, in order.
        let backoff = Backoff::new(&c.retry.backoff).unwrap();
        let mut rng = StdRng::seed_from_u64(seed);
        let d1 = backoff.delay(1, Duration::ZERO, &mut rng);
        [d1, backoff.delay(2, d1, &mut rng)]
    };
    for seed in [7, 8] {
        let inner = inner(c.clone(), 3, seed);
        let mut events = inner.events.subscribe();
        let fake = FakeTransport::new([Reply::status(503), Reply::status(503), Reply::ok()]);
        let resp = chat(&inner, &fake, request()).await.unwrap();
        assert_eq!(resp.content(), Some("ok"));
        assert_eq!(resp.meta.attempts, 3);
        assert_eq!(resp.meta.statuses, [503, 503, 200]);
        assert_eq!(resp.meta.endpoints, [0, 1, 2]);
        assert_eq!(fake.endpoints(), [0, 1, 2]);
        let delays = expected(seed);
        assert_eq!(retry_delays(&mut events), delays);
        for (gap, delay) in gaps(&fake.sent()).into_iter().zip(delays) {
            assert_slept(gap, delay);
        }
        // One trace, a new span per attempt.
        let sent = fake.sent();
        assert!(sent
            .iter()
            .all(|s| s.traceparent[3..35] == resp.meta.trace_id && !s.stream));
        assert_ne!(sent[0].traceparent, sent[1].traceparent);
    }
    assert_ne!(expected(7), expected(8), "the seed decides the jitter");
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_longer_than_the_deadline_fails_fast() {
    let inner = inner(cfg("timeouts: { total: 2s }"), 2, 1);
    let fake = FakeTransport::new([Reply::status(503).header("retry-after", "5"), Reply::ok()]);
    let t0 = Instant::now();
    let e = chat(&inner, &fake, request()).await.unwrap_err();
    assert!(
        matches!(e.kind, Error::Server { status: 503, retry_after: Some(ra), .. } if ra == Duration::from_secs(5)),
        "{e:?}"
    );
    assert_eq!(e.meta.attempts, 1);
    assert_eq!(fake.sent().len(), 1);
    assert_eq!(t0.elapsed(), Duration::ZERO, "no sleep that cannot finish");
}

#[tokio::test(start_paused = true)]
async fn a_half_open_probe_is_released_when_the_call_is_dropped() {
    let c = cfg("retry: { max_attempts: 1 }\nbreaker: { window_size: 2, minimum_number_of_calls: 2, wait_duration_in_open: 1s, permitted_calls_in_half_open: 1 }");
    let inner = inner(c, 1, 1);
    let fake = FakeTransport::new([Reply::status(503), Reply::status(503), Reply::hang()]);
    for _ in 0..2 {
        chat(&inner, &fake, request()).await.unwrap_err();
    }
    assert_eq!(inner.lock().breakers[0].state(), BreakerState::Open);
    sleep(Duration::from_secs(1)).await;

    // This call takes the only probe, then its attempt hangs.
    let mut probe = Box::pin(chat(&inner, &fake, request()));
    tokio::select! {
        _ = &mut probe => panic!("the probe is scripted to hang"),
        () = sleep(100 * MS) => {}
    }
    assert_eq!(inner.lock().breakers[0].state(), BreakerState::HalfOpen);
    assert_eq!(inner.lock().breakers[0].outstanding_probes(), 1);
    let refused = chat(&inner, &fake, request()).await.unwrap_err();
    assert!(matches!(refused.kind, Error::BreakerOpen), "{refused:?}");
    assert_eq!(refused.meta.attempts, 0);

    drop(probe);
    assert_eq!(inner.lock().breakers[0].outstanding_probes(), 0);
    // The next caller gets the probe; its success closes the breaker.
    fake.push([Reply::ok()]);
    let resp = chat(&inner, &fake, request()).await.unwrap();
    assert_eq!(resp.meta.attempts, 1);
    assert_eq!(inner.lock().breakers[0].state(), BreakerState::Closed);
    assert_eq!(fake.sent().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_400_is_never_retried_and_says_nothing_about_the_endpoint() {
    let inner = inner(cfg("retry: { max_attempts: 5 }"), 2, 1);
    let fake = FakeTransport::new([Reply::status(400), Reply::ok()]);
    let e = chat(&inner, &fake, request()).await.unwrap_err();
    assert!(
        matches!(e.kind, Error::InvalidRequest { status: 400, .. }),
        "{e:?}"
    );
    assert_eq!(e.meta.statuses, [400]);
    assert_eq!(fake.sent().len(), 1);
    let counts = inner.lock().breakers[0].window_counts(Instant::now());
    assert_eq!(counts.calls, 0, "released, not recorded");
}

#[tokio::test(start_paused = true)]
async fn a_429_waits_exactly_its_retry_after_ms_unless_told_not_to() {
    let backoff = "backoff: { base: 10ms, max: 10ms, jitter: none }";
    for (honor, want) in [(true, 700 * MS), (false, 10 * MS)] {
        let c = cfg(&format!(
            "retry: {{ honor_retry_after: {honor}, {backoff} }}"
        ));
        let inner = inner(c, 2, 1);
        let mut events = inner.events.subscribe();
        let fake = FakeTransport::new([
            Reply::status(429).header("retry-after-ms", "700"),
            Reply::ok(),
        ]);
        let resp = chat(&inner, &fake, request()).await.unwrap();
        assert_eq!(resp.meta.statuses, [429, 200]);
        assert_eq!(retry_delays(&mut events), [want]);
        assert_slept(gaps(&fake.sent())[0], want);
    }
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_retry_budget_stops_retries() {
    let c = cfg("retry: { max_attempts: 3, budget: { ratio: 0%, min_per_second: 0/s } }");
    let inner = inner(c, 2, 1);
    let mut events = inner.events.subscribe();
    let fake = FakeTransport::new([Reply::status(503), Reply::ok()]);
    let e = chat(&inner, &fake, request()).await.unwrap_err();
    match &e.kind {
        Error::RetryBudgetExhausted { last } => {
            assert!(matches!(**last, Error::Server { status: 503, .. }))
        }
        other => panic!("expected budget exhaustion, got {other:?}"),
    }
    assert_eq!(e.class(), "budget_exhausted");
    assert_eq!((e.meta.attempts, fake.sent().len()), (1, 1));
    assert!(
        std::iter::from_fn(|| events.try_recv().ok()).any(|ev| ev == ClientEvent::BudgetExhausted)
    );
}

#[tokio::test(start_paused = true)]
async fn the_total_deadline_bounds_the_whole_call() {
    // A hung attempt ends at the deadline, blamed on it (not first byte).
    let inner1 = inner(cfg("timeouts: { total: 3s, first_byte: 10s }"), 1, 1);
    let fake = FakeTransport::new([Reply::hang()]);
    let t0 = Instant::now();
    let e = chat(&inner1, &fake, request()).await.unwrap_err();
    assert!(
        matches!(
            e.kind,
            Error::Timeout {
                phase: TimeoutPhase::Total
            }
        ),
        "{e:?}"
    );
    assert_eq!(t0.elapsed(), Duration::from_secs(3));
    assert_eq!(e.meta.statuses, [0]);

    // Retries stop when the next sleep would cross it: attempts at 0s, 1s
    // and 2s, and the 503 of the last one is the answer at 2s.
    let c = cfg("timeouts: { total: 3s }\nretry: { max_attempts: 10, backoff: { base: 1s, multiplier: 1, max: 1s, jitter: none } }");
    let inner2 = inner(c, 2, 1);
    let fake = FakeTransport::new(vec![Reply::status(503); 10]);
    let t0 = Instant::now();
    let e = chat(&inner2, &fake, request()).await.unwrap_err();
    assert!(matches!(e.kind, Error::Server { status: 503, .. }), "{e:?}");
    assert_eq!(e.meta.attempts, 3);
    assert_eq!(t0.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn failover_false_lets_a_retry_return_to_the_endpoint_that_failed() {
    // Smooth weighted round robin over 5:1:1 picks 0, 0, 1 when a retry may
    // go anywhere; failover makes each retry take an endpoint not tried yet.
    // (Plain round robin moves on either way.)
    let endpoints = "endpoints: [{url: 'http://x', weight: 5}, {url: 'http://y', weight: 1}, {url: 'http://z', weight: 1}]\nbalancer: { strategy: weighted }";
    for (failover, want) in [(false, [0, 0, 1]), (true, [0, 1, 2])] {
        let c = cfg(&format!(
            "{endpoints}\nretry: {{ failover: {failover}, backoff: {{ base: 10ms, max: 10ms }} }}"
        ));
        let inner = inner(c, 3, 1);
        let fake = FakeTransport::new([Reply::status(503), Reply::status(503), Reply::ok()]);
        let resp = chat(&inner, &fake, request()).await.unwrap();
        assert_eq!(resp.meta.endpoints, want, "failover: {failover}");
        assert_eq!(fake.endpoints(), want);
    }
}

#[tokio::test(start_paused = true)]
async fn a_stream_broken_before_its_first_token_is_retried_and_after_it_is_not() {
    let c = cfg("retry: { backoff: { base: 10ms, max: 10ms, jitter: none } }");
    let inner = inner(c, 2, 1);
    let fake = FakeTransport::new([Reply::sse_cut(&[""]), Reply::sse_cut(&["Hel", "lo"])]);
    let s = chat_stream(&inner, &fake, request()).await.unwrap();
    assert_eq!(s.meta().endpoints, [0, 1]);
    assert!(fake.sent().iter().all(|s| s.stream));
    let items: Vec<_> = s.collect().await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().content(), Some("Hel"));
    assert_eq!(items[1].as_ref().unwrap().content(), Some("lo"));
    assert!(matches!(items[2], Err(Error::StreamBroken { .. })));
    assert_eq!(fake.sent().len(), 2, "no retry after the first token");
    // The break after the first token still counts against endpoint 1.
    let counts = inner.lock().breakers[1].window_counts(Instant::now());
    assert_eq!((counts.calls, counts.failures), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_role_only_chunk_is_not_a_first_token() {
    let c = cfg("timeouts: { first_token: 2s }\nretry: { backoff: { base: 10ms, max: 10ms, jitter: none } }");
    let inner = inner(c, 2, 1);
    let fake = FakeTransport::new([Reply::sse_cut(&[""]).then_hang(), Reply::sse(&["Hi"])]);
    let s = chat_stream(&inner, &fake, request()).await.unwrap();
    assert_eq!(s.meta().statuses, [200, 200]);
    assert_slept(gaps(&fake.sent())[0], Duration::from_secs(2) + 10 * MS);
    let items: Vec<_> = s.collect().await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap().content(), Some("Hi"));
}

#[tokio::test(start_paused = true)]
async fn dropping_a_live_stream_releases_its_half_open_probe() {
    let c = cfg("retry: { max_attempts: 1 }\nbreaker: { window_size: 1, minimum_number_of_calls: 1, wait_duration_in_open: 1s, permitted_calls_in_half_open: 1 }");
    let inner = inner(c, 1, 1);
    let fake = FakeTransport::new([Reply::refused(), Reply::sse_cut(&["Hi"]).then_hang()]);
    chat(&inner, &fake, request()).await.unwrap_err();
    assert_eq!(inner.lock().breakers[0].state(), BreakerState::Open);
    sleep(Duration::from_secs(1)).await;
    let mut s = chat_stream(&inner, &fake, request()).await.unwrap();
    assert_eq!(s.next().await.unwrap().unwrap().content(), Some("Hi"));
    assert_eq!(inner.lock().breakers[0].outstanding_probes(), 1);
    drop(s);
    assert_eq!(inner.lock().breakers[0].outstanding_probes(), 0);
    assert_eq!(inner.lock().breakers[0].state(), BreakerState::HalfOpen);
}

#[tokio::test(start_paused = true)]
async fn a_head_slower_than_first_byte_times_out_and_is_retried() {
    let c = cfg(
        "timeouts: { first_byte: 1s }\nretry: { backoff: { base: 10ms, max: 10ms, jitter: none } }",
    );
    let inner = inner(c, 2, 1);
    let mut events = inner.events.subscribe();
    let fake = FakeTransport::new([Reply::ok().after(Duration::from_secs(3)), Reply::ok()]);
    let resp = chat(&inner, &fake, request()).await.unwrap();
    assert_eq!(resp.meta.statuses, [0, 200]);
    assert_slept(gaps(&fake.sent())[0], Duration::from_secs(1) + 10 * MS);
    let causes: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|ev| match ev {
            ClientEvent::Retry { cause, .. } => Some(cause),
            _ => None,
        })
        .collect();
    assert_eq!(causes, ["timeout_first_byte"]);
}
