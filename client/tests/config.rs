//! `ClientConfig` as the scenario's `client:` section: the documented full
//! form parses, omitted sections take their defaults, `bare()` strips the
//! policies, and bad values name their field (with line:column from YAML).

use std::time::Duration;

use resilient_client::config::EndpointConfig;
use resilient_client::{ClientConfig, FallbackConfig, Model};

const FULL: &str = r#"
endpoints:
  - http://127.0.0.1:8001
  - { url: "http://127.0.0.1:8002", weight: 3 }
api_key_env: MY_KEY
timeouts: { connect: 500ms, first_byte: 5s, first_token: 8s, idle: 2s, total: 30s }
pool: { max_idle_per_host: 8, idle_timeout: 30s, http2: false, tcp_nodelay: true, compression: false }
retry:
  max_attempts: 4
  backoff: { base: 100ms, multiplier: 2, max: 2s, jitter: decorrelated }
  honor_retry_after: true
  budget: { ratio: 20%, min_per_second: 5/s, ttl: 10s }
  failover: true
breaker: { window_type: time, window_size: 10, minimum_number_of_calls: 5, failure_rate_threshold: 50%, wait_duration_in_open: 2s }
rate_limit: { rate: 200/s, burst: 20, max_wait: 100ms }
bulkhead: { max_concurrent: 64, max_queue: 256, max_queue_wait: 1s }
balancer: { strategy: p2c, ejection: { consecutive_failures: 3, base_ejection_time: 5s } }
fallback: { model: deepseek-v4-flash }
metrics: { listen: "127.0.0.1:9464" }
"#;

#[test]
fn the_full_form_parses_and_validates() {
    let c: ClientConfig = serde_yaml::from_str(FULL).unwrap();
    c.validate().unwrap();
    assert_eq!(
        c.endpoints[1],
        EndpointConfig::Weighted {
            url: "http://127.0.0.1:8002".into(),
            weight: 3
        }
    );
    assert_eq!(c.timeouts.idle, Duration::from_secs(2));
    assert_eq!(c.retry.max_attempts, 4);
    assert_eq!(c.rate_limit.as_ref().unwrap().burst, 20);
    assert_eq!(c.fallback, Some(FallbackConfig::Model(Model::V4Flash)));
    assert_eq!(c.metrics.listen.unwrap().port(), 9464);
}

/// `(field, default)` of every row of the README's configuration table.
fn readme_defaults() -> Vec<(String, String)> {
    let readme = include_str!("../README.md");
    let table = readme
        .split("| field | default | meaning |")
        .nth(1)
        .expect("the README has the client: reference table");
    table
        .lines()
        .skip(2) // the separator row
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let unquote = |c: &str| c.trim_matches('`').to_string();
            (unquote(cells[1]), unquote(cells[2]))
        })
        .collect()
}

/// `a.b.c` and `v` as the YAML `{a: {b: {c: v}}}`, on top of `base`.
fn with_field(base: &str, path: &str, value: &str) -> ClientConfig {
    let mut doc: serde_yaml::Value = serde_yaml::from_str(base).unwrap();
    let mut node = &mut doc;
    for key in path.split('.') {
        if node.is_null() {
            *node = serde_yaml::Value::Mapping(Default::default());
        }
        node = node
            .as_mapping_mut()
            .unwrap()
            .entry(key.into())
            .or_insert(serde_yaml::Value::Null);
    }
    *node = serde_yaml::from_str(value).unwrap();
    serde_yaml::from_value(doc)
        .unwrap_or_else(|e| panic!("README default `{path}: {value}` does not parse: {e}"))
}

#[test]
fn every_section_is_optional_with_documented_defaults() {
    // Writing each default the README documents must change nothing: a
    // wrong row (or a changed default) makes the explicit config differ
    // from the empty one.
    let rows = readme_defaults();
    assert!(rows.len() >= 45, "only {} rows parsed", rows.len());
    let empty: ClientConfig = serde_yaml::from_str("{}").unwrap();
    empty.validate().unwrap();
    let mut checked = 0;
    for (field, default) in &rows {
        // A section that is off unless present has no default to write.
        match default.as_str() {
            "off" => {
                match field.as_str() {
                    "rate_limit" => assert!(empty.rate_limit.is_none()),
                    "fallback" => assert!(empty.fallback.is_none()),
                    "priorities" => assert!(empty.priorities.is_none()),
                    "metrics.listen" => assert!(empty.metrics.listen.is_none()),
                    other => panic!("unexpected `off` row {other}"),
                }
                continue;
            }
            "required" => continue,
            _ => {}
        }
        // Rows inside `rate_limit` compare against a limiter given only
        // its required rate.
        // and rows inside `priorities` against an empty `priorities:`
        // (`<class>` checked as `high`).
        let base = if field.starts_with("rate_limit.") {
            "rate_limit: { rate: 100/s }"
        } else if field.starts_with("priorities.") {
            "priorities: {}"
        } else {
            "{}"
        };
        let field = &field.replace("<class>", "high");
        let implicit: ClientConfig = serde_yaml::from_str(base).unwrap();
        let explicit = with_field(base, field, default);
        assert_eq!(
            explicit, implicit,
            "README says `{field}` defaults to `{default}`, the code differs"
        );
        checked += 1;
    }
    assert!(checked >= 42, "{checked} defaults checked");
}

#[test]
fn bare_keeps_transport_and_drops_every_policy() {
    let c: ClientConfig = serde_yaml::from_str(FULL).unwrap();
    let b = c.bare();
    assert_eq!(
        (b.timeouts.clone(), b.pool.clone(), b.endpoints.clone()),
        (c.timeouts, c.pool, c.endpoints)
    );
    assert_eq!(b.retry.max_attempts, 1);
    assert!(!b.breaker.enabled && !b.bulkhead.enabled && !b.balancer.ejection.enabled);
    assert!(b.rate_limit.is_none() && b.fallback.is_none() && b.metrics.listen.is_none());
    b.validate().unwrap();
}

#[test]
fn bad_values_name_the_field_and_position() {
    let e = serde_yaml::from_str::<ClientConfig>("retry:\n  max_attempts: 0\n").unwrap_err();
    assert!(e.to_string().contains("must be >= 1, got 0"), "{e}");
    assert_eq!(e.location().unwrap().line(), 2);
    let e = serde_yaml::from_str::<ClientConfig>("timeouts: { idle: 0s }").unwrap_err();
    assert!(e.to_string().contains("greater than 0s"), "{e}");
    let e = serde_yaml::from_str::<ClientConfig>("retry: { max_atempts: 2 }").unwrap_err();
    assert!(e.to_string().contains("max_atempts"), "{e}");
    let e = serde_yaml::from_str::<ClientConfig>("fallback: { model: a, static_reply: b }")
        .unwrap_err();
    assert!(e.to_string().contains("exactly one"), "{e}");
}

#[test]
fn validate_reports_full_field_paths() {
    let mut c = ClientConfig::default();
    c.retry.max_attempts = 0;
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "client.retry.max_attempts must be >= 1, got 0"
    );
    let c = ClientConfig {
        endpoints: vec![EndpointConfig::Url("ftp://x".into())],
        ..Default::default()
    };
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .starts_with("client.endpoints[0] must be an http"));
    let mut c = ClientConfig::default();
    c.retry.backoff.base = Duration::ZERO;
    assert!(
        c.validate()
            .unwrap_err()
            .field
            .starts_with("client.retry.backoff"),
        "{:?}",
        c.validate()
    );
    let mut c = ClientConfig::default();
    c.balancer.ejection.consecutive_failures = 0;
    assert_eq!(
        c.validate().unwrap_err().field,
        "client.balancer.ejection.consecutive_failures"
    );
}

#[test]
fn client_futures_and_streams_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn _send<T: Send>(_: &T) {}
    send_sync::<resilient_client::Client>();
    send_sync::<resilient_client::CallError>();
    fn _spawnable(c: resilient_client::Client, r: resilient_client::ChatRequest) {
        _send(&c.chat(r.clone()));
        _send(&c.chat_stream(r));
    }
    fn _stream_is_send(s: resilient_client::ChatStream) {
        _send(&s);
    }
}
