//! The driver against scripted senders: no sockets, so what is asserted is
//! the driver's own bookkeeping. Real time with generous bounds (paused
//! time would need tokio's `test-util` in the benches' build too).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::*;
use crate::outcome::OutcomeClass;
use crate::sender::Sender;

/// Answers every request after `delay`, or never when `delay` is `None`;
/// counts the requests each task sent on its state.
#[derive(Clone)]
struct Scripted {
    delay: Option<Duration>,
}

impl Sender for Scripted {
    type Conn = u32;

    async fn send(&self, conn: &mut u32, index: usize, _: Instant, o: &mut Outcome) {
        match self.delay {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
        *conn += 1;
        o.attempts = *conn;
        o.statuses.push(200 + index as u16);
        o.class = OutcomeClass::Ok;
    }
}

fn closed(users: usize, duration: Duration, drain: Duration) -> Job {
    Job {
        arm: Arm::Resilient,
        pacing: Pacing::Closed {
            users,
            think_time: Duration::ZERO,
            duration,
        },
        bodies: 2,
        pick: Pick::Rotate,
        seed: 1,
        drain,
    }
}

async fn collect(mut rx: mpsc::Receiver<Vec<Outcome>>) -> Vec<Outcome> {
    let mut all = Vec::new();
    while let Some(burst) = rx.recv().await {
        all.extend(burst);
    }
    all
}

#[tokio::test]
async fn closed_users_deliver_one_outcome_per_request_and_keep_their_state() {
    let (tx, rx) = mpsc::channel(64);
    let got = tokio::spawn(collect(rx));
    let sender = Scripted {
        delay: Some(Duration::from_millis(10)),
    };
    let job = closed(3, Duration::from_millis(100), Duration::from_secs(5));
    let stats = drive(
        sender,
        job,
        Instant::now(),
        tx,
        Stop::default(),
        Arc::default(),
    )
    .await;
    let outcomes = got.await.unwrap();
    // Every request started has its outcome; ~10 per user of 100 ms.
    assert!(stats.started >= 6, "{stats:?}");
    assert_eq!(outcomes.len() as u64, stats.started);
    assert_eq!(stats.abandoned, 0);
    // Each user's state lives across its requests: attempts count up.
    assert!(outcomes.iter().map(|o| o.attempts).max() >= Some(2));
    // Users rotate through both bodies.
    assert!(outcomes.iter().any(|o| o.statuses == [200]));
    assert!(outcomes.iter().any(|o| o.statuses == [201]));
    for o in &outcomes {
        assert!(o.done - o.sent >= Duration::from_millis(10), "{o:?}");
    }
}

#[tokio::test]
async fn abandoning_in_flight_requests_ends_the_drain_at_once() {
    let (tx, rx) = mpsc::channel(64);
    let got = tokio::spawn(collect(rx));
    let stop = Stop::default();
    // Answers never come, and the drain limit is an hour: only
    // `stop.in_flight` (a second Ctrl-C) can end this.
    let job = closed(4, Duration::from_secs(10), Duration::from_secs(3600));
    let t0 = Instant::now();
    let driver = tokio::spawn(drive(
        Scripted { delay: None },
        job,
        t0,
        tx,
        stop.clone(),
        Arc::default(),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.load.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.in_flight.cancel();
    let stats = tokio::time::timeout(Duration::from_secs(30), driver)
        .await
        .expect("abandoned at once, not after the hour-long drain")
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    assert_eq!(stats.started, 4);
    assert_eq!(stats.abandoned, 4);
    assert!(got.await.unwrap().is_empty());
}
