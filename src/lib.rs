//! The harness: scenario parsing, load generation, recording, reports and
//! gates around the fake DeepSeek server and the resilient client.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod gate;
pub mod outcome;
pub mod record;
pub mod report;
pub mod units;
