//! SIGINT, SIGTERM and SIGHUP as one "stop" for the commands that write a
//! report (`run`, `tune`): CI cancellation, `timeout`, `docker stop` and
//! Kubernetes send SIGTERM, a closed terminal SIGHUP, and each must end a
//! run the way Ctrl-C does (load stops, in-flight requests drain, the
//! partial report is written) rather than kill it with nothing on disk.
//!
//! The handlers live on a thread of their own with a tiny runtime, so they
//! outlive any one run's runtime and catch a signal that arrives while a run
//! is still being prepared; every run sees the process-wide count.

use std::sync::OnceLock;

use tokio::sync::watch;

/// A signal that ends a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`kill`, `timeout`, `docker stop`, CI cancellation).
    Terminate,
    /// SIGHUP (the terminal closed).
    Hangup,
}

impl Signal {
    /// `SIGINT`, `SIGTERM` or `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// The shell's convention, 128 + the signal's number: 130 (INT), 143
    /// (TERM), 129 (HUP), so scripts and CI read the cause as they would
    /// from a killed process, yet a complete partial report was written.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
            Signal::Hangup => 129,
        }
    }
}

/// Signals received so far by this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    /// How many (of any of the three).
    pub count: u32,
    /// The first one: it decides the exit code.
    pub first: Option<Signal>,
}

static STATE: OnceLock<watch::Sender<Received>> = OnceLock::new();

/// Installs the handlers (once per process; later calls only subscribe) and
/// returns a receiver of the running count. From the first call on, the
/// three signals no longer kill the process: the caller must stop on them.
pub fn subscribe() -> watch::Receiver<Received> {
    STATE
        .get_or_init(|| {
            let (tx, _) = watch::channel(Received::default());
            if let Err(e) = listen(tx.clone()) {
                eprintln!("warning: cannot listen for SIGTERM/SIGHUP ({e}); only Ctrl-C stops a run cleanly");
            }
            tx
        })
        .subscribe()
}

/// What has been received so far (nothing when [`subscribe`] was never
/// called).
pub fn received() -> Received {
    STATE.get().map(|tx| *tx.borrow()).unwrap_or_default()
}

fn listen(tx: watch::Sender<Received>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    // Registered here, before the thread starts, so a signal that arrives
    // right after `subscribe` returns is already caught.
    let (mut int, mut term, mut hup) = rt.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        ))
    })?;
    std::thread::Builder::new()
        .name("harness-signals".into())
        .spawn(move || {
            rt.block_on(async move {
                loop {
                    let s = tokio::select! {
                        Some(()) = int.recv() => Signal::Interrupt,
                        Some(()) = term.recv() => Signal::Terminate,
                        Some(()) = hup.recv() => Signal::Hangup,
                        else => return,
                    };
                    tx.send_modify(|r| {
                        r.count += 1;
                        r.first.get_or_insert(s);
                    });
                }
            })
        })?;
    Ok(())
}

/// The exit code of an interrupted command: that of the first signal, 130
/// when none was seen (an interrupt by other means).
pub fn exit_code() -> u8 {
    received().first.map_or(130, Signal::exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Hangup.exit_code(), 129);
        assert_eq!(Signal::Terminate.name(), "SIGTERM");
    }
}
