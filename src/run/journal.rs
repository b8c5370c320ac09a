//! The attempt journals of a run's embedded fake servers: each arm's server
//! hands its records to a channel; a forwarder per arm passes them on in
//! batches to the recorder thread, which judges them as they come (the
//! streaming [`Judge`], bounded memory) and writes them to the report's
//! `journal.jsonl` (`journal.<arm>.jsonl` for the other arms), so `harness
//! judge <report>` can judge them again with other thresholds.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use mock_server::journal::Attempt;
use tokio::sync::mpsc;

use crate::judge::{Judge, VerdictConfig, Verdicts};
use crate::outcome::Arm;

/// Records a server may have ahead of its forwarder before it drops (and
/// counts) them: the journal never blocks a request.
pub(super) const SERVER_QUEUE: usize = 65_536;

/// Batches on their way to the recorder thread.
pub(super) const BATCH_QUEUE: usize = 1_024;

/// One arm's records, handed to the recorder together.
pub(super) type Batch = (Arm, Vec<Attempt>);

/// Passes `rx`'s records on to `out` in batches until the server drops its
/// sender (at its shutdown).
pub(super) async fn forward(arm: Arm, mut rx: mpsc::Receiver<Attempt>, out: mpsc::Sender<Batch>) {
    let mut buf = Vec::with_capacity(256);
    while rx.recv_many(&mut buf, 4_096).await > 0 {
        let batch = std::mem::replace(&mut buf, Vec::with_capacity(256));
        if out.send((arm, batch)).await.is_err() {
            return;
        }
    }
}

/// The journal file of an arm in the report folder.
pub fn journal_file(dir: &Path, arm: &str, primary: bool) -> PathBuf {
    if primary {
        dir.join("journal.jsonl")
    } else {
        dir.join(format!("journal.{arm}.jsonl"))
    }
}

struct ArmJournal {
    arm: Arm,
    judge: Judge,
    out: Option<BufWriter<File>>,
    path: PathBuf,
    line: Vec<u8>,
    /// Records the judge refused (a server bug if ever non-zero).
    refused: u64,
}

/// Every arm's judge and journal file; owned by the recorder thread.
pub(crate) struct Journals {
    arms: Vec<ArmJournal>,
    /// The first write error, reported once at the end.
    write_error: Option<String>,
}

impl std::fmt::Debug for Journals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journals")
            .field("arms", &self.arms.len())
            .finish()
    }
}

impl Journals {
    /// A judge and a journal file per arm; the first arm is the primary one.
    pub(super) fn new(
        dir: &Path,
        arms: &[Arm],
        config: &VerdictConfig,
    ) -> Result<Journals, super::error::RunError> {
        let mut out = Vec::new();
        for (i, &arm) in arms.iter().enumerate() {
            let path = journal_file(dir, arm.as_str(), i == 0);
            let file = File::create(&path).map_err(|source| super::error::RunError::ReportDir {
                path: path.clone(),
                source,
            })?;
            out.push(ArmJournal {
                arm,
                judge: Judge::new(config.clone())?,
                out: Some(BufWriter::with_capacity(64 << 10, file)),
                path,
                line: Vec::with_capacity(512),
                refused: 0,
            });
        }
        Ok(Journals {
            arms: out,
            write_error: None,
        })
    }

    /// Judges and writes one batch of an arm's records.
    pub(crate) fn push(&mut self, arm: Arm, batch: &[Attempt]) {
        let Some(j) = self.arms.iter_mut().find(|j| j.arm == arm) else {
            return;
        };
        for a in batch {
            if j.judge.push(a).is_err() {
                j.refused += 1;
            }
            if let Some(w) = &mut j.out {
                j.line.clear();
                a.write_line(&mut j.line);
                if let Err(e) = w.write_all(&j.line) {
                    self.write_error
                        .get_or_insert(format!("{}: {e}", j.path.display()));
                    j.out = None;
                }
            }
        }
    }

    /// Records a server dropped (its queue was full): the verdicts of that
    /// arm say they are incomplete, and the file gets a gap line.
    pub(super) fn dropped(&mut self, arm: Arm, n: u64) {
        if n == 0 {
            return;
        }
        if let Some(j) = self.arms.iter_mut().find(|j| j.arm == arm) {
            j.judge.push_dropped(n);
            if let Some(w) = &mut j.out {
                let _ = writeln!(w, "{{\"dropped\":{n}}}");
            }
        }
    }

    /// Flushes the files and judges what is left: the verdicts of each arm
    /// that received at least one attempt, and the first write error.
    pub(super) fn finish(self) -> (Vec<(Arm, Verdicts)>, Option<String>) {
        let mut write_error = self.write_error;
        let mut verdicts = Vec::new();
        for mut j in self.arms {
            if let Some(mut w) = j.out.take() {
                if let Err(e) = w.flush() {
                    write_error.get_or_insert(format!("{}: {e}", j.path.display()));
                }
            }
            j.judge.note_unreadable(j.refused);
            if j.judge.attempts() > 0 {
                verdicts.push((j.arm, j.judge.finish()));
            }
        }
        (verdicts, write_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_arm_writes_journal_jsonl() {
        let d = Path::new("/r");
        assert_eq!(journal_file(d, "resilient", true), d.join("journal.jsonl"));
        assert_eq!(journal_file(d, "raw", false), d.join("journal.raw.jsonl"));
    }
}
