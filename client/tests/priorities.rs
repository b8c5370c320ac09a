//! Priority classes against the fake server: the cached fallback answers a
//! failed high-priority call with the last good answer for the same prompt,
//! only within its TTL, marked as a fallback; a class over its bulkhead
//! share is shed while a higher class still gets through.

use std::time::Duration;

use mock_server::{MockServer, ServerConfig, StartOptions};
use resilient_client::policy::Priority;
use resilient_client::{ChatRequest, Client, ClientConfig, FallbackKind, Message, Model};
use tokio::time::{sleep_until, Instant};

async fn server(yaml: &str) -> (MockServer, Instant) {
    let cfg: ServerConfig = serde_yaml::from_str(yaml).expect("server yaml");
    let t0 = Instant::now();
    let srv = mock_server::start(cfg, StartOptions::default())
        .await
        .expect("server starts");
    (srv, t0)
}

fn client(yaml: &str, srv: &MockServer) -> Client {
    let cfg: ClientConfig = serde_yaml::from_str(yaml).expect("client yaml");
    Client::builder(cfg)
        .endpoints(srv.base_urls())
        .api_key("sk-fake")
        .build()
        .expect("client builds")
}

fn req(text: &str, priority: Priority) -> ChatRequest {
    let mut r = ChatRequest::new(Model::V4Flash, vec![Message::user(text)]);
    r.priority = priority;
    r
}

#[tokio::test]
async fn the_cached_fallback_serves_the_last_good_answer_within_its_ttl() {
    let (srv, t0) = server(
        "generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: 6 }\nphases:\n  - { name: brownout, at: 400ms, faults: [ { status: { code: 503 } } ] }\n",
    )
    .await;
    let c = client(
        "retry: { max_attempts: 1 }\nbreaker: { enabled: false }\npriorities:\n  high: { fallback: cached }\n  normal: { fallback: none }\n  cache: { ttl: 1s, max_entries: 10 }\n",
        &srv,
    );
    let good = c.chat(req("hello", Priority::High)).await.expect("healthy");
    assert_eq!(good.meta.fallback, None);
    let stored = Instant::now();

    sleep_until(t0 + Duration::from_millis(500)).await;
    let cached = c
        .chat(req("hello", Priority::High))
        .await
        .expect("from cache");
    assert_eq!(cached.meta.fallback, Some(FallbackKind::Cached));
    assert_eq!(cached.meta.statuses, vec![503], "the call was tried first");
    assert_eq!(cached.content(), good.content());
    assert_eq!(cached.id, good.id);
    let e = c
        .chat(req("another prompt", Priority::High))
        .await
        .expect_err("nothing cached for it");
    assert_eq!(e.status(), Some(503));
    let e = c
        .chat(req("hello", Priority::Normal))
        .await
        .expect_err("normal has no fallback");
    assert_eq!(e.status(), Some(503));

    sleep_until(stored + Duration::from_millis(1100)).await;
    let e = c
        .chat(req("hello", Priority::High))
        .await
        .expect_err("the cached answer expired");
    assert_eq!(e.status(), Some(503));
    srv.shutdown().await;
}

#[tokio::test]
async fn a_class_over_its_share_is_shed_while_a_higher_one_gets_through() {
    let (srv, _) =
        server("generation: { ttft: 300ms, tokens_per_second: unlimited, output_tokens: 6 }\n")
            .await;
    let c = client(
        "bulkhead: { max_concurrent: 4, max_queue: 10 }\npriorities:\n  high: { share: 100% }\n  low: { share: 25% }\n",
        &srv,
    );
    let low = || c.chat(req("batch", Priority::Low));
    let high = || c.chat(req("interactive", Priority::High));
    let (l1, l2, h1, h2, h3) = tokio::join!(low(), low(), high(), high(), high());
    let lows = [l1, l2];
    let shed = lows
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.class() == "shed"))
        .count();
    assert_eq!(shed, 1, "low holds one slot of four: {lows:?}");
    assert_eq!(lows.iter().filter(|r| r.is_ok()).count(), 1);
    for h in [h1, h2, h3] {
        assert!(h.is_ok(), "{h:?}");
    }
    srv.shutdown().await;
}
