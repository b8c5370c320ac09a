//! Command-line front end shared by the `mock-server` binary and
//! `harness mock`: serve a scenario's server part until Ctrl-C.

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
}

/// Serves until Ctrl-C, printing each node's address first.
pub async fn run(args: MockArgs) -> Result<(), Error> {
    let config = load_server_config(&args.scenario)?;
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
    let _ = writeln!(
        out,
        "control API: {}/_mock/state, journal: {}/_mock/journal?since=0 — Ctrl-C to stop",
        server.base_urls()[0],
        server.base_urls()[0]
    );
    let _ = out.flush();
    let signal = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    signal.map_err(Error::Signal)
}
