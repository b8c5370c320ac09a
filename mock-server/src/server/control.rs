//! The control API under `/_mock/` (no auth): state, counters, the attempt
//! journal's ring, replacing the fault set at runtime, and resetting t0 and
//! counters.

use super::body::{full, Body};
use super::counters::CountersSnapshot;
use super::state::Shared;
use super::writer::PageQuery;
use crate::config::{parse_yaml, Fault, Phase, ServerConfig};
use crate::plan::FaultSet;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};

/// Largest control request body.
const MAX_CONTROL_BODY: usize = 1 << 20;

/// Body of `PUT /_mock/faults`: the same shape as the scenario's `server:`
/// `faults` and `phases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsUpdate {
    #[serde(default)]
    faults: Vec<Fault>,
    #[serde(default)]
    phases: Vec<Phase>,
}

#[derive(Serialize)]
struct State<'a> {
    node: usize,
    nodes: usize,
    seed: u64,
    elapsed_ms: u128,
    active_phases: Vec<String>,
    counters: &'a CountersSnapshot,
}

/// Serves one control request.
pub async fn handle(shared: &Shared, index: usize, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    match (req.method().clone(), path.as_str()) {
        (Method::GET, "/_mock/state") => {
            let elapsed = shared.elapsed();
            let counters = shared.counters();
            let state = State {
                node: index,
                nodes: shared.nodes.len(),
                seed: shared.seed,
                elapsed_ms: elapsed.as_millis(),
                active_phases: shared
                    .faults()
                    .map(|f| f.active_phases(elapsed, index))
                    .unwrap_or_default(),
                counters: &counters,
            };
            json(
                StatusCode::OK,
                serde_json::to_vec(&state).unwrap_or_default(),
            )
        }
        (Method::GET, "/_mock/counters") => json(
            StatusCode::OK,
            serde_json::to_vec(&shared.counters()).unwrap_or_default(),
        ),
        (Method::GET, "/_mock/journal") => match PageQuery::parse(req.uri().query()) {
            Ok(q) => json(
                StatusCode::OK,
                serde_json::to_vec(&shared.journal.page(q)).unwrap_or_default(),
            ),
            Err(e) => message(StatusCode::BAD_REQUEST, &e),
        },
        (Method::PUT | Method::POST, "/_mock/faults") => replace_faults(shared, req).await,
        (Method::POST, "/_mock/reset") => {
            shared.reset();
            json(StatusCode::OK, br#"{"ok":true}"#.to_vec())
        }
        _ => message(
            StatusCode::NOT_FOUND,
            "unknown control endpoint; see the mock-server README",
        ),
    }
}

async fn replace_faults(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    // A body sent a byte at a time must not hold the connection forever.
    let limit = shared.config.body_read_timeout.0;
    let read = tokio::time::timeout(
        limit,
        Limited::new(req.into_body(), MAX_CONTROL_BODY).collect(),
    );
    let bytes = match read.await {
        Ok(Ok(c)) => c.to_bytes(),
        Ok(Err(_)) => {
            return message(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body over 1 MiB or unreadable",
            )
        }
        Err(_) => {
            return message(
                StatusCode::REQUEST_TIMEOUT,
                &format!("the body did not arrive within body_read_timeout ({limit:?})"),
            )
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return message(StatusCode::BAD_REQUEST, "body must be UTF-8 JSON or YAML");
    };
    // JSON is YAML, so one parser takes both.
    let update: FaultsUpdate = match parse_yaml(text, "request body") {
        Ok(u) => u,
        Err(e) => return message(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let check = ServerConfig {
        faults: update.faults,
        phases: update.phases,
        ..shared.config.clone()
    };
    if let Err(e) = check.validate() {
        return message(StatusCode::BAD_REQUEST, &e.to_string());
    }
    shared.replace_faults(FaultSet::new(&check.faults, &check.phases));
    let body = serde_json::json!({
        "ok": true,
        "faults": check.faults.len(),
        "phases": check.phases.len(),
    });
    json(StatusCode::OK, body.to_string().into_bytes())
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn message(status: StatusCode, msg: &str) -> Response<Body> {
    let body = serde_json::json!({ "ok": false, "error": msg });
    json(status, body.to_string().into_bytes())
}
