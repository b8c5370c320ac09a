//! Control API, phases over time, rates and seeded determinism over HTTP.

mod common;
use common::*;
use std::time::Duration;

async fn statuses(c: &reqwest::Client, base: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(chat(c, base, CHAT).await.status().as_u16());
    }
    out
}

#[tokio::test]
async fn rate_within_tolerance_and_seed_replays() {
    let yaml = format!(
        "seed: 42\n{}faults: [ {{status: {{code: 503, rate: 0.3}}}} ]\n",
        instant(2)
    );
    let s = start(&yaml).await;
    let base = s.base_urls()[0].clone();
    let c = client();
    let first = statuses(&c, &base, 400).await;
    let failed = first.iter().filter(|s| **s == 503).count();
    // Binomial(400, 0.3): mean 120, sd ~9.2; allow ~4 sd.
    assert!((83..=157).contains(&failed), "{failed} of 400");
    assert_eq!(s.counters().status(503), failed as u64);
    assert_eq!(s.counters().fault("status"), failed as u64);
    // Reset reseeds: the same request order gives the same decisions.
    let r = c.post(format!("{base}/_mock/reset")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.counters().total_requests(), 0);
    assert_eq!(statuses(&c, &base, 400).await, first);
    s.shutdown().await;
    // A fresh server with the same seed agrees too; another seed does not.
    let s = start(&yaml).await;
    assert_eq!(statuses(&c, &s.base_urls()[0], 400).await, first);
    s.shutdown().await;
    let s = start(&yaml.replace("seed: 42", "seed: 43")).await;
    assert_ne!(statuses(&c, &s.base_urls()[0], 400).await, first);
    s.shutdown().await;
}

#[tokio::test]
async fn phases_switch_at_their_times_per_node() {
    let yaml = format!(
        "nodes: 2\n{}phases:\n  - {{name: outage, at: 300ms, for: 500ms, nodes: [1], faults: [ {{status: {{code: 503}}}} ]}}\n",
        instant(2)
    );
    let s = start(&yaml).await;
    let t0 = s.t0();
    let urls = s.base_urls();
    let c = client();
    let at = |ms: u64| tokio::time::sleep_until(t0 + Duration::from_millis(ms));
    assert_eq!(chat(&c, &urls[1], CHAT).await.status(), 200);
    at(500).await;
    assert_eq!(chat(&c, &urls[1], CHAT).await.status(), 503);
    assert_eq!(
        chat(&c, &urls[0], CHAT).await.status(),
        200,
        "node 0 is outside the phase"
    );
    let state: serde_json::Value = c
        .get(format!("{}/_mock/state", urls[1]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["active_phases"], serde_json::json!(["outage"]));
    assert_eq!(state["node"], 1);
    at(1000).await;
    assert_eq!(chat(&c, &urls[1], CHAT).await.status(), 200);
    let phases = s.config().phases();
    assert_eq!(
        (phases[0].name.as_str(), phases[0].at),
        ("outage", Duration::from_millis(300))
    );
    s.shutdown().await;
}

#[tokio::test]
async fn faults_replaced_at_runtime_json_and_yaml() {
    let s = start(&instant(2)).await;
    let base = s.base_urls()[0].clone();
    let c = client();
    assert_eq!(chat(&c, &base, CHAT).await.status(), 200);
    let r = c
        .put(format!("{base}/_mock/faults"))
        .body(r#"{"faults":[{"status":{"code":502}}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(chat(&c, &base, CHAT).await.status(), 502);
    let r = c
        .post(format!("{base}/_mock/faults"))
        .body("faults:\n  - status: { code: 504 }\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(chat(&c, &base, CHAT).await.status(), 504);
    // Invalid updates are refused with the reason and leave faults as they were.
    let r = c
        .put(format!("{base}/_mock/faults"))
        .body("faults:\n  - status: { code: 503, rate: 1.5 }\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("faults[0].status.rate must be in [0, 1], got 1.5"),
        "{v}"
    );
    let r = c
        .put(format!("{base}/_mock/faults"))
        .body("faults: [ {reset: {nodes: [3]}} ]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(chat(&c, &base, CHAT).await.status(), 504);
    let counters: serde_json::Value = c
        .get(format!("{base}/_mock/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["nodes"][0]["by_status"]["504"], 2);
    assert_eq!(
        counters["nodes"][0]["requests"], 4,
        "control calls are not counted"
    );
    assert_eq!(
        c.get(format!("{base}/_mock/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    s.shutdown().await;
}
