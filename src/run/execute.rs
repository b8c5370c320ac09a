//! The second stage of a run: drive every arm's load, forward client events
//! and fault phases, and fold it all into the recorder on a thread of its
//! own. Ctrl-C, SIGTERM or SIGHUP stops the load (requests in flight drain);
//! a second signal abandons them too. Either way the run goes on to its (partial) report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::error::RunError;
use super::events::{forward_events, phase_events};
use super::journal::{self, Journals, BATCH_QUEUE};
use super::prepare::{drain, pacing, Prepared};
use super::watch::{expected_requests, record_loop, AbortRule, JournalIn, Progress, Watch};
use crate::driver::{DriveStats, Gauges, Job, Stop};
use crate::judge::Verdicts;
use crate::outcome::{Arm, EventRecord, Outcome};
use crate::record::{Recorder, RecorderConfig, RunData};
use crate::scenario::Scenario;
use crate::threads::on_own_thread;

/// What the load produced, for the report.
pub(super) struct Executed {
    pub(super) run: RunData,
    pub(super) stats: Vec<(Arm, DriveStats)>,
    pub(super) started_at: SystemTime,
    /// Time from t0 to the last outcome.
    pub(super) end: Duration,
    /// Ended early (Ctrl-C or `--abort-on-fail`).
    pub(super) partial: bool,
    /// Ended early by Ctrl-C.
    pub(super) interrupted: bool,
    /// Events dropped before reaching the recorder.
    pub(super) lost_events: u64,
    /// Requests the open-model schedule holds.
    pub(super) schedule_len: Option<u64>,
    /// Each arm's verdicts, judged from its server's journal.
    pub(super) verdicts: Vec<(Arm, Verdicts)>,
    /// Journal time minus run time (seconds), of the first arm's server.
    pub(super) journal_offset_s: f64,
    /// A journal file could not be written (the verdicts still hold).
    pub(super) journal_error: Option<String>,
}

/// Runs the load of `prepared` and records it.
pub(super) async fn execute(
    s: &Scenario,
    prepared: &mut Prepared,
    progress: Progress,
    abort: Vec<AbortRule>,
) -> Result<Executed, RunError> {
    let arms: Vec<Arm> = prepared.arms.iter().map(|r| r.arm).collect();
    let dir = &prepared.dir;
    // Outcomes from every arm's driver, and events from clients and phases,
    // each on one channel to the recorder thread.
    // Outcomes travel in bursts (one `Vec` per millisecond per forwarder).
    let (otx, orx) = mpsc::channel::<Vec<Outcome>>(4_096);
    let (tx, rx) = mpsc::channel::<EventRecord>(65_536);
    let recorder = Recorder::new(RecorderConfig {
        arms,
        events_path: dir.join("events.jsonl"),
        hlog_path: dir.join("latency.hlog"),
        interval: Duration::from_secs(1),
    })?;

    // Each embedded server's journal, forwarded in batches to the recorder
    // thread, which judges and writes it.
    let journaled: Vec<Arm> = prepared
        .arms
        .iter()
        .filter(|r| r.journal.is_some())
        .map(|r| r.arm)
        .collect();
    let (jtx, jrx) = mpsc::channel(BATCH_QUEUE);
    let journals = if journaled.is_empty() {
        None
    } else {
        Some(Journals::new(dir, &journaled, &s.verdicts)?)
    };
    let mut forwarders = Vec::new();
    for r in &mut prepared.arms {
        if let Some(rx) = r.journal.take() {
            forwarders.push(tokio::spawn(journal::forward(r.arm, rx, jtx.clone())));
        }
    }
    drop(jtx);

    let stop = Stop::default();
    let t0 = Instant::now();
    let journal_offset_s = prepared
        .arms
        .first()
        .and_then(|r| r.server_t0())
        .map_or(0.0, |st| t0.saturating_duration_since(st).as_secs_f64());
    let started_at = SystemTime::now();
    let interrupted = Arc::new(AtomicBool::new(false));
    let ctrl_c = tokio::spawn(on_signal(stop.clone(), interrupted.clone()));

    let gauges: Vec<(Arm, Arc<Gauges>)> = prepared
        .arms
        .iter()
        .map(|r| (r.arm, r.gauges.clone()))
        .collect();
    let expected = expected_requests(s);
    let watch = Watch {
        rules: abort,
        expected,
        stop: stop.load.clone(),
    };
    let journal_in = JournalIn { rx: jrx, journals };
    let rec_task = on_own_thread(
        "harness-recorder",
        record_loop(recorder, orx, rx, journal_in, gauges, t0, progress, watch),
    )
    .map_err(|source| RunError::Thread {
        what: "recorder",
        source,
    })?;
    let phase_task = if s.target.is_none() {
        Some(tokio::spawn(phase_events(
            s.server.phases(),
            t0,
            tx.clone(),
            stop.load.clone(),
        )))
    } else {
        None
    };

    let mut drivers = Vec::new();
    for r in &prepared.arms {
        let job = Job {
            arm: r.arm,
            pacing: pacing(s),
            bodies: prepared.bodies,
            pick: s.load.pick,
            seed: s.seed,
            drain: drain(s),
        };
        // An external system under test has no event stream to read.
        let ev = r.client.as_ref().map(|c| {
            tokio::spawn(forward_events(
                c.events(),
                r.arm,
                r.endpoints.clone(),
                t0,
                tx.clone(),
            ))
        });
        let d = tokio::spawn(r.sender.clone().drive(
            job,
            t0,
            otx.clone(),
            stop.clone(),
            r.gauges.clone(),
        ));
        drivers.push((d, ev));
    }
    let mut stats: Vec<(Arm, DriveStats)> = Vec::new();
    let mut failed = None;
    for (r, (d, ev)) in prepared.arms.iter().zip(drivers) {
        match d.await {
            Ok(st) => stats.push((r.arm, st)),
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
        // Events of the last requests arrive right after them; then stop.
        if let Some(ev) = ev {
            tokio::time::sleep(Duration::from_millis(50)).await;
            ev.abort();
        }
    }
    let end = t0.elapsed();
    // Cancelled before the schedule ended: Ctrl-C or --abort-on-fail.
    let stopped_early = stop.load.is_cancelled();
    stop.load.cancel();
    ctrl_c.abort();
    if let Some(p) = phase_task {
        p.abort();
    }
    // The servers go now: attempts still open end as `shutdown`, and each
    // server's journal channel closes, which ends its forwarder.
    // External systems under test go first, so the attempts they still
    // hold end on the server's side as the client hanging up.
    let mut dropped = Vec::new();
    for r in &mut prepared.arms {
        r.stop_sut().await;
    }
    for r in &mut prepared.arms {
        dropped.push((r.arm, r.journal_dropped()));
        r.stop_server().await;
    }
    for f in forwarders {
        let _ = f.await;
    }
    drop(tx);
    drop(otx);
    let (recorder, lost_events, journals) = rec_task.await.map_err(|_| RunError::RecorderDied)?;
    let (verdicts, journal_error) = match journals {
        Some(mut j) => {
            for (arm, n) in dropped {
                j.dropped(arm, n);
            }
            j.finish()
        }
        None => (Vec::new(), None),
    };
    if let Some(e) = failed {
        return Err(RunError::Driver(e));
    }
    let run = recorder.finish(end)?;
    let interrupted = interrupted.load(Ordering::SeqCst);
    Ok(Executed {
        run,
        stats,
        started_at,
        end,
        partial: interrupted || stopped_early,
        interrupted,
        lost_events,
        schedule_len: expected,
        verdicts,
        journal_offset_s,
        journal_error,
    })
}

/// First SIGINT, SIGTERM or SIGHUP (or one already received while the run
/// was prepared): stop the load, let requests in flight drain. Second:
/// abandon them too, so the partial report is written at once and `main`
/// exits with the first signal's code.
async fn on_signal(stop: Stop, interrupted: Arc<AtomicBool>) {
    let mut rx = crate::signals::subscribe();
    let Ok(first) = rx.wait_for(|r| r.count >= 1).await.map(|r| r.first) else {
        return;
    };
    interrupted.store(true, Ordering::SeqCst);
    let name = first.map_or("interrupt", |s| s.name());
    eprintln!("\ninterrupted ({name}): stopping the load, draining in-flight requests (Ctrl-C again to quit now)");
    stop.load.cancel();
    if rx.wait_for(|r| r.count >= 2).await.is_ok() {
        eprintln!("interrupted again: abandoning in-flight requests, writing the partial report");
        stop.in_flight.cancel();
    }
}
