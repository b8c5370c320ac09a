//! Decision-path cost of each resilience policy (bar: under 200 ns each).
//!
//! Run: `cargo bench -p resilient-client --bench policies`
//! (add `-- --quick` for a fast pass).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use resilient_client::policy::{
    Backoff, BackoffConfig, Balancer, BalancerConfig, BreakerConfig, Bulkhead, BulkheadConfig,
    CircuitBreaker, EjectionConfig, Jitter, OutlierDetector, RateLimitAlgorithm as Algorithm,
    RateLimitConfig, RateLimiter, RetryBudget, RetryBudgetConfig, Strategy, WindowType,
};
use resilient_client::units::PerSecond;
use tokio::time::Instant;

const TICK: Duration = Duration::from_micros(50);

fn breaker(c: &mut Criterion) {
    for (name, window_type) in [("count", WindowType::Count), ("time", WindowType::Time)] {
        let cfg = BreakerConfig {
            window_type,
            window_size: 100,
            ..BreakerConfig::default()
        };
        let mut b = CircuitBreaker::new(&cfg).expect("valid");
        let mut now = Instant::now();
        c.bench_function(&format!("breaker/{name}/try_acquire+on_success"), |bench| {
            bench.iter(|| {
                now += TICK;
                if let Ok(p) = b.try_acquire(black_box(now)) {
                    b.on_success(p, Duration::from_millis(20), now);
                }
            })
        });
    }
}

fn budget(c: &mut Criterion) {
    let mut b = RetryBudget::new(&RetryBudgetConfig::default()).expect("valid");
    let mut now = Instant::now();
    c.bench_function("retry_budget/deposit+try_withdraw", |bench| {
        bench.iter(|| {
            now += TICK;
            b.deposit(black_box(now));
            black_box(b.try_withdraw(now))
        })
    });
}

fn rate_limit(c: &mut Criterion) {
    // Offered every TICK at 20,000/s: most decisions admit, the window ones
    // also roll windows and (sliding) pop the log.
    for algorithm in [
        Algorithm::Gcra,
        Algorithm::FixedWindow,
        Algorithm::SlidingWindow,
        Algorithm::LeakyBucket,
    ] {
        let cfg = RateLimitConfig {
            algorithm,
            max_wait: Duration::ZERO,
            ..RateLimitConfig::new(PerSecond::new(20_000.0).expect("valid"))
        };
        let mut l = RateLimiter::new(&cfg).expect("valid");
        let mut now = Instant::now();
        c.bench_function(&format!("rate_limit/{}_check", algorithm.name()), |bench| {
            bench.iter(|| {
                now += TICK;
                black_box(l.check(black_box(now)))
            })
        });
    }
}

fn backoff(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for jitter in [Jitter::Full, Jitter::Decorrelated] {
        let b = Backoff::new(&BackoffConfig {
            jitter,
            ..BackoffConfig::default()
        })
        .expect("valid");
        let mut prev = Duration::ZERO;
        c.bench_function(&format!("backoff/{jitter:?}/delay"), |bench| {
            bench.iter(|| {
                prev = b.delay(black_box(3), prev, &mut rng);
                prev
            })
        });
    }
}

fn balancer(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for strategy in [Strategy::RoundRobin, Strategy::Weighted, Strategy::P2c] {
        let mut b = Balancer::new(&BalancerConfig { strategy }, &[3, 2, 1, 1]).expect("valid");
        c.bench_function(&format!("balancer/{strategy:?}/pick+finish"), |bench| {
            bench.iter(|| {
                if let Some(i) = b.pick(black_box(&[]), |_| true, &mut rng) {
                    b.finish(i);
                }
            })
        });
        // A retry failing over: one endpoint tried, one unhealthy.
        c.bench_function(&format!("balancer/{strategy:?}/failover_pick"), |bench| {
            bench.iter(|| {
                if let Some(i) = b.pick(black_box(&[0]), |i| i != 3, &mut rng) {
                    b.finish(i);
                }
            })
        });
    }
}

fn ejection(c: &mut Criterion) {
    let mut d = OutlierDetector::new(&EjectionConfig::default(), 3).expect("valid");
    let mut now = Instant::now();
    let mut n = 0u32;
    c.bench_function("ejection/record+is_ejected", |bench| {
        bench.iter(|| {
            now += TICK;
            // Every 7th call fails so streaks stay below the ejection threshold.
            n += 1;
            if n == 7 {
                n = 0;
                d.on_failure(1, now);
            } else {
                d.on_success(1, now);
            }
            black_box(d.is_ejected(1, now))
        })
    });
}

fn bulkhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let b = Bulkhead::new(&BulkheadConfig::default()).expect("valid");
    c.bench_function("bulkhead/acquire+drop (free slot)", |bench| {
        bench
            .to_async(&rt)
            .iter(|| async { drop(black_box(b.acquire().await)) })
    });
}

criterion_group!(benches, breaker, budget, rate_limit, backoff, balancer, ejection, bulkhead);
criterion_main!(benches);
