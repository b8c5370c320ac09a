//! One module per command, each owning its clap arguments and returning a
//! typed [`Status`] or [`Error`]; the binary's `main` alone maps them to the
//! documented exit codes.

pub mod baseline;
pub mod gate;
pub mod judge;
pub mod mock;
pub mod run;
mod status;
pub mod tune;
pub mod validate;

pub use status::{Error, Status};
