//! `resilient-client`: a DeepSeek chat-completions client with phase
//! timeouts, typed errors, retries with backoff and a retry budget, a circuit
//! breaker per endpoint, a client-side rate limiter, a bulkhead with load
//! shedding, endpoint balancing with outlier ejection and failover, and
//! fallbacks; observable through events, Prometheus metrics, `tracing` spans
//! and W3C `traceparent` headers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use resilient_client::{ChatRequest, Client, ClientConfig, Message, Model};
//! let client = Client::builder(ClientConfig::default())
//!     .endpoints(vec!["https://api.deepseek.com".into()])
//!     .build()?; // key from DEEPSEEK_API_KEY
//! let req = ChatRequest::new(Model::V4Flash, vec![Message::user("Hello")]);
//! let resp = client.chat(req).await?;
//! println!("{} ({} attempts)", resp.content().unwrap_or(""), resp.meta.attempts);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod call;
mod client;
pub mod config;
pub mod error;
pub mod events;
mod fallback;
mod guard;
pub mod meta;
mod metrics;
mod policies;
pub mod policy;
mod sse;
mod state;
pub mod stream;
#[cfg(test)]
mod testing;
mod trace;
mod transport;
pub mod types;
pub mod units;

pub use client::{Client, ClientBuilder};
pub use config::{ClientConfig, ConfigError, FallbackConfig};
pub use error::{BuildError, CallError, ConnectionKind, Error, TimeoutPhase};
pub use events::ClientEvent;
pub use fallback::STATIC_MODEL;
pub use meta::{CallMeta, FallbackKind};
pub use policy::breaker::BreakerState;
pub use policy::priority::Priority;
pub use stream::ChatStream;
pub use types::{ChatChunk, ChatRequest, ChatResponse, Message, Model};
