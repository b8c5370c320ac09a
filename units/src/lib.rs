//! Human units for the workspace's YAML, parsed by one implementation with one
//! error style: durations (`250ms`, `2s`, `1m 30s`, `0`), rates (`200/s`,
//! `10/min`, a bare number per second), percentages and probabilities (`30%`
//! or `0.3`) and byte sizes (`512KiB`, `1MiB`).
//!
//! A leaf crate: the client, the fake server and the harness all depend on it,
//! so `client.timeouts.total`, `server.phases[0].at` and the scenario's
//! `duration` accept the same spellings and explain the same mistakes. Every
//! type validates inside `Deserialize`, so serde_yaml attaches the line and
//! column and serde_path_to_error the field path wherever the value sits; the
//! message itself names what is accepted (see [`UnitError`]).
//!
//! Plain [`std::time::Duration`] fields (and `Option<Duration>`) use the
//! [`duration`] module: `#[serde(with = "units::duration")]`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod duration;
mod error;
mod fraction;
mod rate;
mod scalar;
mod size;

pub use duration::{parse_duration, HumanDuration};
pub use error::UnitError;
pub use fraction::{Percent, Probability};
pub use rate::Rate;
pub use size::ByteSize;
