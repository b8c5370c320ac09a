//! Each algorithm's defining property, on synthetic instants (no clock, no
//! sockets), plus what they share: validation and a rejection consuming
//! nothing.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

const MS: Duration = Duration::from_millis(1);

fn limiter(algorithm: Algorithm, rate: f64, burst: u32, max_wait_ms: u64) -> RateLimiter {
    RateLimiter::new(&RateLimitConfig {
        algorithm,
        burst,
        max_wait: Duration::from_millis(max_wait_ms),
        ..RateLimitConfig::new(PerSecond::new(rate).unwrap())
    })
    .unwrap()
}

fn gcra(rate: f64, burst: u32, max_wait_ms: u64) -> RateLimiter {
    limiter(Algorithm::Gcra, rate, burst, max_wait_ms)
}

/// The most admissions within any interval of length `window`, given
/// admission instants in order.
fn max_in_any_window(admitted: &[Instant], window: Duration) -> usize {
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..admitted.len() {
        while admitted[hi] - admitted[lo] >= window {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

/// The edge experiment: one request at 0 (starting the windows), 200 at
/// 999 ms, 200 at 1000 ms, each checked now-or-never; returns the admitted
/// instants.
fn edge_burst(l: &mut RateLimiter, t0: Instant) -> Vec<Instant> {
    let mut admitted = Vec::new();
    for (at, n) in [(Duration::ZERO, 1), (999 * MS, 200), (1000 * MS, 200)] {
        for _ in 0..n {
            if l.check(t0 + at).is_ok() {
                admitted.push(t0 + at);
            }
        }
    }
    admitted
}

#[test]
fn token_bucket_admits_burst_at_once_then_exact_spacing() {
    let t0 = Instant::now();
    let mut l = gcra(100.0, 5, 0); // 10 ms interval
    for _ in 0..5 {
        assert_eq!(l.check(t0), Ok(()));
    }
    assert_eq!(l.check(t0), Err(10 * MS));
    assert_eq!(l.check(t0 + 9 * MS), Err(MS));
    assert_eq!(l.check(t0 + 10 * MS), Ok(()));
    assert_eq!(l.check(t0 + 10 * MS), Err(10 * MS));
}

#[test]
fn token_bucket_sustained_rate_is_exact_over_a_second() {
    let t0 = Instant::now();
    let mut l = gcra(200.0, 1, 0);
    // Offer a request every 1 ms for 1 s: exactly 200 conform (at 0, 5, 10, .. 995 ms).
    let allowed = (0..1000u32)
        .filter(|&i| l.check(t0 + i * MS).is_ok())
        .count();
    assert_eq!(allowed, 200);
}

#[test]
fn token_bucket_idle_time_refills_only_up_to_burst() {
    let t0 = Instant::now();
    let mut l = gcra(10.0, 3, 0);
    assert!(l.check(t0).is_ok());
    let later = t0 + Duration::from_secs(60);
    let burst = (0..10).take_while(|_| l.check(later).is_ok()).count();
    assert_eq!(burst, 3);
}

#[test]
fn fixed_window_lets_twice_the_rate_through_across_a_window_edge() {
    let t0 = Instant::now();
    let mut l = limiter(Algorithm::FixedWindow, 100.0, 1, 0);
    let admitted = edge_burst(&mut l, t0);
    // 99 left in window 0 at 999 ms, 100 fresh at 1000 ms: 199 within 1 ms.
    assert_eq!(admitted.len(), 200);
    assert_eq!(max_in_any_window(&admitted, Duration::from_secs(1)), 199);
    assert_eq!(max_in_any_window(&admitted, 2 * MS), 199);
    // The next free slot is the start of window 2.
    assert_eq!(l.check(t0 + 1500 * MS), Err(500 * MS));
    assert_eq!(l.check(t0 + 2000 * MS), Ok(()));
}

#[test]
fn fixed_window_books_ahead_into_the_next_window() {
    let t0 = Instant::now();
    let mut l = limiter(Algorithm::FixedWindow, 2.0, 1, 2000);
    assert_eq!(l.reserve(t0), Ok(Duration::ZERO));
    assert_eq!(l.reserve(t0 + 100 * MS), Ok(Duration::ZERO));
    // Window 0 is full: window 1 (from 1 s) then window 2 (from 2 s).
    assert_eq!(l.reserve(t0 + 200 * MS), Ok(800 * MS));
    assert_eq!(l.reserve(t0 + 200 * MS), Ok(800 * MS));
    assert_eq!(l.reserve(t0 + 200 * MS), Ok(1800 * MS));
    assert_eq!(
        l.reserve(t0 + 200 * MS),
        Ok(1800 * MS),
        "window 2 holds two"
    );
    assert_eq!(
        l.reserve(t0 + 200 * MS),
        Err(RateLimited { wait: 2800 * MS })
    );
}

#[test]
fn sliding_window_never_admits_more_than_the_limit_in_any_window() {
    let t0 = Instant::now();
    let mut l = limiter(Algorithm::SlidingWindow, 100.0, 1, 0);
    let admitted = edge_burst(&mut l, t0);
    // 1 + 99 fill the window from 0; at 1000 ms the request of 0 has left
    // it, so one more: 101 in all, never more than 100 in any 1 s.
    assert_eq!(admitted.len(), 101);
    assert_eq!(max_in_any_window(&admitted, Duration::from_secs(1)), 100);

    // Random arrivals at ~3x the limit for 5 s (seeded), now-or-never.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut l = limiter(Algorithm::SlidingWindow, 100.0, 1, 0);
    let mut now = t0;
    let mut admitted = Vec::new();
    while now < t0 + Duration::from_secs(5) {
        now += Duration::from_micros(rng.gen_range(0..6_600));
        if l.check(now).is_ok() {
            admitted.push(now);
        }
    }
    assert_eq!(max_in_any_window(&admitted, Duration::from_secs(1)), 100);
    // ...and it is not stricter than it must be: ~100 per second got through.
    assert!(admitted.len() >= 490, "admitted {}", admitted.len());
}

#[test]
fn sliding_window_books_the_slot_one_window_after_the_oldest() {
    let t0 = Instant::now();
    let mut l = limiter(Algorithm::SlidingWindow, 2.0, 1, 2000);
    assert_eq!(l.reserve(t0), Ok(Duration::ZERO));
    assert_eq!(l.reserve(t0 + 300 * MS), Ok(Duration::ZERO));
    assert_eq!(l.reserve(t0 + 400 * MS), Ok(600 * MS)); // at 1 s
    assert_eq!(l.reserve(t0 + 400 * MS), Ok(900 * MS)); // at 1.3 s
    assert_eq!(l.reserve(t0 + 400 * MS), Ok(1600 * MS)); // at 2 s
}

#[test]
fn leaky_bucket_spaces_every_admission_by_one_interval() {
    let t0 = Instant::now();
    // 10 ms apart; `burst` is ignored. After a long idle there is still no
    // burst: a queue, one per 10 ms.
    let mut l = limiter(Algorithm::LeakyBucket, 100.0, 50, 1000);
    let later = t0 + Duration::from_secs(60);
    let waits: Vec<Duration> = (0..5).map(|_| l.reserve(later).unwrap()).collect();
    assert_eq!(
        waits,
        vec![Duration::ZERO, 10 * MS, 20 * MS, 30 * MS, 40 * MS]
    );
    // Now-or-never under a flood: admissions exactly 10 ms apart.
    let mut l = limiter(Algorithm::LeakyBucket, 100.0, 50, 0);
    let admitted = edge_burst(&mut l, t0);
    assert_eq!(
        admitted.len(),
        2,
        "one at 0 and one at 999 ms, nothing more"
    );
    let mut l = limiter(Algorithm::LeakyBucket, 100.0, 50, 0);
    let admitted: Vec<Instant> = (0..2000u32)
        .map(|i| t0 + i * Duration::from_micros(500))
        .filter(|&at| l.check(at).is_ok())
        .collect();
    assert_eq!(admitted.len(), 100);
    assert!(admitted.windows(2).all(|w| w[1] - w[0] == 10 * MS));
}

#[test]
fn the_edge_experiment_side_by_side() {
    // Most admissions in any 1 s, and in any 10 ms, for a 100/s limit.
    let t0 = Instant::now();
    let rows: Vec<(Algorithm, usize, usize)> = [
        Algorithm::Gcra,
        Algorithm::FixedWindow,
        Algorithm::SlidingWindow,
        Algorithm::LeakyBucket,
    ]
    .into_iter()
    .map(|a| {
        let admitted = edge_burst(&mut limiter(a, 100.0, 10, 0), t0);
        (
            a,
            max_in_any_window(&admitted, Duration::from_secs(1)),
            max_in_any_window(&admitted, 10 * MS),
        )
    })
    .collect();
    assert_eq!(
        rows,
        vec![
            (Algorithm::Gcra, 11, 10),
            (Algorithm::FixedWindow, 199, 199),
            (Algorithm::SlidingWindow, 100, 100),
            (Algorithm::LeakyBucket, 2, 1),
        ]
    );
}

#[test]
fn a_rejection_consumes_nothing_in_any_algorithm() {
    for a in [
        Algorithm::Gcra,
        Algorithm::FixedWindow,
        Algorithm::SlidingWindow,
        Algorithm::LeakyBucket,
    ] {
        let t0 = Instant::now();
        let mut l = limiter(a, 10.0, 1, 0);
        assert_eq!(l.reserve(t0), Ok(Duration::ZERO), "{a:?}");
        while l.reserve(t0).is_ok() {}
        let Err(RateLimited { wait }) = l.reserve(t0) else {
            unreachable!()
        };
        for _ in 0..10 {
            assert_eq!(l.reserve(t0), Err(RateLimited { wait }), "{a:?}");
        }
        assert_eq!(l.reserve_within(t0, wait), Ok(wait), "{a:?}");
    }
}

#[test]
fn reserve_waits_up_to_max_wait_then_rejects() {
    let t0 = Instant::now();
    let mut l = gcra(10.0, 1, 250); // 100 ms interval
    assert_eq!(l.reserve(t0), Ok(Duration::ZERO));
    assert_eq!(l.reserve(t0), Ok(100 * MS));
    assert_eq!(l.reserve(t0), Ok(200 * MS));
    assert_eq!(l.reserve(t0), Err(RateLimited { wait: 300 * MS }));
    // A rejection consumes nothing: the next slot is still 300 ms away.
    assert_eq!(l.reserve_within(t0, 300 * MS), Ok(300 * MS));
    assert_eq!(l.check(t0 + 400 * MS), Ok(()));
}

#[test]
fn validation() {
    let c = |algorithm, rate, burst, window_ms| RateLimitConfig {
        algorithm,
        burst,
        window: Duration::from_millis(window_ms),
        max_wait: Duration::ZERO,
        ..RateLimitConfig::new(PerSecond::new(rate).unwrap())
    };
    assert!(matches!(
        RateLimiter::new(&c(Algorithm::Gcra, 0.0, 1, 1000)),
        Err(InvalidRateLimit::Rate(_))
    ));
    assert_eq!(
        RateLimiter::new(&c(Algorithm::Gcra, 1.0, 0, 1000)).unwrap_err(),
        InvalidRateLimit::ZeroBurst
    );
    // burst does not apply to the other algorithms.
    assert!(RateLimiter::new(&c(Algorithm::LeakyBucket, 1.0, 0, 1000)).is_ok());
    let short = RateLimiter::new(&c(Algorithm::FixedWindow, 10.0, 1, 50)).unwrap_err();
    assert_eq!(short.field(), "window");
    assert!(short.to_string().contains("use a longer window"), "{short}");
    assert!(RateLimiter::new(&c(Algorithm::FixedWindow, 100.0, 1, 10)).is_ok());
    let long = RateLimiter::new(&c(Algorithm::SlidingWindow, 100_000.0, 1, 1000)).unwrap_err();
    assert_eq!(
        long,
        InvalidRateLimit::WindowTooLong {
            limit: 100_000,
            max: MAX_LOG
        }
    );
    let y: RateLimitConfig = serde_yaml::from_str("rate: 600/min\n").unwrap();
    assert_eq!(
        (
            y.algorithm,
            y.rate.per_second(),
            y.burst,
            y.window,
            y.max_wait
        ),
        (Algorithm::Gcra, 10.0, 10, 1000 * MS, 1000 * MS)
    );
    let y: RateLimitConfig =
        serde_yaml::from_str("{ rate: 5/s, algorithm: token_bucket }\n").unwrap();
    assert_eq!(y.algorithm, Algorithm::Gcra);
    let y: RateLimitConfig =
        serde_yaml::from_str("{ rate: 5/s, algorithm: sliding_window, window: 2s }\n").unwrap();
    assert_eq!(
        (y.algorithm, y.window),
        (Algorithm::SlidingWindow, 2000 * MS)
    );
    let e = serde_yaml::from_str::<RateLimitConfig>("{ rate: 5/s, algorithm: leaky }\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("leaky_bucket"), "{e}");
    assert!(serde_yaml::from_str::<RateLimitConfig>("burst: 3\n").is_err());
}
