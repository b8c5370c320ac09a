//! `harness run`: one scenario end to end, in three stages: [`prepare`]
//! (request bodies, report folder, per arm the embedded fake server, the
//! client and the sender), [`execute`] (drive the load, record it on a
//! thread of its own) and [`finish`] (stop the servers, write the report,
//! print the table). Both arms get their own server instance with the same
//! seed, so they meet the same faults. All timestamps are offsets from one
//! t0.

mod embedded;
mod error;
mod events;
mod execute;
mod finish;
mod journal;
mod prepare;
mod watch;

use std::path::Path;

use crate::scenario::Scenario;

pub use error::RunError;
pub use events::{event_record, node_label};
pub use finish::RunOutput;
pub use journal::journal_file;
pub use prepare::{request_bodies, utc_stamp};
pub use watch::{AbortRule, Progress};

/// Runs a parsed scenario and writes its report in a new folder under
/// `out_root`; with `abort` rules, stops the load early once one can no
/// longer pass. `file` is the scenario's path, recorded in the summary.
pub async fn run(
    s: &Scenario,
    file: &Path,
    out_root: &Path,
    progress: Progress,
    abort: Vec<AbortRule>,
) -> Result<RunOutput, RunError> {
    let mut prepared = prepare::prepare(s, out_root).await?;
    match execute::execute(s, &mut prepared, progress, abort).await {
        Ok(executed) => finish::finish(s, file, prepared, executed, progress).await,
        Err(e) => {
            prepared.shutdown().await;
            Err(e)
        }
    }
}
