//! Work that gets an OS thread and a runtime of its own.

/// Run `fut` on a current-thread runtime of its own OS thread and await its
/// result from anywhere: the recorder (periodic heavy work such as histogram
/// compression must not delay the generator's tasks), the open model's
/// scheduler (send instants must not wait behind request tasks), and the
/// closed model's load threads with `via: direct`.
pub(crate) fn on_own_thread<T: Send + 'static>(
    name: &str,
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> std::io::Result<tokio::sync::oneshot::Receiver<T>> {
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
        })?;
    Ok(rx)
}
