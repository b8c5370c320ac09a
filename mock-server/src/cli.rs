//! Command-line front end shared by the `mock-server` binary and
//! `harness mock`: serve a scenario's server part until Ctrl-C.

use crate::server::guard::{ControlAccess, TOKEN_ENV};
use crate::{load_server_config, start, Error, JournalOptions, StartOptions};
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

/// Arguments of `mock-server` / `harness mock`.
#[derive(Debug, Clone, clap::Args)]
pub struct MockArgs {
    /// Scenario YAML: a full harness scenario (its `server:` part is used) or a bare server section.
    pub scenario: PathBuf,
    /// First port; node i listens on PORT+i (0 = ephemeral ports).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Number of nodes (overrides the scenario).
    #[arg(long)]
    pub nodes: Option<usize>,
    /// Host to bind.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Allow binding a non-loopback host.
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// RNG seed (overrides the scenario).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the attempt journal to FILE (one JSON line per chat-completions
    /// attempt as it ends; created or truncated). See docs/journal.md.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Records kept in memory for GET /_mock/journal (0 = 100000).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub journal_ring: usize,
    /// Record no journal at all (to measure what journaling costs).
    #[arg(long, conflicts_with_all = ["journal", "journal_ring"])]
    pub no_journal: bool,
    /// No control API: `/_mock/` answers 404.
    #[arg(long)]
    pub no_control: bool,
    /// Require `Authorization: Bearer TOKEN` on control requests (default:
    /// the `MOCK_CONTROL_TOKEN` environment variable, else none).
    #[arg(long, value_name = "TOKEN")]
    pub control_token: Option<String>,
    /// Accept control requests whatever their `Host` and `Origin` (behind
    /// a proxy or a DNS name); by default only loopback names or the
    /// address the server was reached on are, against CSRF and DNS
    /// rebinding from a browser.
    #[arg(long)]
    pub control_allow_foreign: bool,
}

/// Serves until Ctrl-C, printing each node's address first.
pub async fn run(args: MockArgs) -> Result<(), Error> {
    let config = load_server_config(&args.scenario)?;
    let mut stop = StopSignals::new().map_err(Error::Signal)?;
    let control = ControlAccess {
        disabled: args.no_control,
        token: args
            .control_token
            .clone()
            .or_else(|| std::env::var(TOKEN_ENV).ok())
            .filter(|t| !t.is_empty()),
        allow_foreign: args.control_allow_foreign,
    };
    if !args.host.is_loopback() && !control.disabled {
        eprintln!(
            "warning: listening on {}: the control API (/_mock/) lets anyone who can reach this port change the faults{}",
            args.host,
            if control.token.is_some() {
                " (a control token is required)"
            } else {
                " and has no authentication; pass --control-token (or MOCK_CONTROL_TOKEN) or --no-control"
            }
        );
    }
    let server = start(
        config,
        StartOptions {
            host: args.host,
            port: args.port,
            nodes: args.nodes,
            seed: args.seed,
            allow_non_loopback: args.allow_non_loopback,
            journal: JournalOptions {
                ring: args.journal_ring,
                file: args.journal.clone(),
                channel: None,
                disabled: args.no_journal,
            },
            control,
        },
    )
    .await?;
    // A reader that stops early (`mock-server s.yaml | head -1` to grab the
    // URL) must not take the server down with a broken-pipe panic.
    let mut out = std::io::stdout();
    for (i, url) in server.base_urls().iter().enumerate() {
        let _ = writeln!(out, "node {i}: {url}");
    }
    if let Some(path) = &args.journal {
        let _ = writeln!(out, "journal: {}", path.display());
    }
    if args.no_control {
        let _ = writeln!(out, "control API: disabled — Ctrl-C (or SIGTERM) to stop");
    } else {
        let _ = writeln!(
            out,
            "control API: {}/_mock/state, journal: {}/_mock/journal?since=0 — Ctrl-C (or SIGTERM) to stop",
            server.base_urls()[0],
            server.base_urls()[0]
        );
    }
    let _ = out.flush();
    stop.wait().await;
    server.shutdown().await;
    Ok(())
}

/// Ctrl-C, SIGTERM (`kill`, `docker stop`, CI cancellation) or SIGHUP (the
/// terminal closed): each stops the server the same graceful way, so what
/// it keeps (counters, a journal) is flushed rather than lost. Registered
/// before the addresses are printed, so a signal sent as soon as they are
/// read is caught too.
struct StopSignals([tokio::signal::unix::Signal; 3]);

impl StopSignals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals([
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        ]))
    }

    async fn wait(&mut self) {
        let [int, term, hup] = &mut self.0;
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
}
