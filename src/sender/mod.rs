//! What carries a run's requests: the seam between the load driver and the
//! system under test. The driver decides when a request leaves and records
//! what came back; a [`Sender`] sends it and measures it into the
//! [`Outcome`]. Each way of sending is one module: [`client`] (the client
//! under test, or the bare client of the raw arm) and [`direct`] (plain
//! HTTP/1.1, no client). A new one (an adapter over HTTP to an external
//! system under test) is a new module implementing [`Sender`]; `harness
//! run` picks one per arm from `load.via` (`run::prepare`).
//!
//! This file is the seam only: the implementations import it, it imports
//! none of them, so there is no cycle between the files.

pub mod client;
pub mod direct;
pub mod external;

use std::future::Future;

use tokio::time::Instant;

use crate::outcome::Outcome;

/// Where the closed model's virtual users run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// As tasks of the shared runtime: what a client that spreads its own
    /// work (connection tasks, pools) over the runtime's workers expects.
    Shared,
    /// One current-thread runtime per core, each owning its users, a
    /// [`Sender::fork`] of the sender and an outcome forwarder, as oha and
    /// wrk run: a request, its connection and its outcome's hand-off stay on
    /// one thread.
    PerCore,
}

/// Sends one request for a scheduled slot and measures it.
///
/// The driver calls [`Sender::send`] with an [`Outcome`] whose `arm`,
/// `intended` and `sent` are set; the sender fills in what the answer told
/// (attempts, statuses, class, and for streams TTFT, inter-token gaps and
/// tokens). The driver stamps `done` when `send` returns, and abandons a
/// request (drops the future) when the drain limit or a second Ctrl-C ends
/// it, so a sender must hold no state that a dropped future would corrupt.
pub trait Sender: Clone + Send + Sync + 'static {
    /// What one sending task keeps between its requests: a closed-model
    /// user's state lives as long as the user, an open-model request's for
    /// that one request. A connection a sender reuses lives here.
    type Conn: Default + Send + 'static;

    /// Where the closed model's users run.
    const THREADS: Threads = Threads::Shared;

    /// A copy for one load thread of its own ([`Threads::PerCore`]); by
    /// default a clone sharing everything.
    fn fork(&self) -> Self {
        self.clone()
    }

    /// Sends request body `index` (of the scenario's `load.requests`),
    /// started at `start` (the instant `o.sent` stands for), and fills in
    /// `o`.
    fn send(
        &self,
        conn: &mut Self::Conn,
        index: usize,
        start: Instant,
        o: &mut Outcome,
    ) -> impl Future<Output = ()> + Send;

    /// A sending task is done with its state (e.g. a connection goes back
    /// to a pool). By default it is dropped.
    fn release(&self, conn: Self::Conn) {
        drop(conn);
    }
}
