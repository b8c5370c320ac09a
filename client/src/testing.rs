//! Test support (compiled only for tests): a scripted fake [`Transport`], in
//! the spirit of tower's `tower_test::mock`, and a client state built from a
//! config with a seeded RNG. Each attempt takes the next scripted [`Reply`];
//! the fake records which endpoint each attempt went to and when, so tests
//! on paused time can assert attempts, failover and exact backoff delays
//! without sockets.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, StreamExt};
use http::{HeaderMap, HeaderName, HeaderValue};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::time::{sleep, Instant};

use crate::config::{ClientConfig, EndpointConfig};
use crate::error::{ConnectionKind, Error};
use crate::policies::build_policies;
use crate::state::Inner;
use crate::transport::{Request, Response, Transport};
use crate::types::{ChatRequest, Message, Model};

/// A non-streamed 200 body.
const OK_JSON: &str = r#"{"id":"r","object":"chat.completion","created":0,"model":"deepseek-v4-flash","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#;

/// One scripted answer to one attempt.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// Time before the head (or the error) arrives.
    delay: Duration,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Head {
        status: u16,
        headers: Vec<(&'static str, String)>,
        chunks: Vec<Bytes>,
        /// After the chunks: end the body, or never send another byte.
        body_hangs: bool,
    },
    /// No head, ever (until the caller gives up).
    Hang,
    Refused,
}

impl Reply {
    fn head(status: u16, chunks: Vec<Bytes>) -> Self {
        Reply {
            delay: Duration::ZERO,
            kind: Kind::Head {
                status,
                headers: Vec::new(),
                chunks,
                body_hangs: false,
            },
        }
    }

    /// 200 with a chat completion.
    pub(crate) fn ok() -> Self {
        Reply::head(200, vec![Bytes::from_static(OK_JSON.as_bytes())])
    }

    /// `status` with a DeepSeek error body.
    pub(crate) fn status(status: u16) -> Self {
        let body = format!(r#"{{"error":{{"message":"scripted {status}","type":"x"}}}}"#);
        Reply::head(status, vec![Bytes::from(body)])
    }

    /// 200 `text/event-stream` with one `data:` event per content piece (an
    /// empty piece is a role-only chunk, not a token), then `data: [DONE]`.
    pub(crate) fn sse(pieces: &[&str]) -> Self {
        let mut chunks: Vec<Bytes> = pieces.iter().map(|p| sse_chunk(p)).collect();
        chunks.push(Bytes::from_static(b"data: [DONE]\n\n"));
        Reply::head(200, chunks)
    }

    /// Like [`Reply::sse`] but the body ends without `data: [DONE]`.
    pub(crate) fn sse_cut(pieces: &[&str]) -> Self {
        Reply::head(200, pieces.iter().map(|p| sse_chunk(p)).collect())
    }

    /// A connect that is refused.
    pub(crate) fn refused() -> Self {
        Reply {
            delay: Duration::ZERO,
            kind: Kind::Refused,
        }
    }

    /// No answer at all.
    pub(crate) fn hang() -> Self {
        Reply {
            delay: Duration::ZERO,
            kind: Kind::Hang,
        }
    }

    /// Adds a response header.
    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Kind::Head { headers, .. } = &mut self.kind {
            headers.push((name, value.to_owned()));
        }
        self
    }

    /// The head comes after `d`.
    pub(crate) fn after(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }

    /// After its chunks the body stays open and silent.
    pub(crate) fn then_hang(mut self) -> Self {
        if let Kind::Head { body_hangs, .. } = &mut self.kind {
            *body_hangs = true;
        }
        self
    }
}

fn sse_chunk(content: &str) -> Bytes {
    let delta = if content.is_empty() {
        r#"{"role":"assistant","content":""}"#.to_owned()
    } else {
        format!(r#"{{"content":"{content}"}}"#)
    };
    Bytes::from(format!(
        "data: {{\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":null}}]}}\n\n"
    ))
}

/// One attempt as the fake saw it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sent {
    pub(crate) endpoint: usize,
    /// When the attempt was sent (paused-clock time).
    pub(crate) at: Instant,
    pub(crate) stream: bool,
    pub(crate) traceparent: String,
}

/// Answers attempts from a script, in order; an attempt beyond the script
/// fails with a `Request` error naming it, so a test never hangs on one.
#[derive(Default)]
pub(crate) struct FakeTransport {
    script: Mutex<VecDeque<Reply>>,
    sent: Mutex<Vec<Sent>>,
}

impl FakeTransport {
    pub(crate) fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        FakeTransport {
            script: Mutex::new(replies.into_iter().collect()),
            sent: Mutex::new(Vec::new()),
        }
    }

    /// Appends replies for the next attempts.
    pub(crate) fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    /// Every attempt so far.
    pub(crate) fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }

    /// Endpoint index per attempt so far.
    pub(crate) fn endpoints(&self) -> Vec<usize> {
        self.sent().iter().map(|s| s.endpoint).collect()
    }
}

impl Transport for FakeTransport {
    async fn send(&self, endpoint: usize, req: Request) -> Result<Response, Error> {
        self.sent.lock().unwrap().push(Sent {
            endpoint,
            at: Instant::now(),
            stream: req.stream,
            traceparent: req.traceparent,
        });
        let next = self.script.lock().unwrap().pop_front();
        let Some(reply) = next else {
            return Err(Error::Request {
                reason: "fake transport: no scripted reply left".into(),
            });
        };
        if !reply.delay.is_zero() {
            sleep(reply.delay).await;
        }
        match reply.kind {
            Kind::Hang => std::future::pending().await,
            Kind::Refused => Err(Error::Connection {
                kind: ConnectionKind::Refused,
                source: Arc::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            }),
            Kind::Head {
                status,
                headers,
                chunks,
                body_hangs,
            } => {
                let mut map = HeaderMap::new();
                for (name, value) in headers {
                    map.insert(
                        HeaderName::from_static(name),
                        HeaderValue::from_str(&value).expect("scripted header value"),
                    );
                }
                let body = stream::iter(chunks.into_iter().map(Ok));
                let body = if body_hangs {
                    body.chain(stream::pending()).boxed()
                } else {
                    body.boxed()
                };
                Ok(Response {
                    status,
                    headers: map,
                    content_length: None,
                    body,
                })
            }
        }
    }
}

/// Client state for `cfg` with `endpoints` made-up loopback endpoints (never
/// contacted) and the RNG seeded with `seed`.
pub(crate) fn inner(mut cfg: ClientConfig, endpoints: usize, seed: u64) -> Arc<Inner> {
    let weights: Vec<u32> = (0..endpoints)
        .map(|i| cfg.endpoints.get(i).map_or(1, EndpointConfig::weight))
        .collect();
    cfg.endpoints = weights
        .iter()
        .enumerate()
        .map(|(i, &weight)| EndpointConfig::Weighted {
            url: format!("http://127.0.0.1:{}", 9000 + i),
            weight,
        })
        .collect();
    let bases = cfg.endpoints.iter().map(|e| e.url().to_owned()).collect();
    let policies = build_policies(&cfg).expect("valid test config");
    let rng = StdRng::seed_from_u64(seed);
    Arc::new(Inner::new(cfg, bases, policies, rng).expect("test client state"))
}

/// A one-message request.
pub(crate) fn request() -> ChatRequest {
    ChatRequest::new(Model::V4Flash, vec![Message::user("hi")])
}
