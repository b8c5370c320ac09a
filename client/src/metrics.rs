//! Prometheus metrics (prometheus-client): requests by outcome and status,
//! attempts per endpoint and status, latency and TTFT histograms, breaker
//! state per endpoint, queue depth and in-flight calls. Exposed as text by
//! [`crate::Client::metrics_text`] and optionally over HTTP by
//! [`crate::Client::serve_metrics`].

use std::net::SocketAddr;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    outcome: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    endpoint: usize,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: usize,
}

/// All metrics of one client.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    attempts: Family<AttemptLabels, Counter>,
    latency: Histogram,
    ttft: Histogram,
    breaker: Family<EndpointLabels, Gauge<i64, AtomicI64>>,
    pub(crate) queue_depth: Gauge,
    pub(crate) in_flight: Gauge,
    /// The common labels resolved once, so the hot path skips the family's
    /// lock and label hashing.
    ok_requests: Counter,
    ok_attempts: Vec<Counter>,
}

impl Metrics {
    pub(crate) fn new(endpoints: usize) -> Self {
        let mut registry = Registry::with_prefix("deepseek_client");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Logical calls by outcome class and final HTTP status (0 = none)",
            requests.clone(),
        );
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "attempts",
            "HTTP attempts by endpoint index and status (0 = none)",
            attempts.clone(),
        );
        // 1 ms .. ~65 s.
        let latency = Histogram::new(exponential_buckets(0.001, 2.0, 17));
        registry.register(
            "request_duration_seconds",
            "Call latency including retries and queueing",
            latency.clone(),
        );
        let ttft = Histogram::new(exponential_buckets(0.001, 2.0, 17));
        registry.register(
            "ttft_seconds",
            "Time to first content token of streamed calls",
            ttft.clone(),
        );
        let breaker = Family::<EndpointLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "breaker_state",
            "Breaker state per endpoint: 0 closed, 1 half-open, 2 open",
            breaker.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "Calls waiting in the bulkhead queue",
            queue_depth.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight",
            "Calls holding a bulkhead slot",
            in_flight.clone(),
        );
        for endpoint in 0..endpoints {
            breaker.get_or_create(&EndpointLabels { endpoint }).set(0);
        }
        let ok_requests = requests
            .get_or_create(&RequestLabels {
                outcome: "ok",
                status: 200,
            })
            .clone();
        let ok_attempts = (0..endpoints)
            .map(|endpoint| {
                attempts
                    .get_or_create(&AttemptLabels {
                        endpoint,
                        status: 200,
                    })
                    .clone()
            })
            .collect();
        Metrics {
            registry,
            requests,
            attempts,
            latency,
            ttft,
            breaker,
            queue_depth,
            in_flight,
            ok_requests,
            ok_attempts,
        }
    }

    pub(crate) fn request(&self, outcome: &'static str, status: u16, latency: Duration) {
        if status == 200 && outcome == "ok" {
            self.ok_requests.inc();
        } else {
            self.requests
                .get_or_create(&RequestLabels { outcome, status })
                .inc();
        }
        self.latency.observe(latency.as_secs_f64());
    }

    pub(crate) fn attempt(&self, endpoint: usize, status: u16) {
        match self.ok_attempts.get(endpoint) {
            Some(c) if status == 200 => {
                c.inc();
            }
            _ => {
                self.attempts
                    .get_or_create(&AttemptLabels { endpoint, status })
                    .inc();
            }
        }
    }

    pub(crate) fn ttft(&self, d: Duration) {
        self.ttft.observe(d.as_secs_f64());
    }

    pub(crate) fn breaker_state(&self, endpoint: usize, gauge: i64) {
        self.breaker
            .get_or_create(&EndpointLabels { endpoint })
            .set(gauge);
    }

    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Serves `GET <anything>` with the metrics text until `text` returns `None`
/// (the client is gone).
/// Minimal HTTP/1.0-style responder: one request per connection, which is
/// all Prometheus scrapers need.
pub(crate) async fn serve(
    listener: TcpListener,
    text: impl Fn() -> Option<String> + Send + Sync + 'static,
) {
    let text = std::sync::Arc::new(text);
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            // E.g. out of file descriptors: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Some(body) = text() else { return };
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            // Read the request head; its content does not matter.
            let _ = tokio::time::timeout(Duration::from_secs(2), sock.read(&mut buf)).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

/// Binds `addr` for [`serve`].
pub(crate) async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_contains_every_family() {
        let m = Metrics::new(2);
        m.request("ok", 200, Duration::from_millis(3));
        m.attempt(1, 503);
        m.breaker_state(1, 2);
        let t = m.text();
        assert!(
            t.contains("deepseek_client_requests_total{outcome=\"ok\",status=\"200\"} 1"),
            "{t}"
        );
        assert!(
            t.contains("deepseek_client_attempts_total{endpoint=\"1\",status=\"503\"} 1"),
            "{t}"
        );
        assert!(
            t.contains("deepseek_client_breaker_state{endpoint=\"1\"} 2"),
            "{t}"
        );
        assert!(
            t.contains("deepseek_client_request_duration_seconds_count 1"),
            "{t}"
        );
    }
}
