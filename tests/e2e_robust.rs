//! End-to-end, as a hostile user or a CI runner would: SIGTERM and SIGHUP
//! end `run`, `tune` and `mock` like Ctrl-C; `validate` refuses what could
//! not run in bounded memory and time; `gate` and `baseline save` refuse
//! partial reports. Each regression of issue 15 has its test here.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn tmp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "harness-robust-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs are timing measurements: one at a time, so parallel tests do not
/// starve each other's generator of CPU on a 2-core machine.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env_remove("DEEPSEEK_API_KEY")
        .output()
        .expect("run harness")
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env_remove("DEEPSEEK_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn harness")
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn folders(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.is_dir());
    v
}

/// Every file name under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

/// A 30 s run at 20/s: only a signal ends it early.
const LONG: &str = r#"
name: e2e-signal
seed: 1
duration: 30s
server:
  generation: { ttft: 5ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }
load:
  rate: 20/s
client:
  timeouts: { connect: 500ms, first_byte: 5s, total: 5s }
gates:
  - p99 < 10s
"#;

/// Regression: SIGTERM exited 143 at once with 0-byte files and no
/// summary. Now the load stops, the report is complete and marked partial,
/// nothing is half-written, and the exit code is 128 + the signal.
fn a_signal_ends_the_run_like_ctrl_c(sig: &str, code: i32) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tmp_dir(sig);
    let sc = write(&dir, "scenario.yaml", LONG);
    let out = dir.join("reports");
    let child = spawn(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    std::thread::sleep(Duration::from_secs(3));
    let t = Instant::now();
    signal(&child, sig);
    let o = child.wait_with_output().expect("wait");
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(code), "{}", text(&o));
    let dirs = folders(&out);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(dirs[0].join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["partial"], true);
    let requests = s["arms"]["resilient"]["requests"].as_u64().unwrap();
    assert!((20..400).contains(&requests), "{requests} requests in ~3 s");
    for f in [
        "index.html",
        "latency.hlog",
        "timeseries.csv",
        "summary.txt",
    ] {
        let len = std::fs::metadata(dirs[0].join(f))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 0, "{f} is empty or missing");
    }
    // No request failed, so no event: present, maybe empty.
    assert!(dirs[0].join("events.jsonl").is_file());
    let files = all_files(&out);
    assert!(
        !files
            .iter()
            .any(|f| f.contains(".tmp") || f.ends_with("INCOMPLETE")),
        "{files:?}"
    );
    // And `gate` will not judge it without being told to.
    let g = harness(&["gate", dirs[0].to_str().unwrap()]);
    assert_eq!(g.status.code(), Some(1), "{}", text(&g));
    assert!(
        String::from_utf8_lossy(&g.stderr).contains("--allow-partial"),
        "{}",
        text(&g)
    );
    let g = harness(&["gate", dirs[0].to_str().unwrap(), "--allow-partial"]);
    assert_eq!(g.status.code(), Some(0), "{}", text(&g));
}

#[test]
fn sigterm_ends_a_run_like_ctrl_c_and_exits_143() {
    a_signal_ends_the_run_like_ctrl_c("-TERM", 143);
}

#[test]
fn sighup_ends_a_run_like_ctrl_c_and_exits_129() {
    a_signal_ends_the_run_like_ctrl_c("-HUP", 129);
}

#[test]
fn sigterm_stops_a_tune_grid_and_writes_what_completed() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tmp_dir("tune");
    let sc = write(&dir, "scenario.yaml", LONG);
    let out = dir.join("reports");
    let child = spawn(&[
        "tune",
        sc.to_str().unwrap(),
        "--vary",
        "client.retry.max_attempts=1,2,3",
        "--duration",
        "20s",
        "--out",
        out.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_secs(3));
    let t = Instant::now();
    signal(&child, "-TERM");
    let o = child.wait_with_output().expect("wait");
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(143), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("tune interrupted"),
        "{}",
        text(&o)
    );
    // One settings' run started, none after it.
    let tune = folders(&out);
    assert_eq!(tune.len(), 1, "{tune:?}");
    assert_eq!(folders(&tune[0].join("runs")).len(), 1);
    assert!(tune[0].join("tune.csv").is_file());
}

#[test]
fn sigterm_stops_the_fake_server_cleanly() {
    let dir = tmp_dir("mock");
    let sc = write(&dir, "server.yaml", "server: { nodes: 2 }\n");
    let mut child = spawn(&["mock", sc.to_str().unwrap()]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("node 0: http://127.0.0.1:"), "{first}");
    let t = Instant::now();
    signal(&child, "-TERM");
    let status = child.wait().unwrap();
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert_eq!(status.code(), Some(0));
}

/// Regression: `--rate 1e308/s` spun at 100% CPU counting the schedule, and
/// `validate` accepted it; huge output lengths and user counts took the
/// process down. `validate` now refuses each at once, naming the bound.
#[test]
fn validate_refuses_what_cannot_run_in_bounded_memory_and_time() {
    let dir = tmp_dir("bounds");
    let base = "name: b\nduration: 1s\nload:\n  rate: 10/s\n";
    let sc = write(&dir, "ok.yaml", base);
    let o = harness(&["validate", sc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (base.to_string(), vec!["--set", "load.rate=1e308/s"], "at most 10000000"),
        (base.to_string(), vec!["--set", "load.rate=1e6/s", "--set", "duration=1h"], "at most 10000000"),
        (
            "name: b\nduration: 1s\nload:\n  model: closed\n  users: 100000000\n".into(),
            vec![],
            "load.users must be at most 100000",
        ),
        (
            format!("{base}server:\n  generation: {{ output_tokens: {{ uniform: [1e308, 1e308] }}, tokens_per_second: unlimited }}\n"),
            vec![],
            "server.generation.output_tokens must stay at most 384000",
        ),
        (
            format!("{base}server:\n  max_body: 1GiB\n"),
            vec![],
            "server.max_body must be at most 64MiB",
        ),
    ];
    for (i, (yaml, extra, needle)) in cases.iter().enumerate() {
        let sc = write(&dir, &format!("c{i}.yaml"), yaml);
        let mut args = vec!["validate", sc.to_str().unwrap()];
        args.extend(extra.iter());
        let t = Instant::now();
        let o = harness(&args);
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "case {i} took {:?}",
            t.elapsed()
        );
        assert_eq!(o.status.code(), Some(1), "case {i}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "case {i}: want `{needle}` in {err}");
    }
}

/// Cross-field errors name the line of their field; invalid UTF-8 names
/// the byte.
#[test]
fn errors_after_parsing_name_the_line() {
    let dir = tmp_dir("lines");
    let sc = write(
        &dir,
        "s.yaml",
        "name: b\nduration: 1s\nload:\n  rate: 10/s\n  max_in_flight: 0\n",
    );
    let o = harness(&["validate", sc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("s.yaml:5:3: load.max_in_flight must be >= 1"),
        "{}",
        text(&o)
    );
    let p = dir.join("bad-utf8.yaml");
    std::fs::write(
        &p,
        b"name: b\nduration: 1s\n# caf\xe9\nload: { rate: 1/s }\n",
    )
    .unwrap();
    let o = harness(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("bad-utf8.yaml:3:6: the file is not valid UTF-8 at byte 26"),
        "{}",
        text(&o)
    );
}

/// Regression: a brownout run interrupted before its fault phase passed
/// `gate -e 'p99 < 2s'` and was saved as a baseline.
#[test]
fn gate_and_baseline_refuse_partial_or_unhealthy_summaries() {
    let dir = tmp_dir("partial");
    let whole = serde_json::json!({
        "scenario": { "name": "s", "duration_s": 20.0, "gates": [] },
        "partial": false,
        "elapsed_s": 20.0,
        "generator": { "healthy": true, "problems": [] },
        "arms": { "resilient": { "success_rate": 1.0, "latency": { "corrected": { "p99_ms": 10.0 } } } }
    });
    let mut partial = whole.clone();
    partial["partial"] = true.into();
    partial["elapsed_s"] = 4.0.into();
    let mut unhealthy = whole.clone();
    unhealthy["generator"] =
        serde_json::json!({ "healthy": false, "problems": ["send lag p99 is 80 ms"] });
    for (name, v) in [
        ("whole", &whole),
        ("partial", &partial),
        ("unhealthy", &unhealthy),
    ] {
        write(&dir, &format!("{name}.json"), &v.to_string());
    }
    let p = |n: &str| dir.join(format!("{n}.json")).display().to_string();
    let o = harness(&["gate", &p("whole"), "-e", "p99 < 2s"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for (bad, why) in [
        ("partial", "cut short (partial: true, 4.0 s of 20.0 s)"),
        ("unhealthy", "send lag p99 is 80 ms"),
    ] {
        let o = harness(&["gate", &p(bad), "-e", "p99 < 2s"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(why) && err.contains("--allow-partial"),
            "{err}"
        );
        let o = harness(&["gate", &p(bad), "-e", "p99 < 2s", "--allow-partial"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let o = harness(&[
            "baseline",
            "save",
            &p(bad),
            "--dir",
            dir.join("b").to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(!dir.join("b/s.json").exists());
    }
    // A partial baseline is refused too.
    let o = harness(&[
        "gate",
        &p("whole"),
        "-e",
        "p99 < 2s",
        "--baseline",
        &p("partial"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = harness(&[
        "baseline",
        "save",
        &p("partial"),
        "--dir",
        dir.join("b").to_str().unwrap(),
        "--allow-partial",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(dir.join("b/s.json").exists());
}
