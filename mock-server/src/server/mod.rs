//! The HTTP side: listeners, per-connection tasks, routing, bodies, the
//! control API, the attempt journal's writer and the shared state they use.

pub mod attempt;
pub mod body;
pub mod conn;
pub mod control;
pub mod counters;
pub mod ctl;
pub mod door;
pub mod emit;
pub mod guard;
pub mod handler;
pub mod precise;
pub mod state;
pub mod writer;
