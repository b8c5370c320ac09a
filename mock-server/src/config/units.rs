//! Human units for scenario files: durations (`250ms`, `2s`), byte sizes
//! (`1MiB`) and probabilities (`0.3` or `30%`).
//!
//! Each type validates inside `Deserialize`, so serde_yaml attaches the line
//! and column and serde_path_to_error the field path, wherever the value sits
//! in a larger document.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A duration written with a unit: `250ms`, `2s`, `1m30s`. Bare numbers are
/// rejected because `2` could mean seconds or milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// The wrapped duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl From<Duration> for HumanDuration {
    fn from(d: Duration) -> Self {
        HumanDuration(d)
    }
}

/// Parses `250ms`, `2s`, `1.5s`, `0` (zero needs no unit).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    // humantime does not take fractions ("1.5s"); handle the common case here.
    if let Some((num, unit)) = split_number(t) {
        if num.contains('.') {
            let v: f64 = num.parse().map_err(|_| bad_duration(s))?;
            let scale = match unit {
                "ns" => 1e-9,
                "us" | "µs" => 1e-6,
                "ms" => 1e-3,
                "s" => 1.0,
                "m" | "min" => 60.0,
                "h" => 3600.0,
                _ => return Err(bad_duration(s)),
            };
            let secs = v * scale;
            if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
                return Err(bad_duration(s));
            }
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(t).map_err(|_| bad_duration(s))
}

fn split_number(t: &str) -> Option<(&str, &str)> {
    let idx = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    Some((&t[..idx], t[idx..].trim()))
}

fn bad_duration(s: &str) -> String {
    format!("must be a duration with a unit like `250ms` or `2s`, got `{s}`")
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration with a unit like `250ms` or `2s`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                parse_duration(v).map(HumanDuration).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                if v == 0 {
                    Ok(HumanDuration(Duration::ZERO))
                } else {
                    Err(E::custom(format!(
                        "must be a duration with a unit like `{v}ms` or `{v}s`, got bare number {v}"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "must be a duration with a unit like `250ms`, got {v}"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "must be a duration with a unit like `250ms`, got {v}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

/// A byte size: `1MiB`, `512KiB`, `1MB`, `4096` (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ByteSize(pub u64);

fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, unit) = split_number(t).unwrap_or((t, ""));
    let v: f64 = num
        .parse()
        .map_err(|_| format!("must be a size like `1MiB` or `512KiB`, got `{s}`"))?;
    let mult: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("must be a size like `1MiB` or `512KiB`, got `{s}`")),
    };
    let bytes = v * mult;
    if !(1.0..=1e12).contains(&bytes) {
        return Err(format!("must be between 1B and 1TB, got `{s}`"));
    }
    Ok(bytes as u64)
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size like `1MiB`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                parse_bytes(v).map(ByteSize).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                parse_bytes(&v.to_string()).map(ByteSize).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                Err(E::custom(format!("must be a positive size, got {v}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A probability in [0, 1], written `0.3` or `30%`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Probability(f64);

impl Probability {
    /// Always.
    pub const ONE: Probability = Probability(1.0);

    /// Checks that `p` is in [0, 1].
    pub fn new(p: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&p) {
            Ok(Probability(p))
        } else {
            Err(format!("must be in [0, 1], got {p}"))
        }
    }

    /// The probability as a number in [0, 1].
    pub fn get(self) -> f64 {
        self.0
    }
}

impl Default for Probability {
    fn default() -> Self {
        Probability::ONE
    }
}

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Probability;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a probability like `0.3` or `30%`")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Probability, E> {
                Probability::new(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Probability, E> {
                Probability::new(v as f64).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Probability, E> {
                Probability::new(v as f64).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Probability, E> {
                let t = v.trim();
                let p = match t.strip_suffix('%') {
                    Some(pct) => pct.trim().parse::<f64>().map(|x| x / 100.0),
                    None => t.parse::<f64>(),
                }
                .map_err(|_| {
                    E::custom(format!(
                        "must be a probability like `0.3` or `30%`, got `{v}`"
                    ))
                })?;
                Probability::new(p).map_err(|_| E::custom(format!("must be in [0, 1], got {v}")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_units() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("12").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn sizes_and_probabilities() {
        assert_eq!(parse_bytes("1MiB").unwrap(), 1 << 20);
        assert_eq!(parse_bytes("512KiB").unwrap(), 512 << 10);
        assert!(parse_bytes("1 parsec").is_err());
        let p: Probability = serde_yaml::from_str("30%").unwrap();
        assert!((p.get() - 0.3).abs() < 1e-12);
        let e = serde_yaml::from_str::<Probability>("1.5").unwrap_err();
        assert!(e.to_string().contains("must be in [0, 1], got 1.5"), "{e}");
    }
}
