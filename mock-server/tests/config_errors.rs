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
