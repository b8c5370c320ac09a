//! The last stage of a run: stop the embedded servers, write the report,
//! print the summary table, and hand back the typed summary.

use std::path::{Path, PathBuf};

use super::error::RunError;
use super::events::node_label;
use super::execute::Executed;
use super::prepare::Prepared;
use super::watch::Progress;
use crate::report::{self, PhaseInfo, RunInfo, Summary};
use crate::scenario::{load::Model, Scenario};
use crate::schedule::Schedule;

/// What a finished run produced, for `harness run`, `tune` and tests.
#[derive(Debug)]
pub struct RunOutput {
    /// The report folder.
    pub dir: PathBuf,
    /// The summary, as written to `summary.json`.
    pub summary: Summary,
    /// Ended early (Ctrl-C or `--abort-on-fail`).
    pub partial: bool,
    /// Ended early by Ctrl-C.
    pub interrupted: bool,
}

impl RunOutput {
    /// Generator health (false: the numbers are not trustworthy).
    pub fn healthy(&self) -> bool {
        self.summary.generator.healthy
    }
}

/// Writes the report of `executed` and prints its table (unless silent).
pub(super) async fn finish(
    s: &Scenario,
    file: &Path,
    mut prepared: Prepared,
    executed: Executed,
    progress: Progress,
) -> Result<RunOutput, RunError> {
    let info = run_info(s, file, &prepared, &executed);
    let interrupted = executed.interrupted;
    let executed_journal_error = executed.journal_error.clone();
    let mut run = executed.run;
    for a in &mut run.arms {
        a.label = report::arm_label(a.arm.as_str(), s.load.via.as_str());
    }
    prepared.shutdown().await;
    let dir = prepared.dir.clone();
    let files = report::write_report(&dir, &run, &info)?;
    if let Some(e) = &executed_journal_error {
        eprintln!(
            "warning: journal not fully written ({e}); the verdicts in the report are complete"
        );
    }
    if matches!(progress, Progress::Tty | Progress::Plain) {
        eprintln!();
    }
    if progress != Progress::Silent {
        outln!("{}", report::summary_table(&run, &info));
        if let Some(why) = &files.png_skipped {
            outln!("PNG charts skipped: {why} (SVG charts were written)");
        }
        outln!("report: {}", dir.display());
    }
    Ok(RunOutput {
        dir,
        summary: files.summary_data,
        partial: info.partial,
        interrupted,
    })
}

fn run_info(s: &Scenario, file: &Path, prepared: &Prepared, ex: &Executed) -> RunInfo {
    let asked_rps = match s.load.model {
        Model::Open => s
            .load
            .shape()
            .ok()
            .map(|shape| Schedule::new(shape, s.duration, s.seed).mean_rate()),
        Model::Closed => None,
    };
    RunInfo {
        scenario_name: s.name.clone(),
        scenario_file: file.display().to_string(),
        seed: s.seed,
        duration: s.duration,
        elapsed: ex.end,
        started_at: ex.started_at,
        partial: ex.partial,
        load_model: match s.load.model {
            Model::Open => "open".into(),
            Model::Closed => "closed".into(),
        },
        asked_rps,
        via: s.load.via.as_str().to_string(),
        users: s.load.users.map(|u| u as u64),
        stream: s.load.stream,
        phases: if s.target.is_some() {
            Vec::new()
        } else {
            s.server
                .phases()
                .into_iter()
                .map(|p| PhaseInfo {
                    name: p.name,
                    at: p.at,
                    duration: p.duration.unwrap_or(s.duration.saturating_sub(p.at)),
                    nodes: p.nodes,
                })
                .collect()
        },
        endpoints: prepared
            .arms
            .first()
            .map(|r| (0..r.endpoints.len()).map(node_label).collect())
            .unwrap_or_default(),
        max_in_flight_hits: ex.stats.iter().map(|(_, st)| st.max_in_flight_hits).sum(),
        schedule_len: ex.schedule_len,
        lost_events: ex.lost_events,
        gates: s.gates.clone(),
        verdicts: ex
            .verdicts
            .iter()
            .map(|(arm, v)| (arm.as_str().to_string(), v.clone()))
            .collect(),
        journal_offset_s: ex.journal_offset_s,
        external_arms: prepared
            .arms
            .iter()
            .filter(|r| r.is_external())
            .map(|r| r.arm.as_str().to_string())
            .collect(),
        abandoned: ex
            .stats
            .iter()
            .map(|(arm, st)| (arm.as_str().to_string(), st.abandoned))
            .collect(),
        load_time: ex.stats.iter().map(|(_, st)| st.load_time).max(),
        drain: Some(super::prepare::drain(s)),
        ..RunInfo::default()
    }
}
