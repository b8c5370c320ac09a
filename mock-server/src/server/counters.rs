//! Per-node counters: requests, responses by status, faults injected, open
//! and total connections. Lock-free atomics; read as a serializable snapshot.

use crate::config::FaultKind;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

const STATUS_SLOTS: usize = 600;

/// Live counters of one node.
#[derive(Debug)]
pub struct NodeCounters {
    requests: AtomicU64,
    statuses: Box<[AtomicU64]>,
    faults: [AtomicU64; FaultKind::ALL.len()],
    open: AtomicI64,
    connections: AtomicU64,
}

impl Default for NodeCounters {
    fn default() -> Self {
        NodeCounters {
            requests: AtomicU64::new(0),
            statuses: (0..STATUS_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            faults: Default::default(),
            open: AtomicI64::new(0),
            connections: AtomicU64::new(0),
        }
    }
}

impl NodeCounters {
    /// One API request arrived (control requests are not counted).
    pub fn request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }

    /// A response with this status was started.
    pub fn status(&self, code: u16) {
        if let Some(c) = self.statuses.get(code as usize) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// A fault of this kind was injected.
    pub fn fault(&self, kind: FaultKind) {
        self.faults[kind.index()].fetch_add(1, Relaxed);
    }

    /// A connection opened; the guard counts the close.
    pub fn open_connection(&self) -> ConnGuard<'_> {
        self.open.fetch_add(1, Relaxed);
        self.connections.fetch_add(1, Relaxed);
        ConnGuard(self)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Relaxed).max(0) as usize
    }

    /// Zeroes everything but the open-connection gauge.
    pub fn reset(&self) {
        self.requests.store(0, Relaxed);
        self.connections.store(0, Relaxed);
        self.statuses.iter().for_each(|c| c.store(0, Relaxed));
        self.faults.iter().for_each(|c| c.store(0, Relaxed));
    }

    /// A consistent-enough copy for reports.
    pub fn snapshot(&self, node: usize, addr: SocketAddr) -> NodeSnapshot {
        NodeSnapshot {
            node,
            addr,
            requests: self.requests.load(Relaxed),
            by_status: self
                .statuses
                .iter()
                .enumerate()
                .filter_map(|(code, c)| {
                    let n = c.load(Relaxed);
                    (n > 0).then_some((code as u16, n))
                })
                .collect(),
            by_fault: FaultKind::ALL
                .iter()
                .filter_map(|k| {
                    let n = self.faults[k.index()].load(Relaxed);
                    (n > 0).then_some((k.name().to_string(), n))
                })
                .collect(),
            open_connections: self.open.load(Relaxed).max(0) as u64,
            connections_total: self.connections.load(Relaxed),
        }
    }
}

/// Decrements the open-connection gauge on drop.
pub struct ConnGuard<'a>(&'a NodeCounters);

impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Relaxed);
    }
}

/// Counters of one node at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeSnapshot {
    /// Node index.
    pub node: usize,
    /// Listening address.
    pub addr: SocketAddr,
    /// API requests received (not `/_mock/`).
    pub requests: u64,
    /// Responses by status code.
    pub by_status: BTreeMap<u16, u64>,
    /// Faults injected, by kind (`capacity` = over a concurrency cap).
    pub by_fault: BTreeMap<String, u64>,
    /// Connections open now.
    pub open_connections: u64,
    /// Connections accepted.
    pub connections_total: u64,
}

/// Counters of every node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountersSnapshot {
    /// One entry per node, by index.
    pub nodes: Vec<NodeSnapshot>,
}

impl CountersSnapshot {
    /// Sum of `requests` over nodes.
    pub fn total_requests(&self) -> u64 {
        self.nodes.iter().map(|n| n.requests).sum()
    }

    /// Count of a status summed over nodes.
    pub fn status(&self, code: u16) -> u64 {
        self.nodes
            .iter()
            .filter_map(|n| n.by_status.get(&code))
            .sum()
    }

    /// Count of a fault kind summed over nodes.
    pub fn fault(&self, name: &str) -> u64 {
        self.nodes.iter().filter_map(|n| n.by_fault.get(name)).sum()
    }
}
