//! The recorder task: folds outcomes and events into the [`Recorder`], closes
//! a second each second, shows progress, and with `--abort-on-fail` stops
//! the load once a success/error-rate gate can no longer pass.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::journal::{Batch, Journals};
use crate::driver::Gauges;
use crate::outcome::{Arm, EventRecord, Outcome};
use crate::record::Recorder;
use crate::scenario::{load::Model, Scenario};
use crate::schedule::Schedule;

/// How the live progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing until the summary.
    Quiet,
    /// Nothing at all, not even the summary table (`tune`, which prints its
    /// own ranked table).
    Silent,
    /// One line redrawn in place every second.
    Tty,
    /// A plain line every 5 seconds (logs, CI).
    Plain,
}

/// A gate that can be known lost before the run ends: the share of failed
/// requests already exceeds what the whole run may have.
#[derive(Debug, Clone)]
pub struct AbortRule {
    /// The gate as written.
    pub gate: String,
    /// Most failed requests, as a share of the whole run, the gate allows.
    pub max_error_share: f64,
    /// Whether reaching the share exactly already fails (strict bound).
    pub strict: bool,
}

impl AbortRule {
    /// The abortable rules among `gates` (`success_rate`, `error_rate` of the
    /// resilient arm); other gates are only judged at the end.
    pub fn from_gates(gates: &[String]) -> Result<Vec<AbortRule>, crate::gate::GateError> {
        use crate::gate::Op;
        let mut rules = Vec::new();
        for g in crate::gate::parse_all(gates)? {
            let b = g.expr.bound;
            let rule = match (g.path.as_str(), g.expr.op) {
                ("arms.resilient.success_rate", Op::Ge) => Some((1.0 - b, false)),
                ("arms.resilient.success_rate", Op::Gt) => Some((1.0 - b, true)),
                ("arms.resilient.error_rate", Op::Le) => Some((b, false)),
                ("arms.resilient.error_rate", Op::Lt) => Some((b, true)),
                _ => None,
            };
            if let Some((max_error_share, strict)) = rule {
                rules.push(AbortRule {
                    gate: g.expr.text.clone(),
                    max_error_share,
                    strict,
                });
            }
        }
        Ok(rules)
    }

    /// True when `errors` out of a run of `total` requests already breaks it.
    pub fn lost(&self, errors: u64, total: u64) -> bool {
        let allowed = self.max_error_share * total as f64;
        let e = errors as f64;
        if self.strict {
            e >= allowed
        } else {
            e > allowed + 1e-9
        }
    }
}

/// What the recorder watches for `--abort-on-fail`.
pub(super) struct Watch {
    pub(super) rules: Vec<AbortRule>,
    /// Requests the whole run will send (open model), if known.
    pub(super) expected: Option<u64>,
    pub(super) stop: CancellationToken,
}

pub(super) fn expected_requests(s: &Scenario) -> Option<u64> {
    match s.load.model {
        Model::Open => s
            .load
            .shape()
            .ok()
            .map(|shape| Schedule::new(shape, s.duration, s.seed).count() as u64),
        Model::Closed => None,
    }
}

/// The fake servers' journals on their way into the recorder thread.
pub(super) struct JournalIn {
    /// Batches from every arm's forwarder.
    pub(super) rx: mpsc::Receiver<Batch>,
    /// Where they are judged and written; `None` without embedded servers.
    pub(super) journals: Option<Journals>,
}

// One owner of every piece of the recorder thread's state, so each input
// arrives as its own argument.
#[allow(clippy::too_many_arguments)]
pub(super) async fn record_loop(
    mut rec: Recorder,
    mut outcomes: mpsc::Receiver<Vec<Outcome>>,
    mut events: mpsc::Receiver<EventRecord>,
    journal: JournalIn,
    gauges: Vec<(Arm, Arc<Gauges>)>,
    t0: Instant,
    progress: Progress,
    watch: Watch,
) -> (Recorder, u64, Option<Journals>) {
    let JournalIn {
        rx: mut batches,
        mut journals,
    } = journal;
    let mut journal_done = false;
    let mut tick = tokio::time::interval_at(t0 + Duration::from_secs(1), Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut seconds = 0u64;
    let mut lost = 0u64;
    let (mut outcomes_done, mut events_done) = (false, false);
    while !(outcomes_done && events_done && journal_done) {
        tokio::select! {
            biased;
            b = batches.recv(), if !journal_done => match b {
                Some((arm, batch)) => {
                    if let Some(j) = &mut journals {
                        j.push(arm, &batch);
                    }
                }
                None => journal_done = true,
            },
            o = outcomes.recv(), if !outcomes_done => match o {
                Some(burst) => {
                    for o in &burst {
                        rec.record(o);
                    }
                }
                None => outcomes_done = true,
            },
            e = events.recv(), if !events_done => match e {
                Some(e) => {
                    if e.kind == "events_lost" {
                        lost += e.detail["lost"].as_u64().unwrap_or(0);
                    }
                    rec.record_event(e)
                }
                None => events_done = true,
            },
            _ = tick.tick() => {
                for (arm, g) in &gauges {
                    rec.set_in_flight(*arm, g.in_flight());
                }
                rec.tick(t0.elapsed());
                seconds += 1;
                match progress {
                    Progress::Tty => eprint!("\r\x1b[2K{}", rec.live().line()),
                    Progress::Plain if seconds.is_multiple_of(5) => eprintln!("{}", rec.live().line()),
                    _ => {}
                }
                if let (Some(total), false) = (watch.expected, watch.stop.is_cancelled()) {
                    let live = rec.live();
                    // The system under test is the first arm.
                    if let Some(a) = live.arms.first() {
                        if let Some(r) = watch.rules.iter().find(|r| r.lost(a.errors, total)) {
                            eprintln!(
                                "\naborting: gate `{}` can no longer pass ({} failed of {} planned requests)",
                                r.gate, a.errors, total
                            );
                            watch.stop.cancel();
                        }
                    }
                }
            }
        }
    }
    (rec, lost, journals)
}
