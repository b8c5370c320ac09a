//! `docs/summary-schema.md` checked against the files a real `harness run`
//! writes: every documented path is present with its documented type, every
//! field written is documented, and endpoints carry the names the doc gives
//! (`node0`, ...) in `summary.json`, `timeseries.csv` and `events.jsonl`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// Two nodes, node 1 failing hard for a second so its breaker moves and
/// events name it; streaming so `ttft`/`itl` are filled; a raw arm.
const SCENARIO: &str = r#"
name: schema-check
seed: 3
duration: 3s
server:
  nodes: 2
  generation: { ttft: 2ms, tokens_per_second: unlimited, output_tokens: { constant: 4 } }
  phases:
    - { name: down, at: 500ms, for: 1s, nodes: [1], faults: [ { status: { code: 503 } } ] }
load:
  rate: 40/s
  stream: true
client:
  retry: { backoff: { base: 5ms, max: 20ms } }
  breaker: { window_size: 4, minimum_number_of_calls: 4, wait_duration_in_open: 500ms }
compare: [raw]
"#;

/// The report of one run, shared by the tests of this file.
fn run_once() -> PathBuf {
    static REPORT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    REPORT.get_or_init(run).clone()
}

fn run() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("harness-schema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sc = dir.join("scenario.yaml");
    std::fs::write(&sc, SCENARIO).unwrap();
    let out = dir.join("reports");
    let o = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ])
        .env_remove("DEEPSEEK_API_KEY")
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 4)),
        "{:?}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    let report = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap();
    report.path()
}

/// `(section heading, [(path, type)])` for every table of the doc.
fn documented() -> Vec<(String, Vec<(String, String)>)> {
    let doc = include_str!("../docs/summary-schema.md");
    let mut sections = Vec::new();
    for part in doc.split("\n## ").skip(1) {
        let heading = part.lines().next().unwrap().trim_matches('`').to_string();
        let rows: Vec<(String, String)> = part
            .lines()
            .skip_while(|l| !(l.starts_with("| path |") || l.starts_with("| field |")))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let c: Vec<&str> = l.split('|').map(str::trim).collect();
                (c[1].trim_matches('`').to_string(), c[2].to_string())
            })
            .collect();
        if !rows.is_empty() {
            sections.push((heading, rows));
        }
    }
    sections
}

/// Does `v` have the documented type `ty` ("int", "float or null", ...)?
fn has_type(v: &Value, ty: &str) -> bool {
    if v.is_null() && ty.ends_with("or null") {
        return true;
    }
    let ty = ty.split(" or ").next().unwrap();
    match ty.split_whitespace().next().unwrap() {
        "int" => v.is_u64(),
        "float" => v.is_number(),
        "string" => v.is_string(),
        "bool" => v.is_boolean(),
        "list" | "array" => v.is_array(),
        "map" | "object" => v.is_object(),
        "Percentiles" => [
            "count", "mean_ms", "min_ms", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms",
        ]
        .iter()
        .all(|k| v.get(k).is_some_and(Value::is_number)),
        other => panic!("undocumented type word `{other}`"),
    }
}

/// Values at `path` below `root`, with `<node>` standing for every key.
fn lookup<'a>(root: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut nodes = vec![root];
    for key in path.split('.') {
        nodes = nodes
            .into_iter()
            .flat_map(|n| -> Vec<&Value> {
                if key.starts_with('<') {
                    n.as_object()
                        .map(|m| m.values().collect())
                        .unwrap_or_default()
                } else {
                    n.get(key).into_iter().collect()
                }
            })
            .collect();
    }
    nodes
}

#[test]
fn the_documented_schema_matches_a_real_summary() {
    let report = run_once();
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    let sections = documented();
    let names: Vec<&str> = sections.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        names,
        [
            "Top level",
            "load",
            "generator",
            "arms.<arm>",
            "phases[]",
            "Percentiles"
        ]
    );
    for (heading, rows) in &sections {
        // The objects a section describes.
        let objects: Vec<&Value> = match heading.as_str() {
            "Top level" => vec![&s],
            "load" | "generator" => vec![&s[heading.as_str()]],
            "arms.<arm>" => s["arms"].as_object().unwrap().values().collect(),
            "phases[]" => s["phases"].as_array().unwrap().iter().collect(),
            // Every Percentiles block: checked through `has_type` above.
            _ => vec![&s["arms"]["resilient"]["latency"]["corrected"]],
        };
        assert!(!objects.is_empty(), "{heading}: nothing to check");
        for obj in &objects {
            for (path, ty) in rows {
                let found = lookup(obj, path);
                let arm_without_breaker = heading == "arms.<arm>"
                    && path.contains("<node>")
                    && obj["breaker"]["endpoints"]
                        .as_object()
                        .is_some_and(|m| m.is_empty());
                // A row whose type says `optional` or `or absent` may be
                // missing from this run (e.g. priorities when every request
                // is `normal`); it is still checked when present.
                let optional = ty.contains("optional") || ty.contains("absent");
                assert!(
                    !found.is_empty() || arm_without_breaker || optional,
                    "{heading}: documented `{path}` missing"
                );
                for v in found {
                    assert!(
                        has_type(v, ty),
                        "{heading}: `{path}` is {v}, documented {ty}"
                    );
                }
            }
            // And nothing written goes undocumented.
            let documented: BTreeSet<&str> = rows
                .iter()
                .map(|(p, _)| p.split('.').next().unwrap())
                .collect();
            for key in obj.as_object().unwrap().keys() {
                assert!(
                    documented.contains(key.as_str()),
                    "{heading}: `{key}` is written but not documented"
                );
            }
        }
    }
}

#[test]
fn every_report_file_names_endpoints_node0_node1() {
    let report = run_once();
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["endpoints"], serde_json::json!(["node0", "node1"]));
    let breakers: Vec<&String> = s["arms"]["resilient"]["breaker"]["endpoints"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(breakers, ["node0", "node1"]);
    assert!(
        s["arms"]["resilient"]["breaker"]["endpoints"]["node1"]["opens"]
            .as_u64()
            .unwrap()
            >= 1,
        "node 1's breaker opened during its 503 phase"
    );
    let csv = std::fs::read_to_string(report.join("timeseries.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains("breaker[node0]") && header.contains("breaker[node1]"),
        "{header}"
    );
    let events = std::fs::read_to_string(report.join("events.jsonl")).unwrap();
    let named: BTreeSet<String> = events
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|e| e["endpoint"].as_str().map(str::to_string))
        .collect();
    assert!(named.contains("node1"), "{named:?}");
    assert!(
        named.iter().all(|n| n == "node0" || n == "node1"),
        "{named:?}"
    );
}
