//! The one error type of every unit, and the one style of its messages: what
//! is wrong (or the fix, when there is an obvious one), then, in parentheses,
//! how values of that kind are written.
//!
//! The messages carry no field name or position: serde_yaml adds the line and
//! column and serde_path_to_error the field path, so a scenario error reads
//! `x.yaml:3:11: duration: add a unit: `90s` (durations are written 250ms, 2s, 1m 30s)`.

/// How durations are written, ending every duration error.
pub(crate) const DURATIONS: &str = "durations are written 250ms, 2s, 1m 30s";
/// How rates are written, ending every rate error.
pub(crate) const RATES: &str =
    "rates are written 200/s, 10/min, 3600/h, 5/ms, or a bare number per second";
/// How percentages and probabilities are written, ending every such error.
pub(crate) const PERCENTAGES: &str = "percentages are written 30% or 0.3";
/// How byte sizes are written, ending every size error.
pub(crate) const SIZES: &str = "sizes are written 512KiB, 1MiB, 1MB, or a bare number of bytes";

/// A value that is not a valid unit of its kind. `Display` says what was
/// wrong and how to write it; the input appears as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitError {
    /// A bare number other than 0 where a duration needs a unit: `90`.
    #[error("add a unit: `{0}s` ({DURATIONS})")]
    DurationWithoutUnit(String),
    /// A negative duration: `-1s`, `-5`.
    #[error("must not be negative, got `{0}` ({DURATIONS})")]
    NegativeDuration(String),
    /// Text that is not a duration: `fast`, `5 parsecs`.
    #[error("`{0}` is not a duration ({DURATIONS})")]
    NotADuration(String),
    /// A rate with an unknown unit after the slash: `5/fortnight`.
    #[error("unknown rate unit `/{unit}` in `{input}` ({RATES})")]
    UnknownRateUnit {
        /// The whole value.
        input: String,
        /// What followed the slash.
        unit: String,
    },
    /// Text that is not a rate: `fast`.
    #[error("`{0}` is not a rate ({RATES})")]
    NotARate(String),
    /// A negative, infinite or NaN rate.
    #[error("a rate must be a finite number >= 0, got `{0}` ({RATES})")]
    RateOutOfRange(String),
    /// A bare number above 1 where a fraction is expected: `20` is more
    /// likely 20% than 2000%, so the fix is spelled out rather than guessed.
    #[error("must be in [0, 1], got {0}: write `{0}%` for a percentage ({PERCENTAGES})")]
    FractionAboveOne(String),
    /// A bare number below 0 (or NaN) where a fraction is expected.
    #[error("must be in [0, 1], got {0} ({PERCENTAGES})")]
    FractionOutOfRange(String),
    /// A percentage outside 0%..=100%: `150%`, `-1%`.
    #[error("must be between 0% and 100%, got `{0}` ({PERCENTAGES})")]
    PercentOutOfRange(String),
    /// Text that is not a percentage or fraction: `lots`.
    #[error("`{0}` is not a percentage ({PERCENTAGES})")]
    NotAPercentage(String),
    /// Text that is not a byte size: `1 parsec`.
    #[error("`{0}` is not a size ({SIZES})")]
    NotASize(String),
    /// A size outside 1 byte ..= 1 TB.
    #[error("must be between 1B and 1TB, got `{0}` ({SIZES})")]
    SizeOutOfRange(String),
}
