//! The result types written to `verdicts.json`, and the bounded example
//! set each verdict keeps.

use serde::Serialize;

use mock_server::journal::End;

pub use super::kinds::{Kind, Severity, KINDS};

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

/// Attempts keyed by each call-key rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct KeyCounts {
    /// W3C trace id.
    pub traceparent: u64,
    /// `x-harness-call`.
    pub header: u64,
    /// `[call:ID]` marker.
    pub marker: u64,
    /// Body fingerprint.
    pub fingerprint: u64,
}

impl KeyCounts {
    pub(crate) fn add(&mut self, from: mock_server::journal::CallFrom) {
        use mock_server::journal::CallFrom;
        match from {
            CallFrom::Traceparent => self.traceparent += 1,
            CallFrom::Header => self.header += 1,
            CallFrom::Marker => self.marker += 1,
            CallFrom::Fingerprint => self.fingerprint += 1,
        }
    }
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
    /// Attempts per call-key rule: many `fingerprint` keys mean identical
    /// prompts may have merged into one "call".
    pub call_keys: KeyCounts,
    /// The ten verdicts, in table order.
    pub verdicts: Vec<Verdict>,
    /// Inferred breaker-open intervals.
    pub breaker_open: Vec<Interval>,
    /// Attempts per node per second, for charts.
    pub traffic: Vec<NodeTraffic>,
    /// Attempts by the status the server sent (`"0"`: none sent).
    pub statuses: std::collections::BTreeMap<String, u64>,
    /// Calls by their number of attempts (`"1"`: no retry).
    pub attempts_per_call: std::collections::BTreeMap<String, u64>,
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
