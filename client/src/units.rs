//! Human units for configuration: percentages (`"20%"` or `0.2`) and rates
//! (`"200/s"`, `"10/min"`, or a plain number meaning per second).
//!
//! Validation happens inside `Deserialize`, so a bad value nested deep in a
//! YAML file is reported by serde_yaml with its line and column. Durations are
//! not wrapped here: config fields use `#[serde(with = "humantime_serde")]`
//! (`"250ms"`, `"2s"`, `"1m 30s"`).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A percentage between 0% and 100%, stored as a fraction in `0.0..=1.0`.
///
/// Deserializes from `"20%"`, `"12.5%"`, or a number in `0..=1` (`0.2`). A bare
/// number above 1 is rejected rather than guessed at: `20` could mean 20% or
/// 2000%, so the error asks for `"20%"`. Serializes as `"20%"`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Percent(f64);

impl Percent {
    /// 0%.
    pub const ZERO: Percent = Percent(0.0);
    /// 100%.
    pub const HUNDRED: Percent = Percent(1.0);

    /// A percentage from a fraction in `0.0..=1.0`; `None` outside that range or NaN.
    pub fn from_fraction(fraction: f64) -> Option<Self> {
        (0.0..=1.0).contains(&fraction).then_some(Percent(fraction))
    }

    /// A percentage from a value in `0.0..=100.0`; `None` outside that range or NaN.
    pub fn from_percent(percent: f64) -> Option<Self> {
        Self::from_fraction(percent / 100.0)
    }

    /// The fraction in `0.0..=1.0` (20% is `0.2`).
    pub fn fraction(self) -> f64 {
        self.0
    }

    /// The value in `0.0..=100.0` (20% is `20.0`).
    pub fn percent(self) -> f64 {
        self.0 * 100.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rounded so 0.3 prints as "30%", not "30.000000000000004%".
        write!(f, "{}%", (self.percent() * 1e4).round() / 1e4)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage like \"20%\" or a fraction between 0 and 1 like 0.2")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
                Percent::from_fraction(v).ok_or_else(|| {
                    E::custom(format_args!(
                        "a bare number must be a fraction between 0 and 1, got {v}; write \"{v}%\" for a percentage"
                    ))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Percent, E> {
                parse_percent(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_percent(s: &str) -> Result<Percent, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("invalid percentage {s:?}, expected e.g. \"20%\" or 0.2"))?;
    Percent::from_fraction(v / scale)
        .ok_or_else(|| format!("percentage must be between 0% and 100%, got {s:?}"))
}

/// A non-negative event rate, stored as events per second.
///
/// Deserializes from `"200/s"`, `"10/min"`, `"3600/h"`, `"5/ms"`, or a plain
/// number meaning per second (`200`, `"0.5"`). Serializes as `"<n>/s"`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct PerSecond(f64);

impl PerSecond {
    /// A rate of `per_second` events per second; `None` if negative, NaN or infinite.
    pub fn new(per_second: f64) -> Option<Self> {
        (per_second.is_finite() && per_second >= 0.0).then_some(PerSecond(per_second))
    }

    /// Events per second.
    pub fn per_second(self) -> f64 {
        self.0
    }

    /// The time between two events at this rate; `None` for a zero rate or an
    /// interval too small/large for `Duration`.
    pub fn interval(self) -> Option<Duration> {
        if self.0 <= 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(1.0 / self.0)
            .ok()
            .filter(|d| !d.is_zero())
    }
}

impl fmt::Display for PerSecond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

impl Serialize for PerSecond {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PerSecond {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PerSecond;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate like \"200/s\", \"10/min\" or a number per second")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PerSecond, E> {
                PerSecond::new(v).ok_or_else(|| {
                    E::custom(format_args!("rate must be a finite number >= 0, got {v}"))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PerSecond, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PerSecond, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PerSecond, E> {
                parse_rate(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_rate(s: &str) -> Result<PerSecond, String> {
    let bad = || format!("invalid rate {s:?}, expected e.g. \"200/s\", \"10/min\" or a number");
    let t = s.trim();
    let (num, unit) = match t.split_once('/') {
        Some((n, u)) => (n.trim(), u.trim()),
        None => (t, "s"),
    };
    let seconds_per_unit = match unit {
        "ms" => 0.001,
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        _ => return Err(bad()),
    };
    let v: f64 = num.parse().map_err(|_| bad())?;
    PerSecond::new(v / seconds_per_unit)
        .ok_or_else(|| format!("rate must be a finite number >= 0, got {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[allow(dead_code)]
        name: String,
        inner: Inner,
    }
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        p: Percent,
        r: PerSecond,
    }

    fn inner(yaml: &str) -> Result<Inner, serde_yaml::Error> {
        serde_yaml::from_str::<Outer>(yaml).map(|o| o.inner)
    }

    #[test]
    fn percent_forms() {
        let i = inner("name: x\ninner:\n  p: 20%\n  r: 1\n").unwrap();
        assert_eq!(i.p.fraction(), 0.2);
        let i = inner("name: x\ninner:\n  p: 0.25\n  r: 1\n").unwrap();
        assert_eq!(i.p.percent(), 25.0);
        let i = inner("name: x\ninner:\n  p: \"12.5 %\"\n  r: 1\n").unwrap();
        assert_eq!(i.p.fraction(), 0.125);
        let i = inner("name: x\ninner:\n  p: 1\n  r: 1\n").unwrap();
        assert_eq!(i.p, Percent::HUNDRED);
        assert_eq!(Percent::from_percent(20.0).unwrap().to_string(), "20%");
    }

    #[test]
    fn percent_out_of_range_reports_line_and_column() {
        let e = inner("name: x\ninner:\n  r: 1\n  p: 150%\n").unwrap_err();
        let loc = e.location().expect("location");
        assert_eq!(loc.line(), 4);
        assert!(e.to_string().contains("between 0% and 100%"), "{e}");
        let e = inner("name: x\ninner:\n  r: 1\n  p: 20\n").unwrap_err();
        assert!(e.to_string().contains("write \"20%\""), "{e}");
        assert!(inner("name: x\ninner:\n  r: 1\n  p: -1%\n").is_err());
        assert!(inner("name: x\ninner:\n  r: 1\n  p: lots\n").is_err());
    }

    #[test]
    fn rate_forms() {
        let r = |s: &str| inner(&format!("name: x\ninner:\n  p: 1%\n  r: {s}\n")).map(|i| i.r);
        assert_eq!(r("200/s").unwrap().per_second(), 200.0);
        assert_eq!(r("\"10 / min\"").unwrap().per_second(), 10.0 / 60.0);
        assert_eq!(r("7200/h").unwrap().per_second(), 2.0);
        assert_eq!(r("1/ms").unwrap().per_second(), 1000.0);
        assert_eq!(r("50").unwrap().per_second(), 50.0);
        assert_eq!(r("2.5").unwrap().per_second(), 2.5);
        assert_eq!(r("\"4\"").unwrap().per_second(), 4.0);
        let e = r("5/fortnight").unwrap_err();
        assert_eq!(e.location().unwrap().line(), 4);
        assert!(r("-1/s").is_err());
        assert!(r("-3").is_err());
        assert_eq!(
            PerSecond::new(200.0).unwrap().interval(),
            Some(Duration::from_millis(5))
        );
        assert_eq!(PerSecond::new(0.0).unwrap().interval(), None);
    }

    #[test]
    fn round_trip() {
        let p = Percent::from_fraction(0.3).unwrap();
        let y = serde_yaml::to_string(&p).unwrap();
        assert_eq!(y.trim(), "30%");
        let back = serde_yaml::from_str::<Percent>(&y).unwrap();
        assert!((back.fraction() - 0.3).abs() < 1e-12);
        let r = PerSecond::new(12.5).unwrap();
        let y = serde_yaml::to_string(&r).unwrap();
        assert_eq!(serde_yaml::from_str::<PerSecond>(&y).unwrap(), r);
    }
}
