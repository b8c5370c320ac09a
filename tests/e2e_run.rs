//! End-to-end: the `harness` binary on short scenarios against the embedded
//! fake server, asserting on exit codes, `summary.json` and the files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn tmp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "harness-e2e-{tag}-{}-{}",
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

fn harness(args: &[&str]) -> Output {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env_remove("DEEPSEEK_API_KEY")
        .output()
        .expect("run harness")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn report_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "one report folder in {out:?}: {dirs:?}");
    dirs[0].clone()
}

/// Write `yaml` as a scenario and `harness run` it quietly with `extra`
/// flags; returns the process output and the report folder.
fn run(tag: &str, yaml: &str, extra: &[&str]) -> (Output, PathBuf) {
    let dir = tmp_dir(tag);
    let sc = write(&dir, "scenario.yaml", yaml);
    let out = dir.join("reports");
    let mut args = vec![
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    let o = harness(&args);
    (o, report_dir(&out))
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn num(v: &Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{path} missing in summary"))
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Node 0 answers 503 from 1 s to 3 s; 5% resets everywhere.
const FLAKY: &str = r#"
name: e2e-flaky
seed: 4
duration: 4s
server:
  nodes: 2
  generation: { ttft: 5ms, tokens_per_second: unlimited, output_tokens: { uniform: [5, 10] } }
  faults:
    - reset: { rate: 5% }
  phases:
    - { name: down, at: 1s, for: 2s, nodes: [0], faults: [ { status: { code: 503 } } ] }
load:
  rate: 60/s
client:
  timeouts: { connect: 500ms, first_byte: 2s, total: 4s }
  retry: { max_attempts: 3, backoff: { base: 10ms, max: 100ms } }
  breaker: { window_size: 10, minimum_number_of_calls: 5, wait_duration_in_open: 1s }
compare: [raw]
gates:
  - success_rate >= 99%
  - breaker_opens >= 1
  - retries >= 5
"#;

#[test]
fn flaky_run_writes_a_consistent_report_and_passes_its_gates() {
    let (o, rep) = run("flaky", FLAKY, &["--gate"]);
    let s = summary(&rep);
    // 4 = the machine was too busy for the generator to keep the schedule;
    // the run says so, and everything below must still hold.
    match o.status.code() {
        Some(0) => assert_eq!(s["generator"]["healthy"], true),
        Some(4) => assert_eq!(s["generator"]["healthy"], false, "{}", text(&o)),
        _ => panic!("{}", text(&o)),
    }

    for arm in ["resilient", "raw"] {
        let a = &s["arms"][arm];
        let requests = a["requests"].as_u64().unwrap();
        let outcomes: u64 = a["outcomes"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(requests, outcomes, "{arm}: requests = sum of outcomes");
        assert_eq!(requests, 240, "{arm}: 60/s for 4 s");
        let attempts = a["attempts"].as_u64().unwrap();
        let statuses: u64 = a["statuses"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(attempts, statuses, "{arm}: one status per attempt");
        let corrected = num(&s, &format!("/arms/{arm}/latency/corrected/p99_ms"));
        let uncorrected = num(&s, &format!("/arms/{arm}/latency/uncorrected/p99_ms"));
        assert!(
            corrected >= uncorrected,
            "{arm}: corrected p99 {corrected} >= uncorrected {uncorrected}"
        );
    }
    // The resilient arm retried the 503s and resets and its breaker opened;
    // the raw arm saw them as errors.
    assert!(num(&s, "/arms/resilient/retries") >= 5.0);
    assert!(num(&s, "/arms/resilient/breaker/opens") >= 1.0);
    assert!(num(&s, "/arms/resilient/success_rate") >= 0.99);
    assert_eq!(num(&s, "/arms/raw/retries"), 0.0);
    assert!(num(&s, "/arms/raw/outcomes/http_5xx") > 0.0);
    assert!(num(&s, "/arms/raw/success_rate") < 0.95);
    assert!(
        num(&s, "/arms/resilient/statuses/503") > 0.0,
        "503s seen on the wire"
    );

    // Events: node0's breaker opened, phases were marked.
    let events = std::fs::read_to_string(rep.join("events.jsonl")).unwrap();
    let parsed: Vec<Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(parsed
        .iter()
        .any(|e| e["kind"] == "breaker" && e["state"] == "open" && e["endpoint"] == "node0"));
    assert!(parsed
        .iter()
        .any(|e| e["kind"] == "phase_start" && e["detail"]["phase"] == "down"));
    assert!(parsed.iter().any(|e| e["kind"] == "retry"));

    // Files: gates, CSV, HDR log, charts.
    let gates: Value =
        serde_json::from_str(&std::fs::read_to_string(rep.join("gates.json")).unwrap()).unwrap();
    assert_eq!(gates["passed"], true);
    assert!(std::fs::read_to_string(rep.join("gates.junit.xml"))
        .unwrap()
        .contains("failures=\"0\""));
    let csv = std::fs::read_to_string(rep.join("timeseries.csv")).unwrap();
    assert!(
        csv.lines().count() > 2 * 4,
        "a row per second per arm:\n{csv}"
    );
    let hlog = std::fs::read(rep.join("latency.hlog")).unwrap();
    let logged = harness::report::read_hlog(&hlog).unwrap();
    let total = logged["resilient.latency"].0.len();
    assert_eq!(
        total, 240,
        "interval log holds every resilient request once"
    );
    for chart in [
        "latency_over_time",
        "latency_percentiles",
        "throughput",
        "attempts",
    ] {
        let svg = std::fs::read_to_string(rep.join(format!("{chart}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{chart}.svg"
        );
        let png = std::fs::read(rep.join(format!("{chart}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{chart}.png");
    }
    let html = std::fs::read_to_string(rep.join("index.html")).unwrap();
    assert!(
        html.contains("latency_over_time")
            && !html.contains("http://")
            && !html.contains("https://")
    );
}

#[test]
fn retries_disabled_break_the_gate() {
    let (o, rep) = run(
        "noretry",
        FLAKY,
        &[
            "--gate",
            "--set",
            "client.retry.max_attempts=1",
            "--set",
            "compare=[]",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("FAIL"), "{stdout}");
    let s = summary(&rep);
    assert_eq!(num(&s, "/arms/resilient/retries"), 0.0);
    assert!(num(&s, "/arms/resilient/success_rate") < 0.99);
}

/// A one-second stall while the generator may only have 4 requests out: the
/// requests it could not send on time are charged their wait (corrected),
/// which the uncorrected numbers hide, and the run says it was not healthy.
#[test]
fn a_stall_shows_in_corrected_latency_not_only_uncorrected() {
    let (o, rep) = run(
        "stall",
        r#"
name: e2e-stall
duration: 4s
server:
  generation: { ttft: 1ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }
  phases:
    - { name: stall, at: 1s, for: 1s, faults: [ { latency: { delay: 1s } } ] }
load:
  rate: 200/s
  max_in_flight: 4
client:
  retry: { max_attempts: 1 }
"#,
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(4),
        "unhealthy generator exits 4: {}",
        text(&o)
    );
    let s = summary(&rep);
    let corrected = num(&s, "/arms/resilient/latency/corrected/p99_ms");
    let uncorrected = num(&s, "/arms/resilient/latency/uncorrected/p99_ms");
    assert!(
        corrected > 500.0,
        "corrected p99 {corrected} ms shows the stall"
    );
    assert!(
        uncorrected < corrected / 2.0,
        "uncorrected p99 {uncorrected} ms hides most of it"
    );
    assert_eq!(s["generator"]["healthy"], false);
    assert!(num(&s, "/generator/max_in_flight_hits") > 0.0);
}

#[test]
fn gate_command_exit_codes_and_baseline() {
    let dir = tmp_dir("gate");
    let summary_path = write(
        &dir,
        "summary.json",
        r#"{"scenario": {"name": "syn"}, "arms": {"resilient": {"success_rate": 0.995,
            "latency": {"corrected": {"p99_ms": 1500.0}}, "breaker": {"opens": 1}}}}"#,
    );
    let p = summary_path.to_str().unwrap();
    assert_eq!(
        harness(&["gate", p, "-e", "p99 < 2s", "-e", "success_rate >= 99%"])
            .status
            .code(),
        Some(0)
    );
    let fail = harness(&[
        "gate",
        p,
        "-e",
        "p99 < 1s",
        "--junit",
        dir.join("j.xml").to_str().unwrap(),
    ]);
    assert_eq!(fail.status.code(), Some(3), "{}", text(&fail));
    assert!(std::fs::read_to_string(dir.join("j.xml"))
        .unwrap()
        .contains("<failure"));
    let bad = harness(&["gate", p, "-e", "p98 < 1s"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown metric `p98`"));

    let base_dir = dir.join("baselines");
    let saved = harness(&["baseline", "save", p, "--dir", base_dir.to_str().unwrap()]);
    assert_eq!(saved.status.code(), Some(0), "{}", text(&saved));
    let base = base_dir.join("syn.json");
    assert!(base.exists());
    let worse = write(
        &dir,
        "worse.json",
        r#"{"arms": {"resilient": {"success_rate": 0.995, "latency": {"corrected": {"p99_ms": 1800.0}}}}}"#,
    );
    let args = |f: &Path| {
        harness(&[
            "gate",
            f.to_str().unwrap(),
            "-e",
            "p99 < 5s",
            "--baseline",
            base.to_str().unwrap(),
            "--tolerance",
            "10%",
        ])
    };
    assert_eq!(args(&summary_path).status.code(), Some(0));
    let regressed = args(&worse);
    assert_eq!(regressed.status.code(), Some(3), "{}", text(&regressed));
    assert!(String::from_utf8_lossy(&regressed.stdout).contains("baseline: p99"));
}

#[test]
fn bad_scenarios_name_file_line_and_field() {
    let dir = tmp_dir("bad");
    let sc = write(
        &dir,
        "bad.yaml",
        "name: bad\nduration: 5s\nserver:\n  faults:\n    - status: { code: 503, rate: 1.5 }\nload:\n  rate: 10/s\n",
    );
    let o = harness(&["validate", sc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.yaml:5:")
            && err.contains("server.faults[0].status.rate")
            && err.contains("1.5"),
        "{err}"
    );

    let sc = write(
        &dir,
        "unknown.yaml",
        "name: u\nduration: 5s\nload: { rate: 10/s, rat: 3 }\n",
    );
    let err =
        String::from_utf8_lossy(&harness(&["validate", sc.to_str().unwrap()]).stderr).to_string();
    assert!(
        err.contains("unknown.yaml:3:") && err.contains("unknown field `rat`"),
        "{err}"
    );

    let ok = write(
        &dir,
        "ok.yaml",
        "name: ok\nduration: 5s\nload: { rate: 10/s }\n",
    );
    let o = harness(&["validate", ok.to_str().unwrap(), "--set", "load.rate=fast"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("load.rate"),
        "{}",
        text(&o)
    );
    let o = harness(&["run", dir.join("missing.yaml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
}

#[test]
fn tune_runs_a_2x2_grid_and_recommends_a_feasible_setting() {
    let dir = tmp_dir("tune");
    let sc = write(&dir, "flaky.yaml", FLAKY);
    let out = dir.join("reports");
    let o = harness(&[
        "tune",
        sc.to_str().unwrap(),
        "--duration",
        "2s",
        "--set",
        "compare=[]",
        "--vary",
        "client.retry.max_attempts=1,3",
        "--vary",
        "client.pool.max_idle_per_host=4,32",
        "--objective",
        "min p99 where success_rate >= 97%",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("4 runs"), "{stdout}");
    let tune_dir = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().contains("-tune-"))
        .unwrap();
    let csv = std::fs::read_to_string(tune_dir.join("tune.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{csv}");
    // Without retries the resets and 503s fail more than 3% of requests, so
    // the recommendation must keep retries on.
    assert!(rows[0].starts_with("1,3,"), "best row retries: {csv}");
    assert!(stdout.contains("max_attempts: 3"), "{stdout}");
    // The chart rings the recommendation and names it in the legend.
    let svg = std::fs::read_to_string(tune_dir.join("tune.svg")).unwrap();
    assert!(svg.contains("#1 (recommended)"), "legend marks the pick");
    assert!(
        svg.contains("r=\"14\"") && svg.contains("#D62728"),
        "the recommended point is ringed in red"
    );
    let png = std::fs::read(tune_dir.join("tune.png")).expect("tune.png (a font is installed)");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 10_000, "a drawn chart, {} bytes", png.len());

    // No setting meets an impossible constraint: exit 3, said plainly.
    let none = harness(&[
        "tune",
        sc.to_str().unwrap(),
        "--duration",
        "1s",
        "--set",
        "compare=[]",
        "--vary",
        "client.retry.max_attempts=1,3",
        "--objective",
        "min p99 where p99 < 1us",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(none.status.code(), Some(3), "{}", text(&none));
    assert!(String::from_utf8_lossy(&none.stdout).contains("no setting met"));

    let refused = harness(&[
        "tune",
        sc.to_str().unwrap(),
        "--vary",
        "client.retry.max_attempts=1,2,3",
        "--max-runs",
        "2",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
}

#[test]
fn abort_on_fail_stops_the_run_once_the_error_budget_is_spent() {
    let (o, rep) = run(
        "abort",
        r#"
name: e2e-abort
duration: 20s
server:
  generation: { ttft: 1ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }
  faults: [ { status: { code: 500, rate: 20% } } ]
load: { rate: 50/s }
client: { retry: { max_attempts: 1 } }
gates: [ "success_rate >= 99%" ]
"#,
        &["--abort-on-fail"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("can no longer pass"),
        "{}",
        text(&o)
    );
    let s = summary(&rep);
    assert_eq!(s["partial"], true);
    // 1% of 1000 planned requests may fail; 20% fail, so the run stops within
    // a few seconds instead of 20.
    assert!(
        num(&s, "/elapsed_s") < 10.0,
        "elapsed {}",
        num(&s, "/elapsed_s")
    );
}

#[test]
fn validate_describes_what_the_run_will_do() {
    let dir = tmp_dir("describe");
    let sc = write(&dir, "flaky.yaml", FLAKY);
    let o = harness(&["validate", sc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "~240 requests",
        "2 node(s)",
        "always  reset 5%",
        "phase   down 1s..3s on nodes [0]: status 100%",
        "retry 3 attempts, backoff 10ms",
        "breaker count window 10",
        "compare   resilient vs raw",
        "gate      breaker_opens >= 1",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

/// `load.via: direct`, closed model: plain connections, no client. Faults
/// show up one attempt each: 503s as `http_5xx`, resets and cut bodies as
/// `connection` with status 0 or 200, queue waits (a chunked body of blank
/// lines, then the JSON) as `ok`.
const DIRECT_CLOSED: &str = r#"
name: e2e-direct-closed
seed: 9
duration: 2s
server:
  nodes: 2
  generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }
  faults:
    - status: { code: 503, rate: 20% }
    - reset: { rate: 5% }
    - close_mid_body: { rate: 5% }
    - queue_wait: { wait: { constant: 30ms }, keep_alive_every: 10ms, rate: 5% }
load:
  model: closed
  users: 8
  via: direct
client:
  retry: { max_attempts: 5 }
"#;

#[test]
fn direct_closed_run_counts_one_attempt_per_request_and_every_fault() {
    let (o, rep) = run("direct-closed", DIRECT_CLOSED, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = summary(&rep);
    assert_eq!(s["generator"]["healthy"], true, "{}", text(&o));
    assert_eq!(s["load"]["via"], "direct");
    let a = &s["arms"]["resilient"];
    let requests = num(&s, "/arms/resilient/requests");
    assert!(requests > 500.0, "only {requests} requests in 2 s");
    let outcomes: f64 = a["outcomes"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert_eq!(outcomes, requests);
    // No client: no retries, whatever `client.retry` says.
    assert_eq!(num(&s, "/arms/resilient/attempts"), requests);
    let statuses: f64 = a["statuses"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert_eq!(statuses, requests);
    let share = |class: &str| num(&s, &format!("/arms/resilient/outcomes/{class}")) / requests;
    // Fault decisions are seeded per node; shares within a wide band.
    assert!(
        (0.12..0.30).contains(&share("http_5xx")),
        "5xx {}",
        share("http_5xx")
    );
    assert!(
        (0.04..0.18).contains(&share("connection")),
        "conn {}",
        share("connection")
    );
    assert!(share("ok") > 0.55, "ok {}", share("ok"));
    assert_eq!(num(&s, "/arms/resilient/outcomes/other"), 0.0);
    assert!(
        num(&s, "/arms/resilient/statuses/0") > 0.0,
        "resets have no status"
    );
    assert!(num(&s, "/arms/resilient/statuses/503") > 0.0);
    // 5% of answers wait 30 ms in the queue; the rest come at once: the
    // wait shows above p95 and not below p90.
    let p90 = num(&s, "/arms/resilient/latency/uncorrected/p90_ms");
    let p99 = num(&s, "/arms/resilient/latency/uncorrected/p99_ms");
    assert!(p99 >= 29.5, "queue waits in p99: {p99} ms");
    assert!(p90 < 29.5, "most answers do not wait: p90 {p90} ms");
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("via direct"), "{table}");
    // Shown as `direct` (no client carried the requests), keyed `resilient`.
    let svg = std::fs::read_to_string(rep.join("latency_over_time.svg")).unwrap();
    assert!(
        svg.contains("direct p99") && !svg.contains("resilient"),
        "legend"
    );
    let html = std::fs::read_to_string(rep.join("index.html")).unwrap();
    assert!(html.contains("<th>direct</th>"), "index.html header");
}

/// `load.via: direct`, open model: the schedule is kept and an injected
/// latency L reads back as p50 ≈ L.
#[test]
fn direct_open_run_keeps_the_schedule_and_measures_latency() {
    let yaml = r#"
name: e2e-direct-open
seed: 2
duration: 2s
server:
  generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }
  faults:
    - latency: { delay: { constant: 20ms } }
load:
  rate: 200/s
  via: direct
"#;
    let (o, rep) = run("direct-open", yaml, &[]);
    // A light load any machine holds: the schedule must have been kept.
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = summary(&rep);
    assert_eq!(s["generator"]["healthy"], true);
    assert_eq!(num(&s, "/generator/max_in_flight_hits"), 0.0);
    let lag = num(&s, "/generator/lag/p99_ms");
    assert!(lag <= 10.0, "send lag p99 {lag} ms");
    assert_eq!(num(&s, "/load/schedule_len"), 400.0);
    assert_eq!(num(&s, "/load/requests"), num(&s, "/load/schedule_len"));
    assert_eq!(
        num(&s, "/arms/resilient/outcomes/ok"),
        num(&s, "/load/requests")
    );
    let p50 = num(&s, "/arms/resilient/latency/corrected/p50_ms");
    assert!(
        (19.5..25.0).contains(&p50),
        "p50 {p50} ms for a 20 ms fault"
    );
}

#[test]
fn direct_refuses_what_it_cannot_do() {
    let dir = tmp_dir("direct-bad");
    for (name, extra, needle) in [
        (
            "stream",
            "  stream: true\n",
            "streaming (TTFT, inter-token latency) needs `via: client`",
        ),
        ("raw", "compare: [raw]\n", "there is no client to compare"),
    ] {
        let body = format!("name: d\nduration: 1s\nload:\n  rate: 10/s\n  via: direct\n{extra}");
        let sc = write(&dir, &format!("{name}.yaml"), &body);
        let o = harness(&["validate", sc.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{}",
            text(&o)
        );
    }
    let sc = write(
        &dir,
        "tls.yaml",
        "name: d\nduration: 1s\ntarget: { url: https://127.0.0.1:9 }\nload:\n  rate: 10/s\n  via: direct\n",
    );
    let o = harness(&[
        "run",
        sc.to_str().unwrap(),
        "-q",
        "--out",
        dir.join("r").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("plain http only"),
        "{}",
        text(&o)
    );
}

/// `harness validate f.yaml | head -0`: a closed stdout is not a panic; the
/// exit status stays the command's own.
#[test]
fn a_closed_stdout_does_not_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "validate",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/brownout.yaml"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn harness");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("panicked"),
        "{}",
        text(&o)
    );
}

/// Half the requests stall for 20 s: only Ctrl-C ends this run early.
const STALLING: &str = r#"
name: e2e-ctrl-c
seed: 1
duration: 30s
server:
  generation: { ttft: 5ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }
  faults:
    - stall: { rate: 50% }
load:
  rate: 20/s
client:
  timeouts: { connect: 500ms, first_byte: 20s, total: 20s }
  retry: { max_attempts: 1 }
"#;

/// Regression: a second Ctrl-C used to `exit(130)` on the spot, leaving no
/// report. It now abandons the stalled requests and still writes the
/// partial report before exiting 130.
#[test]
fn a_second_ctrl_c_abandons_in_flight_requests_and_still_writes_the_report() {
    let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tmp_dir("ctrl-c");
    let sc = write(&dir, "scenario.yaml", STALLING);
    let out = dir.join("reports");
    let child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ])
        .env_remove("DEEPSEEK_API_KEY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn harness");
    let sigint = || {
        let ok = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
    };
    // Generous: the load must have started and requests be stalled.
    std::thread::sleep(std::time::Duration::from_secs(3));
    sigint();
    std::thread::sleep(std::time::Duration::from_millis(500));
    sigint();
    let started = std::time::Instant::now();
    let o = child.wait_with_output().expect("wait");
    drop(turn); // `harness` below takes its own turn
                // Without the abandon, the stalled requests would drain for ~20 s.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}: {}",
        started.elapsed(),
        text(&o)
    );
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    let rep = report_dir(&out);
    let s = summary(&rep);
    assert_eq!(s["partial"], true);
    assert!(num(&s, "/arms/resilient/requests") > 0.0, "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("abandoning in-flight requests"));
    // The stalled requests are reported, not lost: summary, table, gates.
    let abandoned = num(&s, "/arms/resilient/abandoned");
    assert!(abandoned >= 1.0, "{}", text(&o));
    let table = std::fs::read_to_string(rep.join("summary.txt")).unwrap();
    let row = table
        .lines()
        .find(|l| l.starts_with("abandoned"))
        .unwrap_or_else(|| panic!("an abandoned row: {table}"));
    assert!(row.contains(&format!("{abandoned}")), "{row}");
    let dir = rep.to_str().unwrap();
    // A partial report is refused by `gate` unless asked for.
    let refused = harness(&["gate", dir, "-e", "abandoned >= 1"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let pass = harness(&["gate", dir, "--allow-partial", "-e", "abandoned >= 1"]);
    assert_eq!(pass.status.code(), Some(0), "{}", text(&pass));
    let fail = harness(&["gate", dir, "--allow-partial", "-e", "abandoned == 0"]);
    assert_eq!(fail.status.code(), Some(3), "{}", text(&fail));
}
