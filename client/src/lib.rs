//! stub
pub mod policy;
pub mod units;
