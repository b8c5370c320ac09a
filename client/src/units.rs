//! Human units for configuration, shared with the whole workspace through the
//! `units` crate: percentages (`"20%"` or `0.2`), rates (`"200/s"`,
//! `"10/min"`, or a bare number per second) and, for plain `Duration`
//! fields, `#[serde(with = "crate::units::duration")]` (`"250ms"`, `"2s"`,
//! `"1m 30s"`, `0`). Kept as a module so `resilient_client::units::Percent`
//! and `PerSecond` stay where users found them.

pub use ::units::{duration, Percent, Rate as PerSecond, UnitError};
