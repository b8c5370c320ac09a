//! A runtime of its own for the embedded fake server, so its work does not
//! delay the generator's tasks on the shared runtime.

use super::error::RunError;
use crate::scenario::Scenario;

/// The embedded fake server, on a runtime of its own so its work does not
/// queue behind (or delay) the generator's tasks, as a separate process
/// would not.
pub(super) struct EmbeddedServer {
    pub(super) server: mock_server::MockServer,
    rt: Rt,
}

/// The server's runtime, shut down in the background when dropped: a plain
/// `Runtime` dropped on an error path inside the harness's own async code
/// panics ("Cannot drop a runtime in a context where blocking is not
/// allowed") and hides the error that led there.
struct Rt(Option<tokio::runtime::Runtime>);

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl EmbeddedServer {
    /// Starts `s`'s server; its attempt journal goes to `journal`.
    pub(super) async fn start(
        s: &Scenario,
        journal: tokio::sync::mpsc::Sender<mock_server::journal::Attempt>,
    ) -> Result<EmbeddedServer, RunError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mock-server")
            .enable_all()
            .build()
            .map_err(RunError::ServerRuntime)?;
        let handle = rt.handle().clone();
        let rt = Rt(Some(rt));
        let opts = mock_server::StartOptions {
            seed: Some(s.seed),
            journal: mock_server::JournalOptions {
                channel: Some(journal),
                ..Default::default()
            },
            ..Default::default()
        };
        let server = handle
            .spawn(mock_server::start(s.server.clone(), opts))
            .await
            .map_err(RunError::ServerTask)??;
        Ok(EmbeddedServer { server, rt })
    }

    /// Journal records the server had to drop (its queue was full).
    pub(super) fn journal_dropped(&self) -> u64 {
        self.server.journal_dropped()
    }

    pub(super) async fn shutdown(self) {
        if let Some(rt) = &self.rt.0 {
            let _ = rt.spawn(self.server.shutdown()).await;
        }
    }
}
