//! The public [`Client`]: building it from a [`ClientConfig`] (endpoints,
//! key, the reqwest transport, one instance of every policy) and the calls
//! `chat`, `chat_stream`, `events` and metrics. The per-call orchestration
//! lives in `call`, the shared state in `state`.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use futures::stream::Stream;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::broadcast;

use crate::auth::ApiKey;
use crate::config::{ClientConfig, EndpointConfig};
use crate::error::{BuildError, CallError};
use crate::events::ClientEvent;
use crate::policies::build_policies;
use crate::policy::breaker::{BreakerState, CircuitBreaker};
use crate::state::Inner;
use crate::stream::ChatStream;
use crate::transport::net::HttpTransport;
use crate::types::{ChatRequest, ChatResponse};

/// A DeepSeek client with the full resilience stack. Cheap to clone (an
/// `Arc` inside); clones share pools, policies, events and metrics.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    transport: Arc<HttpTransport>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.inner.endpoints)
            .field("key", self.transport.key())
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
                    EndpointConfig::Weighted { url, weight }
                })
                .collect();
        }
        if cfg.endpoints.is_empty() {
            return Err(BuildError::NoEndpoints);
        }
        let policies = build_policies(&cfg)?;
        let mut bases = Vec::with_capacity(cfg.endpoints.len());
        let mut urls = Vec::with_capacity(cfg.endpoints.len());
        for (index, e) in cfg.endpoints.iter().enumerate() {
            let base = e.url().trim_end_matches('/').to_owned();
            let url = reqwest::Url::parse(&format!("{base}/chat/completions")).map_err(|_| {
                BuildError::InvalidEndpoint {
                    index,
                    url: e.url().to_owned(),
                }
            })?;
            bases.push(base);
            urls.push(url);
        }
        let key = match &self.api_key {
            Some(k) => ApiKey::new(k)?,
            None => ApiKey::from_env(&cfg.api_key_env)?,
        };
        let transport = HttpTransport::new(urls, key, &cfg.pool, &cfg.timeouts)?;
        let inner = Arc::new(Inner::new(cfg, bases, policies, StdRng::from_entropy())?);
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
        Ok(Client {
            inner,
            transport: Arc::new(transport),
        })
    }
}

fn text_fn(weak: Weak<Inner>) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    move || weak.upgrade().map(|i| i.metrics_text())
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
        crate::call::chat(&self.inner, &*self.transport, req).await
    }

    /// Sends a streamed chat completion. Returns once the first content
    /// token arrived (retries and failover happen before that); the stream
    /// then yields the chunks, including the ones already read.
    pub async fn chat_stream(&self, req: ChatRequest) -> Result<ChatStream, CallError> {
        crate::call::chat_stream(&self.inner, &*self.transport, req).await
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
        self.inner.metrics_text()
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
        self.inner.endpoints.clone()
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
