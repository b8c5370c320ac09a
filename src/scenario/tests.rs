//! Loading a scenario with `--set`: overrides reach list elements and are
//! applied before the file is checked; settings a run would ignore are
//! refused with the fix.

use super::{parse, ScenarioError};

const PHASED: &str = "name: t
duration: 10s
load: { rate: 10/s }
server:
  phases:
    - { name: a, at: 1s, for: 2s, faults: [ { status: { code: 503 } } ] }
    - { name: b, at: 5s, for: 1s, faults: [ { reset: {} } ] }
";

fn sets(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

#[test]
fn set_reaches_list_elements_by_index() {
    let s = parse(
        PHASED,
        "t.yaml",
        &sets(&["server.phases[0].at=3s", "server.phases.1.for=4s"]),
    )
    .unwrap();
    let phases = s.server.phases();
    assert_eq!(phases[0].at, std::time::Duration::from_secs(3));
    assert_eq!(phases[1].duration, Some(std::time::Duration::from_secs(4)));
    assert_eq!(phases[1].at, std::time::Duration::from_secs(5), "untouched");
    let e = parse(PHASED, "t.yaml", &sets(&["server.phases[2].at=1s"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("the list has 2 element(s)"), "{e}");
}

#[test]
fn set_can_fix_a_value_the_file_gets_wrong() {
    let bad = PHASED.replace("rate: 10/s", "rate: 10");
    let bad = bad.replace("duration: 10s", "duration: 10");
    // The file alone: its own error, with line and column.
    let e = parse(&bad, "t.yaml", &[]).unwrap_err().to_string();
    assert!(e.starts_with("t.yaml:2:11: duration: add a unit"), "{e}");
    // Fixed from the command line.
    let s = parse(&bad, "t.yaml", &sets(&["duration=4s"])).unwrap();
    assert_eq!(s.duration, std::time::Duration::from_secs(4));
    // A `--set` on another field leaves the file's error, still placed.
    let e = parse(&bad, "t.yaml", &sets(&["seed=3"]))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("t.yaml:2:11: duration: add a unit"), "{e}");
    // A `--set` that is itself wrong says so.
    let e = parse(&bad, "t.yaml", &sets(&["duration=4"]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("(after --set)") && e.contains("duration: add a unit"),
        "{e}"
    );
}

#[test]
fn server_seed_is_refused_with_the_top_level_seed_as_the_fix() {
    let text = PHASED.replace("server:\n", "server:\n  seed: 5\n");
    let e = parse(&text, "t.yaml", &[]).unwrap_err();
    assert!(matches!(e, ScenarioError::Invalid { .. }), "{e:?}");
    let e = e.to_string();
    assert!(
        e.contains("server.seed (5)") && e.contains("write `seed: 5` at the top level"),
        "{e}"
    );
    let e = parse(PHASED, "t.yaml", &sets(&["server.seed=6"])).unwrap_err();
    assert!(e.to_string().contains("server.seed (6)"), "{e}");
}

#[test]
fn client_endpoints_are_refused_rather_than_ignored() {
    let text = format!("{PHASED}client:\n  endpoints: [http://10.0.0.1:9]\n");
    let e = parse(&text, "t.yaml", &[]).unwrap_err().to_string();
    assert!(
        e.contains("client.endpoints (1 given)") && e.contains("target.url"),
        "{e}"
    );
}
