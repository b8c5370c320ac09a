//! The DeepSeek API surface: request validation, error bodies, replies and
//! their deterministic text.

pub mod errors;
pub mod reply;
pub mod request;
pub mod text;
