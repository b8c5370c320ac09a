//! The production [`Transport`]: reqwest with a pooled client. Builds the
//! client from the pool and timeout settings, sends each attempt with the
//! `Authorization`, `Accept` and `traceparent` headers, and maps reqwest's
//! errors to typed [`Error`]s ([`ConnectionKind`]s for refused, reset and
//! early-closed connections).

use std::error::Error as StdError;
use std::sync::Arc;

use futures::StreamExt;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};

use super::{Request, Response, Transport};
use crate::auth::ApiKey;
use crate::config::{PoolConfig, TimeoutsConfig};
use crate::error::{BuildError, ConnectionKind, Error, TimeoutPhase};

/// reqwest, one URL per endpoint, and the key.
pub(crate) struct HttpTransport {
    http: reqwest::Client,
    /// `<base>/chat/completions` per endpoint index.
    urls: Vec<reqwest::Url>,
    key: ApiKey,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("urls", &self.urls)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// `loopback_only` (every endpoint is on this machine) turns off
    /// `HTTP_PROXY`-style proxies, which would otherwise route a local fake
    /// server through a corporate proxy.
    pub(crate) fn new(
        urls: Vec<reqwest::Url>,
        key: ApiKey,
        pool: &PoolConfig,
        t: &TimeoutsConfig,
    ) -> Result<Self, BuildError> {
        let loopback_only = urls.iter().all(|u| {
            let host = u.host_str().unwrap_or("");
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        let mut b = reqwest::Client::builder()
            .connect_timeout(t.connect)
            .pool_max_idle_per_host(pool.max_idle_per_host)
            .pool_idle_timeout(pool.idle_timeout)
            .tcp_nodelay(pool.tcp_nodelay)
            .gzip(pool.compression)
            .user_agent(concat!("resilient-client/", env!("CARGO_PKG_VERSION")));
        b = if pool.http2 {
            b.http2_prior_knowledge()
        } else {
            b.http1_only()
        };
        if loopback_only {
            b = b.no_proxy();
        }
        let http = b.build().map_err(BuildError::Http)?;
        Ok(HttpTransport { http, urls, key })
    }

    /// The key, for `Debug` output (which redacts it).
    pub(crate) fn key(&self) -> &ApiKey {
        &self.key
    }
}

impl Transport for HttpTransport {
    async fn send(&self, endpoint: usize, req: Request) -> Result<Response, Error> {
        let url = self.urls.get(endpoint).ok_or_else(|| Error::Request {
            reason: format!("internal: no endpoint {endpoint}"),
        })?;
        let accept = if req.stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        let mut resp = self
            .http
            .post(url.clone())
            .header(AUTHORIZATION, self.key.header().clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(ACCEPT, HeaderValue::from_static(accept))
            .header("traceparent", req.traceparent)
            .body(req.body)
            .send()
            .await
            .map_err(|e| classify_reqwest(e, TimeoutPhase::FirstByte))?;
        let status = resp.status().as_u16();
        let content_length = resp.content_length();
        // Taken, not cloned: the body stream below needs no headers, and
        // becomes the only owner of the connection (dropping it aborts).
        let headers = std::mem::take(resp.headers_mut());
        let body = resp
            .bytes_stream()
            .map(|r| r.map_err(|e| classify_reqwest(e, TimeoutPhase::Idle)))
            .boxed();
        Ok(Response {
            status,
            headers,
            content_length,
            body,
        })
    }
}

/// Maps a reqwest error to a typed error; `timeout_phase` names a timeout
/// reqwest itself reports outside connect.
pub(crate) fn classify_reqwest(e: reqwest::Error, timeout_phase: TimeoutPhase) -> Error {
    if e.is_timeout() {
        let phase = if e.is_connect() {
            TimeoutPhase::Connect
        } else {
            timeout_phase
        };
        return Error::Timeout { phase };
    }
    if e.is_builder() {
        return Error::Request {
            reason: e.to_string(),
        };
    }
    let kind = connection_kind(&e);
    Error::Connection {
        kind,
        source: Arc::new(e),
    }
}

fn connection_kind(e: &reqwest::Error) -> ConnectionKind {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    let mut text_closed = false;
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return ConnectionKind::Refused,
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                    return ConnectionKind::Reset
                }
                K::UnexpectedEof => return ConnectionKind::Closed,
                _ => {}
            }
        }
        // hyper reports an early close as "connection closed before message
        // completed" / "incomplete message" without an io::Error inside.
        let msg = err.to_string();
        if msg.contains("closed") || msg.contains("incomplete") || msg.contains("end of file") {
            text_closed = true;
        }
        cur = err.source();
    }
    if text_closed {
        ConnectionKind::Closed
    } else if e.is_connect() {
        ConnectionKind::Refused
    } else {
        ConnectionKind::Other
    }
}
