//! `harness run`: one scenario end to end. Starts the embedded fake server
//! (one instance per arm, same seed, so both arms meet the same faults), builds
//! the clients, drives the load, feeds one recorder task, and writes the
//! report. All timestamps are offsets from one t0.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use resilient_client::{ChatRequest, Client};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::direct::Direct;
use crate::driver::{self, DriveStats, Gauges, Job, Pacing, Sender};
use crate::outcome::{Arm, EventRecord, Outcome};
use crate::record::{Recorder, RecorderConfig};
use crate::report::{self, RunInfo};
use crate::scenario::{self, load::Model, load::Via, CompareArm, Scenario};
use crate::schedule::Schedule;

/// Key sent to the embedded fake server when `DEEPSEEK_API_KEY` is unset: it
/// accepts any non-empty key by default, and this one is obviously local.
const LOCAL_KEY: &str = "sk-harness-local";

mod command;
mod events;
mod threads;
mod watch;

use crate::threads::on_own_thread;
pub use command::main;
pub use events::{event_record, node_label};
use events::{forward_events, phase_events};
use threads::EmbeddedServer;
pub use watch::AbortRule;
use watch::{expected_requests, record_loop, Watch};

/// What a finished run produced, for `tune` and tests.
#[derive(Debug)]
pub struct RunOutput {
    /// The report folder.
    pub dir: PathBuf,
    /// The summary as written to `summary.json`.
    pub summary: serde_json::Value,
    /// Ended early (Ctrl-C or `--abort-on-fail`).
    pub partial: bool,
    /// Ended early by Ctrl-C.
    pub interrupted: bool,
    /// Generator health (false: numbers not trustworthy).
    pub healthy: bool,
}

/// Errors that stop a run before a report exists.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The scenario did not parse or validate.
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    /// Anything else, with what was being done.
    #[error("{0}")]
    Other(String),
}

fn other(what: &str) -> impl FnOnce(String) -> RunError + '_ {
    move |e| RunError::Other(format!("{what}: {e}"))
}

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

struct ArmRun {
    arm: Arm,
    /// Built even for `via: direct` (its config is checked the same way);
    /// its event stream is then silent.
    client: Client,
    sender: Sender,
    server: Option<EmbeddedServer>,
    endpoints: Vec<String>,
    gauges: Arc<Gauges>,
}

/// Run a parsed scenario and write its report under `out_root`.
pub async fn execute(
    s: &Scenario,
    file: &Path,
    out_root: &Path,
    progress: Progress,
) -> Result<RunOutput, RunError> {
    execute_with(s, file, out_root, progress, Vec::new()).await
}

/// [`execute`], stopping early when an abort rule can no longer pass.
pub async fn execute_with(
    s: &Scenario,
    file: &Path,
    out_root: &Path,
    progress: Progress,
    abort: Vec<AbortRule>,
) -> Result<RunOutput, RunError> {
    let mut arms = vec![Arm::Resilient];
    if s.compare.contains(&CompareArm::Raw) {
        arms.push(Arm::Raw);
    }
    let requests = Arc::new(request_bodies(s).map_err(other("load.requests"))?);
    let dir = report_dir(out_root, &s.name).map_err(other("report folder"))?;

    let mut runs = Vec::new();
    for &arm in &arms {
        runs.push(start_arm(s, arm, &requests).await?);
    }
    // Outcomes from every arm's driver, and events from clients and phases,
    // each on one channel to the recorder thread.
    // Outcomes travel in bursts (one `Vec` per millisecond per forwarder).
    let (otx, orx) = mpsc::channel::<Vec<Outcome>>(4_096);
    let (tx, rx) = mpsc::channel::<EventRecord>(65_536);
    let recorder = Recorder::new(RecorderConfig {
        arms: arms.clone(),
        events_path: dir.join("events.jsonl"),
        hlog_path: dir.join("latency.hlog"),
        interval: Duration::from_secs(1),
    })
    .map_err(|e| RunError::Other(format!("recorder: {e}")))?;

    let stop = CancellationToken::new();
    let t0 = Instant::now();
    let started_at = SystemTime::now();
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, Ordering::SeqCst);
                eprintln!("\ninterrupted: stopping the load, draining in-flight requests (Ctrl-C again to quit now)");
                stop.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(i32::from(crate::cli::exit::INTERRUPTED));
                }
            }
        });
    }

    let gauges: Vec<(Arm, Arc<Gauges>)> = runs.iter().map(|r| (r.arm, r.gauges.clone())).collect();
    let expected = expected_requests(s);
    let watch = Watch {
        rules: abort,
        expected,
        stop: stop.clone(),
    };
    let rec_task = on_own_thread(
        "harness-recorder",
        record_loop(recorder, orx, rx, gauges, t0, progress, watch),
    )
    .map_err(other("recorder thread"))?;
    let phase_task = if s.target.is_none() {
        Some(tokio::spawn(phase_events(
            s.server.phases(),
            t0,
            tx.clone(),
            stop.clone(),
        )))
    } else {
        None
    };

    let drain = s.client.timeouts.total + Duration::from_secs(2);
    let mut drivers = Vec::new();
    for r in &runs {
        let job = Job {
            arm: r.arm,
            pacing: pacing(s),
            requests: requests.clone(),
            pick: s.load.pick,
            stream: s.load.stream,
            seed: s.seed,
            drain,
        };
        let ev = tokio::spawn(forward_events(
            r.client.events(),
            r.arm,
            r.endpoints.clone(),
            t0,
            tx.clone(),
        ));
        let d = tokio::spawn(driver::drive(
            r.sender.clone(),
            job,
            t0,
            otx.clone(),
            stop.clone(),
            r.gauges.clone(),
        ));
        drivers.push((d, ev));
    }
    let mut stats: Vec<(Arm, DriveStats)> = Vec::new();
    for (r, (d, ev)) in runs.iter().zip(drivers) {
        let st = d
            .await
            .map_err(|e| RunError::Other(format!("load driver failed: {e}")))?;
        // Events of the last requests arrive right after them; then stop.
        tokio::time::sleep(Duration::from_millis(50)).await;
        ev.abort();
        stats.push((r.arm, st));
    }
    let end = t0.elapsed();
    // Cancelled before the schedule ended: Ctrl-C or --abort-on-fail.
    let stopped_early = stop.is_cancelled();
    stop.cancel();
    if let Some(p) = phase_task {
        p.abort();
    }
    drop(tx);
    drop(otx);
    let (recorder, lost_events) = rec_task
        .await
        .map_err(|_| RunError::Other("the recorder thread died".into()))?;
    let mut run = recorder
        .finish(end)
        .map_err(|e| RunError::Other(format!("recorder: {e}")))?;
    for a in &mut run.arms {
        a.label = report::arm_label(a.arm.as_str(), s.load.via.as_str());
    }
    let interrupted = interrupted.load(Ordering::SeqCst);
    let partial = interrupted || stopped_early;

    let info = run_info(
        s,
        file,
        &runs,
        &stats,
        Ended {
            started_at,
            end,
            partial,
            lost_events,
            schedule_len: expected,
        },
    );
    for r in runs {
        if let Some(server) = r.server {
            server.shutdown().await;
        }
    }
    let files = report::write_report(&dir, &run, &info)
        .map_err(|e| RunError::Other(format!("writing the report: {e}")))?;
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
    let summary = read_json(&dir.join("summary.json")).map_err(other("summary.json"))?;
    let healthy = summary
        .pointer("/generator/healthy")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true);
    Ok(RunOutput {
        dir,
        summary,
        partial,
        interrupted,
        healthy,
    })
}

fn read_json(p: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn pacing(s: &Scenario) -> Pacing {
    match s.load.model {
        Model::Open => Pacing::Open {
            // validate() checked the shape exists.
            schedule: Box::new(Schedule::new(
                s.load.shape().unwrap_or(scenario::load::Shape::Constant(
                    crate::units::Rate::new(1.0).unwrap_or_else(|| unreachable!()),
                )),
                s.duration,
                s.seed,
            )),
            max_in_flight: s.load.max_in_flight,
        },
        Model::Closed => Pacing::Closed {
            users: s.load.users.unwrap_or(1),
            think_time: s.load.think_time.unwrap_or_default(),
            duration: s.duration,
        },
    }
}

/// The request bodies, checked once; the default is one short prompt.
pub fn request_bodies(s: &Scenario) -> Result<Vec<ChatRequest>, String> {
    if s.load.requests.is_empty() {
        let body = serde_json::json!({
            "model": "deepseek-v4-flash",
            "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
            "max_tokens": 64
        });
        return serde_json::from_value(body)
            .map(|r| vec![r])
            .map_err(|e| e.to_string());
    }
    s.load
        .requests
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<ChatRequest>(v.clone())
                .map_err(|e| format!("load.requests[{i}]: {e}"))
        })
        .collect()
}

async fn start_arm(s: &Scenario, arm: Arm, requests: &[ChatRequest]) -> Result<ArmRun, RunError> {
    let (server, endpoints) = match &s.target {
        Some(t) => (None, t.url.clone()),
        None => {
            let server = EmbeddedServer::start(s).await?;
            let urls = server.server.base_urls();
            (Some(server), urls)
        }
    };
    let config = match arm {
        Arm::Resilient => s.client.clone(),
        Arm::Raw => s.client.bare(),
    };
    let key = std::env::var(&s.client.api_key_env)
        .ok()
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| LOCAL_KEY.to_string());
    let client = Client::builder(config)
        .endpoints(endpoints.clone())
        .api_key(key.clone())
        .build()
        .map_err(|e| RunError::Other(format!("client ({}): {e}", arm.as_str())))?;
    let sender = match s.load.via {
        Via::Client => Sender::Client(client.clone()),
        Via::Direct => Sender::Direct(Arc::new(
            Direct::new(
                &endpoints,
                requests,
                &key,
                s.client.timeouts.connect,
                s.client.timeouts.total,
            )
            .await
            .map_err(RunError::Other)?,
        )),
    };
    Ok(ArmRun {
        arm,
        client,
        sender,
        server,
        endpoints,
        gauges: Arc::new(Gauges::default()),
    })
}

/// `20261126T103656Z`: the UTC time, sortable and safe in a file name.
pub fn utc_stamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace([':', '-'], "")
}

fn report_dir(root: &Path, name: &str) -> Result<PathBuf, String> {
    let base = root.join(format!("{name}-{}", utc_stamp()));
    let mut dir = base.clone();
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = PathBuf::from(format!("{}-{n}", base.display()));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// How a run ended, for [`run_info`].
struct Ended {
    started_at: SystemTime,
    end: Duration,
    partial: bool,
    lost_events: u64,
    /// Requests the open-model schedule holds.
    schedule_len: Option<u64>,
}

fn run_info(
    s: &Scenario,
    file: &Path,
    runs: &[ArmRun],
    stats: &[(Arm, DriveStats)],
    ended: Ended,
) -> RunInfo {
    let Ended {
        started_at,
        end,
        partial,
        lost_events,
        schedule_len,
    } = ended;
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
        elapsed: end,
        started_at,
        partial,
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
                .map(|p| report::PhaseInfo {
                    name: p.name,
                    at: p.at,
                    duration: p.duration.unwrap_or(s.duration.saturating_sub(p.at)),
                    nodes: p.nodes,
                })
                .collect()
        },
        endpoints: runs
            .first()
            .map(|r| (0..r.endpoints.len()).map(node_label).collect())
            .unwrap_or_default(),
        max_in_flight_hits: stats.iter().map(|(_, st)| st.max_in_flight_hits).sum(),
        schedule_len,
        lost_events,
        gates: s.gates.clone(),
        ..RunInfo::default()
    }
}
