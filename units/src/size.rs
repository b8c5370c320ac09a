//! Byte sizes: `512KiB`, `1MiB`, `1MB`, `1G`, or a bare number of bytes,
//! between 1 byte and 1 TB.

use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::scalar::{self, split_number, Scalar};
use crate::UnitError;

/// A byte count. Serializes as the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ByteSize(pub u64);

fn parse_bytes(s: &str) -> Result<u64, UnitError> {
    let t = s.trim();
    let (num, unit) = split_number(t).unwrap_or((t, ""));
    let v: f64 = num
        .parse()
        .map_err(|_| UnitError::NotASize(t.to_string()))?;
    let mult: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(UnitError::NotASize(t.to_string())),
    };
    in_range(v * mult, t)
}

fn in_range(bytes: f64, written: &str) -> Result<u64, UnitError> {
    if (1.0..=1e12).contains(&bytes) {
        Ok(bytes as u64)
    } else {
        Err(UnitError::SizeOutOfRange(written.to_string()))
    }
}

impl FromStr for ByteSize {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        parse_bytes(s).map(ByteSize)
    }
}

impl Scalar for ByteSize {
    const EXPECTING: &'static str = "a size like 512KiB or 1MiB";
    fn from_number(v: f64, written: &str) -> Result<Self, UnitError> {
        in_range(v, written).map(ByteSize)
    }
    fn from_text(text: &str) -> Result<Self, UnitError> {
        text.parse()
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINT: &str = "(sizes are written 512KiB, 1MiB, 1MB, or a bare number of bytes)";

    fn size(v: &str) -> Result<u64, String> {
        serde_yaml::from_str::<ByteSize>(v)
            .map(|b| b.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_binary_decimal_and_bare_bytes() {
        for (text, want) in [
            ("1MiB", 1 << 20),
            ("512KiB", 512 << 10),
            ("\"1 MiB\"", 1 << 20),
            ("1MB", 1_000_000),
            ("1mb", 1_000_000),
            ("2k", 2_000),
            ("1GiB", 1 << 30),
            ("1.5KiB", 1536),
            ("4096", 4096),
            ("\"4096\"", 4096),
            ("10B", 10),
        ] {
            assert_eq!(size(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn mistakes_are_explained_with_the_spellings() {
        assert_eq!(
            size("\"1 parsec\""),
            Err(format!("`1 parsec` is not a size {HINT}"))
        );
        assert_eq!(
            size("0"),
            Err(format!("must be between 1B and 1TB, got `0` {HINT}"))
        );
        assert_eq!(
            size("-5"),
            Err(format!("must be between 1B and 1TB, got `-5` {HINT}"))
        );
        assert_eq!(
            size("2TiB").unwrap_err(),
            format!("`2TiB` is not a size {HINT}")
        );
        assert_eq!(
            size("2000GB").unwrap_err(),
            format!("must be between 1B and 1TB, got `2000GB` {HINT}")
        );
    }

    #[test]
    fn serializes_as_the_number() {
        assert_eq!(serde_json::to_string(&ByteSize(4096)).unwrap(), "4096");
    }
}
