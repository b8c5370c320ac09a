//! Tests of the journal line format: the documented example, round trips,
//! leniency to omitted and unknown fields, and refusal of impossible records.

use super::*;

const DOC_EXAMPLE: &str = r#"{"seq":17,"node":1,"call":"4bf92f3577b34da6a3ce929d0e0e4736","call_from":"traceparent",
 "at":1.234567,"headers_at":1.235102,"end_at":1.402311,"end":"answered",
 "faults":["latency","status"],"status":503,"retry_after_s":1,"retry_after_ms":null,
 "should_retry":null,"tokens":0,"model":"deepseek-v4-flash","stream":false,
 "sdk_retry_count":null}"#;

fn example() -> Attempt {
    match Line::parse(DOC_EXAMPLE).unwrap() {
        Line::Attempt(a) => a,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_documented_example_parses_with_every_field() {
    let a = example();
    assert_eq!(a.seq, 17);
    assert_eq!(a.node, 1);
    assert_eq!(a.call_from, CallFrom::Traceparent);
    assert_eq!(a.end, End::Answered);
    assert_eq!(a.faults, vec![FaultTag::Latency, FaultTag::Status]);
    assert_eq!(a.status, Some(503));
    assert_eq!(a.retry_after_s, Some(1));
    assert_eq!(a.retry_after_ms, None);
    assert_eq!(a.headers_at, Some(1.235102));
    assert_eq!(a.client_gone_after, None);
}

#[test]
fn a_written_line_reads_back_identical() {
    let mut a = example();
    a.faults.push(FaultTag::Other("future_fault".into()));
    a.end = End::ClientClosed;
    a.client_gone_after = Some(0.1);
    let mut out = Vec::new();
    a.write_line(&mut out);
    assert_eq!(out.last(), Some(&b'\n'));
    let text = std::str::from_utf8(&out).unwrap().trim_end();
    assert!(text.contains(r#""end":"client_closed""#), "{text}");
    assert!(text.contains(r#""future_fault""#), "{text}");
    assert_eq!(Line::parse(text).unwrap(), Line::Attempt(a));
}

#[test]
fn optional_fields_may_be_omitted_and_unknown_ones_are_ignored() {
    let min = r#"{"seq":1,"node":0,"call":"c","call_from":"header","at":0.5,"end_at":0.6,"end":"shutdown","new_field":3}"#;
    let Line::Attempt(a) = Line::parse(min).unwrap() else {
        panic!()
    };
    assert_eq!(a.status, None);
    assert!(a.faults.is_empty());
    assert_eq!(a.end, End::Shutdown);
}

#[test]
fn gap_lines_round_trip() {
    let mut out = Vec::new();
    Line::write_dropped(42, &mut out);
    assert_eq!(out, b"{\"dropped\":42}\n");
    assert_eq!(
        Line::parse(r#"{"dropped": 42}"#).unwrap(),
        Line::Dropped(42)
    );
}

#[test]
fn truncated_and_foreign_lines_are_errors_not_panics() {
    let half = &DOC_EXAMPLE[..DOC_EXAMPLE.len() / 2];
    assert!(matches!(Line::parse(half), Err(LineError::Json(_))));
    assert!(matches!(Line::parse("[1,2]"), Err(LineError::Json(_))));
    assert!(matches!(
        Line::parse(r#"{"dropped":1,"x":2}"#),
        Err(LineError::Json(_))
    ));
    let e = Line::parse(
        r#"{"seq":1,"node":0,"call":"c","call_from":"header","at":1,"end_at":1,"end":"exploded"}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("exploded"), "{e}");
}

#[test]
fn impossible_records_name_the_field() {
    let mut a = example();
    a.end_at = a.at - 1.0;
    assert!(a.check().unwrap_err().to_string().contains("end_at"));
    let mut a = example();
    a.at = f64::NAN;
    assert!(a.check().unwrap_err().to_string().contains("`at`"));
    let mut a = example();
    a.node = 10_000;
    assert!(a.check().unwrap_err().to_string().contains("node"));
    let mut a = example();
    a.headers_at = Some(a.end_at + 1.0);
    assert!(a.check().unwrap_err().to_string().contains("headers_at"));
    let mut a = example();
    a.call = "x".repeat(129);
    assert!(a.check().unwrap_err().to_string().contains("call"));
    let mut a = example();
    a.at = 1e9;
    a.end_at = 1e9;
    assert!(a.check().is_err());
}
