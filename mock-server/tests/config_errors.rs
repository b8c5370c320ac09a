//! Scenario files: full scenario vs bare server section, and error messages
//! with file, line, column and field path.

use mock_server::load_server_config;
use std::io::Write;

fn file(text: &str) -> tempfile_path::Temp {
    tempfile_path::Temp::new(text)
}

/// Tiny temp-file helper (std only).
mod tempfile_path {
    use super::*;
    pub struct Temp(pub std::path::PathBuf);
    impl Temp {
        pub fn new(text: &str) -> Self {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let p = std::env::temp_dir().join(format!("mock-cfg-{}-{n}.yaml", std::process::id()));
            std::fs::File::create(&p)
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            Temp(p)
        }
    }
    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[test]
fn full_scenario_uses_server_and_top_level_seed() {
    let f = file(
        "name: x\nseed: 9\nload: { rate: 5/s }\nserver:\n  nodes: 2\n  faults:\n    - reset\n",
    );
    let c = load_server_config(&f.0).unwrap();
    assert_eq!((c.nodes(), c.seed), (2, Some(9)));
    assert_eq!(c.faults.len(), 1);
}

#[test]
fn bare_server_section() {
    let f = file("nodes: 3\nseed: 1\n");
    let c = load_server_config(&f.0).unwrap();
    assert_eq!((c.nodes(), c.seed), (3, Some(1)));
}

#[test]
fn errors_point_at_line_column_and_field() {
    let f = file("server:\n  phases:\n    - name: a\n      at: 2s\n      faults:\n        - status: {code: 429}\n        - stream_drop: {after_tokens: 3, rate: 1.5}\n");
    let e = load_server_config(&f.0).unwrap_err().to_string();
    let want = format!(
        "{}:7:48: server.phases[0].faults[1].stream_drop.rate must be in [0, 1], got 1.5: write `1.5%` for a percentage (percentages are written 30% or 0.3)",
        f.0.display()
    );
    assert_eq!(e, want);
    let f = file("nodes: 2\nfaults:\n  - latency: {delay: 12}\n");
    let e = load_server_config(&f.0).unwrap_err().to_string();
    assert!(
        e.ends_with(":3:22: server.faults[0].latency.delay: add a unit: `12s` (durations are written 250ms, 2s, 1m 30s)"),
        "{e}"
    );
    let f = file("server:\n  nodez: 2\n");
    let e = load_server_config(&f.0).unwrap_err().to_string();
    assert!(
        e.contains(":2:3: server.nodez: unknown field `nodez`"),
        "{e}"
    );
    let f = file("server:\n  faults: [ {explode: {}} ]\n");
    let e = load_server_config(&f.0).unwrap_err().to_string();
    assert!(e.contains("unknown variant `explode`"), "{e}");
    let f = file("server:\n  nodes: 2\n  faults: [ {reset: {nodes: [2]}} ]\n");
    let e = load_server_config(&f.0).unwrap_err().to_string();
    assert!(
        e.contains("server.faults[0].reset.nodes[0] must be a node index below 2"),
        "{e}"
    );
    let e = load_server_config("/nonexistent/x.yaml".as_ref())
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read"), "{e}");
}

/// Exact messages for faults written wrong: each names the line, column and
/// field, and says what is allowed.
#[test]
fn fault_errors_name_the_field_and_what_is_allowed() {
    let cases = [
        (
            "{explode: {}}",
            "t.yaml:3:5: faults[0]: unknown variant `explode`, expected one of `latency`, `status`, `reset`, `close_mid_body`, `truncated_json`, `stall`, `stream_drop`, `stream_stall`, `slow_drip`, `malformed_chunk`, `missing_done`, `queue_wait`, `node_down`",
        ),
        (
            "latency",
            "t.yaml:3:5: faults[0]: `latency` needs settings, e.g. `latency: {...}`",
        ),
        ("{}", "t.yaml:3:5: faults[0]: a fault needs one kind key"),
        (
            "{reset: {}, rate: 1}",
            "t.yaml:3:5: faults[0]: a fault has exactly one kind key, found `reset` and `rate` (put `rate` and `nodes` inside `reset: {...}`)",
        ),
        (
            "{reset: {foo: 1}}",
            "t.yaml:3:14: faults[0].reset.foo: unknown field `foo`, expected `rate` or `nodes`",
        ),
        (
            "{status: {foo: 1}}",
            "t.yaml:3:15: faults[0].status.foo: unknown field `foo`, expected one of `code`, `message`, `type`, `retry_after`, `retry_after_ms`, `should_retry`, `rate`, `nodes`",
        ),
        (
            "{stream_drop: {after_tokens: 5, mode: rst, rate: 0.05, nodes: [1], extra: 2}}",
            "t.yaml:3:72: faults[0].stream_drop.extra: unknown field `extra`, expected one of `after_tokens`, `mode`, `rate`, `nodes`",
        ),
        (
            "{status: {}}",
            "t.yaml:3:14: faults[0].status: missing field `code`",
        ),
        (
            "{status: {code: 503, rate: 1, rate: 1}}",
            "t.yaml:3:14: faults[0].status: duplicate field `rate`",
        ),
        (
            "{reset: {rate: 2}}",
            "t.yaml:3:20: faults[0].reset.rate must be in [0, 1], got 2: write `2%` for a percentage (percentages are written 30% or 0.3)",
        ),
        (
            "{latency: {delay: 1s, nodes: 3}}",
            "t.yaml:3:34: faults[0].latency.nodes: invalid type: integer `3`, expected a sequence",
        ),
        (
            "{queue_wait: {wait: 1s, keep_alive_every: 0ms}}",
            "t.yaml:3:18: faults[0].queue_wait.keep_alive_every must be at least 1ms",
        ),
        (
            "{status: 503}",
            "t.yaml:3:14: faults[0].status: invalid type: integer `503`, expected a map of `status` settings",
        ),
        (
            "{reset: null}",
            "t.yaml:3:13: faults[0].reset: invalid type: unit value, expected a map of `reset` settings",
        ),
        (
            "{slow_drip: {tokens_per_second: 0}}",
            "t.yaml:3:17: faults[0].slow_drip.tokens_per_second must be > 0, got 0",
        ),
    ];
    for (fault, want) in cases {
        let yaml = format!("nodes: 2\nfaults:\n  - {fault}\n");
        let e = mock_server::config::parse_yaml::<mock_server::ServerConfig>(&yaml, "t.yaml")
            .unwrap_err()
            .to_string();
        assert_eq!(e, want, "for {fault}");
    }
}
