//! Durations: `250ms`, `2s`, `1.5s`, `1m 30s` (humantime's spellings), and
//! `0` alone. A bare number other than 0 is refused with the fix ("add a
//! unit: `90s`"): `2` could mean seconds or milliseconds.
//!
//! Two ways to use it: the [`HumanDuration`] newtype, or this module as
//! `#[serde(with = "units::duration")]` on a plain `Duration` or
//! `Option<Duration>` field. Both serialize as humantime writes durations
//! (`1m 30s`, `250ms`), as `humantime_serde` did before.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::scalar::{self, bare_number, split_number, Scalar};
use crate::UnitError;

/// A duration written with a unit.
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

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl FromStr for HumanDuration {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        parse_duration(s).map(HumanDuration)
    }
}

/// Parses `250ms`, `2s`, `1.5s`, `1m 30s`, `0`; a bare number other than 0
/// (even quoted, `"90"`) needs a unit.
pub fn parse_duration(s: &str) -> Result<Duration, UnitError> {
    let t = s.trim();
    if let Some(v) = bare_number(t) {
        return from_number(v, t);
    }
    if t.starts_with('-') {
        return Err(UnitError::NegativeDuration(t.to_string()));
    }
    humantime::parse_duration(t)
        .ok()
        .or_else(|| decimal_with_unit(t))
        .ok_or_else(|| UnitError::NotADuration(t.to_string()))
}

fn from_number(v: f64, written: &str) -> Result<Duration, UnitError> {
    if v == 0.0 {
        Ok(Duration::ZERO)
    } else if v < 0.0 {
        Err(UnitError::NegativeDuration(written.to_string()))
    } else {
        Err(UnitError::DurationWithoutUnit(written.to_string()))
    }
}

/// `.5s`, `5.s`, `1.5ns`: one decimal number and one unit that humantime
/// refuses but the fake server's own parser accepted before the units were
/// shared; kept so no scenario that parsed stops parsing.
fn decimal_with_unit(t: &str) -> Option<Duration> {
    let (num, unit) = split_number(t)?;
    let v: f64 = num.parse().ok()?;
    let scale = match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    let secs = v * scale;
    (secs.is_finite() && (0.0..=1e9).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

impl Scalar for HumanDuration {
    const EXPECTING: &'static str = "a duration like 250ms, 2s or 1m 30s";
    fn from_number(v: f64, written: &str) -> Result<Self, UnitError> {
        from_number(v, written).map(HumanDuration)
    }
    fn from_text(text: &str) -> Result<Self, UnitError> {
        parse_duration(text).map(HumanDuration)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar::deserialize(d)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

/// A field type the `with` functions handle: `Duration` or `Option<Duration>`.
pub trait DurationField: Sized + sealed::Sealed {
    #[doc(hidden)]
    fn deserialize_field<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
    #[doc(hidden)]
    fn serialize_field<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for std::time::Duration {}
    impl Sealed for Option<std::time::Duration> {}
}

impl DurationField for Duration {
    fn deserialize_field<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        HumanDuration::deserialize(d).map(HumanDuration::get)
    }
    fn serialize_field<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HumanDuration(*self).serialize(s)
    }
}

impl DurationField for Option<Duration> {
    fn deserialize_field<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<HumanDuration>::deserialize(d).map(|o| o.map(HumanDuration::get))
    }
    fn serialize_field<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map(HumanDuration).serialize(s)
    }
}

/// `#[serde(deserialize_with = "units::duration::deserialize")]` for a
/// `Duration` or `Option<Duration>` field.
pub fn deserialize<'de, D: Deserializer<'de>, T: DurationField>(d: D) -> Result<T, D::Error> {
    T::deserialize_field(d)
}

/// `#[serde(serialize_with = "units::duration::serialize")]`: humantime's
/// spelling (`1m 30s`), `None` as null.
pub fn serialize<S: Serializer, T: DurationField>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    v.serialize_field(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(v: &str) -> Result<Duration, String> {
        serde_yaml::from_str::<HumanDuration>(v)
            .map(HumanDuration::get)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_human_spellings_and_bare_zero() {
        let ms = Duration::from_millis;
        for (text, want) in [
            ("250ms", ms(250)),
            ("2s", ms(2000)),
            ("1.5s", ms(1500)),
            ("\"1m 30s\"", ms(90_000)),
            ("1m30s", ms(90_000)),
            ("2 s", ms(2000)),
            ("1h", ms(3_600_000)),
            ("500us", Duration::from_micros(500)),
            ("0", Duration::ZERO),
            ("0.0", Duration::ZERO),
            ("\"0\"", Duration::ZERO),
            ("0s", Duration::ZERO),
            // The fake server's decimal spellings humantime refuses.
            (".5s", ms(500)),
            ("5.s", ms(5000)),
            ("1.5ns", Duration::from_nanos(2)), // rounded to the nearest ns
        ] {
            assert_eq!(yaml(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bare_numbers_are_told_to_add_a_unit() {
        let hint = "(durations are written 250ms, 2s, 1m 30s)";
        assert_eq!(yaml("90").unwrap_err(), format!("add a unit: `90s` {hint}"));
        assert_eq!(
            yaml("\"90\"").unwrap_err(),
            format!("add a unit: `90s` {hint}")
        );
        assert_eq!(
            yaml("1.5").unwrap_err(),
            format!("add a unit: `1.5s` {hint}")
        );
        assert_eq!(
            yaml("-5").unwrap_err(),
            format!("must not be negative, got `-5` {hint}")
        );
        assert_eq!(
            yaml("-1s").unwrap_err(),
            format!("must not be negative, got `-1s` {hint}")
        );
        assert_eq!(
            yaml("fast").unwrap_err(),
            format!("`fast` is not a duration {hint}")
        );
        assert_eq!(
            yaml("\"5 parsecs\"").unwrap_err(),
            format!("`5 parsecs` is not a duration {hint}")
        );
        let e = yaml("[1s]").unwrap_err();
        assert!(
            e.contains("expected a duration like 250ms, 2s or 1m 30s"),
            "{e}"
        );
    }

    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Fields {
        #[serde(with = "crate::duration")]
        plain: Duration,
        #[serde(default, with = "crate::duration")]
        maybe: Option<Duration>,
    }

    #[test]
    fn with_module_handles_plain_and_optional_fields() {
        let f: Fields = serde_yaml::from_str("plain: 1m 30s\nmaybe: 250ms\n").unwrap();
        assert_eq!(f.plain, Duration::from_secs(90));
        assert_eq!(f.maybe, Some(Duration::from_millis(250)));
        let f: Fields = serde_yaml::from_str("plain: 0\n").unwrap();
        assert_eq!((f.plain, f.maybe), (Duration::ZERO, None));
        let f: Fields = serde_yaml::from_str("plain: 1s\nmaybe: null\n").unwrap();
        assert_eq!(f.maybe, None);
        let e = serde_yaml::from_str::<Fields>("plain: 1s\nmaybe: 5\n").unwrap_err();
        assert!(e.to_string().starts_with("maybe: add a unit: `5s`"), "{e}");
        assert_eq!(e.location().map(|l| (l.line(), l.column())), Some((2, 8)));
    }

    #[test]
    fn serializes_as_humantime_did() {
        let f = Fields {
            plain: Duration::from_secs(90),
            maybe: None,
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"plain":"1m 30s","maybe":null}"#
        );
        let f = Fields {
            plain: Duration::from_millis(250),
            maybe: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"plain":"250ms","maybe":"2s"}"#
        );
        let h = HumanDuration(Duration::from_millis(1500));
        assert_eq!(serde_yaml::to_string(&h).unwrap().trim(), "1s 500ms");
        assert_eq!(h.to_string(), "1s 500ms");
        assert_eq!("1s 500ms".parse::<HumanDuration>(), Ok(h));
    }
}
