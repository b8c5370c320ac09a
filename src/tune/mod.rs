//! `harness tune`'s library: the grid of settings and the objective
//! ([`grid`]), the result rows, `tune.csv` and the ranked table
//! ([`table`]), and the chart. The command itself (runs, files, status) is
//! `cmd::tune`.

pub mod chart;
mod error;
pub mod grid;
pub mod table;

pub use error::TuneError;
pub use table::Row;
