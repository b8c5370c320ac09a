//! Exact-transition tests for the circuit breaker on a fake clock.

use std::time::Duration;

use tokio::time::Instant;

use super::*;

fn cfg(window: u32, min_calls: u32) -> BreakerConfig {
    BreakerConfig {
        window_size: window,
        minimum_number_of_calls: min_calls,
        ..BreakerConfig::default()
    }
}

fn ok(b: &mut CircuitBreaker, now: Instant) {
    let p = b.try_acquire(now).expect("permit");
    b.on_success(p, Duration::from_millis(10), now);
}

fn fail(b: &mut CircuitBreaker, now: Instant) {
    let p = b.try_acquire(now).expect("permit");
    b.on_failure(p, now);
}

/// Opens a default (3 probes, 5s) breaker with 10 failures at `t0`.
fn opened(t0: Instant) -> CircuitBreaker {
    let mut b = CircuitBreaker::new(&cfg(10, 10)).unwrap();
    for _ in 0..10 {
        fail(&mut b, t0);
    }
    assert_eq!(b.state(), BreakerState::Open);
    b.take_transitions();
    b
}

const S: Duration = Duration::from_secs(1);

#[test]
fn opens_exactly_at_tenth_call_at_fifty_percent() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(&cfg(10, 10)).unwrap();
    for _ in 0..5 {
        fail(&mut b, t0);
    }
    for i in 0..4 {
        ok(&mut b, t0);
        assert_eq!(b.state(), BreakerState::Closed, "after {} calls", 6 + i);
    }
    assert!(b.take_transitions().is_empty());
    ok(&mut b, t0); // 10th call: 5/10 = 50% >= 50%
    assert_eq!(b.state(), BreakerState::Open);
    let t = b.take_transitions();
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].from, t[0].to, t[0].at),
        (BreakerState::Closed, BreakerState::Open, t0)
    );
    assert_eq!(
        t[0].reason,
        TransitionReason::FailureRate {
            rate: Percent::from_fraction(0.5).unwrap(),
            calls: 10
        }
    );
    assert_eq!(t[0].open_until, Some(t0 + 5 * S));
    let r = b.try_acquire(t0 + S).unwrap_err();
    assert_eq!(r.state, BreakerState::Open);
    assert_eq!(r.retry_at, Some(t0 + 5 * S));
}

#[test]
fn below_minimum_calls_never_opens() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(&cfg(100, 10)).unwrap();
    for _ in 0..9 {
        fail(&mut b, t0);
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.window_counts(t0).failures, 9);
    fail(&mut b, t0);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn count_window_forgets_old_calls() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(&cfg(10, 10)).unwrap();
    for _ in 0..4 {
        fail(&mut b, t0);
    }
    for _ in 0..20 {
        ok(&mut b, t0);
    }
    // The 4 failures slid out: 4 new ones are 40%, one more is 50%.
    for _ in 0..4 {
        fail(&mut b, t0);
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.window_counts(t0).failures, 4);
    fail(&mut b, t0);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn after_open_duration_next_call_is_probe_and_successes_close() {
    let t0 = Instant::now();
    let mut b = opened(t0);
    assert!(!b.is_call_permitted(t0 + 5 * S - Duration::from_nanos(1)));
    assert!(b.try_acquire(t0 + 5 * S - Duration::from_nanos(1)).is_err());
    assert!(b.is_call_permitted(t0 + 5 * S));
    let t1 = t0 + 5 * S;
    let p1 = b.try_acquire(t1).unwrap();
    assert!(p1.is_probe());
    assert_eq!(b.state(), BreakerState::HalfOpen);
    let t = b.take_transitions();
    assert_eq!(t[0].reason, TransitionReason::WaitElapsed);
    assert_eq!(
        (t[0].from, t[0].to),
        (BreakerState::Open, BreakerState::HalfOpen)
    );
    let p2 = b.try_acquire(t1).unwrap();
    assert!(b.is_call_permitted(t1));
    let p3 = b.try_acquire(t1).unwrap();
    assert!(!b.is_call_permitted(t1));
    let r = b.try_acquire(t1).unwrap_err();
    assert_eq!((r.state, r.retry_at), (BreakerState::HalfOpen, None));
    assert_eq!(b.outstanding_probes(), 3);
    b.on_success(p1, S, t1);
    b.on_success(p2, S, t1);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    b.on_success(p3, S, t1);
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(
        b.take_transitions()[0].reason,
        TransitionReason::ProbesSucceeded
    );
    // The closed window starts empty again.
    assert_eq!(b.window_counts(t1).calls, 0);
}

#[test]
fn half_open_failure_rate_reopens() {
    let t0 = Instant::now();
    let mut b = opened(t0);
    let t1 = t0 + 5 * S;
    let ps: Vec<_> = (0..3).map(|_| b.try_acquire(t1).unwrap()).collect();
    let mut it = ps.into_iter();
    b.on_failure(it.next().unwrap(), t1);
    b.on_success(it.next().unwrap(), S, t1);
    b.on_failure(it.next().unwrap(), t1); // 2/3 >= 50%
    assert_eq!(b.state(), BreakerState::Open);
    let t = b.take_transitions();
    assert_eq!(t.len(), 2);
    assert_eq!(t[1].to, BreakerState::Open);
    assert_eq!(t[1].open_until, Some(t1 + 5 * S));
}

#[test]
fn single_probe_failure_reopens_with_one_permitted_call() {
    let t0 = Instant::now();
    let c = BreakerConfig {
        permitted_calls_in_half_open: 1,
        ..cfg(10, 10)
    };
    let mut b = CircuitBreaker::new(&c).unwrap();
    for _ in 0..10 {
        fail(&mut b, t0);
    }
    let p = b.try_acquire(t0 + 5 * S).unwrap();
    b.on_failure(p, t0 + 5 * S);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn cancelled_probe_frees_its_slot() {
    let t0 = Instant::now();
    let mut b = opened(t0);
    let t1 = t0 + 5 * S;
    let p1 = b.try_acquire(t1).unwrap();
    let p2 = b.try_acquire(t1).unwrap();
    let p3 = b.try_acquire(t1).unwrap();
    assert!(b.try_acquire(t1).is_err());
    b.release(p2, t1);
    assert_eq!(b.outstanding_probes(), 2);
    let p4 = b.try_acquire(t1).unwrap();
    assert!(b.try_acquire(t1).is_err());
    for p in [p1, p3, p4] {
        b.on_success(p, S, t1);
    }
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn leaked_probe_cannot_wedge_half_open() {
    let t0 = Instant::now();
    let mut b = opened(t0);
    let t1 = t0 + 5 * S;
    let leaked: Vec<_> = (0..3).map(|_| b.try_acquire(t1).unwrap()).collect();
    assert!(b.try_acquire(t1 + 59 * S).is_err());
    assert!(b.is_call_permitted(t1 + 60 * S));
    // max_wait_duration_in_half_open (60s) reopens, then a fresh probe is allowed.
    let r = b.try_acquire(t1 + 60 * S).unwrap_err();
    assert_eq!(r.state, BreakerState::Open);
    let t = b.take_transitions();
    assert_eq!(t.last().unwrap().reason, TransitionReason::HalfOpenTimeout);
    let probe = b.try_acquire(t1 + 65 * S).unwrap();
    assert!(probe.is_probe());
    // Late outcomes of the leaked permits belong to an old generation.
    for p in leaked {
        b.on_failure(p, t1 + 65 * S);
    }
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.outstanding_probes(), 1);
}

#[test]
fn stale_closed_outcome_after_opening_is_ignored() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(&cfg(10, 10)).unwrap();
    let slow_call = b.try_acquire(t0).unwrap();
    for _ in 0..10 {
        fail(&mut b, t0);
    }
    let t1 = t0 + 5 * S;
    let probe = b.try_acquire(t1).unwrap();
    b.on_failure(slow_call, t1); // from the closed generation: ignored
    assert_eq!(b.state(), BreakerState::HalfOpen);
    b.release(probe, t1);
    assert_eq!(b.outstanding_probes(), 0);
}

#[test]
fn slow_calls_open() {
    let t0 = Instant::now();
    let c = BreakerConfig {
        slow_call_duration_threshold: 2 * S,
        slow_call_rate_threshold: Percent::from_fraction(0.8).unwrap(),
        ..cfg(10, 5)
    };
    let mut b = CircuitBreaker::new(&c).unwrap();
    let slow = |b: &mut CircuitBreaker, d: Duration| {
        let p = b.try_acquire(t0).unwrap();
        b.on_success(p, d, t0);
    };
    slow(&mut b, 2 * S); // exactly the threshold is not slow
    for _ in 0..3 {
        slow(&mut b, 3 * S);
    }
    slow(&mut b, 3 * S); // 4/5 = 80%
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(
        b.take_transitions()[0].reason,
        TransitionReason::SlowCallRate {
            rate: Percent::from_fraction(0.8).unwrap(),
            calls: 5
        }
    );
}

#[test]
fn time_window_drops_old_buckets() {
    let t0 = Instant::now();
    let c = BreakerConfig {
        window_type: WindowType::Time,
        ..cfg(10, 10)
    };
    let mut b = CircuitBreaker::new(&c).unwrap();
    for _ in 0..9 {
        fail(&mut b, t0);
    }
    assert_eq!(b.window_counts(t0 + 9 * S).calls, 9);
    // Second 10 starts a new window: the failures at second 0 are gone.
    assert_eq!(b.window_counts(t0 + 10 * S).calls, 0);
    fail(&mut b, t0 + 10 * S);
    assert_eq!(b.state(), BreakerState::Closed);
    for i in 0..9 {
        fail(&mut b, t0 + 11 * S + i * S / 10);
    }
    assert_eq!(b.state(), BreakerState::Open);
    // A gap far longer than the window clears every bucket.
    let mut b = CircuitBreaker::new(&c).unwrap();
    for s in 0..5 {
        fail(&mut b, t0 + s * S);
    }
    assert_eq!(b.window_counts(t0 + 4 * S).calls, 5);
    assert_eq!(b.window_counts(t0 + 1000 * S).calls, 0);
}

#[test]
fn retry_after_hint_extends_open_up_to_cap() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(&cfg(10, 10)).unwrap();
    for _ in 0..9 {
        fail(&mut b, t0);
    }
    let p = b.try_acquire(t0).unwrap();
    b.on_failure_with_hint(p, t0, 30 * S);
    assert_eq!(b.open_until(), Some(t0 + 30 * S));
    let mut b = CircuitBreaker::new(&cfg(10, 10)).unwrap();
    for _ in 0..9 {
        fail(&mut b, t0);
    }
    let p = b.try_acquire(t0).unwrap();
    b.on_failure_with_hint(p, t0, 3600 * S);
    assert_eq!(b.open_until(), Some(t0 + 60 * S));
}

#[test]
fn disabled_admits_everything() {
    let t0 = Instant::now();
    let c = BreakerConfig {
        enabled: false,
        ..cfg(10, 10)
    };
    let mut b = CircuitBreaker::new(&c).unwrap();
    for _ in 0..100 {
        fail(&mut b, t0);
    }
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn config_validation_and_yaml() {
    assert_eq!(
        CircuitBreaker::new(&cfg(0, 1)).unwrap_err(),
        InvalidBreaker::Zero("window_size")
    );
    let c: BreakerConfig = serde_yaml::from_str(
        "window_type: time\nwindow_size: 30\nfailure_rate_threshold: 25%\nwait_duration_in_open: 250ms\n",
    )
    .unwrap();
    assert_eq!(c.window_type, WindowType::Time);
    assert_eq!(c.failure_rate_threshold.percent(), 25.0);
    assert_eq!(c.wait_duration_in_open, Duration::from_millis(250));
    assert_eq!(c.permitted_calls_in_half_open, 3);
    let e = serde_yaml::from_str::<BreakerConfig>("window_size: 3\nbogus: 1\n").unwrap_err();
    assert!(e.to_string().contains("unknown field `bogus`"), "{e}");
    assert_eq!(e.location().unwrap().line(), 2);
}

#[test]
fn zero_half_open_wait_means_forever() {
    let t0 = Instant::now();
    let c = BreakerConfig {
        max_wait_duration_in_half_open: Duration::ZERO,
        permitted_calls_in_half_open: 1,
        ..cfg(10, 10)
    };
    let mut b = CircuitBreaker::new(&c).unwrap();
    for _ in 0..10 {
        fail(&mut b, t0);
    }
    let p = b.try_acquire(t0 + 5 * S).unwrap();
    assert!(b.try_acquire(t0 + 3600 * S).is_err());
    assert_eq!(b.state(), BreakerState::HalfOpen);
    b.on_success(p, S, t0 + 3600 * S);
    assert_eq!(b.state(), BreakerState::Closed);
}

/// Random interleavings of acquire / success / failure / release / cancel on a
/// seeded RNG: probes never exceed the permitted count, and once every
/// outstanding permit is resolved and the open time has passed, a call is
/// always admitted (the breaker cannot wedge).
#[test]
fn random_interleavings_never_wedge() {
    use rand::{Rng, SeedableRng};
    let c = BreakerConfig {
        window_size: 8,
        minimum_number_of_calls: 4,
        permitted_calls_in_half_open: 2,
        ..BreakerConfig::default()
    };
    for seed in 0..50 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut b = CircuitBreaker::new(&c).unwrap();
        let mut now = Instant::now();
        let mut held: Vec<Permit> = Vec::new();
        for _ in 0..2_000 {
            now += Duration::from_millis(rng.gen_range(0..400));
            match rng.gen_range(0..10) {
                0..=3 => {
                    if let Ok(p) = b.try_acquire(now) {
                        held.push(p);
                    }
                }
                _ if held.is_empty() => {}
                4..=5 => {
                    let p = held.swap_remove(rng.gen_range(0..held.len()));
                    b.on_success(p, Duration::from_millis(5), now);
                }
                6..=7 => {
                    let p = held.swap_remove(rng.gen_range(0..held.len()));
                    b.on_failure(p, now);
                }
                _ => {
                    let p = held.swap_remove(rng.gen_range(0..held.len()));
                    b.release(p, now);
                }
            }
            assert!(b.outstanding_probes() <= 2, "seed {seed}");
            for t in b.take_transitions() {
                assert_ne!(t.from, t.to, "seed {seed}");
                assert_eq!(t.open_until.is_some(), t.to == BreakerState::Open);
            }
        }
        for p in held.drain(..) {
            b.release(p, now);
        }
        let later = now + Duration::from_secs(6);
        assert!(b.is_call_permitted(later), "seed {seed}: {:?}", b.state());
        assert!(b.try_acquire(later).is_ok(), "seed {seed}");
    }
}
