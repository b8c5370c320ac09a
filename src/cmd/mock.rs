//! `harness mock`: serve a scenario's fake DeepSeek server until Ctrl-C
//! (the same as the `mock-server` binary).

use super::status::{Error, Status};

/// `harness mock` arguments: the fake server's own.
pub use mock_server::cli::MockArgs;

/// Serves until Ctrl-C.
pub async fn run(args: MockArgs) -> Result<Status, Error> {
    mock_server::cli::run(args).await?;
    Ok(Status::Ok)
}
