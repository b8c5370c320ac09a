//! The judge: verdicts on a client's resilience from the fake server's
//! attempt journal alone (`docs/journal.md`), so they hold for any client in
//! any language.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use harness::judge::{judge_journal, junit_xml, table, VerdictConfig};
//! let file = std::io::BufReader::new(std::fs::File::open("journal.jsonl")?);
//! let judged = judge_journal(file, VerdictConfig::default())?;
//! print!("{}", table(&judged.verdicts));
//! std::fs::write("verdicts.junit.xml", junit_xml(&judged.verdicts, "verdicts"))?;
//! std::process::exit(i32::from(judged.verdicts.failed()));
//! # }
//! ```
//!
//! Code map: `config` (thresholds), `attempt` (failure classes), `call`
//! (verdicts about one call), `sync` (synchronized retries), `traffic`
//! (per-second counters, storms, failing nodes, breaker intervals),
//! `engine` (the streaming [`Judge`]), `kinds` (the verdict table),
//! `verdicts` (result types), `render` (table, JUnit), `reader` (JSONL in),
//! `source` (files, report folders and fake servers to read journals from).

mod attempt;
mod call;
pub mod config;
mod engine;
mod kinds;
mod limits;
pub mod reader;
pub mod render;
pub mod source;
mod sync;
mod traffic;
pub mod verdicts;

pub use config::{ConfigError, VerdictConfig};
pub use engine::{Footprint, Judge};
pub use reader::{judge_journal, read_journal, Judged, LineWarning, ReadError, ReadStats};
pub use render::{junit_xml, table, timeline_text};
pub use source::JudgeError;
pub use verdicts::{
    Example, Interval, KeyCounts, Kind, NodeTraffic, SecondCounts, Severity, TimelineEntry,
    Verdict, Verdicts,
};

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests_calls;
#[cfg(test)]
mod tests_engine;
#[cfg(test)]
mod tests_global;
