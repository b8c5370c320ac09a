//! The first stage of a run: the request bodies, the report folder, and per
//! arm the embedded fake server, the client and the sender `load.via`
//! names. Nothing has been sent yet when it returns.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use resilient_client::{ChatRequest, Client};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::embedded::EmbeddedServer;
use super::error::RunError;
use crate::driver::{DriveStats, Gauges, Job, Pacing, Stop};
use crate::outcome::{Arm, Outcome};
use crate::scenario::{self, load::Model, load::Via, CompareArm, Scenario};
use crate::schedule::Schedule;
use crate::sender::client::ClientSender;
use crate::sender::direct::Direct;

/// Key sent to the embedded fake server when `DEEPSEEK_API_KEY` is unset: it
/// accepts any non-empty key by default, and this one is obviously local.
const LOCAL_KEY: &str = "sk-harness-local";

/// A run ready to start.
pub(super) struct Prepared {
    /// The report folder (created).
    pub(super) dir: PathBuf,
    pub(super) arms: Vec<ArmRun>,
    /// Bodies the senders index into.
    pub(super) bodies: usize,
}

pub(super) struct ArmRun {
    pub(super) arm: Arm,
    /// Built even for `via: direct` (its config is checked the same way);
    /// its event stream is then silent.
    pub(super) client: Client,
    pub(super) sender: ArmSender,
    server: Option<EmbeddedServer>,
    pub(super) endpoints: Vec<String>,
    pub(super) gauges: Arc<Gauges>,
}

/// The sender of one arm, as `load.via` chose it: the one place that names
/// every [`crate::sender::Sender`] (the driver is generic over them).
#[derive(Debug, Clone)]
pub(super) enum ArmSender {
    /// Through the client under test (or the raw arm's bare client).
    Client(ClientSender),
    /// Plain HTTP/1.1, no client.
    Direct(Direct),
}

impl ArmSender {
    /// Drives `job` with this sender; see [`crate::driver::drive`].
    pub(super) async fn drive(
        self,
        job: Job,
        t0: Instant,
        out: mpsc::Sender<Vec<Outcome>>,
        stop: Stop,
        gauges: Arc<Gauges>,
    ) -> DriveStats {
        use crate::driver::drive;
        match self {
            ArmSender::Client(s) => drive(s, job, t0, out, stop, gauges).await,
            ArmSender::Direct(s) => drive(s, job, t0, out, stop, gauges).await,
        }
    }
}

impl Prepared {
    /// Stops every embedded server.
    pub(super) async fn shutdown(&mut self) {
        for r in &mut self.arms {
            if let Some(server) = r.server.take() {
                server.shutdown().await;
            }
        }
    }
}

/// Builds what `s` needs to run, writing into a new folder under `out_root`.
pub(super) async fn prepare(s: &Scenario, out_root: &Path) -> Result<Prepared, RunError> {
    let mut arms = vec![Arm::Resilient];
    if s.compare.contains(&CompareArm::Raw) {
        arms.push(Arm::Raw);
    }
    let requests = Arc::new(request_bodies(s)?);
    let dir = report_dir(out_root, &s.name)?;
    let mut prepared = Prepared {
        dir,
        arms: Vec::new(),
        bodies: requests.len(),
    };
    for &arm in &arms {
        match start_arm(s, arm, &requests).await {
            Ok(r) => prepared.arms.push(r),
            Err(e) => {
                prepared.shutdown().await;
                return Err(e);
            }
        }
    }
    Ok(prepared)
}

/// The request bodies, checked once; the default is one short prompt.
pub fn request_bodies(s: &Scenario) -> Result<Vec<ChatRequest>, RunError> {
    if s.load.requests.is_empty() {
        let body = serde_json::json!({
            "model": "deepseek-v4-flash",
            "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
            "max_tokens": 64
        });
        return serde_json::from_value(body)
            .map(|r| vec![r])
            .map_err(|source| RunError::Request { index: 0, source });
    }
    s.load
        .requests
        .iter()
        .enumerate()
        .map(|(index, v)| {
            serde_json::from_value::<ChatRequest>(v.clone())
                .map_err(|source| RunError::Request { index, source })
        })
        .collect()
}

async fn start_arm(
    s: &Scenario,
    arm: Arm,
    requests: &Arc<Vec<ChatRequest>>,
) -> Result<ArmRun, RunError> {
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
    let built = Client::builder(config)
        .endpoints(endpoints.clone())
        .api_key(key.clone())
        .build()
        .map_err(|source| RunError::Client {
            arm: arm.as_str(),
            source,
        });
    let sender = match built {
        Ok(client) => match s.load.via {
            Via::Client => Ok((
                client.clone(),
                ArmSender::Client(ClientSender::new(client, requests.clone(), s.load.stream)),
            )),
            Via::Direct => Direct::new(
                &endpoints,
                requests,
                &key,
                s.client.timeouts.connect,
                s.client.timeouts.total,
            )
            .await
            .map(|d| (client, ArmSender::Direct(d)))
            .map_err(RunError::from),
        },
        Err(e) => Err(e),
    };
    let (client, sender) = match sender {
        Ok(cs) => cs,
        Err(e) => {
            if let Some(server) = server {
                server.shutdown().await;
            }
            return Err(e);
        }
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

/// The pacing of every arm of `s`.
pub(super) fn pacing(s: &Scenario) -> Pacing {
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

/// How long requests in flight may take after the load ends.
pub(super) fn drain(s: &Scenario) -> Duration {
    s.client.timeouts.total + Duration::from_secs(2)
}

/// `20261126T103656Z`: the UTC time, sortable and safe in a file name.
pub fn utc_stamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace([':', '-'], "")
}

fn report_dir(root: &Path, name: &str) -> Result<PathBuf, RunError> {
    let base = root.join(format!("{name}-{}", utc_stamp()));
    let mut dir = base.clone();
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = PathBuf::from(format!("{}-{n}", base.display()));
    }
    std::fs::create_dir_all(&dir).map_err(|source| RunError::ReportDir {
        path: dir.clone(),
        source,
    })?;
    // Until the report's last file is written: a run that dies or fails
    // before then leaves a folder that says it is not a report.
    crate::report::mark_incomplete(&dir)?;
    Ok(dir)
}
