//! An external system under test as a process: started with only the
//! environment the scenario gives (plus `PATH` and `HOME`) in a process
//! group of its own, its output in the report's `sut.log`, polled until
//! ready, and stopped (SIGTERM to the whole group, SIGKILL after a grace
//! period) on every way out: the end of the run, an error, Ctrl-C during
//! start-up, or a panic (the guard's `Drop`).

pub mod placeholders;

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use placeholders::Placeholders;

use crate::scenario::UnderTest;

/// Why a system under test could not be started or made ready.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SutError {
    /// A placeholder could not be filled.
    #[error("{name}: {message}")]
    Placeholder {
        /// The system under test.
        name: String,
        /// What could not be filled.
        message: String,
    },
    /// The log file could not be created.
    #[error("{name}: cannot create {}: {source}", path.display())]
    Log {
        /// The system under test.
        name: String,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The command could not be started at all.
    #[error("{name}: cannot start `{command}`: {source} (is it installed and on PATH? the command gets only PATH, HOME and its `env:`)")]
    Spawn {
        /// The system under test.
        name: String,
        /// The program.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// It exited before it was ready.
    #[error("{name}: `{command}` exited before it was ready ({status}); last lines of its output ({}):\n{tail}", log.display())]
    Exited {
        /// The system under test.
        name: String,
        /// The command line.
        command: String,
        /// How it exited.
        status: ExitStatus,
        /// Where its output is.
        log: PathBuf,
        /// The end of that output.
        tail: String,
    },
    /// It never answered the readiness check.
    #[error("{name}: not ready after {}: GET {url} never answered 2xx (stopped it); last lines of its output ({}):\n{tail}", humantime::format_duration(*waited), log.display())]
    NotReady {
        /// The system under test.
        name: String,
        /// The readiness URL.
        url: String,
        /// How long the harness waited.
        waited: Duration,
        /// Where its output is.
        log: PathBuf,
        /// The end of that output.
        tail: String,
    },
    /// Ctrl-C while waiting for it.
    #[error("{0}: interrupted while starting (stopped it)")]
    Interrupted(String),
}

/// A started system under test; stopping it is `stop().await`, and a
/// dropped guard still kills its whole process group.
#[derive(Debug)]
pub struct Sut {
    name: String,
    child: Option<Child>,
    pgid: Option<Pid>,
    grace: Duration,
    log: PathBuf,
}

/// Where an external system under test answers, once started.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `url` with its placeholders filled.
    pub url: String,
    /// `headers` with their placeholders filled (values may be secrets:
    /// never logged).
    pub headers: Vec<(String, String)>,
}

/// Fills the placeholders of `spec`, starts its command (if any) with
/// output to `log`, and waits until it is ready or `cancel` fires.
pub async fn start(
    spec: &UnderTest,
    ph: &Placeholders,
    log: &Path,
    cancel: &CancellationToken,
) -> Result<(Option<Sut>, Endpoint), SutError> {
    let fill = |t: &str| {
        ph.apply(t).map_err(|message| SutError::Placeholder {
            name: spec.name.clone(),
            message,
        })
    };
    let url = fill(&spec.url)?;
    let headers: Vec<(String, String)> = spec
        .headers
        .iter()
        .map(|(k, v)| Ok((k.clone(), fill(v)?)))
        .collect::<Result<_, SutError>>()?;
    let ready = match &spec.ready {
        Some(r) => Some((fill(&r.url)?, r.timeout)),
        None => None,
    };
    let mut sut = match &spec.command {
        None => None,
        Some(argv) => {
            let argv: Vec<String> = argv.iter().map(|a| fill(a)).collect::<Result<_, _>>()?;
            let env: Vec<(String, String)> = spec
                .env
                .iter()
                .map(|(k, v)| Ok((k.clone(), fill(v)?)))
                .collect::<Result<_, SutError>>()?;
            Some(spawn(spec, &argv, &env, log)?)
        }
    };
    if let Some((ready_url, timeout)) = ready {
        let waited = wait_ready(&ready_url, timeout, sut.as_mut(), cancel).await;
        if let Err(e) = waited {
            let tail = tail_of(log);
            let command = spec.command.clone().unwrap_or_default().join(" ");
            let err = match e {
                Wait::Exited(status) => SutError::Exited {
                    name: spec.name.clone(),
                    command,
                    status,
                    log: log.to_path_buf(),
                    tail,
                },
                Wait::TimedOut => SutError::NotReady {
                    name: spec.name.clone(),
                    url: ready_url,
                    waited: timeout,
                    log: log.to_path_buf(),
                    tail,
                },
                Wait::Cancelled => SutError::Interrupted(spec.name.clone()),
            };
            if let Some(s) = sut {
                s.stop().await;
            }
            return Err(err);
        }
    }
    Ok((sut, Endpoint { url, headers }))
}

fn spawn(
    spec: &UnderTest,
    argv: &[String],
    env: &[(String, String)],
    log: &Path,
) -> Result<Sut, SutError> {
    let file = std::fs::File::create(log).map_err(|source| SutError::Log {
        name: spec.name.clone(),
        path: log.to_path_buf(),
        source,
    })?;
    let err_file = file.try_clone().map_err(|source| SutError::Log {
        name: spec.name.clone(),
        path: log.to_path_buf(),
        source,
    })?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err_file))
        // A group of its own: the whole tree (an interpreter and what it
        // starts) is signalled at once, and a Ctrl-C at the terminal
        // reaches the harness, which stops it in order.
        .process_group(0);
    for var in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    let child = cmd.spawn().map_err(|source| SutError::Spawn {
        name: spec.name.clone(),
        command: argv[0].clone(),
        source,
    })?;
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    Ok(Sut {
        name: spec.name.clone(),
        child: Some(child),
        pgid,
        grace: spec.stop_grace,
        log: log.to_path_buf(),
    })
}

enum Wait {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

/// Polls `url` every 100 ms until it answers 2xx.
async fn wait_ready(
    url: &str,
    timeout: Duration,
    mut sut: Option<&mut Sut>,
    cancel: &CancellationToken,
) -> Result<(), Wait> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .map_err(|_| Wait::TimedOut)?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(s) = sut.as_deref_mut() {
            if let Some(status) = s.exited() {
                return Err(Wait::Exited(status));
            }
        }
        let ok = tokio::select! {
            _ = cancel.cancelled() => return Err(Wait::Cancelled),
            r = client.get(url).send() => r.is_ok_and(|r| r.status().is_success()),
        };
        if ok {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Wait::TimedOut);
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(Wait::Cancelled),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

impl Sut {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its output file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// How it exited, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGTERM to the whole group, SIGKILL after the grace period; returns
    /// how the command itself exited.
    pub async fn stop(mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            // The command is gone; what it left in its group goes too.
            self.signal(Signal::SIGKILL);
            return Some(status);
        }
        self.signal(Signal::SIGTERM);
        let status = match tokio::time::timeout(self.grace, child.wait()).await {
            Ok(s) => s.ok(),
            Err(_) => {
                self.signal(Signal::SIGKILL);
                child.wait().await.ok()
            }
        };
        // Children it started and left behind.
        self.signal(Signal::SIGKILL);
        status
    }

    fn signal(&self, sig: Signal) {
        if let Some(pgid) = self.pgid {
            // ESRCH (the group is already empty) is the expected end.
            let _ = killpg(pgid, sig);
        }
    }
}

impl Drop for Sut {
    fn drop(&mut self) {
        if self.child.is_some() {
            // Not stopped in order (an error path or a panic): no grace
            // period can be awaited here, so the group is killed at once.
            self.signal(Signal::SIGKILL);
        }
    }
}

/// The last lines of a log, for error messages.
pub fn tail_of(log: &Path) -> String {
    const MAX: u64 = 2_000;
    let Ok(mut f) = std::fs::File::open(log) else {
        return "(no output)".into();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(MAX)));
    let mut bytes = Vec::new();
    let _ = f.read_to_end(&mut bytes);
    let buf = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = buf.lines().collect();
    let tail = lines[lines.len().saturating_sub(10)..].join("\n");
    if tail.trim().is_empty() {
        "(no output)".into()
    } else {
        tail
    }
}
