//! The harness: scenario parsing, load generation, recording, reports and
//! gates around the fake DeepSeek server and the resilient client.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod classify;
pub mod cli;
pub mod describe;
pub mod direct;
pub mod driver;
pub mod gate;
pub mod gate_cmd;
pub mod outcome;
pub mod record;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod tune;
pub mod units;
