//! Reading a JSONL journal from any `BufRead` straight into a [`Judge`],
//! one line at a time: bad or truncated lines become warnings with their
//! line number and are skipped, `{"dropped": N}` lines mark the result
//! incomplete, and a journal without a single attempt is an error.

use std::io::BufRead;

use mock_server::journal::Line;

use super::config::{ConfigError, VerdictConfig};
use super::engine::Judge;
use super::verdicts::Verdicts;

/// Warnings kept in full; later ones are only counted.
pub const MAX_WARNINGS: usize = 100;

/// A line that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWarning {
    /// 1-based line number.
    pub line: u64,
    /// What was wrong with it.
    pub message: String,
}

/// What reading a journal found besides the records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Lines skipped as unreadable.
    pub bad_lines: u64,
    /// The first [`MAX_WARNINGS`] of them.
    pub warnings: Vec<LineWarning>,
}

/// A judged journal.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The verdicts.
    pub verdicts: Verdicts,
    /// Lines and warnings.
    pub stats: ReadStats,
}

/// Why a journal could not be judged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Reading failed (not a bad line: the input itself).
    #[error("cannot read the journal at line {line}: {source}")]
    Io {
        /// Line being read.
        line: u64,
        /// Why.
        source: std::io::Error,
    },
    /// Not one attempt in the journal.
    #[error("no attempts recorded ({lines} lines, {bad_lines} unreadable); was the journal enabled and did any request reach /chat/completions?")]
    NoAttempts {
        /// Lines read.
        lines: u64,
        /// Of which unreadable.
        bad_lines: u64,
    },
    /// The thresholds are not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Streams every line of `input` into `judge`.
pub fn read_journal<R: BufRead>(mut input: R, judge: &mut Judge) -> Result<ReadStats, ReadError> {
    let mut stats = ReadStats::default();
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        let line = stats.lines + 1;
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|source| ReadError::Io { line, source })?;
        if n == 0 {
            break;
        }
        stats.lines = line;
        let problem = match std::str::from_utf8(&buf) {
            Err(e) => Some(format!("not UTF-8: {e}")),
            Ok(text) if text.trim().is_empty() => None,
            Ok(text) => match Line::parse(text.trim_end_matches(['\n', '\r'])) {
                Ok(Line::Attempt(a)) => judge.push(&a).err().map(|e| e.to_string()),
                Ok(Line::Dropped(d)) => {
                    judge.push_dropped(d);
                    None
                }
                Err(e) if buf.last() != Some(&b'\n') => {
                    Some(format!("{e} (last line, no newline: truncated?)"))
                }
                Err(e) => Some(e.to_string()),
            },
        };
        if let Some(message) = problem {
            stats.bad_lines += 1;
            if stats.warnings.len() < MAX_WARNINGS {
                stats.warnings.push(LineWarning { line, message });
            }
        }
    }
    judge.note_unreadable(stats.bad_lines);
    Ok(stats)
}

/// Judges a whole journal with these thresholds.
pub fn judge_journal<R: BufRead>(input: R, config: VerdictConfig) -> Result<Judged, ReadError> {
    let mut judge = Judge::new(config)?;
    let stats = read_journal(input, &mut judge)?;
    if judge.attempts() == 0 {
        return Err(ReadError::NoAttempts {
            lines: stats.lines,
            bad_lines: stats.bad_lines,
        });
    }
    Ok(Judged {
        verdicts: judge.finish(),
        stats,
    })
}
