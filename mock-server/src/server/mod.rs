//! The HTTP side: listeners, per-connection tasks, routing, bodies, the
//! control API and the shared state they use.

pub mod body;
pub mod conn;
pub mod control;
pub mod counters;
pub mod ctl;
pub mod emit;
pub mod guard;
pub mod handler;
pub mod precise;
pub mod state;
