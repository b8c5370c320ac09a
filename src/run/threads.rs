//! Threads of their own for the embedded fake server and the recorder, so
//! neither delays the generator's tasks on the shared runtime.

use super::{RunError, Scenario};

/// The embedded fake server, on a runtime of its own so its work does not
/// queue behind (or delay) the generator's tasks, as a separate process
/// would not.
pub(super) struct EmbeddedServer {
    pub(super) server: mock_server::MockServer,
    rt: tokio::runtime::Runtime,
}

impl EmbeddedServer {
    pub(super) async fn start(s: &Scenario) -> Result<EmbeddedServer, RunError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mock-server")
            .enable_all()
            .build()
            .map_err(|e| RunError::Other(format!("fake server runtime: {e}")))?;
        let opts = mock_server::StartOptions {
            seed: Some(s.seed),
            ..Default::default()
        };
        let server = rt
            .spawn(mock_server::start(s.server.clone(), opts))
            .await
            .map_err(|e| RunError::Other(format!("starting the fake server: {e}")))?
            .map_err(|e| RunError::Other(format!("starting the fake server: {e}")))?;
        Ok(EmbeddedServer { server, rt })
    }

    pub(super) async fn shutdown(self) {
        let _ = self.rt.spawn(self.server.shutdown()).await;
        self.rt.shutdown_background();
    }
}

/// Run `fut` on a current-thread runtime of its own OS thread, so periodic
/// heavy work (histogram compression, progress output) never delays the
/// generator's tasks; await its result.
pub(super) fn on_own_thread<T: Send + 'static>(
    name: &str,
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<tokio::sync::oneshot::Receiver<T>, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                let _ = tx.send(rt.block_on(fut));
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(rx)
}
