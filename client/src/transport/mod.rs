//! The seam between the call loop and the network: a [`Transport`] sends one
//! attempt's request to an endpoint (by index) and gives back the response
//! head and a body stream, or a typed error. That is all the loop needs, in
//! the spirit of tower's `Service`: the phase timeouts, error answers,
//! `Retry-After` and SSE parsing sit above it in `call::attempt` and
//! `stream::reader`, so they run the same over reqwest ([`net`]) and over
//! the scripted fake the unit tests use.

use std::future::Future;

use bytes::Bytes;
use futures::stream::BoxStream;
use http::HeaderMap;
use tokio::time::Instant;

use crate::error::{Error, TimeoutPhase};

pub(crate) mod net;

/// What one attempt sends. The body is shared with the other attempts of
/// the call (`Bytes` clones are reference counts).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) body: Bytes,
    /// `00-<trace>-<span>-01`, a new span per attempt.
    pub(crate) traceparent: String,
    /// Ask for `text/event-stream` instead of JSON.
    pub(crate) stream: bool,
}

/// A response body: chunks as they arrive, then `None`. Errors are typed
/// already (a reset is `Error::Connection`, a transport-reported timeout
/// `Error::Timeout`). Dropping it aborts the request.
pub(crate) type Body = BoxStream<'static, Result<Bytes, Error>>;

/// A response head and its body, whatever the status.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    /// Body length when the transport knows it (sizes the JSON buffer).
    pub(crate) content_length: Option<u64>,
    pub(crate) body: Body,
}

/// Sends attempts. Implemented by [`net::HttpTransport`] (reqwest) and, in
/// tests, by a scripted fake; the call loop is generic over it, so the
/// production path is statically dispatched.
pub(crate) trait Transport: Send + Sync {
    /// Sends `req` to endpoint `endpoint` and resolves with the response
    /// head (any status). Errors are transport failures (refused, reset,
    /// connect timeout); the caller bounds the wait for the head with the
    /// first-byte timeout and drops the future to cancel.
    fn send(
        &self,
        endpoint: usize,
        req: Request,
    ) -> impl Future<Output = Result<Response, Error>> + Send;
}

/// The instant a phase timer fires and which phase to blame: the phase's own
/// bound, or the call deadline when that comes first.
pub(crate) fn bound(
    phase_end: Instant,
    phase: TimeoutPhase,
    deadline: Instant,
) -> (Instant, TimeoutPhase) {
    if phase_end < deadline {
        (phase_end, phase)
    } else {
        (deadline, TimeoutPhase::Total)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn phase_bound_blames_the_deadline_when_it_comes_first() {
        let now = Instant::now();
        let d = now + Duration::from_secs(1);
        assert_eq!(
            bound(now + Duration::from_secs(2), TimeoutPhase::Idle, d),
            (d, TimeoutPhase::Total)
        );
        let p = now + Duration::from_millis(5);
        assert_eq!(bound(p, TimeoutPhase::Idle, d), (p, TimeoutPhase::Idle));
    }
}
