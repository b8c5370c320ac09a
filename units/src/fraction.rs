//! Shares of a whole, written `30%` or as a fraction `0.3`: [`Percent`] for
//! thresholds (printed `30%`) and [`Probability`] for per-request chances
//! (printed `0.3`, default 1). One parser for both.
//!
//! A bare number above 1 is refused rather than guessed at: `20` could mean
//! 20% or 2000%, so the error spells out `20%`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::scalar::{self, Scalar};
use crate::UnitError;

/// Parses `30%`, `12.5 %` or a fraction `0.3` into a fraction in `0.0..=1.0`.
fn parse_fraction(s: &str) -> Result<f64, UnitError> {
    let t = s.trim();
    match t.strip_suffix('%') {
        Some(num) => {
            let v: f64 = num
                .trim()
                .parse()
                .map_err(|_| UnitError::NotAPercentage(t.to_string()))?;
            in_range(v / 100.0).ok_or_else(|| UnitError::PercentOutOfRange(t.to_string()))
        }
        None => match t.parse::<f64>() {
            Ok(v) => fraction_from_number(v, t),
            Err(_) => Err(UnitError::NotAPercentage(t.to_string())),
        },
    }
}

fn fraction_from_number(v: f64, written: &str) -> Result<f64, UnitError> {
    match in_range(v) {
        Some(f) => Ok(f),
        None if v > 1.0 => Err(UnitError::FractionAboveOne(written.to_string())),
        None => Err(UnitError::FractionOutOfRange(written.to_string())),
    }
}

fn in_range(fraction: f64) -> Option<f64> {
    (0.0..=1.0).contains(&fraction).then_some(fraction)
}

/// A percentage between 0% and 100%, stored as a fraction in `0.0..=1.0`.
/// Serializes as `"20%"`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Percent(f64);

impl Percent {
    /// 0%.
    pub const ZERO: Percent = Percent(0.0);
    /// 100%.
    pub const HUNDRED: Percent = Percent(1.0);

    /// A percentage from a fraction in `0.0..=1.0`; `None` outside that range or NaN.
    pub fn from_fraction(fraction: f64) -> Option<Self> {
        in_range(fraction).map(Percent)
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

impl FromStr for Percent {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        parse_fraction(s).map(Percent)
    }
}

impl Scalar for Percent {
    const EXPECTING: &'static str = "a percentage like 30% or a fraction like 0.3";
    fn from_number(v: f64, written: &str) -> Result<Self, UnitError> {
        fraction_from_number(v, written).map(Percent)
    }
    fn from_text(text: &str) -> Result<Self, UnitError> {
        text.parse()
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar::deserialize(d)
    }
}

/// A probability in `[0, 1]`, written `0.3` or `30%`. Serializes as the
/// number; defaults to 1 (always).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Probability(f64);

impl Probability {
    /// Always.
    pub const ONE: Probability = Probability(1.0);

    /// Checks that `p` is in `[0, 1]`.
    pub fn new(p: f64) -> Result<Self, UnitError> {
        fraction_from_number(p, &p.to_string()).map(Probability)
    }

    /// The probability as a number in `[0, 1]`.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl Default for Probability {
    fn default() -> Self {
        Probability::ONE
    }
}

impl FromStr for Probability {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        parse_fraction(s).map(Probability)
    }
}

impl Scalar for Probability {
    const EXPECTING: &'static str = "a probability like 30% or 0.3";
    fn from_number(v: f64, written: &str) -> Result<Self, UnitError> {
        fraction_from_number(v, written).map(Probability)
    }
    fn from_text(text: &str) -> Result<Self, UnitError> {
        text.parse()
    }
}

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINT: &str = "(percentages are written 30% or 0.3)";

    fn pct(v: &str) -> Result<f64, String> {
        serde_yaml::from_str::<Percent>(v)
            .map(Percent::fraction)
            .map_err(|e| e.to_string())
    }

    fn prob(v: &str) -> Result<f64, String> {
        serde_yaml::from_str::<Probability>(v)
            .map(Probability::get)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn both_types_accept_the_same_spellings() {
        for (text, want) in [
            ("20%", 0.2),
            ("0.25", 0.25),
            ("\"12.5 %\"", 0.125),
            ("\"0.5\"", 0.5),
            ("1", 1.0),
            ("0", 0.0),
            ("100%", 1.0),
            ("0%", 0.0),
        ] {
            assert_eq!(pct(text), Ok(want), "{text}");
            assert_eq!(prob(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn both_types_explain_the_same_mistakes() {
        for (text, want) in [
            (
                "20",
                format!("must be in [0, 1], got 20: write `20%` for a percentage {HINT}"),
            ),
            (
                "1.5",
                format!("must be in [0, 1], got 1.5: write `1.5%` for a percentage {HINT}"),
            ),
            ("-1", format!("must be in [0, 1], got -1 {HINT}")),
            (
                "150%",
                format!("must be between 0% and 100%, got `150%` {HINT}"),
            ),
            (
                "-1%",
                format!("must be between 0% and 100%, got `-1%` {HINT}"),
            ),
            ("lots", format!("`lots` is not a percentage {HINT}")),
            ("lots%", format!("`lots%` is not a percentage {HINT}")),
        ] {
            assert_eq!(pct(text), Err(want.clone()), "{text}");
            assert_eq!(prob(text), Err(want), "{text}");
        }
        assert!(pct("{a: 1}")
            .unwrap_err()
            .contains("expected a percentage like 30% or a fraction like 0.3"));
    }

    #[test]
    fn a_nested_mistake_keeps_its_line_and_column() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            r: f64,
            p: Percent,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            name: String,
            inner: Inner,
        }
        let e = serde_yaml::from_str::<Outer>("name: x\ninner:\n  r: 1\n  p: 150%\n").unwrap_err();
        let loc = e.location().expect("location");
        assert_eq!((loc.line(), loc.column()), (4, 6));
        assert!(e.to_string().contains("between 0% and 100%"), "{e}");
    }

    #[test]
    fn constructors_and_printing() {
        assert_eq!(Percent::from_percent(20.0).unwrap().to_string(), "20%");
        assert_eq!(Percent::from_fraction(1.5), None);
        assert_eq!(Percent::from_fraction(f64::NAN), None);
        assert_eq!(Percent::default(), Percent::ZERO);
        assert_eq!(Probability::default(), Probability::ONE);
        assert_eq!(
            Probability::new(1.5).unwrap_err().to_string(),
            format!("must be in [0, 1], got 1.5: write `1.5%` for a percentage {HINT}")
        );
        assert_eq!(Probability::new(0.3).unwrap().get(), 0.3);
    }

    #[test]
    fn serialization_keeps_each_types_form() {
        let p = Percent::from_fraction(0.3).unwrap();
        let y = serde_yaml::to_string(&p).unwrap();
        assert_eq!(y.trim(), "30%");
        let back = serde_yaml::from_str::<Percent>(&y).unwrap();
        assert!((back.fraction() - 0.3).abs() < 1e-12);
        let q = Probability::new(0.3).unwrap();
        assert_eq!(serde_json::to_string(&q).unwrap(), "0.3");
    }
}
