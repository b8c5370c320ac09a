//! A fake DeepSeek chat-completions API that injects faults from a seeded,
//! time-phased YAML scenario.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mock_server::Error> {
//! let config = mock_server::load_server_config("scenarios/brownout.yaml".as_ref())?;
//! let server = mock_server::start(config, mock_server::StartOptions::default()).await?;
//! println!("{:?}", server.base_urls());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod cli;
pub mod config;
pub mod journal;
pub mod plan;
pub mod server;

pub use config::{load_server_config, parse_server_config, ConfigError, PhaseInfo, ServerConfig};
pub use server::counters::{CountersSnapshot, NodeSnapshot};
pub use server::writer::DEFAULT_RING;

use server::state::Shared;
use server::writer::{Journal, Sinks};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The scenario is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Refused to listen beyond loopback without `allow_non_loopback`.
    #[error("refusing to bind non-loopback host {0}; pass --allow-non-loopback to expose the fake server")]
    NonLoopback(IpAddr),
    /// `port + node` does not fit in a port number.
    #[error("port {port} + {nodes} nodes exceeds 65535")]
    PortRange {
        /// First port.
        port: u16,
        /// Node count.
        nodes: usize,
    },
    /// Binding a listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address tried.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Waiting for Ctrl-C failed.
    #[error("signal handling failed: {0}")]
    Signal(std::io::Error),
    /// The journal file could not be created.
    #[error("cannot create the journal file {path}: {source}; pass a writable path to --journal")]
    JournalFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The journal's writer thread could not start.
    #[error("cannot start the journal writer thread: {0}")]
    JournalThread(std::io::Error),
}

/// How to start the server (beyond the scenario).
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Host to bind (default 127.0.0.1).
    pub host: IpAddr,
    /// 0 = an ephemeral port per node; else node i listens on `port + i`.
    pub port: u16,
    /// Overrides the scenario's node count.
    pub nodes: Option<usize>,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Allow a host other than loopback.
    pub allow_non_loopback: bool,
    /// Where the attempt journal goes (`docs/journal.md`).
    pub journal: JournalOptions,
    /// Who may use the control API (default: loopback names only, no
    /// token).
    pub control: server::guard::ControlAccess,
}

/// The attempt journal's sinks. The in-memory ring is always kept (it serves
/// `GET /_mock/journal`); the file and the channel are optional. A sink that
/// cannot keep up loses records (counted by [`MockServer::journal_dropped`]);
/// requests never wait for the journal.
#[derive(Debug, Clone, Default)]
pub struct JournalOptions {
    /// In-memory ring size (records kept for `GET /_mock/journal`); 0 =
    /// [`DEFAULT_RING`] (100,000 records, about 27 MB when full).
    pub ring: usize,
    /// File sink: one JSON line per record as attempts end (`harness mock
    /// --journal FILE`), created or truncated at start, flushed at least
    /// every 200 ms and at shutdown.
    pub file: Option<PathBuf>,
    /// In-process sink: the embedded server hands records to the harness's
    /// recorder. Every clone the server holds is dropped after the last
    /// record, when the server is shut down or dropped.
    pub channel: Option<tokio::sync::mpsc::Sender<journal::Attempt>>,
    /// Record nothing at all (`--no-journal`): only to measure what the
    /// journal costs; `/_mock/journal` then stays empty.
    pub disabled: bool,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            nodes: None,
            seed: None,
            allow_non_loopback: false,
            journal: JournalOptions::default(),
            control: server::guard::ControlAccess::default(),
        }
    }
}

/// A running fake server.
#[derive(Debug)]
pub struct MockServer {
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    cancel: CancellationToken,
    tracker: TaskTracker,
    journal_done: Option<server::writer::Done>,
}

/// Starts every node's listener and returns once they accept connections.
pub async fn start(mut config: ServerConfig, opts: StartOptions) -> Result<MockServer, Error> {
    if !opts.host.is_loopback() && !opts.allow_non_loopback {
        return Err(Error::NonLoopback(opts.host));
    }
    if let Some(n) = opts.nodes {
        if n == 0 || n > config::MAX_NODES {
            return Err(ConfigError::invalid(
                "nodes",
                format!("must be in [1, {}], got {n}", config::MAX_NODES),
            )
            .into());
        }
        config.nodes = n;
    }
    config.validate()?;
    let seed = opts.seed.or(config.seed).unwrap_or(0);
    let mut listeners = Vec::with_capacity(config.nodes);
    for i in 0..config.nodes {
        let port = if opts.port == 0 {
            0
        } else {
            u16::try_from(opts.port as usize + i).map_err(|_| Error::PortRange {
                port: opts.port,
                nodes: config.nodes,
            })?
        };
        let addr = SocketAddr::new(opts.host, port);
        let l = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        listeners.push(l);
    }
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .map(|l| l.local_addr())
        .collect::<Result<_, _>>()
        .map_err(|source| Error::Bind {
            addr: SocketAddr::new(opts.host, opts.port),
            source,
        })?;
    let guard = Arc::new(server::guard::Guard {
        max_connections: config
            .max_connections
            .unwrap_or_else(|| server::guard::default_max_connections(config.nodes)),
        control: opts.control.clone(),
    });
    if !opts.host.is_loopback() && !guard.control.disabled && guard.control.token.is_none() {
        tracing::warn!(
            host = %opts.host,
            "the control API (/_mock/) has no authentication: anyone who can reach this port can change the faults; pass --control-token or --no-control"
        );
    }
    let file = match opts.journal.file {
        Some(path) => match std::fs::File::create(&path) {
            Ok(f) => Some((f, path)),
            Err(source) => return Err(Error::JournalFile { path, source }),
        },
        None => None,
    };
    let (journal, journal_done) = Journal::start(Sinks {
        ring: opts.journal.ring,
        file,
        channel: opts.journal.channel,
        disabled: opts.journal.disabled,
    })
    .map_err(Error::JournalThread)?;
    let shared = Arc::new(Shared::new(config, seed, &addrs, journal));
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    for (i, l) in listeners.into_iter().enumerate() {
        tracker.spawn(server::conn::accept_loop(
            l,
            shared.clone(),
            i,
            guard.clone(),
            cancel.clone(),
            tracker.clone(),
        ));
    }
    Ok(MockServer {
        shared,
        addrs,
        cancel,
        tracker,
        journal_done: Some(journal_done),
    })
}

impl MockServer {
    /// Listening address of each node.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// `http://HOST:PORT` per node; clients append `/chat/completions`.
    pub fn base_urls(&self) -> Vec<String> {
        self.addrs.iter().map(|a| format!("http://{a}")).collect()
    }

    /// Journal records lost so far, summed over the sinks that lost them
    /// (the writer's queue full, the channel full or closed, the file
    /// unwritable).
    pub fn journal_dropped(&self) -> u64 {
        self.shared.journal.dropped()
    }

    /// Clock origin of fault phases.
    pub fn t0(&self) -> tokio::time::Instant {
        self.shared.t0()
    }

    /// Restarts t0, zeroes counters and reseeds the node RNGs.
    pub fn reset(&self) {
        self.shared.reset()
    }

    /// Counters of every node.
    pub fn counters(&self) -> CountersSnapshot {
        self.shared.counters()
    }

    /// The configuration in use (after start options were applied).
    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }

    /// Stops accepting, aborts in-flight requests (their journal records
    /// say `shutdown`) and waits (up to 5 s each) for every task to end and
    /// for the journal to be written, flushed and its channel closed.
    pub async fn shutdown(mut self) {
        self.stop();
        self.tracker.close();
        if tokio::time::timeout(Duration::from_secs(5), self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("mock server tasks still running 5s after shutdown");
        }
        let done = self.journal_done.take();
        // The writer ends once the last handle on the server state is gone:
        // ours goes here, the tasks' went with them.
        drop(self);
        if let Some(done) = done {
            if tokio::time::timeout(Duration::from_secs(5), done)
                .await
                .is_err()
            {
                tracing::warn!("mock server journal still open 5s after shutdown");
            }
        }
    }

    fn stop(&self) {
        self.shared.journal.stop();
        self.cancel.cancel();
    }
}

impl Drop for MockServer {
    /// Stops the server as [`shutdown`](Self::shutdown) does, without
    /// waiting: its tasks end on their runtime, then the journal is written
    /// and its channel closed.
    fn drop(&mut self) {
        self.stop();
    }
}
