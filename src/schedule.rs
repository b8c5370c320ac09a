//! Open-model send instants. The schedule is fixed by the rate shape, the run
//! length and the seed before the first request leaves, and never looks at
//! answers: that is what makes latency measured from the intended instant
//! free of coordinated omission (wrk2). It is an iterator, so a long run at a
//! high rate costs no memory.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::scenario::load::Shape;

/// Below this rate a shape counts as idle.
const IDLE_RATE: f64 = 1e-3;
/// Integration step (seconds) for shapes whose rate varies.
const STEP: f64 = 0.001;
/// A backstop for callers that skip `validate` (which refuses more than
/// [`crate::scenario::bounds::MAX_REQUESTS`]): at an absurd rate every
/// instant rounds to the same offset and the end is never reached, so the
/// count alone ends the schedule.
const HARD_CAP: u64 = 2 * crate::scenario::bounds::MAX_REQUESTS as u64;

/// Iterator over intended send offsets from t0, in order, all `< duration`.
#[derive(Debug, Clone)]
pub struct Schedule {
    shape: Shape,
    duration: f64,
    n: u64,
    t: f64,
    rng: ChaCha8Rng,
}

impl Schedule {
    /// A schedule for `shape` over `duration`, seeded for Poisson gaps.
    pub fn new(shape: Shape, duration: Duration, seed: u64) -> Schedule {
        Schedule {
            shape,
            duration: duration.as_secs_f64(),
            n: 0,
            t: 0.0,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_5c4e_d01e),
        }
    }

    /// Rate (requests/s) the shape asks for at offset `t` seconds.
    pub fn rate_at(&self, t: f64) -> f64 {
        rate_at(&self.shape, t, self.duration)
    }

    /// Mean rate the shape asks for over the whole run.
    pub fn mean_rate(&self) -> f64 {
        let steps = 1000;
        let dt = self.duration / steps as f64;
        (0..steps)
            .map(|i| self.rate_at((i as f64 + 0.5) * dt))
            .sum::<f64>()
            / steps as f64
    }
}

fn rate_at(shape: &Shape, t: f64, duration: f64) -> f64 {
    match shape {
        Shape::Constant(r) | Shape::Poisson(r) => r.per_second(),
        Shape::Ramp { from, to } => {
            let f = if duration > 0.0 { t / duration } else { 0.0 };
            from.per_second() + (to.per_second() - from.per_second()) * f.clamp(0.0, 1.0)
        }
        Shape::Steps(steps) => {
            let mut end = 0.0;
            for s in steps {
                end += s.duration.as_secs_f64();
                if t < end {
                    return s.rate.per_second();
                }
            }
            steps.last().map_or(0.0, |s| s.rate.per_second())
        }
        Shape::Sine {
            mean,
            amplitude,
            period,
        } => {
            let phase = std::f64::consts::TAU * t / period.as_secs_f64().max(1e-9);
            (mean.per_second() + amplitude.per_second() * phase.sin()).max(0.0)
        }
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.n >= HARD_CAP {
            return None;
        }
        let t = match &self.shape {
            // Exact multiples: no drift from adding up floating-point gaps.
            Shape::Constant(r) => {
                if r.per_second() < IDLE_RATE {
                    return None;
                }
                self.n as f64 / r.per_second()
            }
            Shape::Poisson(r) => {
                if r.per_second() < IDLE_RATE {
                    return None;
                }
                let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
                let t = self.t;
                self.t += -u.ln() / r.per_second();
                t
            }
            // Varying shapes: integrate the rate in steps of at most 1 ms
            // until one more request is due, so a rate that changes within
            // a gap (or passes through 0) is followed, not jumped over.
            _ => {
                if self.n == 0 && self.rate_at(0.0) >= IDLE_RATE {
                    self.t = 0.0;
                } else {
                    let mut t = self.t;
                    let mut due = 0.0;
                    loop {
                        let r = self.rate_at(t);
                        if r * STEP >= 1.0 - due {
                            t += (1.0 - due) / r;
                            break;
                        }
                        due += r * STEP;
                        t += STEP;
                        if t >= self.duration {
                            return None;
                        }
                    }
                    self.t = t;
                }
                self.t
            }
        };
        if t >= self.duration {
            return None;
        }
        self.n += 1;
        Some(Duration::from_secs_f64(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::Step;
    use crate::units::Rate;

    fn rate(r: f64) -> Rate {
        Rate::new(r).unwrap()
    }

    #[test]
    fn constant_is_evenly_spaced_and_exact() {
        let s: Vec<_> =
            Schedule::new(Shape::Constant(rate(4.0)), Duration::from_secs(2), 1).collect();
        assert_eq!(s.len(), 8);
        assert_eq!(s[1], Duration::from_millis(250));
        assert_eq!(s[7], Duration::from_millis(1750));
    }

    /// Regression: `--rate 1e308/s` spun forever counting the schedule,
    /// since every offset rounded to 0 and the end was never reached.
    #[test]
    fn an_absurd_rate_ends_at_the_hard_cap() {
        let n = Schedule::new(Shape::Constant(rate(1e308)), Duration::from_secs(1), 1).count();
        assert_eq!(n as u64, HARD_CAP);
    }

    #[test]
    fn constant_high_rate_count_is_exact() {
        let n = Schedule::new(Shape::Constant(rate(5000.0)), Duration::from_secs(10), 1).count();
        assert_eq!(n, 50_000);
    }

    #[test]
    fn ramp_integrates_to_the_mean() {
        // 0 -> 200/s over 10 s: 1000 requests expected.
        let s = Schedule::new(
            Shape::Ramp {
                from: rate(0.0),
                to: rate(200.0),
            },
            Duration::from_secs(10),
            1,
        );
        let times: Vec<f64> = s.map(|t| t.as_secs_f64()).collect();
        let n = times.len() as f64;
        assert!((n - 1000.0).abs() < 15.0, "got {n}");
        // The rate grows: 20t/s integrates to 250 in the first 5 s, 750 after.
        let first = times.iter().filter(|&&t| t < 5.0).count() as f64;
        let second = n - first;
        assert!((first - 250.0).abs() <= 5.0, "first half {first}");
        assert!((second - 750.0).abs() <= 5.0, "second half {second}");
    }

    #[test]
    fn steps_switch_rates() {
        let shape = Shape::Steps(vec![
            Step {
                rate: rate(10.0),
                duration: Duration::from_secs(1),
            },
            Step {
                rate: rate(100.0),
                duration: Duration::from_secs(1),
            },
        ]);
        let s: Vec<_> = Schedule::new(shape, Duration::from_secs(2), 1).collect();
        let first = s.iter().filter(|t| t.as_secs_f64() < 1.0).count();
        let second = s.len() - first;
        assert_eq!(first, 10);
        assert!((99..=101).contains(&second), "got {second}");
    }

    #[test]
    fn poisson_is_seeded_and_near_the_rate() {
        let a: Vec<_> =
            Schedule::new(Shape::Poisson(rate(1000.0)), Duration::from_secs(10), 7).collect();
        let b: Vec<_> =
            Schedule::new(Shape::Poisson(rate(1000.0)), Duration::from_secs(10), 7).collect();
        assert_eq!(a, b);
        // 10,000 expected; Poisson sd = 100, allow 5 sd.
        assert!((a.len() as f64 - 10_000.0).abs() < 500.0, "got {}", a.len());
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        // Exponential gaps: standard deviation equal to the mean (CV 1);
        // even spacing would give 0.
        let gaps: Vec<f64> = a.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        let cv = var.sqrt() / mean;
        assert!((0.95..1.05).contains(&cv), "coefficient of variation {cv}");
        let c: Vec<_> =
            Schedule::new(Shape::Poisson(rate(1000.0)), Duration::from_secs(10), 8).collect();
        assert_ne!(a[..100], c[..100], "another seed gives other arrivals");
    }

    #[test]
    fn sine_never_goes_negative_and_averages_the_mean() {
        // rate = max(0, 100 + 150 sin(2 pi t / 2s)). It is positive while
        // sin > -2/3, i.e. outside (pi + a, 2 pi - a) with a = asin(2/3), so
        // one period holds (100 (pi + 2a) + 300 cos a) / pi requests:
        // quarters 1 and 2 hold (50 pi + 150) / pi each, quarters 3 and 4
        // (100 a - 150 (1 - cos a)) / pi each; the mean is 108.8/s.
        let shape = Shape::Sine {
            mean: rate(100.0),
            amplitude: rate(150.0),
            period: Duration::from_secs(2),
        };
        let a = (2.0f64 / 3.0).asin();
        let pi = std::f64::consts::PI;
        let high = (50.0 * pi + 150.0) / pi;
        let low = (100.0 * a - 150.0 * (1.0 - a.cos())) / pi;
        let analytic_mean = high + low; // (2 high + 2 low) per 2 s period
        assert!((analytic_mean - 108.8).abs() < 0.1, "{analytic_mean}");
        let s = Schedule::new(shape, Duration::from_secs(10), 1);
        assert!((s.mean_rate() - analytic_mean).abs() < 0.5);
        let times: Vec<f64> = s.map(|t| t.as_secs_f64()).collect();
        let n = times.len() as f64;
        assert!(
            (n - analytic_mean * 10.0).abs() < 5.0,
            "got {n}, want {}",
            analytic_mean * 10.0
        );
        // Five periods: count each quarter of the period over the run.
        let mut quarters = [0usize; 4];
        for t in &times {
            quarters[((t % 2.0) / 0.5) as usize] += 1;
        }
        let want = [high * 5.0, high * 5.0, low * 5.0, low * 5.0];
        for (q, (&got, want)) in quarters.iter().zip(want).enumerate() {
            assert!(
                (got as f64 - want).abs() <= 5.0,
                "quarter {q}: got {got}, want {want:.1} ({quarters:?})"
            );
        }
    }
}
