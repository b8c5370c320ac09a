//! The client against dead and black-holed nodes of the fake server
//! (`node_down`): the connect timeout finally fires for real (a loopback
//! connect never hangs otherwise), a refused connect fails at once, and both
//! fail over to the live node.

use std::time::{Duration, Instant};

use mock_server::{MockServer, ServerConfig, StartOptions};
use resilient_client::{
    ChatRequest, Client, ClientConfig, ClientEvent, Error, Message, Model, TimeoutPhase,
};

async fn server(mode: &str) -> MockServer {
    let yaml = format!(
        "nodes: 2\ngeneration: {{ ttft: 0ms, tokens_per_second: unlimited, output_tokens: 6 }}\nphases:\n  - {{ name: down, at: 0s, for: 30s, nodes: [0], faults: [ {{ node_down: {{ mode: {mode} }} }} ] }}\n"
    );
    let cfg: ServerConfig = serde_yaml::from_str(&yaml).expect("server yaml");
    let srv = mock_server::start(cfg, StartOptions::default())
        .await
        .expect("server starts");
    // The door checks the fault set every 20 ms.
    tokio::time::sleep(Duration::from_millis(100)).await;
    srv
}

fn client(yaml: &str, srv: &MockServer) -> Client {
    let cfg: ClientConfig = serde_yaml::from_str(yaml).expect("client yaml");
    Client::builder(cfg)
        .endpoints(srv.base_urls())
        .api_key("sk-fake")
        .build()
        .expect("client builds")
}

fn req() -> ChatRequest {
    ChatRequest::new(Model::V4Flash, vec![Message::user("hello there")])
}

fn retry_causes(events: &mut tokio::sync::broadcast::Receiver<ClientEvent>) -> Vec<String> {
    std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            ClientEvent::Retry { cause, .. } => Some(cause),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_connect_timeout_fires_against_a_black_holed_node() {
    let srv = server("blackhole").await;
    let c = client(
        "timeouts: { connect: 300ms }\nretry: { max_attempts: 1 }\nbreaker: { enabled: false }",
        &srv,
    );
    let t0 = Instant::now();
    let e = c.chat(req()).await.expect_err("node 0 is black-holed");
    let took = t0.elapsed();
    assert!(
        matches!(
            e.kind,
            Error::Timeout {
                phase: TimeoutPhase::Connect
            }
        ),
        "{e:?}"
    );
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(e.meta.endpoints, vec![0]);
    srv.shutdown().await;
}

#[tokio::test]
async fn a_black_holed_node_costs_one_connect_timeout_then_fails_over() {
    let srv = server("blackhole").await;
    let c = client(
        "timeouts: { connect: 300ms }\nretry: { max_attempts: 2, backoff: { base: 1ms, max: 5ms } }",
        &srv,
    );
    let mut events = c.events();
    let resp = c.chat(req()).await.expect("answered by node 1");
    assert_eq!(resp.meta.endpoints, vec![0, 1]);
    assert_eq!(resp.meta.statuses, vec![0, 200]);
    assert_eq!(retry_causes(&mut events), vec!["timeout_connect"]);
    srv.shutdown().await;
}

#[tokio::test]
async fn a_refusing_node_fails_at_once_then_fails_over() {
    let srv = server("refuse").await;
    let c = client(
        "timeouts: { connect: 5s }\nretry: { max_attempts: 2, backoff: { base: 1ms, max: 5ms } }",
        &srv,
    );
    let mut events = c.events();
    let t0 = Instant::now();
    let resp = c.chat(req()).await.expect("answered by node 1");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert_eq!(resp.meta.endpoints, vec![0, 1]);
    assert_eq!(retry_causes(&mut events), vec!["connection_refused"]);
    srv.shutdown().await;
}
