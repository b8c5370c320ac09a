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
        let n = s.count() as f64;
        assert!((n - 1000.0).abs() < 15.0, "got {n}");
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
    }

    #[test]
    fn sine_never_goes_negative_and_averages_the_mean() {
        let shape = Shape::Sine {
            mean: rate(100.0),
            amplitude: rate(150.0),
            period: Duration::from_secs(2),
        };
        let s = Schedule::new(shape, Duration::from_secs(10), 1);
        let mean = s.mean_rate();
        assert!(mean > 100.0, "clipped at 0, so the mean rises: {mean}");
        let n = s.count() as f64;
        assert!(
            (n - mean * 10.0).abs() < mean * 10.0 * 0.02,
            "got {n}, want ~{}",
            mean * 10.0
        );
    }
}
