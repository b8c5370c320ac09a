//! End-to-end: `harness judge` on journal files: the verdict table, exit
//! codes (0 clean, 3 when a fail verdict fired, 1 on bad input), JUnit,
//! bad lines named by number and skipped, and an empty journal refused.

mod common;

use std::path::{Path, PathBuf};

use common::{text, tmp_dir};
use std::process::{Command, Output};

use serde_json::Value;

fn judge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("judge")
        .args(args)
        .output()
        .expect("run harness judge")
}

/// One attempt record: `call` at `at` on node 0, answered `status` after 10 ms.
fn attempt(seq: u64, call: &str, at: f64, status: u16) -> String {
    format!(
        r#"{{"seq":{seq},"node":0,"call":"{call}","call_from":"header","at":{at},"headers_at":{h},"end_at":{e},"end":"answered","faults":[],"status":{status},"tokens":0,"stream":false}}"#,
        h = at + 0.005,
        e = at + 0.01
    )
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn verdict<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no verdict {name} in {v}"))
}

#[test]
fn a_retried_400_fails_with_exit_3_and_junit_names_it() {
    let dir = tmp_dir("judge-fail");
    let j = write(
        &dir,
        "j.jsonl",
        &[
            attempt(1, "a", 1.0, 400),
            attempt(2, "b", 1.2, 200),
            attempt(3, "a", 1.5, 200),
        ],
    );
    let json = dir.join("v.json");
    let junit = dir.join("junit.xml");
    let o = judge(&[
        j.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("retried_non_retryable"), "{out}");
    let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["attempts"], 3);
    assert_eq!(v["calls"], 2);
    assert_eq!(verdict(&v, "retried_non_retryable")["count"], 1, "{v}");
    assert_eq!(verdict(&v, "no_backoff")["count"], 0, "{v}");
    let x = std::fs::read_to_string(&junit).unwrap();
    assert!(
        x.contains("retried_non_retryable") && x.contains("<failure"),
        "{x}"
    );
}

#[test]
fn a_clean_journal_passes_with_exit_0() {
    let dir = tmp_dir("judge-clean");
    let j = write(
        &dir,
        "j.jsonl",
        &[attempt(1, "a", 1.0, 200), attempt(2, "b", 1.1, 200)],
    );
    let o = judge(&[
        j.to_str().unwrap(),
        "--json",
        dir.join("v.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_corrupt_line_is_named_and_skipped_and_makes_the_result_incomplete() {
    let dir = tmp_dir("judge-corrupt");
    let j = write(
        &dir,
        "j.jsonl",
        &[
            attempt(1, "a", 1.0, 200),
            r#"{"seq":2,"node":0,"call":"b","at":"#.to_string(),
            attempt(3, "c", 1.2, 200),
        ],
    );
    let json = dir.join("v.json");
    let o = judge(&[j.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(":2:") && err.contains("line skipped"), "{err}");
    let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["complete"], false, "{v}");
    assert_eq!(v["unreadable"], 1, "{v}");
    assert_eq!(v["attempts"], 2, "{v}");
}

#[test]
fn an_empty_journal_is_refused_with_exit_1() {
    let dir = tmp_dir("judge-empty");
    let j = write(&dir, "j.jsonl", &[r#"{"dropped":3}"#.to_string()]);
    let o = judge(&[j.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no attempts recorded"),
        "{}",
        text(&o)
    );
    let o = judge(&[dir.join("missing.jsonl").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no such file"),
        "{}",
        text(&o)
    );
}

#[test]
fn thresholds_from_flags_change_the_verdict() {
    let dir = tmp_dir("judge-set");
    // A 503 then a retry 5 ms after it ended: no_backoff under the default
    // 10 ms bound, not under a 1 ms one.
    let retry = attempt(2, "a", 1.015, 200);
    let j = write(&dir, "j.jsonl", &[attempt(1, "a", 1.0, 503), retry]);
    let o = judge(&[
        j.to_str().unwrap(),
        "--json",
        dir.join("a.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = judge(&[
        j.to_str().unwrap(),
        "--set",
        "no_backoff.bound=1ms",
        "--json",
        dir.join("b.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = judge(&[j.to_str().unwrap(), "--set", "no_backoff.bond=1ms"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bond"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_non_loopback_journal_url_is_refused() {
    let o = judge(&["http://10.1.2.3:8080/_mock/journal"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("loopback"),
        "{}",
        text(&o)
    );
}
