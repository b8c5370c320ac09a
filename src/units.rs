//! Human units for the harness's own YAML fields (`duration`, `load.rate`,
//! `load.think_time`, rate shapes), shared with the client and the fake
//! server through the `units` crate: rates `200/s`, `30/min`, `5/ms` or a
//! bare number per second, and durations `250ms`, `2s`, `1m 30s` or `0` for
//! plain `Duration` fields via `#[serde(with = "crate::units::duration")]`.

pub use ::units::{duration, Rate, UnitError};
