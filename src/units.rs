//! Human units for the harness's own YAML fields: request rates such as
//! `200/s`, `30/min` or a bare number (per second).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// A rate in events per second, written `200/s`, `12000/min`, `5/ms` or `150`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate(f64);

impl Rate {
    /// Build from a per-second value; must be finite and not negative.
    pub fn per_second(v: f64) -> Result<Rate, String> {
        if v.is_finite() && v >= 0.0 {
            Ok(Rate(v))
        } else {
            Err(format!("a rate must be a finite number >= 0, got {v}"))
        }
    }

    /// Events per second.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Rate, String> {
        let s = s.trim();
        let (num, per) = match s.split_once('/') {
            Some((n, unit)) => {
                let per = match unit.trim() {
                    "s" | "sec" | "second" => 1.0,
                    "ms" => 0.001,
                    "min" | "m" => 60.0,
                    "h" | "hour" => 3600.0,
                    other => {
                        return Err(format!(
                            "unknown rate unit `/{other}` in `{s}`; use /s, /min, /h or /ms"
                        ))
                    }
                };
                (n.trim(), per)
            }
            None => (s, 1.0),
        };
        let n: f64 = num
            .parse()
            .map_err(|_| format!("`{s}` is not a rate; write e.g. `200/s` or `30/min`"))?;
        Rate::per_second(n / per)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => Rate::per_second(n),
            Raw::Text(t) => t.parse(),
        }
        .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!("200/s".parse::<Rate>().unwrap().get(), 200.0);
        assert_eq!("120/min".parse::<Rate>().unwrap().get(), 2.0);
        assert_eq!("5/ms".parse::<Rate>().unwrap().get(), 5000.0);
        assert_eq!("7".parse::<Rate>().unwrap().get(), 7.0);
    }

    #[test]
    fn rejects_garbage() {
        assert!("fast".parse::<Rate>().unwrap_err().contains("not a rate"));
        assert!("3/fortnight"
            .parse::<Rate>()
            .unwrap_err()
            .contains("unknown rate unit"));
        assert!("-1/s".parse::<Rate>().is_err());
    }
}
