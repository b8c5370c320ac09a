//! Clients in other languages judged from the wire: `harness mock
//! --journal`, the client's own load, then `harness judge`. The official
//! `openai` Python SDK (pip, pinned in clients/openai-python/requirements.txt)
//! and the article-style Go net/http client (clients/go-article).
//!
//! A missing toolchain or SDK skips the test with the reason printed;
//! with `HARNESS_REQUIRE_ADAPTERS=1` (set by `.ci/run`, which installs
//! them) it fails instead, so these never pass silently.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use common::tmp_dir;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `true` when `check` succeeds; otherwise prints why `test` is skipped
/// (or panics under HARNESS_REQUIRE_ADAPTERS).
fn have(test: &str, what: &str, check: &mut Command) -> bool {
    let ok = check
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("HARNESS_REQUIRE_ADAPTERS").is_some() {
            panic!("{test}: {what} is not installed and HARNESS_REQUIRE_ADAPTERS is set");
        }
        eprintln!("SKIPPED {test}: {what} is not installed (.ci/run installs it; HARNESS_REQUIRE_ADAPTERS=1 fails instead)");
    }
    ok
}

/// A standalone fake server writing its journal; stopped with Ctrl-C.
struct Mock {
    child: Child,
    url: String,
    journal: PathBuf,
}

impl Mock {
    fn start(dir: &Path, scenario: &str) -> Mock {
        let sc = dir.join("scenario.yaml");
        std::fs::write(&sc, scenario).unwrap();
        let journal = dir.join("journal.jsonl");
        let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
            .arg("mock")
            .arg(&sc)
            .arg("--journal")
            .arg(&journal)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("mock prints its nodes").unwrap();
        let url = first
            .split_once(": ")
            .map(|(_, u)| u.trim().to_string())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        std::thread::spawn(move || for _ in lines {});
        Mock {
            child,
            url,
            journal,
        }
    }

    /// Stops the server (its journal is complete after this) and judges it.
    fn judge(mut self, dir: &Path) -> (Option<i32>, Value) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        self.child.wait().unwrap();
        let json = dir.join("verdicts.json");
        let o = Command::new(env!("CARGO_BIN_EXE_harness"))
            .arg("judge")
            .arg(&self.journal)
            .arg("--json")
            .arg(&json)
            .output()
            .unwrap();
        let v =
            serde_json::from_slice(&std::fs::read(&json).unwrap_or_default()).unwrap_or_else(|e| {
                panic!(
                    "judge wrote no verdicts ({e}): {}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            });
        (o.status.code(), v)
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

fn run_ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{:?} failed: {}{}",
        cmd,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const QUICK: &str = "
seed: 5
server:
  nodes: 1
  generation: { ttft: 5ms, tokens_per_second: 2000, output_tokens: 5 }
";

fn python_calls(url: &str, n: u32, k: u32) -> String {
    run_ok(
        Command::new("python3")
            .arg(repo().join("clients/openai-python/calls.py"))
            .arg(n.to_string())
            .arg(k.to_string())
            .env("OPENAI_BASE_URL", format!("{url}/v1"))
            .env("OPENAI_API_KEY", "sk-harness-local"),
    )
}

#[test]
fn openai_python_honours_retry_after_and_never_retries_a_400() {
    let t = "openai_python_honours_retry_after_and_never_retries_a_400";
    if !have(
        t,
        "python3 with the openai SDK",
        Command::new("python3").args(["-c", "import openai"]),
    ) {
        return;
    }
    let dir = tmp_dir("clients-py-mixed");
    let mock = Mock::start(
        &dir,
        &format!(
            "name: py-mixed\n{QUICK}  faults:\n    - status: {{ code: 429, retry_after_ms: 300, rate: 20% }}\n    - status: {{ code: 503, rate: 10% }}\n    - status: {{ code: 400, rate: 5% }}\n    - reset: {{ rate: 5% }}\n"
        ),
    );
    let out = python_calls(&mock.url, 80, 8);
    let (_, v) = mock.judge(&dir);
    let statuses = &v["statuses"];
    assert!(
        statuses["429"].as_u64().unwrap_or(0) > 0,
        "no 429 seen: {v}\n{out}"
    );
    assert!(
        statuses["400"].as_u64().unwrap_or(0) > 0,
        "no 400 seen: {v}"
    );
    assert!(
        v["attempts"].as_u64().unwrap() > 80,
        "no retries at all: {v}"
    );
    assert_eq!(
        v["calls"], 80,
        "one call per prompt (fingerprint keys): {v}"
    );
    assert_eq!(count(&v, "ignored_retry_after"), 0, "{v}");
    assert_eq!(count(&v, "retried_non_retryable"), 0, "{v}");
    assert_eq!(count(&v, "no_backoff"), 0, "{v}");
}

#[test]
fn openai_python_makes_three_attempts_per_call_on_a_persistent_503() {
    let t = "openai_python_makes_three_attempts_per_call_on_a_persistent_503";
    if !have(
        t,
        "python3 with the openai SDK",
        Command::new("python3").args(["-c", "import openai"]),
    ) {
        return;
    }
    let dir = tmp_dir("clients-py-503");
    let mock = Mock::start(
        &dir,
        &format!("name: py-503\n{QUICK}  faults:\n    - status: {{ code: 503 }}\n"),
    );
    let out = python_calls(&mock.url, 10, 10);
    assert!(out.contains("'http_503': 10"), "{out}");
    let (code, v) = mock.judge(&dir);
    // The SDK's default: 2 retries, so 3 attempts for each of the 10 calls.
    assert_eq!(v["attempts_per_call"], serde_json::json!({"3": 10}), "{v}");
    assert_eq!(count(&v, "gave_up_on_retryable"), 10, "{v}");
    assert_eq!(count(&v, "no_backoff"), 0, "{v}");
    assert_eq!(code, Some(0), "no fail verdict: {v}");
}

/// Builds the Go client into `dir`, or says why it cannot.
fn go_client(test: &str, dir: &Path) -> Option<PathBuf> {
    if !have(test, "the Go toolchain", Command::new("go").arg("version")) {
        return None;
    }
    let bin = dir.join("go-article");
    run_ok(
        Command::new("go")
            .args(["build", "-o"])
            .arg(&bin)
            .arg(".")
            .current_dir(repo().join("clients/go-article")),
    );
    Some(bin)
}

fn go_calls(bin: &Path, url: &str) {
    run_ok(
        Command::new(bin)
            .args(["-calls", "20", "-c", "20"])
            .env("DEEPSEEK_BASE_URL", url)
            .env("DEEPSEEK_API_KEY", "sk-harness-local")
            .env("MAX_RETRIES", "2"),
    );
}

#[test]
fn the_article_go_client_retries_in_lockstep() {
    let dir = tmp_dir("clients-go-herd");
    let Some(bin) = go_client("the_article_go_client_retries_in_lockstep", &dir) else {
        return;
    };
    let mock = Mock::start(
        &dir,
        &format!("name: go-503\n{QUICK}  faults:\n    - status: {{ code: 503 }}\n"),
    );
    go_calls(&bin, &mock.url);
    let (_, v) = mock.judge(&dir);
    assert_eq!(v["attempts_per_call"], serde_json::json!({"2": 20}), "{v}");
    // 20 calls failed together and all slept exactly `1<<0` s: a herd.
    assert!(count(&v, "synchronized_retries") >= 10, "{v}");
    assert_eq!(count(&v, "no_backoff"), 0, "{v}");
}

#[test]
fn the_article_go_client_ignores_retry_after() {
    let dir = tmp_dir("clients-go-ra");
    let Some(bin) = go_client("the_article_go_client_ignores_retry_after", &dir) else {
        return;
    };
    let mock = Mock::start(
        &dir,
        &format!(
            "name: go-503-ra\n{QUICK}  faults:\n    - status: {{ code: 503, retry_after: 3 }}\n"
        ),
    );
    go_calls(&bin, &mock.url);
    let (code, v) = mock.judge(&dir);
    // Each call retried 1 s after a 503 that said `Retry-After: 3`.
    assert_eq!(count(&v, "ignored_retry_after"), 20, "{v}");
    assert_eq!(code, Some(3), "ignored_retry_after is a fail verdict: {v}");
}
