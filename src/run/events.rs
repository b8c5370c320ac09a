//! Client events and fake-server phases as `events.jsonl` records, with
//! endpoints named by node and instants as offsets from t0.

use std::time::Duration;

use resilient_client::ClientEvent;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::outcome::{Arm, EventRecord};

pub(super) async fn forward_events(
    mut rx: broadcast::Receiver<ClientEvent>,
    arm: Arm,
    endpoints: Vec<String>,
    t0: Instant,
    tx: mpsc::Sender<EventRecord>,
) {
    loop {
        let rec = match rx.recv().await {
            Ok(ev) => {
                let mut rec = event_record(&ev, arm, t0);
                // Both arms talk to their own server instance (other ports):
                // name endpoints by node so the report lines them up.
                if let Some(e) = &mut rec.endpoint {
                    if let Some(i) = endpoints.iter().position(|u| u == e) {
                        *e = node_label(i);
                    }
                }
                rec
            }
            // The client never blocks on a slow listener; say what was lost.
            Err(broadcast::error::RecvError::Lagged(n)) => EventRecord {
                at: t0.elapsed(),
                arm: Some(arm),
                kind: "events_lost",
                endpoint: None,
                state: None,
                detail: serde_json::json!({ "lost": n }),
            },
            Err(broadcast::error::RecvError::Closed) => break,
        };
        if tx.send(rec).await.is_err() {
            break;
        }
    }
}

/// How the report names endpoint `i`.
pub fn node_label(i: usize) -> String {
    format!("node{i}")
}

fn offset(t0: Instant, at: Instant) -> Duration {
    at.saturating_duration_since(t0)
}

/// A client event as it goes into `events.jsonl`.
pub fn event_record(ev: &ClientEvent, arm: Arm, t0: Instant) -> EventRecord {
    let mut rec = EventRecord {
        at: t0.elapsed(),
        arm: Some(arm),
        kind: ev.kind(),
        endpoint: None,
        state: None,
        detail: serde_json::Value::Null,
    };
    match ev {
        ClientEvent::BreakerTransition {
            endpoint,
            from,
            to,
            at,
            reason,
        } => {
            rec.at = offset(t0, *at);
            rec.endpoint = Some(endpoint.clone());
            rec.state = Some(to.as_str());
            rec.detail = serde_json::json!({ "from": from.as_str(), "reason": reason });
        }
        ClientEvent::Retry {
            attempt,
            delay,
            cause,
            endpoint,
        } => {
            rec.endpoint = Some(endpoint.clone());
            rec.detail = serde_json::json!({
                "attempt": attempt, "delay_ms": delay.as_secs_f64() * 1e3, "cause": cause
            });
        }
        ClientEvent::Ejected { endpoint, until } => {
            rec.endpoint = Some(endpoint.clone());
            rec.detail = serde_json::json!({ "until_s": offset(t0, *until).as_secs_f64() });
        }
        ClientEvent::Returned { endpoint } => rec.endpoint = Some(endpoint.clone()),
        ClientEvent::RateLimitedWait { waited } => {
            rec.detail = serde_json::json!({ "waited_ms": waited.as_secs_f64() * 1e3 });
        }
        ClientEvent::Fallback { kind } => {
            rec.detail = serde_json::json!({ "kind": kind.as_str() });
        }
        _ => {}
    }
    rec
}

/// Emit `phase_start` / `phase_end` events at the scenario's phase times.
pub(super) async fn phase_events(
    phases: Vec<mock_server::PhaseInfo>,
    t0: Instant,
    tx: mpsc::Sender<EventRecord>,
    stop: CancellationToken,
) {
    let mut marks: Vec<(Duration, &'static str, usize)> = Vec::new();
    for (i, p) in phases.iter().enumerate() {
        marks.push((p.at, "phase_start", i));
        if let Some(d) = p.duration {
            marks.push((p.at + d, "phase_end", i));
        }
    }
    marks.sort_by_key(|m| m.0);
    for (at, kind, i) in marks {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until(t0 + at) => {}
        }
        let p = &phases[i];
        let rec = EventRecord {
            at,
            arm: None,
            kind,
            endpoint: None,
            state: None,
            detail: serde_json::json!({ "phase": p.name, "nodes": p.nodes }),
        };
        if tx.send(rec).await.is_err() {
            return;
        }
    }
}
