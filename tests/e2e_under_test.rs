//! End-to-end: `harness run` with an external system under test
//! (`under_test:`): a service already running (a fake node driven
//! directly), a command the harness starts, waits for and stops (a
//! standard-library Python adapter, tests/fixtures/forward_adapter.py), and
//! the ways such a command misbehaves.
//!
//! The started-command tests need `python3`; without it they print why they
//! are skipped, and fail instead when `HARNESS_REQUIRE_ADAPTERS=1` (as CI
//! sets it), so they never pass silently.

mod common;

use std::path::{Path, PathBuf};

use common::{text, tmp_dir};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/forward_adapter.py")
        .display()
        .to_string()
}

/// Whether `python3` runs here; prints why a test is skipped otherwise.
fn python_or_skip(test: &str) -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("HARNESS_REQUIRE_ADAPTERS").is_some() {
            panic!("{test}: python3 is not installed and HARNESS_REQUIRE_ADAPTERS is set");
        }
        eprintln!("SKIPPED {test}: python3 is not installed (set HARNESS_REQUIRE_ADAPTERS=1 to fail instead)");
    }
    ok
}

fn harness(dir: &Path, yaml: &str, extra: &[&str]) -> Output {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let sc = dir.join("scenario.yaml");
    std::fs::write(&sc, yaml).unwrap();
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .arg(&sc)
        .arg("--out")
        .arg(dir.join("reports"))
        .arg("-q")
        .args(extra)
        .env_remove("DEEPSEEK_API_KEY")
        .output()
        .expect("run harness")
}

fn report_dir(dir: &Path) -> PathBuf {
    let out = dir.join("reports");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "one report folder in {out:?}: {dirs:?}");
    dirs[0].clone()
}

fn summary(report: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap()
}

/// Whether process `pid` is gone (or a zombie), waiting up to `within`.
fn gone(pid: i32, within: Duration) -> bool {
    let until = Instant::now() + within;
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        let dead = match stat {
            Err(_) => true,
            Ok(s) => s
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        };
        if dead {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pid_in(file: &Path) -> i32 {
    std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .trim()
        .parse()
        .unwrap()
}

/// Starts `harness run` on `yaml` in `dir`, waits until the command under
/// test wrote `pidfile` (and `settle` more), then sends SIGINT to the
/// harness. Returns the harness process and the command's pid.
fn start_then_interrupt(
    dir: &Path,
    yaml: &str,
    pidfile: &Path,
    settle: Duration,
) -> (std::process::Child, i32) {
    let sc = dir.join("scenario.yaml");
    std::fs::write(&sc, yaml).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .arg(&sc)
        .arg("--out")
        .arg(dir.join("reports"))
        .arg("-q")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while !pidfile.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(settle);
    let pid = pid_in(pidfile);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    (child, pid)
}

const SERVER: &str = "
seed: 3
server:
  nodes: 2
  generation: { ttft: 5ms, tokens_per_second: 2000, output_tokens: 5 }
  faults:
    - status: { code: 503, rate: 20% }
load:
  rate: 20/s
";

#[test]
fn drives_a_running_service_at_url_and_classifies_its_answers() {
    let dir = tmp_dir("ut-direct");
    let yaml = format!(
        "name: ut-direct\nduration: 3s\n{SERVER}under_test:\n  name: gateway\n  url: \"{{node0}}/v1/chat/completions\"\n  headers: {{ authorization: \"Bearer sk-local\" }}\n  timeout: 5s\n"
    );
    let o = harness(&dir, &yaml, &[]);
    assert!(matches!(o.status.code(), Some(0 | 4)), "{}", text(&o));
    let s = summary(&report_dir(&dir));
    let a = &s["arms"]["gateway"];
    assert_eq!(s["primary"], "gateway", "{s}");
    assert_eq!(a["requests"], 60, "{a}");
    // 20% of answers are 503 and nothing retries them: success about 80%.
    let ok = a["success_rate"].as_f64().unwrap();
    assert!((0.6..0.95).contains(&ok), "success {ok}: {a}");
    assert!(a["outcomes"]["http_5xx"].as_u64().unwrap() > 0, "{a}");
    assert!(s["arms"].get("resilient").is_none(), "{s}");
}

#[test]
fn a_started_adapter_gets_load_and_is_stopped_at_the_end() {
    if !python_or_skip("a_started_adapter_gets_load_and_is_stopped_at_the_end") {
        return;
    }
    let dir = tmp_dir("ut-started");
    let pidfile = dir.join("adapter.pid");
    let yaml = format!(
        "name: ut-started\nduration: 3s\n{SERVER}under_test:\n  name: py-forward\n  command: [python3, \"{}\"]\n  env: {{ PORT: \"{{port}}\", UPSTREAM: \"{{node1}}\", PIDFILE: \"{}\" }}\n  ready: {{ url: \"http://127.0.0.1:{{port}}/healthz\", timeout: 20s }}\n  url: \"http://127.0.0.1:{{port}}/chat\"\n  timeout: 5s\n",
        fixture(),
        pidfile.display()
    );
    let o = harness(&dir, &yaml, &[]);
    assert!(matches!(o.status.code(), Some(0 | 4)), "{}", text(&o));
    let report = report_dir(&dir);
    let s = summary(&report);
    let a = &s["arms"]["py-forward"];
    assert_eq!(a["requests"], 60, "{a}");
    let ok = a["success_rate"].as_f64().unwrap();
    assert!((0.6..0.95).contains(&ok), "success {ok}: {a}");
    let log = std::fs::read_to_string(report.join("sut.log")).unwrap();
    assert!(log.contains("forward adapter listening"), "sut.log: {log}");
    assert!(
        gone(pid_in(&pidfile), Duration::from_secs(5)),
        "the adapter still runs after the run"
    );
}

#[test]
fn an_adapter_that_answers_garbage_counts_as_a_protocol_error_with_an_example() {
    if !python_or_skip("an_adapter_that_answers_garbage_counts_as_a_protocol_error_with_an_example")
    {
        return;
    }
    let dir = tmp_dir("ut-garbage");
    let yaml = format!(
        "name: ut-garbage\nduration: 2s\n{SERVER}under_test:\n  name: broken\n  command: [python3, \"{}\"]\n  env: {{ PORT: \"{{port}}\", UPSTREAM: \"{{node0}}\", MODE: garbage }}\n  ready: {{ url: \"http://127.0.0.1:{{port}}/healthz\" }}\n  url: \"http://127.0.0.1:{{port}}/chat\"\n",
        fixture()
    );
    let o = harness(&dir, &yaml, &[]);
    let s = summary(&report_dir(&dir));
    let a = &s["arms"]["broken"];
    assert_eq!(a["success_rate"].as_f64(), Some(0.0), "{}\n{a}", text(&o));
    assert_eq!(a["outcomes"]["sut_protocol_error"], 40, "{a}");
    let examples = a["examples"].to_string();
    assert!(
        examples.contains("not a completion") || examples.contains("expected"),
        "{examples}"
    );
}

#[test]
fn a_command_that_exits_before_ready_is_reported_with_its_output() {
    if !python_or_skip("a_command_that_exits_before_ready_is_reported_with_its_output") {
        return;
    }
    let dir = tmp_dir("ut-exits");
    let yaml = format!(
        "name: ut-exits\nduration: 2s\n{SERVER}under_test:\n  name: crashy\n  command: [python3, -c, \"print('no config, giving up'); raise SystemExit(3)\"]\n  ready: {{ url: \"http://127.0.0.1:{{port}}/healthz\", timeout: 20s }}\n  url: \"http://127.0.0.1:{{port}}/chat\"\n"
    );
    let started = Instant::now();
    let o = harness(&dir, &yaml, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("exited before it was ready"), "{err}");
    assert!(
        err.contains("no config, giving up"),
        "the output's tail is shown: {err}"
    );
    assert!(err.contains("sut.log"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "did not wait for the ready timeout"
    );
}

#[test]
fn a_command_never_ready_is_stopped_after_the_ready_timeout() {
    if !python_or_skip("a_command_never_ready_is_stopped_after_the_ready_timeout") {
        return;
    }
    let dir = tmp_dir("ut-never");
    let pidfile = dir.join("sleeper.pid");
    let yaml = format!(
        "name: ut-never\nduration: 2s\n{SERVER}under_test:\n  name: sleeper\n  command: [python3, -c, \"import os,time; open(os.environ['PIDFILE'],'w').write(str(os.getpid())); time.sleep(300)\"]\n  env: {{ PIDFILE: \"{}\" }}\n  ready: {{ url: \"http://127.0.0.1:{{port}}/healthz\", timeout: 1500ms }}\n  url: \"http://127.0.0.1:{{port}}/chat\"\n  stop_grace: 1s\n",
        pidfile.display()
    );
    let o = harness(&dir, &yaml, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not ready after 1s 500ms"), "{err}");
    assert!(err.contains("/healthz never answered 2xx"), "{err}");
    assert!(
        gone(pid_in(&pidfile), Duration::from_secs(5)),
        "the command still runs"
    );
}

#[test]
fn ctrl_c_mid_run_stops_the_adapter_and_keeps_a_partial_report() {
    if !python_or_skip("ctrl_c_mid_run_stops_the_adapter_and_keeps_a_partial_report") {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tmp_dir("ut-ctrlc");
    let pidfile = dir.join("adapter.pid");
    let yaml = format!(
        "name: ut-ctrlc\nduration: 60s\n{SERVER}under_test:\n  name: py-forward\n  command: [python3, \"{}\"]\n  env: {{ PORT: \"{{port}}\", UPSTREAM: \"{{node0}}\", PIDFILE: \"{}\" }}\n  ready: {{ url: \"http://127.0.0.1:{{port}}/healthz\", timeout: 20s }}\n  url: \"http://127.0.0.1:{{port}}/chat\"\n",
        fixture(),
        pidfile.display()
    );
    let (mut child, adapter) = start_then_interrupt(&dir, &yaml, &pidfile, Duration::from_secs(2));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "Ctrl-C exit code");
    assert!(
        gone(adapter, Duration::from_secs(5)),
        "the adapter outlived the run"
    );
    let s = summary(&report_dir(&dir));
    assert_eq!(s["partial"], true, "{s}");
    assert!(s["arms"]["py-forward"]["requests"].as_u64().unwrap() > 0);
}

#[test]
fn an_adapter_that_hangs_is_cut_by_the_harness_side_timeout() {
    if !python_or_skip("an_adapter_that_hangs_is_cut_by_the_harness_side_timeout") {
        return;
    }
    let dir = tmp_dir("ut-hang");
    let yaml = format!(
        "name: ut-hang\nduration: 2s\n{SERVER}under_test:\n  name: stuck\n  command: [python3, \"{}\"]\n  env: {{ PORT: \"{{port}}\", UPSTREAM: \"{{node0}}\", MODE: hang }}\n  ready: {{ url: \"http://127.0.0.1:{{port}}/healthz\" }}\n  url: \"http://127.0.0.1:{{port}}/chat\"\n  timeout: 1s\n",
        fixture()
    );
    let started = Instant::now();
    let o = harness(&dir, &yaml, &[]);
    let s = summary(&report_dir(&dir));
    let a = &s["arms"]["stuck"];
    assert_eq!(a["outcomes"]["timeout"], 40, "{}\n{a}", text(&o));
    // Each call is cut at 1 s: corrected latency near 1 s, not 300 s.
    let p99 = a["latency"]["corrected"]["p99_ms"].as_f64().unwrap();
    assert!((900.0..3000.0).contains(&p99), "p99 {p99} ms");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the run waited for the hung adapter"
    );
}

#[test]
fn ctrl_c_while_waiting_for_ready_stops_the_command() {
    if !python_or_skip("ctrl_c_while_waiting_for_ready_stops_the_command") {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tmp_dir("ut-ctrlc-start");
    let pidfile = dir.join("sleeper.pid");
    let yaml = format!(
        "name: ut-ctrlc-start\nduration: 5s\n{SERVER}under_test:\n  name: sleeper\n  command: [python3, -c, \"import os,time; open(os.environ['PIDFILE'],'w').write(str(os.getpid())); time.sleep(300)\"]\n  env: {{ PIDFILE: \"{}\" }}\n  ready: {{ url: \"http://127.0.0.1:{{port}}/healthz\", timeout: 60s }}\n  url: \"http://127.0.0.1:{{port}}/chat\"\n",
        pidfile.display()
    );
    let (child, sleeper) = start_then_interrupt(&dir, &yaml, &pidfile, Duration::from_millis(300));
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted while starting"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "Ctrl-C did not cut the ready wait"
    );
    assert!(
        gone(sleeper, Duration::from_secs(5)),
        "the command outlived the run"
    );
}
