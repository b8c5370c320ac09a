//! The client's event stream: every policy decision worth seeing (breaker
//! transitions, retries, ejections, shedding, limiter waits, fallbacks,
//! budget exhaustion) as a [`ClientEvent`] on a tokio broadcast channel.
//! Sending never blocks: a receiver that lags loses the oldest events and
//! learns how many from `RecvError::Lagged`.

use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::meta::FallbackKind;
use crate::policy::breaker::BreakerState;

/// Capacity of the broadcast ring; a slow receiver lags instead of blocking.
pub(crate) const EVENT_CAPACITY: usize = 4096;

/// Something the resilience stack did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A breaker changed state.
    BreakerTransition {
        /// Endpoint base URL.
        endpoint: String,
        /// State before.
        from: BreakerState,
        /// State after.
        to: BreakerState,
        /// When.
        at: Instant,
        /// Why (e.g. `failure_rate 60% over 10 calls`, `wait_elapsed`).
        reason: String,
    },
    /// A failed attempt will be retried after `delay`.
    Retry {
        /// The attempt that failed (1 = the first).
        attempt: u32,
        /// Sleep before the next attempt (backoff or Retry-After).
        delay: Duration,
        /// Why it failed (`http_503`, `timeout_first_byte`, `connection_reset`...).
        cause: String,
        /// Endpoint of the failed attempt.
        endpoint: String,
    },
    /// An endpoint was ejected by outlier detection.
    Ejected {
        /// Endpoint base URL.
        endpoint: String,
        /// When it becomes eligible again.
        until: Instant,
    },
    /// An ejected endpoint is eligible again.
    Returned {
        /// Endpoint base URL.
        endpoint: String,
    },
    /// A call was shed by the bulkhead.
    Shed,
    /// A call waited in the rate limiter.
    RateLimitedWait {
        /// How long.
        waited: Duration,
    },
    /// A fallback answered.
    Fallback {
        /// Which.
        kind: FallbackKind,
    },
    /// A retry was refused by the retry budget.
    BudgetExhausted,
}

impl ClientEvent {
    /// Stable short name (`breaker`, `retry`, `ejected`, `returned`, `shed`,
    /// `rate_limited`, `fallback`, `budget_exhausted`), as the harness writes
    /// into `events.jsonl`.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientEvent::BreakerTransition { .. } => "breaker",
            ClientEvent::Retry { .. } => "retry",
            ClientEvent::Ejected { .. } => "ejected",
            ClientEvent::Returned { .. } => "returned",
            ClientEvent::Shed => "shed",
            ClientEvent::RateLimitedWait { .. } => "rate_limited",
            ClientEvent::Fallback { .. } => "fallback",
            ClientEvent::BudgetExhausted => "budget_exhausted",
        }
    }
}

/// Sender side; cheap to clone, a no-op without receivers.
#[derive(Debug, Clone)]
pub(crate) struct Events {
    tx: broadcast::Sender<ClientEvent>,
}

impl Events {
    pub(crate) fn new() -> Self {
        let (tx, _) = broadcast::channel(EVENT_CAPACITY);
        Events { tx }
    }

    /// Emits unless nobody listens; building the event is skipped then too.
    pub(crate) fn emit(&self, make: impl FnOnce() -> ClientEvent) {
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(make());
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lagging_receiver_never_blocks_the_sender() {
        let ev = Events::new();
        let mut rx = ev.subscribe();
        for _ in 0..(EVENT_CAPACITY + 10) {
            ev.emit(|| ClientEvent::Shed);
        }
        assert!(matches!(
            rx.recv().await,
            Err(broadcast::error::RecvError::Lagged(10))
        ));
        assert_eq!(rx.recv().await, Ok(ClientEvent::Shed));
    }
}
