//! `tracing` spans: one `deepseek.chat` span per call carrying the trace id,
//! one `attempt` span per attempt inside it.

use std::sync::{Arc, Mutex};

use resilient_client::{ChatRequest, Client, ClientConfig, Message, Model};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Span name and parent span name, in creation order.
type Seen = Vec<(String, Option<String>)>;

#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Seen>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.name().to_owned());
        self.0
            .lock()
            .unwrap()
            .push((attrs.metadata().name().to_owned(), parent));
    }
}

#[tokio::test]
async fn a_call_span_wraps_one_span_per_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]
        })))
        .mount(&server)
        .await;
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let cfg: ClientConfig =
        serde_yaml::from_str("retry: { backoff: { base: 1ms, max: 2ms } }").unwrap();
    let c = Client::builder(cfg)
        .endpoints(vec![server.uri()])
        .api_key("k")
        .build()
        .unwrap();
    let resp = c
        .chat(ChatRequest::new(Model::V4Flash, vec![Message::user("x")]))
        .await
        .unwrap();
    assert_eq!(resp.meta.attempts, 2);
    let got = spans.0.lock().unwrap().clone();
    let ours: Vec<_> = got
        .iter()
        .filter(|(n, _)| n == "deepseek.chat" || n == "attempt")
        .collect();
    assert_eq!(ours.len(), 3, "{got:?}");
    assert_eq!(ours[0].0, "deepseek.chat");
    assert!(
        ours[1..]
            .iter()
            .all(|(n, p)| n == "attempt" && p.as_deref() == Some("deepseek.chat")),
        "{got:?}"
    );
}
