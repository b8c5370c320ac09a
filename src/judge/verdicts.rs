//! The ten verdicts as one table (name, severity, what a count counts,
//! definition with the thresholds in force) and the result types written to
//! `verdicts.json`.

use serde::Serialize;

use mock_server::journal::End;

use super::config::VerdictConfig;

/// How bad a fired verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The client misbehaves; `harness judge` exits non-zero.
    Fail,
    /// Probably wrong, worth a look.
    Warn,
    /// Information.
    Info,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fail => "fail",
            Severity::Warn => "warn",
            Severity::Info => "info",
        }
    }
}

/// One verdict kind; the order is the order of `docs/journal.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Another attempt after a 400/401/402/422.
    RetriedNonRetryable,
    /// A retry earlier than the Retry-After sent.
    IgnoredRetryAfter,
    /// An immediate retry after a retryable failure without Retry-After.
    NoBackoff,
    /// Retry delays without jitter.
    SynchronizedRetries,
    /// Too many attempts per call, or too many retries per first attempt.
    RetryStorm,
    /// A stalled attempt held past the bound.
    NoTimeoutOnStall,
    /// A retry back to the failing node while another node succeeded.
    NoFailover,
    /// Traffic kept flowing to a failing node.
    KeptSendingToFailingNode,
    /// A call ended on a retryable failure.
    GaveUpOnRetryable,
    /// A hang-up during a queue wait, then the call sent again.
    AbandonedQueueWait,
}

/// Number of verdict kinds.
pub const KINDS: usize = 10;

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; KINDS] = [
        Kind::RetriedNonRetryable,
        Kind::IgnoredRetryAfter,
        Kind::NoBackoff,
        Kind::SynchronizedRetries,
        Kind::RetryStorm,
        Kind::NoTimeoutOnStall,
        Kind::NoFailover,
        Kind::KeptSendingToFailingNode,
        Kind::GaveUpOnRetryable,
        Kind::AbandonedQueueWait,
    ];

    /// Position in [`Kind::ALL`].
    pub fn index(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// The name used in reports, flags and JUnit.
    pub fn name(self) -> &'static str {
        match self {
            Kind::RetriedNonRetryable => "retried_non_retryable",
            Kind::IgnoredRetryAfter => "ignored_retry_after",
            Kind::NoBackoff => "no_backoff",
            Kind::SynchronizedRetries => "synchronized_retries",
            Kind::RetryStorm => "retry_storm",
            Kind::NoTimeoutOnStall => "no_timeout_on_stall",
            Kind::NoFailover => "no_failover",
            Kind::KeptSendingToFailingNode => "kept_sending_to_failing_node",
            Kind::GaveUpOnRetryable => "gave_up_on_retryable",
            Kind::AbandonedQueueWait => "abandoned_queue_wait",
        }
    }

    /// Its severity.
    pub fn severity(self) -> Severity {
        match self {
            Kind::SynchronizedRetries | Kind::NoFailover | Kind::KeptSendingToFailingNode => {
                Severity::Warn
            }
            Kind::GaveUpOnRetryable | Kind::AbandonedQueueWait => Severity::Info,
            _ => Severity::Fail,
        }
    }

    /// What `count` counts.
    pub fn unit(self) -> &'static str {
        match self {
            Kind::SynchronizedRetries => "retries",
            Kind::RetryStorm => "calls + windows",
            Kind::KeptSendingToFailingNode => "failing spans",
            _ => "calls",
        }
    }

    /// Verdicts about failover only apply with two nodes or more.
    pub fn needs_nodes(self) -> u32 {
        match self {
            Kind::NoFailover | Kind::KeptSendingToFailingNode => 2,
            _ => 1,
        }
    }

    /// One line saying when it fires, with the thresholds in force.
    pub fn definition(self, c: &VerdictConfig) -> String {
        let d = |h: mock_server::config::HumanDuration| humantime::format_duration(h.get());
        let pct = |p: f64| format!("{}%", (p * 1000.0).round() / 10.0);
        match self {
            Kind::RetriedNonRetryable => {
                "a call sent another attempt after a non-retryable answer (400, 401, 402, 422)".into()
            }
            Kind::IgnoredRetryAfter => format!(
                "a retry came earlier than the Retry-After the server sent, minus {}",
                d(c.ignored_retry_after.tolerance)
            ),
            Kind::NoBackoff => format!(
                "a retry came less than {} after a retryable failure without Retry-After",
                d(c.no_backoff.bound)
            ),
            Kind::SynchronizedRetries => format!(
                "for one attempt number, the delays of >= {} calls failing in one {} slot (or of all calls) had a coefficient of variation below {}",
                c.synchronized_retries.min_calls,
                d(c.synchronized_retries.slot),
                c.synchronized_retries.max_cv
            ),
            Kind::RetryStorm => format!(
                "a call made more than {} attempts, or retries exceeded {} of first attempts in a {} window with >= {} first attempts",
                c.retry_storm.max_attempts,
                pct(c.retry_storm.share.get()),
                d(c.retry_storm.window),
                c.retry_storm.min_first_attempts
            ),
            Kind::NoTimeoutOnStall => format!(
                "an attempt on which the server sent nothing stayed open longer than {}",
                d(c.no_timeout_on_stall.bound)
            ),
            Kind::NoFailover => format!(
                "a retry went back to the node that failed while another node answered a success within +-{}",
                d(c.no_failover.window)
            ),
            Kind::KeptSendingToFailingNode => format!(
                "a node failed >= {} of its attempts for >= {} and kept >= {} of its first-second share of traffic",
                pct(c.kept_sending_to_failing_node.ratio.get()),
                d(c.kept_sending_to_failing_node.span),
                pct(c.kept_sending_to_failing_node.keep.get())
            ),
            Kind::GaveUpOnRetryable => {
                "a call's last attempt was a retryable failure and nothing followed".into()
            }
            Kind::AbandonedQueueWait => {
                "the client hung up during a queue wait and sent the call again".into()
            }
        }
    }
}

/// One attempt in an example's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    /// Arrival, seconds from t0.
    pub at: f64,
    /// Node index.
    pub node: u32,
    /// Status sent, if a head was sent.
    pub status: Option<u16>,
    /// How it ended.
    pub end: End,
    /// Fault kinds that fired.
    pub faults: Vec<String>,
    /// Seconds from the previous attempt's end to this arrival (clamped at
    /// 0); `None` for the first attempt.
    pub delay: Option<f64>,
    /// Seconds the attempt was open (`end_at - at`).
    pub open: f64,
}

/// An example of a fired verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    /// The call key, for call verdicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// What happened, for verdicts about windows or nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The call's attempts, in arrival order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<TimelineEntry>,
}

/// Examples kept per verdict.
pub const MAX_EXAMPLES: usize = 5;

/// One verdict's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Name, e.g. `no_backoff`.
    pub name: &'static str,
    /// When it fires, with the thresholds used.
    pub definition: String,
    /// Severity.
    pub severity: Severity,
    /// False when the journal cannot show it (failover verdicts with one node).
    pub applicable: bool,
    /// How many times it fired (see `unit`); 0 = clear.
    pub count: u64,
    /// What `count` counts: `calls`, `retries`, ...
    pub unit: &'static str,
    /// Up to five examples.
    pub examples: Vec<Example>,
}

impl Verdict {
    /// Fired (count > 0 and applicable).
    pub fn fired(&self) -> bool {
        self.applicable && self.count > 0
    }
}

/// A span in which a node inferred to be behind an open breaker got no
/// attempts while other nodes did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    /// Node index.
    pub node: u32,
    /// Start, seconds from t0 (whole seconds).
    pub from: f64,
    /// End (exclusive).
    pub to: f64,
}

/// Attempts one node received in one second (by arrival).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SecondCounts {
    /// Second since t0.
    pub second: u32,
    /// Successes.
    pub ok: u32,
    /// Retryable failures, broken answers and client hang-ups.
    pub failed: u32,
    /// The rest: non-retryable answers, other statuses, shutdown.
    pub other: u32,
}

impl SecondCounts {
    /// All attempts in the second.
    pub fn total(&self) -> u32 {
        self.ok + self.failed + self.other
    }
}

/// Per-node traffic, one row per second that had attempts on that node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeTraffic {
    /// Node index.
    pub node: u32,
    /// Seconds with attempts, ascending.
    pub seconds: Vec<SecondCounts>,
}

/// Everything the judge concluded: `verdicts.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdicts {
    /// False when records were dropped or lines could not be read.
    pub complete: bool,
    /// Records the writer reported dropped.
    pub dropped: u64,
    /// Journal lines that could not be read.
    pub unreadable: u64,
    /// Attempts judged.
    pub attempts: u64,
    /// Calls judged.
    pub calls: u64,
    /// Nodes seen (highest index + 1).
    pub nodes: u32,
    /// The ten verdicts, in table order.
    pub verdicts: Vec<Verdict>,
    /// Inferred breaker-open intervals.
    pub breaker_open: Vec<Interval>,
    /// Attempts per node per second, for charts.
    pub traffic: Vec<NodeTraffic>,
}

impl Verdicts {
    /// Any fail-severity verdict fired.
    pub fn failed(&self) -> bool {
        self.verdicts
            .iter()
            .any(|v| v.severity == Severity::Fail && v.fired())
    }

    /// The verdict of a kind.
    pub fn get(&self, kind: Kind) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.name == kind.name())
    }

    /// Its count (0 if absent or not applicable).
    pub fn count(&self, kind: Kind) -> u64 {
        self.get(kind)
            .filter(|v| v.applicable)
            .map_or(0, |v| v.count)
    }
}

/// Up to [`MAX_EXAMPLES`] examples, keeping the earliest calls whatever
/// order they were evaluated in, so examples do not depend on push order.
#[derive(Debug, Default)]
pub(crate) struct ExampleSet {
    kept: Vec<((f64, String), Example)>,
}

impl ExampleSet {
    /// Would an example ranked `rank` be kept? Asked before building one.
    pub(crate) fn wants(&self, rank: (f64, &str)) -> bool {
        self.kept.len() < MAX_EXAMPLES
            || self
                .kept
                .last()
                .is_some_and(|(r, _)| (rank.0, rank.1) < (r.0, r.1.as_str()))
    }

    pub(crate) fn offer(&mut self, rank: (f64, &str), example: Example) {
        if !self.wants(rank) {
            return;
        }
        let rank = (rank.0, rank.1.to_string());
        let pos = self
            .kept
            .iter()
            .position(|(r, _)| rank.0 < r.0 || (rank.0 == r.0 && rank.1 < r.1))
            .unwrap_or(self.kept.len());
        self.kept.insert(pos, (rank, example));
        self.kept.truncate(MAX_EXAMPLES);
    }

    pub(crate) fn into_vec(self) -> Vec<Example> {
        self.kept.into_iter().map(|(_, e)| e).collect()
    }
}
