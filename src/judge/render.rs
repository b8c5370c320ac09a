//! Verdicts for people (an aligned table with one example per verdict and
//! its compact timeline) and for CI systems (JUnit XML, one testcase per
//! verdict, in the style of `gates.junit.xml`). JSON is the serde form of
//! [`Verdicts`].

use std::fmt::Write;

use mock_server::journal::End;

use super::verdicts::{Example, Severity, TimelineEntry, Verdict, Verdicts};

/// `t=1.204s n0 503 -> +0.000s n0 503 -> +1.001s n1 200`: the first
/// arrival, then each retry's delay after the previous failure. Attempts
/// that did not end with a full answer show how they ended, their faults
/// and how long they were open.
pub fn timeline_text(entries: &[TimelineEntry]) -> String {
    let mut out = String::new();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(" -> ");
        }
        match e.delay {
            Some(d) if i > 0 => {
                let _ = write!(out, "+{d:.3}s ");
            }
            _ => {
                let _ = write!(out, "t={:.3}s ", e.at);
            }
        }
        let _ = write!(out, "n{} ", e.node);
        match e.status {
            Some(s) => {
                let _ = write!(out, "{s}");
            }
            None => out.push('-'),
        }
        if e.end != End::Answered {
            let _ = write!(out, " {}", e.end.as_str());
        }
        if !e.faults.is_empty() {
            let _ = write!(out, "[{}]", e.faults.join(","));
        }
        if e.end != End::Answered {
            let _ = write!(out, " {:.3}s", e.open);
        }
    }
    out
}

/// One example in a line: the call and its timeline, or the note.
pub fn example_text(e: &Example) -> String {
    match (&e.call, &e.note) {
        (Some(c), _) => format!("call {c}: {}", timeline_text(&e.attempts)),
        (None, Some(n)) => n.clone(),
        (None, None) => String::new(),
    }
}

fn count_text(v: &Verdict) -> String {
    if v.applicable {
        v.count.to_string()
    } else {
        "n/a".into()
    }
}

/// Header line: what was judged and whether the journal was complete.
pub fn summary_line(v: &Verdicts) -> String {
    let completeness = if v.complete {
        "complete".to_string()
    } else {
        format!(
            "INCOMPLETE: {} records dropped, {} lines unreadable",
            v.dropped, v.unreadable
        )
    };
    let mut line = format!(
        "journal: {} attempts, {} calls, {} nodes ({completeness})",
        v.attempts, v.calls, v.nodes
    );
    if v.call_keys.fingerprint > 0 {
        let _ = write!(
            line,
            "; {} attempts keyed by body fingerprint (identical prompts merge into one call)",
            v.call_keys.fingerprint
        );
    }
    line
}

/// An aligned table of every verdict with its first example, then the
/// inferred breaker-open intervals and a tally of fired verdicts.
pub fn table(v: &Verdicts) -> String {
    let head = ["verdict", "severity", "count", "example"].map(String::from);
    let rows: Vec<[String; 4]> = std::iter::once(head)
        .chain(v.verdicts.iter().map(|x| {
            [
                x.name.to_string(),
                x.severity.as_str().to_string(),
                count_text(x),
                if x.fired() {
                    x.examples.first().map(example_text).unwrap_or_default()
                } else {
                    String::new()
                },
            ]
        }))
        .collect();
    let mut widths = [0usize; 4];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = summary_line(v);
    out.push('\n');
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    if !v.breaker_open.is_empty() {
        let spans: Vec<String> = v
            .breaker_open
            .iter()
            .map(|i| format!("n{} {}s-{}s", i.node, i.from, i.to))
            .collect();
        let _ = writeln!(out, "breaker open (inferred): {}", spans.join(", "));
    }
    let fired = |s: Severity| {
        v.verdicts
            .iter()
            .filter(|x| x.severity == s && x.fired())
            .count()
    };
    let _ = writeln!(
        out,
        "verdicts: {} fail, {} warn, {} info fired",
        fired(Severity::Fail),
        fired(Severity::Warn),
        fired(Severity::Info)
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

/// JUnit XML: one `<testcase>` per verdict; fired `fail` and `warn`
/// verdicts carry a `<failure>` (type = severity), verdicts that do not
/// apply are `<skipped/>`.
pub fn junit_xml(v: &Verdicts, suite: &str) -> String {
    let failing = |x: &Verdict| x.fired() && x.severity != Severity::Info;
    let failures = v.verdicts.iter().filter(|x| failing(x)).count();
    let skipped = v.verdicts.iter().filter(|x| !x.applicable).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites tests=\"{n}\" failures=\"{failures}\">\n  <testsuite name=\"{s}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        n = v.verdicts.len(),
        s = xml_escape(suite)
    );
    for x in &v.verdicts {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(suite),
            xml_escape(x.name)
        );
        if !x.applicable {
            out.push_str(">\n      <skipped/>\n    </testcase>\n");
        } else if failing(x) {
            let mut msg = format!("{} {}: {}.", x.count, x.unit, x.definition);
            if let Some(e) = x.examples.first() {
                let _ = write!(msg, " e.g. {}", example_text(e));
            }
            if !v.complete {
                msg.push_str(" (journal incomplete)");
            }
            let _ = writeln!(
                out,
                ">\n      <failure type=\"{t}\" message=\"{m}\">{m}</failure>\n    </testcase>",
                t = x.severity.as_str(),
                m = xml_escape(&msg)
            );
        } else {
            out.push_str("/>\n");
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
