//! The terminal summary table: one column per arm, one line per figure,
//! then the generator health line.

use std::fmt::Write as _;

use super::info::RunInfo;
use super::summary::{build_summary, ArmSummary, Percentiles};
use crate::record::RunData;

/// Plain-text table (aligned columns, no colors) of the run.
pub fn summary_table(run: &RunData, info: &RunInfo) -> String {
    let s = build_summary(run, info);
    let arms = shown_arms(&s);
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, f: &dyn Fn(&ArmSummary) -> String| {
        rows.push((label.to_string(), arms.iter().map(|(_, a)| f(a)).collect()));
    };
    row("requests", &|a| a.requests.to_string());
    row("success", &|a| format!("{:.2}%", a.success_rate * 100.0));
    row("goodput", &|a| format!("{:.1}/s", a.goodput_rps));
    type Pick = fn(&Percentiles) -> f64;
    let pcts: [(&str, Pick); 5] = [
        ("p50", |p| p.p50_ms),
        ("p90", |p| p.p90_ms),
        ("p99", |p| p.p99_ms),
        ("p99.9", |p| p.p999_ms),
        ("max", |p| p.max_ms),
    ];
    for (name, pick) in pcts {
        row(&format!("{name} corrected"), &|a| {
            ms(pick(&a.latency.corrected))
        });
    }
    for (name, pick) in pcts {
        row(&format!("{name} uncorrected"), &|a| {
            ms(pick(&a.latency.uncorrected))
        });
    }
    if s.load.stream {
        row("ttft p50 / p99", &|a| {
            a.ttft.map_or("-".to_string(), |p| {
                format!("{} / {}", ms(p.p50_ms), ms(p.p99_ms))
            })
        });
        row("itl p50 / p99", &|a| {
            a.itl.map_or("-".to_string(), |p| {
                format!("{} / {}", ms(p.p50_ms), ms(p.p99_ms))
            })
        });
    }
    row("retries", &|a| a.retries.to_string());
    row("amplification", &|a| {
        format!("{:.2}x", a.retry_amplification)
    });
    // An external client's breaker, sheds and fallbacks happen inside it:
    // the harness cannot see them (its failover shows in the verdicts).
    let inside = |a: &ArmSummary, v: u64| {
        if a.attempts_from == "journal" {
            "n/a".to_string()
        } else {
            v.to_string()
        }
    };
    row("breaker opens", &|a| inside(a, a.breaker.opens));
    row("sheds", &|a| inside(a, a.sheds));
    row("fallbacks", &|a| inside(a, a.fallbacks));
    if arms.iter().any(|(_, a)| a.abandoned > 0) {
        row("abandoned", &|a| a.abandoned.to_string());
    }
    for p in ["high", "normal", "low"] {
        if arms.iter().any(|(_, a)| a.priorities.contains_key(p)) {
            row(&format!("{p}: success / p99 / shed / fallback"), &|a| {
                a.priorities.get(p).map_or("-".to_string(), |c| {
                    format!(
                        "{:.2}% / {} / {} / {}",
                        c.success_rate * 100.0,
                        ms(c.latency.p99_ms),
                        c.sheds,
                        c.fallbacks
                    )
                })
            });
        }
    }
    row("errors", &|a| {
        let mut errs: Vec<String> = a
            .outcomes
            .iter()
            .filter(|(k, n)| **n > 0 && *k != "ok" && *k != "fallback")
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if errs.is_empty() {
            errs.push("none".into());
        }
        errs.join(", ")
    });
    if arms.iter().any(|(_, a)| a.verdicts.is_some()) {
        row("server attempts", &|a| {
            a.verdicts
                .as_ref()
                .map_or("-".into(), |v| v.attempts.to_string())
        });
        for (label, sev) in [("verdicts failed", "(fail)"), ("verdicts warned", "(warn)")] {
            row(label, &|a| {
                a.verdicts.as_ref().map_or("-".into(), |v| {
                    let names: Vec<&str> = v
                        .fired
                        .iter()
                        .filter(|f| f.ends_with(sev))
                        .filter_map(|f| f.split(' ').next())
                        .collect();
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                })
            });
        }
    }

    let label_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let mut col_w: Vec<usize> = arms.iter().map(|(n, _)| n.len()).collect();
    for (_, cells) in &rows {
        for (i, c) in cells.iter().enumerate() {
            col_w[i] = col_w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}{}, seed {}) {:.1}s{}",
        s.scenario.name,
        s.load.model,
        if s.load.via == "direct" {
            ", via direct: no client"
        } else {
            ""
        },
        s.scenario.seed,
        s.elapsed_s,
        if s.partial {
            " PARTIAL (interrupted)"
        } else {
            ""
        }
    );
    let _ = write!(out, "{:<label_w$}", "");
    for (i, (name, _)) in arms.iter().enumerate() {
        let _ = write!(out, "  {:>w$}", name, w = col_w[i]);
    }
    out.push('\n');
    for (label, cells) in &rows {
        let _ = write!(out, "{label:<label_w$}");
        for (i, c) in cells.iter().enumerate() {
            let pad = col_w[i].saturating_sub(c.chars().count());
            let _ = write!(out, "  {}{}", " ".repeat(pad), c);
        }
        out.push('\n');
    }
    let asked = match (s.load.asked_rps, s.load.users) {
        (Some(r), _) => format!("asked {r:.1}/s, "),
        (None, Some(u)) => format!("{u} users, "),
        _ => String::new(),
    };
    let lag = &s.generator.lag;
    if s.generator.healthy {
        let _ = writeln!(
            out,
            "generator: healthy ({asked}achieved {:.1}/s, send lag p99 {})",
            s.load.achieved_rps,
            ms(lag.p99_ms)
        );
    } else {
        let _ = writeln!(
            out,
            "generator: UNHEALTHY ({asked}achieved {:.1}/s): {}",
            s.load.achieved_rps,
            s.generator.problems.join("; ")
        );
    }
    verdict_lines(&mut out, info);
    out
}

/// Each fired verdict of each arm with its first example, so the table
/// says why without opening `verdicts.json`.
fn verdict_lines(out: &mut String, info: &RunInfo) {
    for (arm, v) in &info.verdicts {
        for x in v.verdicts.iter().filter(|x| x.fired()) {
            let example = x
                .examples
                .first()
                .map(crate::judge::render::example_text)
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "verdict {arm}: {} ({}) {} {}{}{}",
                x.name,
                x.severity.as_str(),
                x.count,
                x.unit,
                if example.is_empty() { "" } else { ": " },
                example
            );
        }
        if !v.complete {
            let _ = writeln!(
                out,
                "verdict {arm}: journal INCOMPLETE ({} records dropped): counts are lower bounds",
                v.dropped
            );
        }
    }
}

/// Resilient first, then raw, then anything else.
/// The arms in report order, each with the name it is shown under: its
/// summary key, except that a `via: direct` run's single arm keeps its
/// `resilient` key (gates name it) but is shown as `direct`, since no client
/// carried its requests.
pub(crate) fn shown_arms(s: &super::summary::Summary) -> Vec<(String, &ArmSummary)> {
    let mut arms = order_arms(&s.arms);
    // The system under test first, whatever its name.
    arms.sort_by_key(|(k, _)| **k != s.primary);
    arms.into_iter()
        .map(|(k, a)| (arm_label(k, &s.load.via).to_string(), a))
        .collect()
}

/// The name arm `key` is shown under in a run that went `via`.
pub(crate) fn arm_label<'a>(key: &'a str, via: &str) -> &'a str {
    if via == "direct" && key == "resilient" {
        "direct"
    } else {
        key
    }
}

pub(crate) fn order_arms<V>(arms: &std::collections::BTreeMap<String, V>) -> Vec<(&String, &V)> {
    let mut v: Vec<(&String, &V)> = arms.iter().collect();
    v.sort_by_key(|(k, _)| match k.as_str() {
        "resilient" => 0,
        "raw" => 1,
        _ => 2,
    });
    v
}

/// Milliseconds with a unit and sensible precision.
pub(crate) fn ms(x: f64) -> String {
    if x == 0.0 {
        "0ms".to_string()
    } else if x >= 10_000.0 {
        format!("{:.1}s", x / 1000.0)
    } else if x >= 100.0 {
        format!("{x:.0}ms")
    } else if x >= 1.0 {
        format!("{x:.1}ms")
    } else {
        format!("{x:.3}ms")
    }
}
