//! The DeepSeek API surface: the models, request validation, error bodies,
//! replies and their deterministic text.

pub mod errors;
pub mod models;
pub mod reply;
pub mod request;
pub mod text;
