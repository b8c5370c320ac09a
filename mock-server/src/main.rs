//! `mock-server <scenario.yaml>`: the fake DeepSeek API, standalone.

use clap::Parser;

/// Serve a scenario's fake DeepSeek server until Ctrl-C.
#[derive(Parser)]
#[command(name = "mock-server", version, about)]
struct Cli {
    #[command(flatten)]
    args: mock_server::cli::MockArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    mock_server::cli::run(cli.args).await?;
    Ok(())
}
