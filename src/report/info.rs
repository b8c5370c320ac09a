//! Facts about a run that the recorder does not know (scenario, load asked,
//! phases, endpoints), and the report writer's knobs.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::charts::font::default_font_paths;
use crate::judge::Verdicts;

/// One fault phase of the fake server, as the scenario declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseInfo {
    /// Phase name (shown on the chart bands).
    pub name: String,
    /// Start, offset from t0.
    pub at: Duration,
    /// Length (`for:` in the scenario).
    pub duration: Duration,
    /// Node indices affected; `None` = all nodes.
    pub nodes: Option<Vec<usize>>,
}

/// Facts about the run that the recorder does not know; filled by the CLI.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// Scenario `name:`.
    pub scenario_name: String,
    /// Scenario file path as given.
    pub scenario_file: String,
    /// RNG seed.
    pub seed: u64,
    /// Duration asked.
    pub duration: Duration,
    /// Actual elapsed time (shorter when partial).
    pub elapsed: Duration,
    /// Wall-clock start.
    pub started_at: SystemTime,
    /// Ended early (Ctrl-C).
    pub partial: bool,
    /// `open` or `closed`.
    pub load_model: String,
    /// What carried the requests: `client` (the client under test) or
    /// `direct` (plain connections, no client).
    pub via: String,
    /// Asked rate, open model (requests/s; mean rate for shaped loads).
    pub asked_rps: Option<f64>,
    /// Virtual users, closed model.
    pub users: Option<u64>,
    /// Streaming requests.
    pub stream: bool,
    /// Fault phases.
    pub phases: Vec<PhaseInfo>,
    /// Endpoints given to the client as the report names them (`node0`,
    /// `node1`, ...), node order.
    pub endpoints: Vec<String>,
    /// Times the generator hit `max_in_flight`.
    pub max_in_flight_hits: u64,
    /// Intended sends in the schedule (open model), when known.
    pub schedule_len: Option<u64>,
    /// Harness version (`env!("CARGO_PKG_VERSION")`).
    pub harness_version: String,
    /// Events dropped before reaching the recorder (channel full).
    pub lost_events: u64,
    /// The scenario's gate expressions, recorded in the summary.
    pub gates: Vec<String>,
    /// Verdicts judged from each arm's fake-server journal (arm key,
    /// verdicts); empty when the servers were not embedded.
    pub verdicts: Vec<(String, Verdicts)>,
    /// Journal time minus run time, seconds: the embedded servers started
    /// (their t0) this long before the run's t0.
    pub journal_offset_s: f64,
    /// Arms that are external systems under test: their attempts come
    /// from the journal, not from a client's own account.
    pub external_arms: Vec<String>,
    /// Requests abandoned after the drain limit (or a second Ctrl-C), by
    /// arm name: started, never ended, so without an outcome.
    pub abandoned: std::collections::BTreeMap<String, u64>,
    /// From t0 until the load stopped (the longest arm), when known:
    /// beyond `duration` when the generator fell behind its schedule.
    pub load_time: Option<Duration>,
    /// How long requests in flight may drain after the load; a load that
    /// overran its duration by more than this makes the generator
    /// unhealthy.
    pub drain: Option<Duration>,
}

impl Default for RunInfo {
    fn default() -> Self {
        Self {
            scenario_name: String::new(),
            scenario_file: String::new(),
            seed: 0,
            duration: Duration::ZERO,
            elapsed: Duration::ZERO,
            started_at: SystemTime::UNIX_EPOCH,
            partial: false,
            load_model: "open".to_string(),
            via: "client".to_string(),
            asked_rps: None,
            users: None,
            stream: false,
            phases: Vec::new(),
            endpoints: Vec::new(),
            max_in_flight_hits: 0,
            schedule_len: None,
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            lost_events: 0,
            gates: Vec::new(),
            verdicts: Vec::new(),
            journal_offset_s: 0.0,
            external_arms: Vec::new(),
            abandoned: Default::default(),
            load_time: None,
            drain: None,
        }
    }
}

impl RunInfo {
    /// Time during which load was offered: the duration asked, or the
    /// elapsed time when shorter (interrupted run), or the time the load
    /// actually took when the generator fell behind (rates are divided by
    /// the time taken, not the time asked). The drain of requests still in
    /// flight after the schedule ends is not counted, so rates compare with
    /// the asked rate.
    pub fn load_window(&self) -> Duration {
        if let Some(t) = self.load_time.filter(|t| *t > self.duration) {
            return t;
        }
        if self.duration.is_zero() {
            self.elapsed
        } else {
            self.duration.min(self.elapsed)
        }
    }

    /// The verdicts of arm `arm`, if its journal was judged.
    pub fn verdicts_of(&self, arm: &str) -> Option<&Verdicts> {
        self.verdicts.iter().find(|(a, _)| a == arm).map(|(_, v)| v)
    }

    /// `started_at` as RFC 3339 UTC with seconds (`2026-11-26T09:41:35Z`).
    pub fn started_at_rfc3339(&self) -> String {
        humantime::format_rfc3339_seconds(self.started_at).to_string()
    }
}

/// Knobs of the report writer (tests inject the font search path).
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// TTF files or directories searched, in order, for the PNG font.
    pub font_paths: Vec<PathBuf>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            font_paths: default_font_paths(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(duration: u64, elapsed_ms: u64, load_ms: Option<u64>) -> RunInfo {
        RunInfo {
            duration: Duration::from_secs(duration),
            elapsed: Duration::from_millis(elapsed_ms),
            load_time: load_ms.map(Duration::from_millis),
            ..RunInfo::default()
        }
    }

    /// Regression: `--rate 1e6/s --duration 1s` took 8.4 s to send and
    /// reported "achieved 1000000.0/s", divided by the 1 s asked.
    #[test]
    fn rates_are_divided_by_the_time_the_load_took() {
        assert_eq!(
            info(1, 9_000, Some(8_400)).load_window(),
            Duration::from_millis(8_400)
        );
        // On time (the last send is just before the end): the duration.
        assert_eq!(
            info(10, 12_000, Some(9_950)).load_window(),
            Duration::from_secs(10)
        );
        // Interrupted after 3 s: the 3 s.
        assert_eq!(
            info(10, 3_000, Some(3_000)).load_window(),
            Duration::from_secs(3)
        );
        assert_eq!(info(10, 3_000, None).load_window(), Duration::from_secs(3));
    }
}
