//! Value distributions for latency and generation: constant, uniform, normal,
//! lognormal (given median and p99) and pareto.
//!
//! `200ms` or `60` is shorthand for a constant; otherwise a one-key map names
//! the shape: `{uniform: [100ms, 300ms]}`, `{lognormal: {median: 150ms, p99: 600ms}}`.
//! Samples are never negative (a normal's left tail is clamped to 0).

use super::units::HumanDuration;
use rand::Rng;
use rand_distr::Distribution;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

/// z-score of the 99th percentile of a standard normal: sigma = ln(p99/median) / Z99.
const Z99: f64 = 2.326_347_874;

/// A distribution over non-negative reals (seconds for durations).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Constant(f64),
    /// Uniform in [low, high].
    Uniform(f64, f64),
    /// Normal with mean and standard deviation, clamped at 0.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Lognormal with ln-space parameters derived from median and p99.
    LogNormal {
        /// ln(median).
        mu: f64,
        /// ln(p99 / median) / 2.326.
        sigma: f64,
    },
    /// Pareto (heavy tail) with minimum `scale` and tail index `shape`.
    Pareto {
        /// Minimum value.
        scale: f64,
        /// Tail index; smaller means a heavier tail.
        shape: f64,
    },
}

impl Dist {
    /// Draws one value (>= 0).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let v = match *self {
            Dist::Constant(v) => v,
            Dist::Uniform(lo, hi) => lo + (hi - lo) * rng.gen::<f64>(),
            Dist::Normal { mean, stddev } => match rand_distr::Normal::new(mean, stddev) {
                Ok(n) => n.sample(rng),
                Err(_) => mean,
            },
            Dist::LogNormal { mu, sigma } => match rand_distr::LogNormal::new(mu, sigma) {
                Ok(n) => n.sample(rng),
                Err(_) => mu.exp(),
            },
            Dist::Pareto { scale, shape } => match rand_distr::Pareto::new(scale, shape) {
                Ok(p) => p.sample(rng),
                Err(_) => scale,
            },
        };
        if v.is_finite() {
            v.max(0.0)
        } else {
            0.0
        }
    }

    /// The value most samples stay under, for bounds checks: the constant,
    /// the uniform's top, and the mean / median / minimum of the others
    /// (their tails are clamped where they are drawn).
    pub fn typical_max(&self) -> f64 {
        match *self {
            Dist::Constant(v) => v,
            Dist::Uniform(lo, hi) => lo.max(hi),
            Dist::Normal { mean, .. } => mean,
            Dist::LogNormal { mu, .. } => mu.exp(),
            Dist::Pareto { scale, .. } => scale,
        }
    }

    /// True when every sample is exactly zero (lets the server skip timers).
    pub fn is_zero(&self) -> bool {
        matches!(self, Dist::Constant(v) if *v == 0.0)
    }
}

/// A distribution of durations (`150ms`, `{uniform: [100ms, 300ms]}`, ...).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationDist(pub Dist);

impl DurationDist {
    /// A constant duration.
    pub fn constant(d: Duration) -> Self {
        DurationDist(Dist::Constant(d.as_secs_f64()))
    }

    /// Draws one duration.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        // Cap at a day so a wild pareto draw cannot overflow timers.
        Duration::from_secs_f64(self.0.sample(rng).min(86_400.0))
    }
}

/// A distribution of plain numbers (token counts, tokens per second).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberDist(pub Dist);

impl NumberDist {
    /// Draws one value.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.0.sample(rng)
    }
}

/// Tokens per second: a number distribution or `unlimited` (no pacing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TokenRate {
    /// Emit every token immediately.
    Unlimited,
    /// Tokens per second drawn once per request.
    PerSecond(NumberDist),
}

/// A scalar a distribution is written in.
trait Scalar: DeserializeOwned {
    fn to_f64(self) -> f64;
    const WHAT: &'static str;
}

impl Scalar for HumanDuration {
    fn to_f64(self) -> f64 {
        self.0.as_secs_f64()
    }
    const WHAT: &'static str = "a duration like `200ms` or a map like `{uniform: [100ms, 300ms]}`";
}

impl Scalar for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    const WHAT: &'static str = "a number or a map like `{uniform: [20, 120]}`";
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NormalSpec<S> {
    mean: S,
    stddev: S,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogNormalSpec<S> {
    median: S,
    p99: S,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParetoSpec<S> {
    scale: S,
    shape: f64,
}

fn non_negative<E: de::Error>(v: f64) -> Result<f64, E> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(E::custom(format!("must be a finite value >= 0, got {v}")))
    }
}

struct DistVisitor<S>(PhantomData<S>);

impl<S: Scalar> DistVisitor<S> {
    fn scalar<E: de::Error>(v: Result<S, E>) -> Result<Dist, E> {
        Ok(Dist::Constant(non_negative(v?.to_f64())?))
    }
}

impl<'de, S: Scalar> Visitor<'de> for DistVisitor<S> {
    type Value = Dist;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(S::WHAT)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dist, E> {
        Self::scalar(S::deserialize(de::value::StrDeserializer::<E>::new(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dist, E> {
        Self::scalar(S::deserialize(de::value::U64Deserializer::<E>::new(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dist, E> {
        Self::scalar(S::deserialize(de::value::I64Deserializer::<E>::new(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dist, E> {
        Self::scalar(S::deserialize(de::value::F64Deserializer::<E>::new(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dist, A::Error> {
        let key: String = map.next_key()?.ok_or_else(|| {
            de::Error::custom("needs one of constant, uniform, normal, lognormal, pareto")
        })?;
        let dist = match key.as_str() {
            "constant" => Dist::Constant(non_negative(map.next_value::<S>()?.to_f64())?),
            "uniform" => {
                let [lo, hi]: [S; 2] = map.next_value()?;
                let (lo, hi) = (non_negative(lo.to_f64())?, non_negative(hi.to_f64())?);
                if lo > hi {
                    return Err(de::Error::custom(format!(
                        "uniform: low must be <= high, got [{lo}, {hi}]"
                    )));
                }
                Dist::Uniform(lo, hi)
            }
            "normal" => {
                let s: NormalSpec<S> = map.next_value()?;
                Dist::Normal {
                    mean: non_negative(s.mean.to_f64())?,
                    stddev: non_negative(s.stddev.to_f64())?,
                }
            }
            "lognormal" => {
                let s: LogNormalSpec<S> = map.next_value()?;
                let (median, p99) = (s.median.to_f64(), s.p99.to_f64());
                if !(median > 0.0 && p99 >= median && p99.is_finite()) {
                    return Err(de::Error::custom(format!(
                        "lognormal: needs 0 < median <= p99, got median {median}, p99 {p99}"
                    )));
                }
                Dist::LogNormal {
                    mu: median.ln(),
                    sigma: (p99 / median).ln() / Z99,
                }
            }
            "pareto" => {
                let s: ParetoSpec<S> = map.next_value()?;
                let scale = s.scale.to_f64();
                if !(scale > 0.0 && s.shape > 0.0 && scale.is_finite() && s.shape.is_finite()) {
                    return Err(de::Error::custom(format!(
                        "pareto: needs scale > 0 and shape > 0, got scale {scale}, shape {}",
                        s.shape
                    )));
                }
                Dist::Pareto {
                    scale,
                    shape: s.shape,
                }
            }
            other => {
                return Err(de::Error::unknown_variant(
                    other,
                    &["constant", "uniform", "normal", "lognormal", "pareto"],
                ))
            }
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "a distribution has exactly one shape key, found `{key}` and `{extra}`"
            )));
        }
        Ok(dist)
    }
}

impl<'de> Deserialize<'de> for DurationDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DistVisitor::<HumanDuration>(PhantomData))
            .map(DurationDist)
    }
}

impl<'de> Deserialize<'de> for NumberDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DistVisitor::<f64>(PhantomData))
            .map(NumberDist)
    }
}

impl<'de> Deserialize<'de> for TokenRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TokenRate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`unlimited`, a number or a map like `{uniform: [30, 90]}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TokenRate, E> {
                match v.trim() {
                    "unlimited" => Ok(TokenRate::Unlimited),
                    _ => DistVisitor::<f64>(PhantomData)
                        .visit_str(v)
                        .map(per_second)
                        .and_then(positive),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TokenRate, E> {
                positive(per_second(Dist::Constant(v as f64)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TokenRate, E> {
                positive(per_second(Dist::Constant(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TokenRate, E> {
                positive(per_second(Dist::Constant(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TokenRate, A::Error> {
                DistVisitor::<f64>(PhantomData)
                    .visit_map(map)
                    .map(per_second)
            }
        }
        fn per_second(d: Dist) -> TokenRate {
            TokenRate::PerSecond(NumberDist(d))
        }
        fn positive<E: de::Error>(r: TokenRate) -> Result<TokenRate, E> {
            match r {
                TokenRate::PerSecond(NumberDist(Dist::Constant(v)))
                    if !(v > 0.0 && v.is_finite()) =>
                {
                    Err(E::custom(format!("must be > 0 or `unlimited`, got {v}")))
                }
                r => Ok(r),
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn shorthand_and_shapes_parse() {
        let d: DurationDist = serde_yaml::from_str("200ms").unwrap();
        assert_eq!(d.0, Dist::Constant(0.2));
        let d: DurationDist = serde_yaml::from_str("{uniform: [100ms, 300ms]}").unwrap();
        assert_eq!(d.0, Dist::Uniform(0.1, 0.3));
        let n: NumberDist = serde_yaml::from_str("{uniform: [20, 120]}").unwrap();
        assert_eq!(n.0, Dist::Uniform(20.0, 120.0));
        let r: TokenRate = serde_yaml::from_str("unlimited").unwrap();
        assert_eq!(r, TokenRate::Unlimited);
        assert!(serde_yaml::from_str::<DurationDist>("{uniform: [3s, 1s]}").is_err());
        assert!(serde_yaml::from_str::<DurationDist>("{lognormal: {median: 1s}}").is_err());
        assert!(serde_yaml::from_str::<TokenRate>("0").is_err());
    }

    #[test]
    fn lognormal_p99_is_honoured() {
        let d: DurationDist =
            serde_yaml::from_str("{lognormal: {median: 100ms, p99: 1s}}").unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut v: Vec<f64> = (0..20_000).map(|_| d.0.sample(&mut rng)).collect();
        v.sort_by(f64::total_cmp);
        let (median, p99) = (v[10_000], v[19_800]);
        assert!((0.09..0.11).contains(&median), "median {median}");
        assert!((0.85..1.2).contains(&p99), "p99 {p99}");
    }

    fn sorted_draws(yaml: &str, n: usize) -> Vec<f64> {
        let d: DurationDist = serde_yaml::from_str(yaml).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let mut v: Vec<f64> = (0..n).map(|_| d.0.sample(&mut rng)).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn normal_has_its_mean_and_stddev_and_clamps_at_zero() {
        let v = sorted_draws("{normal: {mean: 200ms, stddev: 50ms}}", 20_000);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        assert!((mean - 0.2).abs() < 0.002, "mean {mean}");
        assert!((sd - 0.05).abs() < 0.002, "stddev {sd}");
        // mean 10 ms, stddev 50 ms: P(draw < 0) = P(Z < -0.2) = 42%, all at 0.
        let v = sorted_draws("{normal: {mean: 10ms, stddev: 50ms}}", 20_000);
        assert!(v[0] >= 0.0, "never negative");
        let zeros = v.iter().filter(|&&x| x == 0.0).count() as f64 / v.len() as f64;
        assert!((0.40..0.44).contains(&zeros), "share clamped to 0: {zeros}");
    }

    #[test]
    fn pareto_has_its_minimum_and_tail() {
        // P(X > x) = (scale / x)^shape: median scale 2^(1/shape), p90 scale
        // 10^(1/shape), p99 scale 100^(1/shape).
        let v = sorted_draws("{pareto: {scale: 100ms, shape: 1.5}}", 40_000);
        assert!(v[0] >= 0.1, "minimum is the scale: {}", v[0]);
        let q = |p: f64| v[(p * v.len() as f64) as usize];
        // Tolerances: about 3 standard errors of each sample quantile.
        for (p, want, tol) in [(0.5, 2f64, 0.03), (0.9, 10.0, 0.05), (0.99, 100.0, 0.12)] {
            let want = 0.1 * want.powf(1.0 / 1.5);
            assert!((q(p) - want).abs() < want * tol, "p{p}: {} vs {want}", q(p));
        }
    }
}
