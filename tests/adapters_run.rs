//! Every shipped adapter (clients/*/under_test.yaml) under a short
//! `harness run` with 429s that carry `retry-after-ms`: the load reaches
//! the client, the fake server's journal judges it, and each client's known
//! policy shows (the SDKs and the Rust client retry the 429s after the
//! delay asked; the article Go client does not retry 429 at all).
//!
//! A missing toolchain skips an adapter with the reason printed; with
//! `HARNESS_REQUIRE_ADAPTERS=1` (set by `.ci/run`) it fails instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn skip(test: &str, why: &str) {
    if std::env::var_os("HARNESS_REQUIRE_ADAPTERS").is_some() {
        panic!("{test}: {why} and HARNESS_REQUIRE_ADAPTERS is set");
    }
    eprintln!(
        "SKIPPED {test}: {why} (.ci/run installs it; HARNESS_REQUIRE_ADAPTERS=1 fails instead)"
    );
}

fn ok(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const SCENARIO: &str = "
name: adapter-check
seed: 21
duration: 4s
server:
  nodes: 2
  generation: { ttft: 20ms, tokens_per_second: 500, output_tokens: 8 }
  faults:
    - status: { code: 429, retry_after_ms: 200, rate: 20% }
load:
  rate: 10/s
";

/// Runs the scenario with `adapter` under test (from the repository root,
/// as the adapters' relative paths expect); returns its arm summary and
/// verdicts.
fn run(tag: &str, adapter: &str, stream: bool) -> (Value, Value) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = std::env::temp_dir().join(format!("harness-adapter-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sc = dir.join("scenario.yaml");
    let mut yaml = SCENARIO.to_string();
    if stream {
        yaml.push_str("  stream: true\n");
    }
    std::fs::write(&sc, yaml).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_harness"))
        .current_dir(repo())
        .arg("run")
        .arg(&sc)
        .arg("--under-test")
        .arg(adapter)
        .arg("--out")
        .arg(dir.join("reports"))
        .arg("-q")
        .output()
        .unwrap();
    let out = format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(matches!(o.status.code(), Some(0 | 3 | 4)), "{out}");
    let report: PathBuf = std::fs::read_dir(dir.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("no report: {out}"));
    let s: Value =
        serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    let v: Value =
        serde_json::from_slice(&std::fs::read(report.join("verdicts.json")).unwrap()).unwrap();
    let arm = s["arms"][s["primary"].as_str().unwrap()].clone();
    assert_eq!(arm["requests"], 40, "{out}\n{arm}");
    assert_eq!(arm["attempts_from"], "journal", "{arm}");
    assert!(
        v["attempts"].as_u64().unwrap() >= 40,
        "the journal saw the load: {v}"
    );
    (arm, v)
}

fn count(v: &Value, name: &str) -> u64 {
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .and_then(|x| x["count"].as_u64())
        .unwrap_or_else(|| panic!("no verdict {name} in {v}"))
}

/// A client that retries 429s after the `retry-after-ms` asked.
fn retries_after_the_delay_asked(arm: &Value, v: &Value) {
    let success = arm["success_rate"].as_f64().unwrap();
    assert!(success >= 0.95, "success {success}: {arm}");
    assert!(arm["retries"].as_u64().unwrap() > 0, "no retry seen: {arm}");
    assert_eq!(count(v, "ignored_retry_after"), 0, "{v}");
    assert_eq!(count(v, "no_backoff"), 0, "{v}");
}

#[test]
fn openai_python_adapter() {
    let t = "openai_python_adapter";
    if !ok(Command::new("python3").args(["-c", "import openai"])) {
        return skip(t, "python3 with the openai SDK is not installed");
    }
    let (arm, v) = run("py", "clients/openai-python/under_test.yaml", true);
    retries_after_the_delay_asked(&arm, &v);
    assert!(
        arm["ttft"]["p50_ms"].as_f64().is_some(),
        "streamed: TTFT measured: {arm}"
    );
}

#[test]
fn openai_node_adapter() {
    let t = "openai_node_adapter";
    if !repo()
        .join("clients/openai-node/node_modules/openai")
        .is_dir()
        || !ok(Command::new("node").arg("--version"))
    {
        return skip(
            t,
            "node with clients/openai-node/node_modules (npm ci) is not installed",
        );
    }
    let (arm, v) = run("node", "clients/openai-node/under_test.yaml", false);
    retries_after_the_delay_asked(&arm, &v);
}

#[test]
fn resilient_rust_adapter() {
    let t = "resilient_rust_adapter";
    if !repo().join("target/release/resilient-adapter").is_file() {
        return skip(t, "target/release/resilient-adapter is not built (cargo build --release -p resilient-adapter)");
    }
    let (arm, v) = run("rust", "clients/resilient-rust/under_test.yaml", true);
    retries_after_the_delay_asked(&arm, &v);
}

#[test]
fn go_article_adapter() {
    let t = "go_article_adapter";
    if !ok(Command::new("go").arg("version")) {
        return skip(t, "the Go toolchain is not installed");
    }
    assert!(ok(Command::new("go")
        .args(["build", "-o", "../../target/go-article", "."])
        .current_dir(repo().join("clients/go-article"))));
    let (arm, v) = run("go", "clients/go-article/under_test.yaml", false);
    // It retries 5xx and timeouts only: every 429 reaches the caller.
    assert!(arm["outcomes"]["http_429"].as_u64().unwrap() > 0, "{arm}");
    assert_eq!(arm["retries"], 0, "{arm}");
    assert_eq!(
        count(&v, "ignored_retry_after"),
        0,
        "no retry, so none too early: {v}"
    );
    assert!(count(&v, "gave_up_on_retryable") > 0, "{v}");
}
