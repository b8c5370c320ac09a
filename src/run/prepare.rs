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
use crate::scenario::{self, load::Model, ArmKind, ArmSpec, Scenario, UnderTest};
use crate::schedule::Schedule;
use crate::sender::client::ClientSender;
use crate::sender::direct::Direct;
use crate::sender::external::ExternalSender;
use crate::sut::{self, Placeholders, Sut};
use tokio_util::sync::CancellationToken;

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
    /// The in-process client: built even for `via: direct` (its config is
    /// checked the same way; its event stream is then silent); none for an
    /// external system under test.
    pub(super) client: Option<Client>,
    pub(super) sender: ArmSender,
    /// An external system under test the harness started.
    sut: Option<Sut>,
    server: Option<EmbeddedServer>,
    /// The embedded server's attempt journal (taken by `execute`).
    pub(super) journal: Option<mpsc::Receiver<mock_server::journal::Attempt>>,
    pub(super) endpoints: Vec<String>,
    pub(super) gauges: Arc<Gauges>,
}

impl ArmRun {
    /// The embedded server's clock origin, if there is one.
    pub(super) fn server_t0(&self) -> Option<Instant> {
        self.server.as_ref().map(|s| s.server.t0())
    }

    /// Journal records the embedded server dropped.
    pub(super) fn journal_dropped(&self) -> u64 {
        self.server
            .as_ref()
            .map_or(0, EmbeddedServer::journal_dropped)
    }

    /// Stops the external system under test the harness started, if any.
    pub(super) async fn stop_sut(&mut self) {
        if let Some(sut) = self.sut.take() {
            sut.stop().await;
        }
    }

    /// Whether this arm is an external system under test.
    pub(super) fn is_external(&self) -> bool {
        matches!(self.sender, ArmSender::External(_))
    }

    /// Stops the embedded server (its journal channel then closes).
    pub(super) async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// The sender of one arm, as `load.via` chose it: the one place that names
/// every [`crate::sender::Sender`] (the driver is generic over them).
#[derive(Debug, Clone)]
pub(super) enum ArmSender {
    /// Through the client under test (or the raw arm's bare client).
    Client(ClientSender),
    /// Plain HTTP/1.1, no client.
    Direct(Direct),
    /// An external system under test.
    External(ExternalSender),
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
            ArmSender::External(s) => drive(s, job, t0, out, stop, gauges).await,
        }
    }
}

impl Prepared {
    /// Stops every embedded server.
    pub(super) async fn shutdown(&mut self) {
        for r in &mut self.arms {
            r.stop_sut().await;
            r.stop_server().await;
        }
    }
}

/// Builds what `s` needs to run, writing into a new folder under `out_root`.
pub(super) async fn prepare(s: &Scenario, out_root: &Path) -> Result<Prepared, RunError> {
    let arms = s.arms();
    let requests = Arc::new(request_bodies(s)?);
    let dir = report_dir(out_root, &s.name)?;
    let mut prepared = Prepared {
        dir,
        arms: Vec::new(),
        bodies: requests.len(),
    };
    // Ctrl-C, SIGTERM or SIGHUP while systems under test start stops them
    // and ends the run.
    let cancel = CancellationToken::new();
    let watcher = {
        let cancel = cancel.clone();
        let mut rx = crate::signals::subscribe();
        tokio::spawn(async move {
            loop {
                if rx.borrow_and_update().count > 0 {
                    cancel.cancel();
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
    };
    for (i, spec) in arms.iter().enumerate() {
        let started = start_arm(s, spec, i == 0, &requests, &prepared.dir, &cancel).await;
        match started {
            Ok(r) => prepared.arms.push(r),
            Err(e) => {
                watcher.abort();
                prepared.shutdown().await;
                return Err(e);
            }
        }
    }
    watcher.abort();
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
    spec: &ArmSpec,
    primary: bool,
    requests: &Arc<Vec<ChatRequest>>,
    dir: &Path,
    cancel: &CancellationToken,
) -> Result<ArmRun, RunError> {
    let arm = spec.arm;
    let (server, endpoints, journal) = match &s.target {
        Some(t) => (None, t.url.clone(), None),
        None => {
            let (tx, rx) = mpsc::channel(super::journal::SERVER_QUEUE);
            let server = EmbeddedServer::start(s, tx).await?;
            let urls = server.server.base_urls();
            (Some(server), urls, Some(rx))
        }
    };
    let made = match &spec.kind {
        ArmKind::External(u) => external(s, u, primary, requests, dir, &endpoints, cancel)
            .await
            .map(|(sut, sender)| (None, sut, ArmSender::External(sender))),
        kind => in_process(s, arm, kind, requests, &endpoints)
            .await
            .map(|(client, sender)| (client, None, sender)),
    };
    match made {
        Ok((client, sut, sender)) => Ok(ArmRun {
            arm,
            client,
            sender,
            sut,
            server,
            journal,
            endpoints,
            gauges: Arc::new(Gauges::default()),
        }),
        Err(e) => {
            if let Some(server) = server {
                server.shutdown().await;
            }
            Err(e)
        }
    }
}

/// The in-process client of an arm and what sends through it.
async fn in_process(
    s: &Scenario,
    arm: Arm,
    kind: &ArmKind,
    requests: &Arc<Vec<ChatRequest>>,
    endpoints: &[String],
) -> Result<(Option<Client>, ArmSender), RunError> {
    let config = match kind {
        ArmKind::Raw => s.client.bare(),
        _ => s.client.clone(),
    };
    let key = api_key(s);
    let client = Client::builder(config)
        .endpoints(endpoints.to_vec())
        .api_key(key.clone())
        .build()
        .map_err(|source| RunError::Client {
            arm: arm.as_str(),
            source,
        })?;
    let sender = match kind {
        ArmKind::Direct => ArmSender::Direct(
            Direct::new(
                endpoints,
                requests,
                &key,
                s.client.timeouts.connect,
                s.client.timeouts.total,
            )
            .await?,
        ),
        _ => ArmSender::Client(ClientSender::new(
            client.clone(),
            requests.clone(),
            s.load.stream,
        )),
    };
    Ok((Some(client), sender))
}

/// Starts an external system under test (when it has a command) and the
/// sender that posts to it.
async fn external(
    s: &Scenario,
    u: &UnderTest,
    primary: bool,
    requests: &Arc<Vec<ChatRequest>>,
    dir: &Path,
    endpoints: &[String],
    cancel: &CancellationToken,
) -> Result<(Option<Sut>, ExternalSender), RunError> {
    let port = free_port().map_err(|source| RunError::ReportDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let ph = Placeholders {
        port,
        nodes: endpoints.to_vec(),
    };
    let log = if primary {
        dir.join("sut.log")
    } else {
        dir.join(format!("sut.{}.log", u.name))
    };
    let (sut, endpoint) = sut::start(u, &ph, &log, cancel).await?;
    let bodies = requests
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| RunError::Request { index: 0, source })?;
    let sender = ExternalSender::new(
        Arm::named(&u.name).as_str(),
        endpoint,
        bodies,
        s.load.stream,
        u.correlate.marker,
        u.timeout,
        s.seed,
    )
    .map_err(|e| RunError::External(e.to_string()));
    match sender {
        Ok(sender) => Ok((sut, sender)),
        Err(e) => {
            if let Some(sut) = sut {
                sut.stop().await;
            }
            Err(e)
        }
    }
}

/// A loopback port free now, for a system under test to listen on.
fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}

/// The key the in-process clients send: `$DEEPSEEK_API_KEY` (or the
/// scenario's variable) when set, else a local placeholder.
fn api_key(s: &Scenario) -> String {
    std::env::var(&s.client.api_key_env)
        .ok()
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| LOCAL_KEY.to_string())
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
