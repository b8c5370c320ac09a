//! `harness judge`: verdicts on a client's resilience from a fake server's
//! attempt journal (`docs/journal.md`): a journal file, a report folder (its
//! `journal*.jsonl`), or a running fake server's `/_mock/journal`.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use clap::Args;

use super::status::{Error, Status};
use crate::judge::{self, source, Judged, VerdictConfig};
use crate::report::write_atomic;

/// `harness judge` arguments.
#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// A journal (`journal.jsonl`), a report folder, or a fake server's
    /// journal URL (`http://127.0.0.1:8080/_mock/journal`, loopback only).
    pub source: String,
    /// Thresholds: a YAML file with a `verdicts:` section (a scenario works)
    /// or the bare section.
    #[arg(long, value_name = "FILE")]
    pub verdicts: Option<PathBuf>,
    /// Override one threshold: `--set no_backoff.bound=20ms` (repeatable).
    #[arg(long = "set", value_name = "NAME.FIELD=VALUE")]
    pub sets: Vec<String>,
    /// Where to write the verdicts as JSON (default: `verdicts.json` next to
    /// the journal, in the report folder, or here for a URL).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write one JUnit test case per verdict here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Judges every journal of the source, prints the tables, writes the files;
/// a fired `fail` verdict ends with [`Status::VerdictFailed`].
pub async fn run(args: &JudgeArgs) -> Result<Status, Error> {
    let mut config = match &args.verdicts {
        Some(f) => source::config_from_file(f)?,
        None => VerdictConfig::default(),
    };
    for s in &args.sets {
        config.set(s).map_err(judge::JudgeError::Config)?;
    }
    let journals = source::resolve(&args.source).await?;
    let mut failed = false;
    let many = journals.len() > 1;
    for j in &journals {
        let judged = match &j.input {
            source::Input::File(path) => {
                let f = std::fs::File::open(path).map_err(|e| judge::JudgeError::Open {
                    path: path.clone(),
                    source: e,
                })?;
                judge::judge_journal(BufReader::new(f), config.clone())
            }
            source::Input::Bytes(b) => judge::judge_journal(&b[..], config.clone()),
        }
        .map_err(|e| judge::JudgeError::Read {
            what: j.label.clone(),
            source: e,
        })?;
        print_judged(j, &judged, many);
        let json = match (&args.json, many) {
            (Some(p), false) => p.clone(),
            (Some(p), true) => suffixed(p, &j.arm),
            (None, _) => j.default_json.clone(),
        };
        let text = serde_json::to_vec_pretty(&judged.verdicts)?;
        write_atomic(&json, &text)?;
        outln!("verdicts: {}", json.display());
        if let Some(p) = &args.junit {
            let p = if many { suffixed(p, &j.arm) } else { p.clone() };
            write_atomic(&p, judge::junit_xml(&judged.verdicts, &j.label).as_bytes())?;
        }
        failed |= judged.verdicts.failed();
    }
    Ok(if failed {
        Status::VerdictFailed
    } else {
        Status::Ok
    })
}

fn print_judged(j: &source::Journal, judged: &Judged, many: bool) {
    if many {
        outln!("== {}", j.label);
    }
    for w in &judged.stats.warnings {
        eprintln!(
            "warning: {}:{}: {} (line skipped)",
            j.label, w.line, w.message
        );
    }
    let more = judged.stats.bad_lines as usize - judged.stats.warnings.len();
    if more > 0 {
        eprintln!("warning: {}: {more} more unreadable lines skipped", j.label);
    }
    out!("{}", judge::table(&judged.verdicts));
}

/// `verdicts.json` + arm `raw` -> `verdicts.raw.json`.
fn suffixed(p: &Path, arm: &str) -> PathBuf {
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("verdicts");
    let ext = p.extension().and_then(|s| s.to_str()).unwrap_or("json");
    p.with_file_name(format!("{stem}.{arm}.{ext}"))
}
