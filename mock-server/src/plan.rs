//! The fault decision for one request: a pure function of the active fault
//! set, the time since t0, the node, whether the request streams, and the
//! node's RNG.
//!
//! Rules (also in the README):
//! - Active faults are the always-on `faults` followed by the faults of every
//!   phase active at `elapsed`, in file order, filtered by node.
//! - Every active fault draws exactly one uniform number, fired or not, so
//!   the same request order replays the same decisions.
//! - Latency faults stack (delays add up, per target).
//! - Response faults (status, reset, close_mid_body, truncated_json, stall,
//!   queue_wait): the first that fires wins, later ones are skipped.
//! - Stream faults only fire for `stream: true`. Ending faults (stream_drop,
//!   stream_stall): first wins. Modifiers (slow_drip, malformed_chunk,
//!   missing_done): the first of each kind applies.

use crate::api::errors::ErrorReply;
use crate::config::fault::{AfterWait, DropMode, FaultParams, LatencyOn, NodeDownMode};
use crate::config::{DurationDist, Fault, FaultKind, Phase};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;

/// A fault ready to fire: scope as a node bitmask, status replies pre-built.
#[derive(Debug, Clone)]
struct Compiled {
    kind: FaultKind,
    rate: f64,
    nodes: u64,
    action: Action,
}

/// What a fired fault does, by effect rather than by kind: kinds that share
/// an effect (every response fault but `queue_wait`) share its rule in
/// [`apply`].
#[derive(Debug, Clone)]
enum Action {
    /// Delay the headers or the first token; delays add up.
    Latency(DurationDist, LatencyOn),
    /// Replace the reply; the first response fault wins.
    Respond(ResponseFault),
    /// A response fault whose wait is drawn when it fires.
    QueueWait(DurationDist, AfterWait, Duration),
    /// End the stream early; the first wins (streams only).
    EndStream(StreamEnd),
    /// Pace tokens at this rate (streams only).
    SlowDrip(f64),
    /// One broken chunk after N tokens (streams only).
    Malformed(u32),
    /// No `data: [DONE]` (streams only).
    MissingDone,
}

/// Each kind's effect: the one step of the plan written per kind.
fn action(params: &FaultParams) -> Action {
    match params {
        FaultParams::Latency(l) => Action::Latency(l.delay, l.on),
        FaultParams::Status(s) => Action::Respond(ResponseFault::Status(Arc::new(
            ErrorReply::from_status_fault(s),
        ))),
        FaultParams::Reset(_) => Action::Respond(ResponseFault::Reset),
        FaultParams::CloseMidBody(_) => Action::Respond(ResponseFault::CloseMidBody),
        FaultParams::TruncatedJson(_) => Action::Respond(ResponseFault::TruncatedJson),
        FaultParams::Stall(_) => Action::Respond(ResponseFault::Stall),
        FaultParams::QueueWait(q) => Action::QueueWait(q.wait, q.then, q.keep_alive_every.0 .0),
        FaultParams::StreamDrop(d) => Action::EndStream(StreamEnd::Drop {
            after: d.after_tokens,
            mode: d.mode,
        }),
        FaultParams::StreamStall(s) => Action::EndStream(StreamEnd::Stall {
            after: s.after_tokens,
        }),
        FaultParams::SlowDrip(s) => Action::SlowDrip(s.tokens_per_second.0),
        FaultParams::MalformedChunk(m) => Action::Malformed(m.after_tokens),
        FaultParams::MissingDone(_) => Action::MissingDone,
        // The listener side of a down node is `server::door`; a request that
        // still arrives on an open connection meets the same fate as a
        // connect would.
        FaultParams::NodeDown(n) => Action::Respond(match n.mode {
            NodeDownMode::Refuse => ResponseFault::Reset,
            NodeDownMode::Blackhole => ResponseFault::Stall,
        }),
    }
}

#[derive(Debug, Clone)]
struct CompiledPhase {
    name: String,
    phase: Phase,
    faults: Vec<Compiled>,
}

/// The active fault set of a server, replaceable at runtime.
#[derive(Debug, Clone, Default)]
pub struct FaultSet {
    base: Vec<Compiled>,
    phases: Vec<CompiledPhase>,
}

/// What a response fault does to the reply.
#[derive(Debug, Clone)]
pub enum ResponseFault {
    /// Answer with this error.
    Status(Arc<ErrorReply>),
    /// RST before any byte.
    Reset,
    /// Headers, part of the body, FIN.
    CloseMidBody,
    /// Cut JSON (non-streaming) or a cut first chunk then FIN (streaming).
    TruncatedJson,
    /// Send nothing, forever.
    Stall,
    /// Keep-alives for `wait`, every `every`, then answer or close.
    QueueWait {
        /// Total wait.
        wait: Duration,
        /// What follows.
        then: AfterWait,
        /// Keep-alive period.
        every: Duration,
    },
}

/// How a stream ends early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// Close after N tokens.
    Drop {
        /// Tokens sent first.
        after: u32,
        /// FIN or RST.
        mode: DropMode,
    },
    /// Go silent after N tokens.
    Stall {
        /// Tokens sent first.
        after: u32,
    },
}

/// Everything decided for one request.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// Delay before the response headers.
    pub header_delay: Duration,
    /// Extra delay before the first token.
    pub first_token_delay: Duration,
    /// The winning response fault.
    pub response: Option<ResponseFault>,
    /// The winning stream-ending fault.
    pub stream_end: Option<StreamEnd>,
    /// Token rate override.
    pub slow_drip: Option<f64>,
    /// Send one broken chunk after this many tokens.
    pub malformed_after: Option<u32>,
    /// Leave out `data: [DONE]`.
    pub missing_done: bool,
    /// Bitmask of fired [`FaultKind`]s (by index), for counters.
    pub fired: u32,
}

impl Decision {
    /// Kinds that fired.
    pub fn fired_kinds(&self) -> impl Iterator<Item = FaultKind> + '_ {
        FaultKind::ALL
            .into_iter()
            .filter(|k| self.fired & (1 << k.index()) != 0)
    }
}

fn node_mask(nodes: Option<&[usize]>) -> u64 {
    match nodes {
        None => u64::MAX,
        Some(list) => list
            .iter()
            .filter(|n| **n < 64)
            .fold(0, |m, n| m | (1u64 << n)),
    }
}

fn compile(f: &Fault, phase_mask: u64) -> Compiled {
    Compiled {
        kind: f.kind(),
        rate: f.rate.get(),
        nodes: node_mask(f.nodes.as_deref()) & phase_mask,
        action: action(&f.params),
    }
}

impl FaultSet {
    /// Compiles always-on faults and phases.
    pub fn new(faults: &[Fault], phases: &[Phase]) -> Self {
        FaultSet {
            base: faults.iter().map(|f| compile(f, u64::MAX)).collect(),
            phases: phases
                .iter()
                .map(|p| {
                    let mask = node_mask(p.nodes.as_deref());
                    CompiledPhase {
                        name: p.name.clone(),
                        phase: p.clone(),
                        faults: p.faults.iter().map(|f| compile(f, mask)).collect(),
                    }
                })
                .collect(),
        }
    }

    /// True when there is nothing to decide (the benchmark fast path).
    pub fn is_empty(&self) -> bool {
        self.base.is_empty() && self.phases.is_empty()
    }

    /// Names of phases active at `elapsed` for `node`.
    pub fn active_phases(&self, elapsed: Duration, node: usize) -> Vec<String> {
        self.phases
            .iter()
            .filter(|p| {
                p.phase.is_active(elapsed) && node_mask(p.phase.nodes.as_deref()) & bit(node) != 0
            })
            .map(|p| p.name.clone())
            .collect()
    }

    /// Whether `node` is down at `elapsed`, and how: the first active
    /// `node_down` fault scoped to it (its `rate` is for requests only; the
    /// listener is either down or not).
    pub fn node_down(&self, elapsed: Duration, node: usize) -> Option<NodeDownMode> {
        let active = self.phases.iter().filter(|p| p.phase.is_active(elapsed));
        self.base
            .iter()
            .chain(active.flat_map(|p| p.faults.iter()))
            .filter(|c| c.nodes & bit(node) != 0)
            .find_map(|c| match (&c.kind, &c.action) {
                (FaultKind::NodeDown, Action::Respond(ResponseFault::Reset)) => {
                    Some(NodeDownMode::Refuse)
                }
                (FaultKind::NodeDown, Action::Respond(_)) => Some(NodeDownMode::Blackhole),
                _ => None,
            })
    }

    /// Decides the faults of one request.
    pub fn decide<R: Rng + ?Sized>(
        &self,
        elapsed: Duration,
        node: usize,
        stream: bool,
        rng: &mut R,
    ) -> Decision {
        let mut d = Decision::default();
        let active = self.phases.iter().filter(|p| p.phase.is_active(elapsed));
        let faults = self
            .base
            .iter()
            .chain(active.flat_map(|p| p.faults.iter()))
            .filter(|c| c.nodes & bit(node) != 0);
        for c in faults {
            // One draw per active fault, fired or not: keeps decisions aligned.
            let x: f64 = rng.gen();
            if x >= c.rate {
                continue;
            }
            if apply(&mut d, c, stream, rng) {
                d.fired |= 1 << c.kind.index();
            }
        }
        d
    }
}

fn bit(node: usize) -> u64 {
    if node < 64 {
        1 << node
    } else {
        0
    }
}

/// Applies a fired fault; false when it does not apply (skipped by the rules).
fn apply<R: Rng + ?Sized>(d: &mut Decision, c: &Compiled, stream: bool, rng: &mut R) -> bool {
    match &c.action {
        Action::Latency(dist, on) => {
            let delay = dist.sample(rng);
            match (on, stream) {
                (LatencyOn::FirstToken, true) => d.first_token_delay += delay,
                _ => d.header_delay += delay,
            }
            true
        }
        Action::Respond(_) | Action::QueueWait(..) if d.response.is_some() => false,
        Action::Respond(reply) => {
            d.response = Some(reply.clone());
            true
        }
        Action::QueueWait(wait, then, every) => {
            d.response = Some(ResponseFault::QueueWait {
                wait: wait.sample(rng),
                then: *then,
                every: *every,
            });
            true
        }
        _ if !stream => false,
        Action::EndStream(end) if d.stream_end.is_none() => {
            d.stream_end = Some(*end);
            true
        }
        Action::SlowDrip(tps) if d.slow_drip.is_none() => {
            d.slow_drip = Some(*tps);
            true
        }
        Action::Malformed(after) if d.malformed_after.is_none() => {
            d.malformed_after = Some(*after);
            true
        }
        Action::MissingDone if !d.missing_done => {
            d.missing_done = true;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "plan_kinds_tests.rs"]
mod kinds_tests;
