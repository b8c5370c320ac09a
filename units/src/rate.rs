//! Event rates: `200/s`, `10/min`, `3600/h`, `5/ms`, or a bare number per
//! second (`200`, `"0.5"`). Stored as events per second.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::scalar::{self, Scalar};
use crate::UnitError;

/// A non-negative event rate, in events per second. Displays and serializes
/// as `"<n>/s"`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Rate(f64);

impl Rate {
    /// A rate of `per_second` events per second; `None` if negative, NaN or infinite.
    pub fn new(per_second: f64) -> Option<Self> {
        (per_second.is_finite() && per_second >= 0.0).then_some(Rate(per_second))
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

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

impl FromStr for Rate {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Rate, UnitError> {
        let t = s.trim();
        let (num, seconds_per_unit) = match t.split_once('/') {
            Some((n, unit)) => {
                let per = match unit.trim() {
                    "ms" => 0.001,
                    "s" | "sec" | "second" => 1.0,
                    "m" | "min" | "minute" => 60.0,
                    "h" | "hour" => 3600.0,
                    other => {
                        return Err(UnitError::UnknownRateUnit {
                            input: t.to_string(),
                            unit: other.to_string(),
                        })
                    }
                };
                (n.trim(), per)
            }
            None => (t, 1.0),
        };
        let v: f64 = num
            .parse()
            .map_err(|_| UnitError::NotARate(t.to_string()))?;
        Rate::new(v / seconds_per_unit).ok_or_else(|| UnitError::RateOutOfRange(t.to_string()))
    }
}

impl Scalar for Rate {
    const EXPECTING: &'static str = "a rate like 200/s, 10/min or a bare number per second";
    fn from_number(v: f64, written: &str) -> Result<Self, UnitError> {
        Rate::new(v).ok_or_else(|| UnitError::RateOutOfRange(written.to_string()))
    }
    fn from_text(text: &str) -> Result<Self, UnitError> {
        text.parse()
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar::deserialize(d)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[allow(dead_code)]
        name: String,
        r: Rate,
    }

    fn r(v: &str) -> Result<f64, serde_yaml::Error> {
        serde_yaml::from_str::<Outer>(&format!("name: x\nr: {v}\n")).map(|o| o.r.per_second())
    }

    #[test]
    fn accepts_every_unit_and_bare_numbers_per_second() {
        for (text, want) in [
            ("200/s", 200.0),
            ("\"10 / min\"", 10.0 / 60.0),
            ("120/min", 2.0),
            ("120/m", 2.0),
            ("60/minute", 1.0),
            ("7200/h", 2.0),
            ("7200/hour", 2.0),
            ("5/sec", 5.0),
            ("5/second", 5.0),
            ("1/ms", 1000.0),
            ("5/ms", 5000.0),
            ("50", 50.0),
            ("2.5", 2.5),
            ("\"4\"", 4.0),
            ("0", 0.0),
        ] {
            assert_eq!(r(text).unwrap(), want, "{text}");
        }
        assert_eq!("7".parse::<Rate>().unwrap().per_second(), 7.0);
    }

    #[test]
    fn mistakes_are_explained_with_the_spellings() {
        let hint = "(rates are written 200/s, 10/min, 3600/h, 5/ms, or a bare number per second)";
        let e = r("5/fortnight").unwrap_err();
        assert_eq!(e.location().unwrap().line(), 2);
        assert_eq!(
            e.to_string(),
            format!("r: unknown rate unit `/fortnight` in `5/fortnight` {hint} at line 2 column 4")
        );
        assert_eq!(
            "fast".parse::<Rate>().unwrap_err().to_string(),
            format!("`fast` is not a rate {hint}")
        );
        assert_eq!(
            "-1/s".parse::<Rate>().unwrap_err().to_string(),
            format!("a rate must be a finite number >= 0, got `-1/s` {hint}")
        );
        assert!(r("-3").unwrap_err().to_string().contains("got `-3`"));
        assert!(r("[1]")
            .unwrap_err()
            .to_string()
            .contains("expected a rate like 200/s"));
    }

    #[test]
    fn interval_display_and_round_trip() {
        assert_eq!(
            Rate::new(200.0).unwrap().interval(),
            Some(Duration::from_millis(5))
        );
        assert_eq!(Rate::new(0.0).unwrap().interval(), None);
        assert_eq!(Rate::new(-1.0), None);
        assert_eq!(Rate::new(f64::NAN), None);
        let r = Rate::new(12.5).unwrap();
        assert_eq!(r.to_string(), "12.5/s");
        let y = serde_yaml::to_string(&r).unwrap();
        assert_eq!(y.trim(), "12.5/s");
        assert_eq!(serde_yaml::from_str::<Rate>(&y).unwrap(), r);
    }
}
