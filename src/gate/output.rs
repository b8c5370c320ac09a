//! Gate results for people (an aligned table) and for CI systems (JUnit XML;
//! JSON is the serde form of [`GateReport`]).

use std::fmt::Write;

use super::evaluate::{GateReport, GateResult};

fn show(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.is_nan() => "-".into(),
        Some(v) => match unit {
            "ms" => format!("{v:.1}ms"),
            "%" => format!("{:.2}%", v * 100.0),
            _ => format!("{v:.3}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string(),
        },
    }
}

fn row(r: &GateResult) -> [String; 5] {
    [
        r.gate.clone(),
        show(r.value, r.unit),
        format!("{} {}", r.op, show(Some(r.bound), r.unit)),
        if r.passed {
            "pass".into()
        } else {
            "FAIL".into()
        },
        r.note.clone(),
    ]
}

/// An aligned text table of every gate.
pub fn table(report: &GateReport) -> String {
    let head = ["gate", "value", "bound", "result", "note"].map(String::from);
    let rows: Vec<[String; 5]> = std::iter::once(head)
        .chain(report.results.iter().map(row))
        .collect();
    let mut widths = [0usize; 5];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    let failed = report.results.iter().filter(|r| !r.passed).count();
    let _ = writeln!(
        out,
        "gates: {} passed, {} failed{}",
        report.results.len() - failed,
        failed,
        if report.summaries > 1 {
            format!(" (median of {} summaries)", report.summaries)
        } else {
            String::new()
        }
    );
    out
}

fn xml_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// JUnit XML: one `<testcase>` per gate, `<failure>` on failed ones.
pub fn junit_xml(report: &GateReport, suite: &str) -> String {
    let failures = report.results.iter().filter(|r| !r.passed).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites tests=\"{n}\" failures=\"{failures}\">\n  <testsuite name=\"{s}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\">",
        n = report.results.len(),
        s = xml_escape(suite)
    );
    for r in &report.results {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(suite),
            xml_escape(&r.gate)
        );
        if r.passed {
            out.push_str("/>\n");
        } else {
            let msg = format!(
                "{} = {}, wanted {} {}. {}",
                r.metric,
                show(r.value, r.unit),
                r.op,
                show(Some(r.bound), r.unit),
                r.note
            );
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{m}\">{m}</failure>\n    </testcase>",
                m = xml_escape(&msg)
            );
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{evaluate, parse_all};
    use serde_json::json;

    #[test]
    fn junit_is_well_formed_and_counts_failures() {
        let gates = parse_all(&["p99 < 1s".into(), "success_rate >= 99%".into()]).unwrap();
        let s = json!({"arms": {"resilient": {"latency": {"corrected": {"p99_ms": 1500.0}}, "success_rate": 1.0}}});
        let r = evaluate(&gates, &[s]);
        let xml = junit_xml(&r, "ci-smoke <&>");
        assert!(xml.contains("tests=\"2\" failures=\"1\""));
        assert!(xml.contains("<failure message=\"arms.resilient.latency.corrected.p99_ms = 1500.0ms, wanted &lt; 1000.0ms"));
        assert!(xml.contains("name=\"ci-smoke &lt;&amp;&gt;\""));
        // Balanced tags: every open testcase with a body closes.
        assert_eq!(xml.matches("<testcase").count(), 2);
        assert_eq!(xml.matches("</testcase>").count(), 1);
        assert_eq!(
            xml.matches("<testsuite ").count(),
            xml.matches("</testsuite>").count()
        );
        let t = table(&r);
        assert!(t.contains("FAIL") && t.contains("pass") && t.contains("1 passed, 1 failed"));
    }
}
