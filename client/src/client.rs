//! The public [`Client`]: building it from a [`ClientConfig`] (endpoints,
//! key, pooled HTTP client, one instance of every policy) and the calls
//! `chat`, `chat_stream`, `events` and metrics. The per-call orchestration
//! lives in `call.rs`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use futures::stream::Stream;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::broadcast;
use tracing::Instrument;

use crate::auth::ApiKey;
use crate::call::{Answer, Call};
use crate::config::ClientConfig;
use crate::error::{BuildError, CallError};
use crate::events::{ClientEvent, Events};
use crate::meta::CallMeta;
use crate::metrics::Metrics;
use crate::policies::{build_policies, Policies};
use crate::policy::backoff::Backoff;
use crate::policy::balancer::Balancer;
use crate::policy::breaker::{BreakerState, CircuitBreaker};
use crate::policy::bulkhead::Bulkhead;
use crate::policy::ejection::OutlierDetector;
use crate::policy::rate_limit::RateLimiter;
use crate::policy::retry_budget::RetryBudget;
use crate::stream::ChatStream;
use crate::transport::build_http;
use crate::types::{ChatRequest, ChatResponse};

/// One upstream base URL.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) base: String,
    pub(crate) url: reqwest::Url,
}

/// Policy state shared by all calls. A plain mutex, never held across an
/// `.await`: each critical section is a few hundred nanoseconds of pure
/// state-machine work, far cheaper than a message round trip to an owner task.
pub(crate) struct Shared {
    pub(crate) budget: RetryBudget,
    pub(crate) limiter: Option<RateLimiter>,
    pub(crate) breakers: Vec<CircuitBreaker>,
    pub(crate) balancer: Balancer,
    pub(crate) ejection: OutlierDetector,
    pub(crate) rng: StdRng,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) key: ApiKey,
    pub(crate) cfg: ClientConfig,
    pub(crate) backoff: Backoff,
    pub(crate) bulkhead: Bulkhead,
    pub(crate) shared: Mutex<Shared>,
    pub(crate) events: Events,
    pub(crate) metrics: Metrics,
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        // Policies keep their invariants between calls, so a panic elsewhere
        // while holding the lock leaves nothing half-updated worth refusing.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A DeepSeek client with the full resilience stack. Cheap to clone (an
/// `Arc` inside); clones share pools, policies, events and metrics.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let eps: Vec<&str> = self
            .inner
            .endpoints
            .iter()
            .map(|e| e.base.as_str())
            .collect();
        f.debug_struct("Client")
            .field("endpoints", &eps)
            .field("key", &self.inner.key)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]; see [`Client::builder`].
pub struct ClientBuilder {
    config: ClientConfig,
    endpoints: Option<Vec<String>>,
    api_key: Option<String>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoints", &self.endpoints)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Overrides `config.endpoints` with base URLs (`http://127.0.0.1:PORT`);
    /// `/chat/completions` is appended. Weights of the config's endpoints at
    /// the same index are kept.
    pub fn endpoints(mut self, urls: Vec<String>) -> Self {
        self.endpoints = Some(urls);
        self
    }

    /// Uses this key instead of reading `config.api_key_env`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Validates everything and builds the client. With `metrics.listen` set
    /// and a tokio runtime present, the metrics endpoint starts too.
    pub fn build(self) -> Result<Client, BuildError> {
        let mut cfg = self.config;
        if let Some(urls) = self.endpoints {
            cfg.endpoints = urls
                .into_iter()
                .enumerate()
                .map(|(i, url)| {
                    let weight = cfg.endpoints.get(i).map_or(1, |e| e.weight());
                    crate::config::EndpointConfig::Weighted { url, weight }
                })
                .collect();
        }
        if cfg.endpoints.is_empty() {
            return Err(BuildError::NoEndpoints);
        }
        let policies = build_policies(&cfg)?;
        let mut endpoints = Vec::with_capacity(cfg.endpoints.len());
        for (index, e) in cfg.endpoints.iter().enumerate() {
            let base = e.url().trim_end_matches('/').to_owned();
            let url = reqwest::Url::parse(&format!("{base}/chat/completions")).map_err(|_| {
                BuildError::InvalidEndpoint {
                    index,
                    url: e.url().to_owned(),
                }
            })?;
            endpoints.push(Endpoint { base, url });
        }
        let key = match &self.api_key {
            Some(k) => ApiKey::new(k)?,
            None => ApiKey::from_env(&cfg.api_key_env)?,
        };
        let loopback_only = endpoints.iter().all(|e| {
            let host = e.url.host_str().unwrap_or("");
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        let http = build_http(&cfg.pool, &cfg.timeouts, loopback_only)?;
        let Policies {
            backoff,
            budget,
            limiter,
            breakers,
            balancer,
            ejection,
            bulkhead,
        } = policies;
        let shared = Shared {
            budget,
            limiter,
            breakers,
            balancer: balancer.ok_or(BuildError::NoEndpoints)?,
            ejection,
            rng: StdRng::from_entropy(),
        };
        let inner = Arc::new(Inner {
            http,
            backoff,
            bulkhead,
            metrics: Metrics::new(endpoints.len()),
            endpoints,
            key,
            shared: Mutex::new(shared),
            events: Events::new(),
            cfg,
        });
        if let (Some(addr), Ok(handle)) = (
            inner.cfg.metrics.listen,
            tokio::runtime::Handle::try_current(),
        ) {
            let std_listener = std::net::TcpListener::bind(addr).map_err(BuildError::Metrics)?;
            std_listener
                .set_nonblocking(true)
                .map_err(BuildError::Metrics)?;
            let _guard = handle.enter();
            let listener =
                tokio::net::TcpListener::from_std(std_listener).map_err(BuildError::Metrics)?;
            handle.spawn(crate::metrics::serve(
                listener,
                text_fn(Arc::downgrade(&inner)),
            ));
        }
        Ok(Client { inner })
    }
}

fn text_fn(weak: Weak<Inner>) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    move || weak.upgrade().map(|i| metrics_text(&i))
}

fn metrics_text(inner: &Inner) -> String {
    // Gauges read from the bulkhead at scrape time cost nothing per call.
    inner
        .metrics
        .queue_depth
        .set(inner.bulkhead.queued() as i64);
    inner.metrics.text()
}

impl Client {
    /// A builder over `config`.
    pub fn builder(config: ClientConfig) -> ClientBuilder {
        ClientBuilder {
            config,
            endpoints: None,
            api_key: None,
        }
    }

    /// Builds from `config` alone: key from `config.api_key_env`, endpoints
    /// from `config.endpoints`.
    pub fn new(config: ClientConfig) -> Result<Client, BuildError> {
        Client::builder(config).build()
    }

    /// Sends a non-streamed chat completion through the full stack. Errors
    /// carry the call record ([`CallError::meta`]).
    pub async fn chat(&self, req: ChatRequest) -> Result<ChatResponse, CallError> {
        let mut call = Call::new(self.inner.clone());
        let span = tracing::debug_span!("deepseek.chat", trace_id = %call.meta.trace_id, model = %req.model, stream = false);
        let result = call.run(req, false).instrument(span).await;
        let elapsed = call.started.elapsed();
        match result {
            Ok((Answer::Unary(mut resp), _)) => {
                let outcome = if call.meta.fallback.is_some() {
                    "fallback"
                } else {
                    "ok"
                };
                self.inner.metrics.request(outcome, 200, elapsed);
                resp.meta = call.meta;
                Ok(resp)
            }
            Ok((Answer::Static(text), _)) => {
                self.inner.metrics.request("fallback", 0, elapsed);
                let mut resp = crate::fallback::static_response(text);
                resp.meta = call.meta;
                Ok(resp)
            }
            Ok((Answer::Stream(_), _)) => unreachable_stream(call.meta),
            Err(kind) => {
                self.inner
                    .metrics
                    .request(kind.class(), kind.status().unwrap_or(0), elapsed);
                Err(CallError {
                    kind,
                    meta: Box::new(call.meta),
                })
            }
        }
    }

    /// Sends a streamed chat completion. Returns once the first content
    /// token arrived (retries and failover happen before that); the stream
    /// then yields the chunks, including the ones already read.
    pub async fn chat_stream(&self, req: ChatRequest) -> Result<ChatStream, CallError> {
        let mut call = Call::new(self.inner.clone());
        let span = tracing::debug_span!("deepseek.chat", trace_id = %call.meta.trace_id, model = %req.model, stream = true);
        let result = call.run(req, true).instrument(span).await;
        let elapsed = call.started.elapsed();
        match result {
            Ok((Answer::Stream(start), admission)) => Ok(crate::fallback::live_stream(
                self.inner.clone(),
                start,
                admission,
                call.started,
                call.meta,
            )),
            Ok((Answer::Static(text), _)) => {
                self.inner.metrics.request("fallback", 0, elapsed);
                Ok(crate::fallback::static_stream(text, call.meta))
            }
            Ok((Answer::Unary(_), _)) => unreachable_stream(call.meta),
            Err(kind) => {
                self.inner
                    .metrics
                    .request(kind.class(), kind.status().unwrap_or(0), elapsed);
                Err(CallError {
                    kind,
                    meta: Box::new(call.meta),
                })
            }
        }
    }

    /// A receiver of every [`ClientEvent`] from now on. Capacity 4096: a
    /// receiver that falls behind gets `RecvError::Lagged`, calls never wait.
    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.events.subscribe()
    }

    /// [`Client::events`] as a `Stream`, skipping over lag gaps.
    pub fn event_stream(&self) -> impl Stream<Item = ClientEvent> + Send + Unpin + 'static {
        let rx = self.events();
        Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => return Some((ev, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }))
    }

    /// Prometheus text exposition of this client's metrics.
    pub fn metrics_text(&self) -> String {
        metrics_text(&self.inner)
    }

    /// Serves `GET /metrics` on `addr` (use a loopback address) in a
    /// background task that ends when the client is dropped. Returns the
    /// bound address (useful with port 0).
    pub async fn serve_metrics(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = crate::metrics::bind(addr).await?;
        let local = listener.local_addr()?;
        tokio::spawn(crate::metrics::serve(
            listener,
            text_fn(Arc::downgrade(&self.inner)),
        ));
        Ok(local)
    }

    /// Base URLs in endpoint-index order (the indices in [`CallMeta::endpoints`]).
    pub fn endpoints(&self) -> Vec<String> {
        self.inner
            .endpoints
            .iter()
            .map(|e| e.base.clone())
            .collect()
    }

    /// Current breaker state per endpoint.
    pub fn breaker_states(&self) -> Vec<BreakerState> {
        self.inner
            .lock()
            .breakers
            .iter()
            .map(CircuitBreaker::state)
            .collect()
    }

    /// The configuration in use (after endpoint overrides).
    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }
}

#[cold]
fn unreachable_stream<T>(meta: CallMeta) -> Result<T, CallError> {
    // `run` answers in the mode it was asked for; reaching this is a bug,
    // reported as an error rather than a panic.
    Err(CallError {
        kind: crate::error::Error::Request {
            reason: "internal: answer mode mismatch".into(),
        },
        meta: Box::new(meta),
    })
}
