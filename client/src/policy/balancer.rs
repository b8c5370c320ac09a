//! Endpoint selection: round robin, smooth weighted round robin (nginx), and
//! power of two choices over in-flight counts (P2C, as in Finagle / Envoy's
//! least-request), with an exclusion set so a retry fails over to an endpoint
//! not tried yet.
//!
//! Endpoints are indices into the client's endpoint list. Health is a
//! predicate the caller passes in (outlier ejection, open breakers), so this
//! module stays pure. Selection tiers: healthy and not yet tried; else healthy
//! (a retry may return to a tried endpoint rather than fail); else `None`.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// How to choose an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Each endpoint in turn, weights ignored (Envoy's default).
    #[default]
    RoundRobin,
    /// Smooth weighted round robin: proportional to weights, evenly interleaved.
    Weighted,
    /// Two random candidates, the one with fewer in-flight calls per unit of
    /// weight wins.
    P2c,
}

/// Balancer settings (YAML `balancer`). Default strategy `round_robin` (Envoy).
#[derive(Clone, Debug, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BalancerConfig {
    /// `round_robin`, `weighted` or `p2c`. Default `round_robin`.
    pub strategy: Strategy,
}

/// Why a balancer could not be built. Path-free: the weights are the
/// caller's endpoint list, so the caller names the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBalancer {
    /// No endpoints were given.
    #[error("at least one endpoint is required")]
    NoEndpoints,
    /// The endpoint at this index had weight 0.
    #[error("weight must be at least 1, got 0")]
    ZeroWeight(usize),
}

/// Picks endpoints and tracks their in-flight calls. Pure: randomness is injected.
#[derive(Clone, Debug)]
pub struct Balancer {
    strategy: Strategy,
    weights: Vec<u32>,
    in_flight: Vec<u32>,
    /// Smooth WRR running weights.
    current: Vec<i64>,
    cursor: usize,
}

impl Balancer {
    /// One endpoint per weight, in the client's endpoint order.
    pub fn new(cfg: &BalancerConfig, weights: &[u32]) -> Result<Self, InvalidBalancer> {
        if weights.is_empty() {
            return Err(InvalidBalancer::NoEndpoints);
        }
        if let Some(i) = weights.iter().position(|&w| w == 0) {
            return Err(InvalidBalancer::ZeroWeight(i));
        }
        Ok(Self {
            strategy: cfg.strategy,
            weights: weights.to_vec(),
            in_flight: vec![0; weights.len()],
            current: vec![0; weights.len()],
            cursor: 0,
        })
    }

    /// Number of endpoints.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Always false: a balancer has at least one endpoint.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// In-flight calls on `endpoint` (0 for an unknown index).
    pub fn in_flight(&self, endpoint: usize) -> u32 {
        self.in_flight.get(endpoint).copied().unwrap_or(0)
    }

    /// Chooses an endpoint for the next attempt and counts it in flight; call
    /// [`finish`](Self::finish) when that attempt ends. Prefers endpoints that
    /// are `healthy` and not in `tried`; falls back to healthy tried ones;
    /// `None` when no endpoint is healthy.
    pub fn pick(
        &mut self,
        tried: &[usize],
        healthy: impl Fn(usize) -> bool,
        rng: &mut impl Rng,
    ) -> Option<usize> {
        let fresh = |i: usize| healthy(i) && !tried.contains(&i);
        let chosen = match self.choose(&fresh, rng) {
            Some(i) => Some(i),
            None => self.choose(&healthy, rng),
        }?;
        self.in_flight[chosen] = self.in_flight[chosen].saturating_add(1);
        Some(chosen)
    }

    /// The attempt on `endpoint` ended (any outcome).
    pub fn finish(&mut self, endpoint: usize) {
        if let Some(n) = self.in_flight.get_mut(endpoint) {
            *n = n.saturating_sub(1);
        }
    }

    fn choose(&mut self, ok: &impl Fn(usize) -> bool, rng: &mut impl Rng) -> Option<usize> {
        let n = self.weights.len();
        match self.strategy {
            Strategy::RoundRobin => {
                let i = (0..n).map(|k| (self.cursor + k) % n).find(|&i| ok(i))?;
                self.cursor = (i + 1) % n;
                Some(i)
            }
            Strategy::Weighted => {
                let mut total = 0i64;
                let mut best: Option<usize> = None;
                for i in (0..n).filter(|&i| ok(i)) {
                    self.current[i] += i64::from(self.weights[i]);
                    total += i64::from(self.weights[i]);
                    let better = match best {
                        None => true,
                        Some(b) => self.current[i] > self.current[b],
                    };
                    if better {
                        best = Some(i);
                    }
                }
                let b = best?;
                self.current[b] -= total;
                Some(b)
            }
            Strategy::P2c => {
                let count = (0..n).filter(|&i| ok(i)).count();
                let nth = |k: usize| (0..n).filter(|&i| ok(i)).nth(k);
                match count {
                    0 => None,
                    1 => nth(0),
                    _ => {
                        let a = rng.gen_range(0..count);
                        let mut b = rng.gen_range(0..count - 1);
                        if b >= a {
                            b += 1;
                        }
                        let (a, b) = (nth(a)?, nth(b)?);
                        // Compare in_flight/weight without division.
                        let load = |x: usize, y: usize| {
                            u64::from(self.in_flight[x]) * u64::from(self.weights[y])
                        };
                        Some(if load(b, a) < load(a, b) { b } else { a })
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn balancer(strategy: Strategy, weights: &[u32]) -> Balancer {
        Balancer::new(&BalancerConfig { strategy }, weights).unwrap()
    }

    fn picks(b: &mut Balancer, n: usize, healthy: impl Fn(usize) -> bool + Copy) -> Vec<usize> {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        (0..n)
            .map(|_| {
                let i = b.pick(&[], healthy, &mut rng).unwrap();
                b.finish(i);
                i
            })
            .collect()
    }

    #[test]
    fn round_robin_cycles_and_skips_unhealthy() {
        let mut b = balancer(Strategy::RoundRobin, &[1, 5, 1]);
        assert_eq!(picks(&mut b, 6, |_| true), [0, 1, 2, 0, 1, 2]);
        assert_eq!(picks(&mut b, 4, |i| i != 1), [0, 2, 0, 2]);
    }

    #[test]
    fn smooth_weighted_matches_nginx_sequence() {
        // nginx's documented example: weights 5,1,1 -> a a b a c a a.
        let mut b = balancer(Strategy::Weighted, &[5, 1, 1]);
        assert_eq!(picks(&mut b, 7, |_| true), [0, 0, 1, 0, 2, 0, 0]);
        let mut b = balancer(Strategy::Weighted, &[3, 1]);
        let got = picks(&mut b, 400, |_| true);
        assert_eq!(got.iter().filter(|&&i| i == 0).count(), 300);
    }

    #[test]
    fn p2c_prefers_the_less_loaded() {
        let mut b = balancer(Strategy::P2c, &[1, 1]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        // With two endpoints P2C always compares both, so picks alternate by load.
        let first = b.pick(&[], |_| true, &mut rng).unwrap();
        let second = b.pick(&[], |_| true, &mut rng).unwrap();
        assert_ne!(first, second);
        for _ in 0..10 {
            b.pick(&[], |_| true, &mut rng);
        }
        assert_eq!((b.in_flight(0), b.in_flight(1)), (6, 6));
        // A busy endpoint is avoided.
        let mut b = balancer(Strategy::P2c, &[1, 1, 1]);
        for _ in 0..50 {
            b.in_flight[2] += 1;
        }
        let got = picks(&mut b, 300, |_| true);
        // Endpoint 2 can only win when drawn against itself, which P2C never does.
        assert_eq!(got.iter().filter(|&&i| i == 2).count(), 0);
        assert!(got.iter().filter(|&&i| i == 0).count() > 100);
    }

    #[test]
    fn p2c_weighs_load_by_weight() {
        let mut b = balancer(Strategy::P2c, &[4, 1]);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..50 {
            b.pick(&[], |_| true, &mut rng);
        }
        assert_eq!((b.in_flight(0), b.in_flight(1)), (40, 10));
    }

    #[test]
    fn failover_excludes_tried_unless_nothing_else_is_healthy() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for strategy in [Strategy::RoundRobin, Strategy::Weighted, Strategy::P2c] {
            let mut b = balancer(strategy, &[1, 1, 1]);
            for _ in 0..20 {
                let i = b.pick(&[0, 1], |_| true, &mut rng).unwrap();
                assert_eq!(i, 2, "{strategy:?}");
            }
            // Endpoint 2 is down: a tried but healthy one is better than none.
            let i = b.pick(&[0, 1], |i| i != 2, &mut rng).unwrap();
            assert!(i < 2, "{strategy:?}");
            assert_eq!(b.pick(&[], |_| false, &mut rng), None, "{strategy:?}");
        }
    }

    #[test]
    fn validation_and_yaml() {
        let c = BalancerConfig::default();
        assert_eq!(
            Balancer::new(&c, &[]).unwrap_err(),
            InvalidBalancer::NoEndpoints
        );
        assert_eq!(
            Balancer::new(&c, &[1, 0]).unwrap_err(),
            InvalidBalancer::ZeroWeight(1)
        );
        let y: BalancerConfig = serde_yaml::from_str("strategy: p2c\n").unwrap();
        assert_eq!(y.strategy, Strategy::P2c);
        assert!(serde_yaml::from_str::<BalancerConfig>("strategy: random\n").is_err());
        let mut b = balancer(Strategy::RoundRobin, &[1]);
        b.finish(0);
        b.finish(7);
        assert_eq!(b.in_flight(0), 0);
    }
}
