//! State shared by every node of one server: configuration, the replaceable
//! fault set, the clock origin t0, the attempt journal's intake, and per-node
//! counters, RNG and capacity.

use super::counters::{CountersSnapshot, NodeCounters};
use super::writer::Journal;
use crate::config::{ServerConfig, WhenFull};
use crate::plan::FaultSet;
use http::HeaderValue;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Whole-server state.
#[derive(Debug)]
pub struct Shared {
    /// The configuration the server started with.
    pub config: ServerConfig,
    /// Effective seed.
    pub seed: u64,
    faults: RwLock<Arc<FaultSet>>,
    // Lets the fault-free fast path skip the lock and the Arc refcount,
    // which both threads would otherwise bounce on every request.
    has_faults: AtomicBool,
    // t0 is `base + t0_ns`: one atomic load per read instead of a lock, and
    // every instant of the journal can be kept as nanoseconds since `base`.
    base: Instant,
    t0_ns: AtomicU64,
    /// Nodes by index.
    pub nodes: Vec<Node>,
    /// Where finished attempts go (the writer thread's intake).
    pub journal: Journal,
}

/// One listener.
#[derive(Debug)]
pub struct Node {
    /// Index (0-based).
    pub index: usize,
    /// Listening address.
    pub addr: SocketAddr,
    /// Counters.
    pub counters: NodeCounters,
    /// Fault and generation decisions, seeded from (seed, index).
    pub rng: Mutex<ChaCha8Rng>,
    /// Concurrency caps.
    pub caps: Caps,
    /// `x-mock-node` header value.
    pub header: HeaderValue,
}

/// Concurrency caps of one node.
#[derive(Debug, Default)]
pub struct Caps {
    /// Per-node cap.
    pub node: Option<Arc<Semaphore>>,
    /// Per canonical model.
    pub models: HashMap<&'static str, Arc<Semaphore>>,
    /// Reject or queue.
    pub when_full: WhenFull,
    /// Keep-alive period while queued.
    pub keep_alive_every: Duration,
}

fn node_rng(seed: u64, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Independent stream per node: same seed, different but fixed sequences.
    rng.set_stream(index as u64);
    rng
}

fn caps(config: &ServerConfig) -> Caps {
    let Some(cap) = &config.capacity else {
        return Caps::default();
    };
    let mut models: HashMap<&'static str, usize> = HashMap::new();
    for (name, n) in &cap.per_model {
        if let Some(canonical) = crate::api::models::canonical(name) {
            let e = models.entry(canonical).or_insert(*n);
            *e = (*e).min(*n);
        }
    }
    Caps {
        node: cap.max_concurrent.map(|n| Arc::new(Semaphore::new(n))),
        models: models
            .into_iter()
            .map(|(k, n)| (k, Arc::new(Semaphore::new(n))))
            .collect(),
        when_full: cap.when_full,
        keep_alive_every: cap.keep_alive_every.0 .0,
    }
}

impl Shared {
    /// State for listeners bound at `addrs`.
    pub fn new(config: ServerConfig, seed: u64, addrs: &[SocketAddr], journal: Journal) -> Self {
        let faults = FaultSet::new(&config.faults, &config.phases);
        let nodes = addrs
            .iter()
            .enumerate()
            .map(|(index, addr)| Node {
                index,
                addr: *addr,
                counters: NodeCounters::default(),
                rng: Mutex::new(node_rng(seed, index)),
                caps: caps(&config),
                header: HeaderValue::from(index),
            })
            .collect();
        Shared {
            config,
            seed,
            has_faults: AtomicBool::new(!faults.is_empty()),
            faults: RwLock::new(Arc::new(faults)),
            base: Instant::now(),
            t0_ns: AtomicU64::new(0),
            nodes,
            journal,
        }
    }

    /// Clock origin of phases.
    pub fn t0(&self) -> Instant {
        self.base + Duration::from_nanos(self.t0_ns.load(Ordering::Relaxed))
    }

    /// Time since t0.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(self.t0())
    }

    /// Nanoseconds from the server's start to `now` (the journal's clock;
    /// [`t0_ns`](Self::t0_ns) turns it into an offset from t0).
    pub fn clock_ns(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.base).as_nanos() as u64
    }

    /// t0 on the [`clock_ns`](Self::clock_ns) scale.
    pub fn t0_ns(&self) -> u64 {
        self.t0_ns.load(Ordering::Relaxed)
    }

    /// The fault set in force; `None` when it is empty.
    pub fn faults(&self) -> Option<Arc<FaultSet>> {
        if !self.has_faults.load(Ordering::Acquire) {
            return None;
        }
        Some(
            self.faults
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }

    /// Swaps in a new fault set (control API).
    pub fn replace_faults(&self, set: FaultSet) {
        let mut guard = self.faults.write().unwrap_or_else(PoisonError::into_inner);
        self.has_faults.store(!set.is_empty(), Ordering::Release);
        *guard = Arc::new(set);
    }

    /// Restarts t0, zeroes counters and reseeds every node's RNG, so a run
    /// after a reset replays the decisions of the first.
    pub fn reset(&self) {
        self.t0_ns
            .store(self.clock_ns(Instant::now()), Ordering::Relaxed);
        for n in &self.nodes {
            n.counters.reset();
            *n.rng.lock().unwrap_or_else(PoisonError::into_inner) = node_rng(self.seed, n.index);
        }
    }

    /// Counters of all nodes.
    pub fn counters(&self) -> CountersSnapshot {
        CountersSnapshot {
            nodes: self
                .nodes
                .iter()
                .map(|n| n.counters.snapshot(n.index, n.addr))
                .collect(),
        }
    }
}
