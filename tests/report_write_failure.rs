//! A report that cannot be written fails cleanly: the error names the file
//! and the OS's reason, nothing half-written stays behind (no `*.tmp`), and
//! the folder keeps its `INCOMPLETE` marker; a report written in full has
//! none.

mod report_common;

use harness::outcome::Arm;
use harness::report::{names, write_report};
use report_common::*;

fn synth() -> Synth {
    Synth {
        seconds: 3,
        rate: 20,
        arms: vec![Arm::Resilient],
        stream: false,
    }
}

fn tmp_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect()
}

#[test]
fn a_file_that_cannot_be_written_names_its_path_and_leaves_no_tmp() {
    let dir = temp_dir("write-fail");
    let (data, info) = run(&dir, &synth());
    let report = dir.join("report");
    // `index.html` taken by a folder: its rename fails (as on a full disk,
    // writing the last file fails after the others were written).
    std::fs::create_dir_all(report.join(names::INDEX).join("x")).unwrap();
    let e = write_report(&report, &data, &info).expect_err("index.html cannot be replaced");
    let msg = e.to_string();
    assert!(msg.contains("index.html"), "{msg}");
    assert!(
        std::error::Error::source(&e).is_some(),
        "the OS error is the source: {msg}"
    );
    assert!(tmp_files(&report).is_empty(), "{:?}", tmp_files(&report));
    assert!(
        report.join(names::INCOMPLETE).exists(),
        "the folder says it is not a complete report"
    );
}

#[test]
fn a_complete_report_carries_no_incomplete_marker() {
    let dir = temp_dir("write-ok");
    let (data, info) = run(&dir, &synth());
    let report = dir.join("report");
    write_report(&report, &data, &info).unwrap();
    assert!(!report.join(names::INCOMPLETE).exists());
    assert!(report.join(names::INDEX).is_file());
    assert!(tmp_files(&report).is_empty());
}
