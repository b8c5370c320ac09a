//! The one serde visitor every unit goes through: a YAML/JSON scalar arrives
//! as a bare number or as text, and each unit says what both mean.
//!
//! Using `deserialize_any` (not `deserialize_str`) is what lets a bare `90`
//! reach the unit and be explained ("add a unit: `90s`") instead of serde's
//! generic "invalid type: integer `90`, expected a duration".

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};

use crate::UnitError;

/// A unit parsed from a bare number or from text.
pub(crate) trait Scalar: Sized {
    /// What serde prints after "expected" for a value of the wrong type (a map, a list).
    const EXPECTING: &'static str;
    /// A bare number; `written` is how it looked (`90`, `1.5`).
    fn from_number(value: f64, written: &str) -> Result<Self, UnitError>;
    /// Text such as `250ms`, `200/s`, `30%`.
    fn from_text(text: &str) -> Result<Self, UnitError>;
}

/// Deserializes any [`Scalar`] from a self-describing format.
pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Scalar>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(ScalarVisitor(PhantomData))
}

struct ScalarVisitor<T>(PhantomData<T>);

impl<T: Scalar> Visitor<'_> for ScalarVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::from_number(v as f64, &v.to_string()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::from_number(v as f64, &v.to_string()).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        T::from_number(v, &v.to_string()).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::from_text(v).map_err(E::custom)
    }
}

/// Splits `12.5ms` into (`12.5`, `ms`): the leading digits and dots, then the
/// rest trimmed. `None` when the text is all number.
pub(crate) fn split_number(t: &str) -> Option<(&str, &str)> {
    let idx = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    Some((&t[..idx], t[idx..].trim()))
}

/// A finite number written as text (`"90"`, `"0.5"`), which YAML users quote
/// by accident as often as not; treated like the bare number.
pub(crate) fn bare_number(t: &str) -> Option<f64> {
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}
