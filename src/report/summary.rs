//! `summary.json` (schema version 1, documented in docs/summary-schema.md):
//! typed so gates and baselines can read it back with serde.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::info::RunInfo;
pub use super::percentiles::Percentiles;
use crate::outcome::{Arm, OutcomeClass};
use crate::record::{ArmData, RunData};
use resilient_client::Priority;

/// Version of the summary schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Generator lag p99 above which the load generator is declared unhealthy.
pub const LAG_P99_LIMIT_MS: f64 = 10.0;

/// The whole `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Version of the harness that wrote it.
    pub harness_version: String,
    /// What ran.
    pub scenario: ScenarioSummary,
    /// Wall-clock start, RFC 3339 UTC.
    pub started_at: String,
    /// Actual run length in seconds.
    pub elapsed_s: f64,
    /// Ended early (Ctrl-C).
    pub partial: bool,
    /// Load asked and achieved.
    pub load: LoadSummary,
    /// Whether the load generator kept up.
    pub generator: GeneratorSummary,
    /// The system under test's arm key (the first arm): gates' short names
    /// read it. `resilient` unless an external system was under test.
    #[serde(default = "resilient_key")]
    pub primary: String,
    /// Per arm (`resilient`, `raw`, or an external system's name).
    pub arms: BTreeMap<String, ArmSummary>,
    /// Fault phases of the fake server.
    pub phases: Vec<PhaseSummary>,
    /// Endpoints the client was given.
    pub endpoints: Vec<String>,
    /// Events written to events.jsonl, and server-side events by kind.
    pub events: EventsSummary,
}

/// Scenario identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    /// `name:` of the scenario.
    pub name: String,
    /// Path of the YAML file.
    pub file: String,
    /// RNG seed.
    pub seed: u64,
    /// Duration asked, seconds.
    pub duration_s: f64,
    /// The scenario's gate expressions (`harness gate` uses them when given
    /// no others).
    #[serde(default)]
    pub gates: Vec<String>,
}

/// Load asked and achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSummary {
    /// `open` or `closed`.
    pub model: String,
    /// `client` (every request through the client under test) or `direct`
    /// (plain connections, no client). Absent in older summaries: `client`.
    #[serde(default = "client_via")]
    pub via: String,
    /// Asked arrival rate (open model).
    pub asked_rps: Option<f64>,
    /// Requests of the first arm per second of the load window (the
    /// duration asked, or the elapsed time when the run ended earlier).
    pub achieved_rps: f64,
    /// Virtual users (closed model).
    pub users: Option<u64>,
    /// Streaming requests.
    pub stream: bool,
    /// Requests completed by the first arm.
    pub requests: u64,
    /// Intended sends in the schedule, when known.
    pub schedule_len: Option<u64>,
}

/// Load-generator health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorSummary {
    /// False when the numbers cannot be trusted (see `problems`).
    pub healthy: bool,
    /// Human reasons for `healthy: false`.
    pub problems: Vec<String>,
    /// Times a send had to wait because `max_in_flight` was reached.
    pub max_in_flight_hits: u64,
    /// Send lag (actual minus intended send).
    pub lag: Percentiles,
}

/// Latency corrected and uncorrected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// From the intended send instant (coordinated-omission corrected).
    pub corrected: Percentiles,
    /// From the actual send.
    pub uncorrected: Percentiles,
}

/// Breaker facts of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointBreakerSummary {
    /// Transitions into open.
    pub opens: u64,
    /// Seconds spent open.
    pub time_open_s: f64,
    /// Seconds spent half-open.
    pub time_half_open_s: f64,
    /// State at the end of the run.
    pub final_state: String,
}

/// Breaker facts of one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakerSummary {
    /// Opens over all endpoints.
    pub opens: u64,
    /// Per endpoint.
    pub endpoints: BTreeMap<String, EndpointBreakerSummary>,
}

/// Everything about one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmSummary {
    /// Logical requests completed.
    pub requests: u64,
    /// (ok + fallback) / requests, 0..1.
    pub success_rate: f64,
    /// Successful requests per second of the load window.
    pub goodput_rps: f64,
    /// Requests per outcome class (every class present).
    pub outcomes: BTreeMap<String, u64>,
    /// Status of every attempt (`"0"` = no status).
    pub statuses: BTreeMap<String, u64>,
    /// Attempts over all requests.
    pub attempts: u64,
    /// Attempts beyond the first.
    pub retries: u64,
    /// attempts / requests.
    pub retry_amplification: f64,
    /// Requests per attempts count (`"1"`: no retry, `"0"`: rejected before any attempt).
    pub attempts_per_request: BTreeMap<String, u64>,
    /// Content tokens received.
    pub tokens: u64,
    /// End-to-end latency.
    pub latency: LatencySummary,
    /// Time to first token (streams only).
    pub ttft: Option<Percentiles>,
    /// Inter-token latency (streams only).
    pub itl: Option<Percentiles>,
    /// Queue / limiter wait.
    pub queue_wait: Percentiles,
    /// Circuit breakers.
    pub breaker: BreakerSummary,
    /// Requests shed by the client's queue.
    pub sheds: u64,
    /// Requests answered by the fallback.
    pub fallbacks: u64,
    /// Endpoint ejections (events).
    pub ejections: u64,
    /// Client events by kind.
    pub events: BTreeMap<String, u64>,
    /// Highest in-flight gauge sampled.
    pub max_in_flight: u64,
    /// What the fake server saw of this arm (its attempt journal) and the
    /// verdicts judged from it; absent when the server was not embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdicts: Option<ArmVerdicts>,
    /// Examples of what went wrong between the harness and an external
    /// system under test (`sut_protocol_error`), at most five; empty
    /// otherwise.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Where `attempts`, `retries`, `statuses` and `attempts_per_request`
    /// come from: `client` (what the in-process client reported) or
    /// `journal` (what the fake server saw: external systems under test).
    #[serde(default = "client_via")]
    pub attempts_from: String,
    /// Requests abandoned in flight after the drain limit (or a second
    /// Ctrl-C): started, never ended, not in `requests`. 0 in summaries
    /// written before it existed.
    #[serde(default)]
    pub abandoned: u64,
    /// Per priority class (`high`, `normal`, `low`) that had requests, when
    /// any request was not `normal` (absent otherwise); gates read it as
    /// `priority.high.success_rate`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub priorities: BTreeMap<String, PrioritySummary>,
}

/// The verdicts of one arm, judged from the fake server's journal alone
/// (`docs/journal.md`; every detail and example is in `verdicts.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmVerdicts {
    /// False when the server dropped records (the counts are lower bounds).
    pub complete: bool,
    /// Attempts the server received.
    pub attempts: u64,
    /// Logical calls they were grouped into.
    pub calls: u64,
    /// A `fail` verdict fired.
    pub failed: bool,
    /// Count of every verdict (0 when it did not fire or does not apply).
    pub counts: BTreeMap<String, u64>,
    /// The verdicts that fired, as `name (severity)`.
    pub fired: Vec<String>,
    /// Attempts each node received.
    pub attempts_per_node: BTreeMap<String, u64>,
    /// Spans in which a failing node got no attempts while others did
    /// (inferred breaker-open), run seconds.
    pub breaker_open: Vec<InferredOpen>,
}

/// An inferred breaker-open span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferredOpen {
    /// Node label (`node0`).
    pub node: String,
    /// Start, seconds from the run's t0.
    pub from_s: f64,
    /// End, seconds from the run's t0.
    pub to_s: f64,
}

/// The summary form of an arm's verdicts; `offset` is journal time minus
/// run time.
pub fn arm_verdicts(v: &crate::judge::Verdicts, offset: f64) -> ArmVerdicts {
    let mut per_node: BTreeMap<String, u64> = BTreeMap::new();
    for t in &v.traffic {
        let n: u64 = t.seconds.iter().map(|s| u64::from(s.total())).sum();
        *per_node.entry(format!("node{}", t.node)).or_default() += n;
    }
    ArmVerdicts {
        complete: v.complete,
        attempts: v.attempts,
        calls: v.calls,
        failed: v.failed(),
        counts: v
            .verdicts
            .iter()
            .map(|x| (x.name.to_string(), if x.applicable { x.count } else { 0 }))
            .collect(),
        fired: v
            .verdicts
            .iter()
            .filter(|x| x.fired())
            .map(|x| format!("{} ({})", x.name, x.severity.as_str()))
            .collect(),
        attempts_per_node: per_node,
        breaker_open: v
            .breaker_open
            .iter()
            .map(|b| InferredOpen {
                node: format!("node{}", b.node),
                from_s: (b.from - offset).max(0.0),
                to_s: (b.to - offset).max(0.0),
            })
            .collect(),
    }
}

/// One priority class of one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrioritySummary {
    /// Logical requests of this class.
    pub requests: u64,
    /// (ok + fallback) / requests, 0..1.
    pub success_rate: f64,
    /// Successful requests per second of the load window.
    pub goodput_rps: f64,
    /// Answered by a fallback (cached, static or another model).
    pub fallbacks: u64,
    /// Shed by the client.
    pub sheds: u64,
    /// Corrected latency.
    pub latency: Percentiles,
}

/// One fault phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseSummary {
    /// Phase name.
    pub name: String,
    /// Start, seconds from t0.
    pub at_s: f64,
    /// Length, seconds.
    pub for_s: f64,
    /// Nodes affected (`null`: all).
    pub nodes: Option<Vec<usize>>,
}

/// Event counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsSummary {
    /// Lines in events.jsonl.
    pub total: u64,
    /// Server-side events (no arm) by kind.
    pub server: BTreeMap<String, u64>,
    /// Events dropped before reaching the recorder (not in events.jsonl).
    pub lost: u64,
}

/// Builds the summary from the recorder's data and the run facts.
pub fn build_summary(run: &RunData, info: &RunInfo) -> Summary {
    let elapsed_s = info.elapsed.as_secs_f64();
    let window_s = info.load_window().as_secs_f64();
    let lag = Percentiles::from_hist(&run.send_lag);
    let mut problems = Vec::new();
    if lag.p99_ms > LAG_P99_LIMIT_MS {
        problems.push(format!(
            "send lag p99 is {:.1} ms (limit {LAG_P99_LIMIT_MS} ms): the generator could not keep the schedule, latencies are understated",
            lag.p99_ms
        ));
    }
    if info.max_in_flight_hits > 0 {
        problems.push(format!(
            "max_in_flight was reached {} times: sends were delayed, the asked rate was not offered",
            info.max_in_flight_hits
        ));
    }
    if let (Some(load), Some(drain)) = (info.load_time, info.drain) {
        if load > info.duration + drain {
            problems.push(format!(
                "the load took {:.1} s for a {:.1} s run (more than the {:.1} s drain bound over): the generator fell behind its schedule, rates are per time taken",
                load.as_secs_f64(),
                info.duration.as_secs_f64(),
                drain.as_secs_f64()
            ));
        }
    }
    let first_requests = run.arms.first().map_or(0, |a| a.requests);
    Summary {
        schema_version: SCHEMA_VERSION,
        harness_version: info.harness_version.clone(),
        scenario: ScenarioSummary {
            name: info.scenario_name.clone(),
            file: info.scenario_file.clone(),
            seed: info.seed,
            duration_s: info.duration.as_secs_f64(),
            gates: info.gates.clone(),
        },
        started_at: info.started_at_rfc3339(),
        elapsed_s,
        partial: info.partial,
        load: LoadSummary {
            model: info.load_model.clone(),
            via: info.via.clone(),
            asked_rps: info.asked_rps,
            achieved_rps: per_second(first_requests, window_s),
            users: info.users,
            stream: info.stream,
            requests: first_requests,
            schedule_len: info.schedule_len,
        },
        generator: GeneratorSummary {
            healthy: problems.is_empty(),
            problems,
            max_in_flight_hits: info.max_in_flight_hits,
            lag,
        },
        primary: run
            .arms
            .first()
            .map_or_else(resilient_key, |a| a.arm.as_str().to_string()),
        arms: run
            .arms
            .iter()
            .map(|a| {
                let known: &[String] = if a.arm == Arm::Resilient {
                    &info.endpoints
                } else {
                    &[]
                };
                let mut summary = arm_summary(a, window_s, known);
                let verdicts = info.verdicts_of(a.arm.as_str());
                summary.verdicts = verdicts.map(|v| arm_verdicts(v, info.journal_offset_s));
                if let (Some(v), true) = (
                    verdicts,
                    info.external_arms.iter().any(|e| e == a.arm.as_str()),
                ) {
                    from_journal(&mut summary, v);
                }
                summary.abandoned = info.abandoned.get(a.arm.as_str()).copied().unwrap_or(0);
                (a.arm.as_str().to_string(), summary)
            })
            .collect(),
        phases: info
            .phases
            .iter()
            .map(|p| PhaseSummary {
                name: p.name.clone(),
                at_s: p.at.as_secs_f64(),
                for_s: p.duration.as_secs_f64(),
                nodes: p.nodes.clone(),
            })
            .collect(),
        endpoints: info.endpoints.clone(),
        events: EventsSummary {
            total: run.events_total,
            server: run.server_events.clone(),
            lost: info.lost_events,
        },
    }
}

/// An external system under test reports no attempts of its own: they are
/// what the fake server saw of it (every attempt of every call).
fn from_journal(a: &mut ArmSummary, v: &crate::judge::Verdicts) {
    a.attempts = v.attempts;
    a.retries = v.attempts.saturating_sub(v.calls);
    a.retry_amplification = ratio(v.attempts, a.requests);
    a.statuses = v.statuses.clone();
    a.attempts_per_request = v.attempts_per_call.clone();
    a.attempts_from = "journal".into();
}

fn per_second(n: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b > 0 {
        a as f64 / b as f64
    } else {
        0.0
    }
}

fn arm_summary(a: &ArmData, window_s: f64, known_endpoints: &[String]) -> ArmSummary {
    let successes = a.successes();
    // Endpoints whose breaker never moved are listed too (closed, 0 opens),
    // so every endpoint of the resilient client appears.
    let mut endpoints: BTreeMap<String, EndpointBreakerSummary> = known_endpoints
        .iter()
        .map(|e| {
            (
                e.clone(),
                EndpointBreakerSummary {
                    opens: 0,
                    time_open_s: 0.0,
                    time_half_open_s: 0.0,
                    final_state: "closed".to_string(),
                },
            )
        })
        .collect();
    endpoints.extend(a.breakers.iter().map(|b| {
        (
            b.endpoint.clone(),
            EndpointBreakerSummary {
                opens: b.opens,
                time_open_s: b.time_open.as_secs_f64(),
                time_half_open_s: b.time_half_open.as_secs_f64(),
                final_state: b.state.as_str().to_string(),
            },
        )
    }));
    ArmSummary {
        requests: a.requests,
        success_rate: ratio(successes, a.requests),
        goodput_rps: per_second(successes, window_s),
        outcomes: OutcomeClass::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), a.count(*c)))
            .collect(),
        statuses: a
            .statuses
            .iter()
            .map(|(s, n)| (s.to_string(), *n))
            .collect(),
        attempts: a.attempts,
        retries: a.retries,
        retry_amplification: ratio(a.attempts, a.requests),
        attempts_per_request: a
            .attempts_hist
            .iter_recorded()
            .map(|v| (v.value_iterated_to().to_string(), v.count_at_value()))
            .collect(),
        tokens: a.tokens,
        latency: LatencySummary {
            corrected: Percentiles::from_hist(&a.hist.corrected),
            uncorrected: Percentiles::from_hist(&a.hist.uncorrected),
        },
        ttft: Percentiles::from_nonempty(&a.hist.ttft),
        itl: Percentiles::from_nonempty(&a.hist.itl),
        queue_wait: Percentiles::from_hist(&a.hist.queue_wait),
        breaker: BreakerSummary {
            opens: endpoints.values().map(|e| e.opens).sum(),
            endpoints,
        },
        sheds: a.count(OutcomeClass::Shed),
        fallbacks: a.count(OutcomeClass::Fallback),
        ejections: a.event_count("ejected"),
        events: a.events.clone(),
        max_in_flight: a.max_in_flight,
        verdicts: None,
        examples: a.notes.clone(),
        attempts_from: "client".into(),
        abandoned: 0,
        priorities: priority_summaries(a, window_s),
    }
}

/// Classes with requests, when any request was not `normal` (a run without
/// priorities keeps its summary as it was).
fn priority_summaries(a: &ArmData, window_s: f64) -> BTreeMap<String, PrioritySummary> {
    let normal_only = Priority::ALL
        .iter()
        .zip(&a.priorities)
        .all(|(p, d)| *p == Priority::Normal || d.requests == 0);
    if normal_only {
        return BTreeMap::new();
    }
    Priority::ALL
        .iter()
        .zip(&a.priorities)
        .filter(|(_, d)| d.requests > 0)
        .map(|(p, d)| {
            (
                p.as_str().to_string(),
                PrioritySummary {
                    requests: d.requests,
                    success_rate: ratio(d.successes, d.requests),
                    goodput_rps: per_second(d.successes, window_s),
                    fallbacks: d.fallbacks,
                    sheds: d.sheds,
                    latency: Percentiles::from_hist(&d.corrected),
                },
            )
        })
        .collect()
}

fn resilient_key() -> String {
    "resilient".to_string()
}

fn client_via() -> String {
    "client".to_string()
}
