//! Outcomes on their way to the recorder, passed on in bursts.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::outcome::Outcome;

/// How long finished outcomes gather before they go on together.
const FLUSH_EVERY: Duration = Duration::from_millis(1);
/// Outcomes buffered ahead of the recorder before requests wait for it.
pub(super) const BATCH_CAPACITY: usize = 16_384;

/// Passes outcomes on to `out` in bursts, at most one per [`FLUSH_EVERY`].
/// The recorder runs on a thread of its own; handing it outcomes one by one
/// woke that thread once per request (an eventfd write and a context switch,
/// ~12% of the generator's CPU at 30k requests/s). A burst wakes it once. The
/// delay changes no measurement: every timestamp is taken before the send.
/// A burst is one message (a `Vec`), so the recorder's channel costs one
/// send per burst, not one per outcome.
pub(super) async fn forward_in_bursts(
    mut rx: mpsc::Receiver<Outcome>,
    out: mpsc::Sender<Vec<Outcome>>,
) {
    let mut buf = Vec::with_capacity(1024);
    while rx.recv_many(&mut buf, BATCH_CAPACITY).await > 0 {
        let burst = std::mem::replace(&mut buf, Vec::with_capacity(1024));
        if out.send(burst).await.is_err() {
            // The recorder is gone (shutdown): nothing left to deliver to.
            return;
        }
        tokio::time::sleep(FLUSH_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Arm, OutcomeClass};

    fn outcome(i: u64) -> Outcome {
        Outcome {
            arm: Arm::Resilient,
            intended: Duration::from_micros(i),
            sent: Duration::from_micros(i),
            done: Duration::from_micros(i + 10),
            ttft: None,
            itl: Vec::new(),
            tokens: 0,
            class: OutcomeClass::Ok,
            statuses: vec![200],
            attempts: 1,
            queue_wait: Duration::ZERO,
            note: None,
            priority: Default::default(),
        }
    }

    #[tokio::test]
    async fn bursts_deliver_every_outcome_in_order_before_ending() {
        let (tx, rx) = mpsc::channel(BATCH_CAPACITY);
        // A small downstream channel: the forwarder must wait on it, not drop.
        let (out_tx, mut out_rx) = mpsc::channel(7);
        let fwd = tokio::spawn(forward_in_bursts(rx, out_tx));
        let collect = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(burst) = out_rx.recv().await {
                for o in burst {
                    got.push(o.intended.as_micros() as u64);
                }
            }
            got
        });
        for i in 0..1000 {
            tx.send(outcome(i)).await.unwrap();
            if i % 300 == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        drop(tx);
        fwd.await.unwrap();
        assert_eq!(collect.await.unwrap(), (0..1000).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_closed_recorder_ends_the_forwarder() {
        let (tx, rx) = mpsc::channel(BATCH_CAPACITY);
        let (out_tx, out_rx) = mpsc::channel(1);
        drop(out_rx);
        let fwd = tokio::spawn(forward_in_bursts(rx, out_tx));
        tx.send(outcome(1)).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), fwd)
            .await
            .expect("forwarder ended")
            .unwrap();
    }
}
