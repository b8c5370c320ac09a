//! `index.html`: the summary and every chart, self-contained (inline CSS,
//! charts referenced by relative path), no network needed.

use std::fmt::Write as _;

use super::charts::chart::ChartFile;
use super::escape::escape;
use super::summary::{ArmSummary, Percentiles, Summary};
use super::table::{ms, shown_arms};
use crate::outcome::OutcomeClass;

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1240px;color:#222;padding:0 12px}
h1{font-size:26px;margin-bottom:4px}h2{font-size:20px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.bad{color:#b00;font-weight:bold}.ok{color:#070;font-weight:bold}.meta{color:#555}
figure{margin:16px 0}figure img{width:100%;max-width:1200px;border:1px solid #eee}figcaption{color:#555;font-size:14px}";

/// Renders the page.
pub(crate) fn render(s: &Summary, charts: &[ChartFile], png_skipped: Option<&str>) -> String {
    let mut h = String::new();
    let title = format!("{} — harness report", s.scenario.name);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>\n",
        escape(&title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", escape(&s.scenario.name));
    let _ = writeln!(
        h,
        "<p class=\"meta\">{} · seed {} · started {} · elapsed {:.1}s (schedule {:.1}s) · {} load{} · harness {}</p>",
        escape(&s.scenario.file),
        s.scenario.seed,
        escape(&s.started_at),
        s.elapsed_s,
        s.scenario.duration_s,
        escape(&s.load.model),
        if s.load.stream { ", streaming" } else { "" },
        escape(&s.harness_version)
    );
    if s.partial {
        h.push_str("<p class=\"bad\">Partial run: interrupted before the planned duration.</p>\n");
    }
    if s.generator.healthy {
        let _ = writeln!(
            h,
            "<p class=\"ok\">Load generator healthy: send lag p99 {}, achieved {:.1} req/s.</p>",
            ms(s.generator.lag.p99_ms),
            s.load.achieved_rps
        );
    } else {
        let _ = writeln!(
            h,
            "<p class=\"bad\">Load generator unhealthy — these numbers understate latency:</p><ul>"
        );
        for p in &s.generator.problems {
            let _ = writeln!(h, "<li class=\"bad\">{}</li>", escape(p));
        }
        h.push_str("</ul>\n");
    }
    let arms = shown_arms(s);
    key_numbers(&mut h, &arms);
    outcomes(&mut h, &arms);
    verdicts(&mut h, &arms);
    breakers(&mut h, &arms);
    if !s.phases.is_empty() {
        h.push_str("<h2>Fault phases</h2><table><tr><th>phase</th><th>start</th><th>length</th><th>nodes</th></tr>\n");
        for p in &s.phases {
            let nodes = p.nodes.as_ref().map_or("all".to_string(), |n| {
                n.iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{:.1}s</td><td>{:.1}s</td><td>{}</td></tr>",
                escape(&p.name),
                p.at_s,
                p.for_s,
                escape(&nodes)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Charts</h2>\n");
    if let Some(why) = png_skipped {
        let _ = writeln!(
            h,
            "<p class=\"meta\">PNG charts skipped: {} (the SVG charts below are complete data, drawn without tick labels).</p>",
            escape(why)
        );
    }
    for c in charts {
        let svg = file_name(&c.svg);
        let _ = write!(
            h,
            "<figure id=\"{0}\"><img src=\"{1}\" alt=\"{2}\"><figcaption>{2} — <a href=\"{1}\">SVG</a>",
            escape(&c.name),
            escape(&svg),
            escape(&c.title)
        );
        if let Some(png) = &c.png {
            let _ = write!(h, " · <a href=\"{}\">PNG</a>", escape(&file_name(png)));
        }
        h.push_str("</figcaption></figure>\n");
    }
    h.push_str("<h2>Files</h2><p><a href=\"summary.json\">summary.json</a> · <a href=\"timeseries.csv\">timeseries.csv</a> · <a href=\"events.jsonl\">events.jsonl</a> · <a href=\"latency.hlog\">latency.hlog</a> · <a href=\"summary.txt\">summary.txt</a> · <a href=\"journal.jsonl\">journal.jsonl</a> · <a href=\"verdicts.json\">verdicts.json</a></p>\n</body></html>\n");
    h
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn header(h: &mut String, first: &str, arms: &[(String, &ArmSummary)]) {
    let _ = write!(h, "<table><tr><th>{}</th>", escape(first));
    for (name, _) in arms {
        let _ = write!(h, "<th>{}</th>", escape(name));
    }
    h.push_str("</tr>\n");
}

fn row(h: &mut String, label: &str, cells: impl Iterator<Item = String>) {
    let _ = write!(h, "<tr><td>{}</td>", escape(label));
    for c in cells {
        let _ = write!(h, "<td>{}</td>", escape(&c));
    }
    h.push_str("</tr>\n");
}

fn key_numbers(h: &mut String, arms: &[(String, &ArmSummary)]) {
    h.push_str("<h2>Key numbers</h2>\n");
    header(h, "", arms);
    let cells =
        |f: &dyn Fn(&ArmSummary) -> String| arms.iter().map(|(_, a)| f(a)).collect::<Vec<_>>();
    row(
        h,
        "requests",
        cells(&|a| a.requests.to_string()).into_iter(),
    );
    row(
        h,
        "success rate",
        cells(&|a| format!("{:.2}%", a.success_rate * 100.0)).into_iter(),
    );
    row(
        h,
        "goodput",
        cells(&|a| format!("{:.1} req/s", a.goodput_rps)).into_iter(),
    );
    type Pick = fn(&Percentiles) -> f64;
    let pcts: [(&str, Pick); 5] = [
        ("p50", |p| p.p50_ms),
        ("p90", |p| p.p90_ms),
        ("p99", |p| p.p99_ms),
        ("p99.9", |p| p.p999_ms),
        ("max", |p| p.max_ms),
    ];
    for (n, pick) in pcts {
        row(
            h,
            &format!("latency {n} (corrected / uncorrected)"),
            cells(&|a| {
                format!(
                    "{} / {}",
                    ms(pick(&a.latency.corrected)),
                    ms(pick(&a.latency.uncorrected))
                )
            })
            .into_iter(),
        );
    }
    let opt = |p: &Option<Percentiles>| {
        p.map_or("-".to_string(), |p| {
            format!("{} / {}", ms(p.p50_ms), ms(p.p99_ms))
        })
    };
    row(h, "TTFT p50 / p99", cells(&|a| opt(&a.ttft)).into_iter());
    row(h, "ITL p50 / p99", cells(&|a| opt(&a.itl)).into_iter());
    row(
        h,
        "queue wait p99",
        cells(&|a| ms(a.queue_wait.p99_ms)).into_iter(),
    );
    row(
        h,
        "attempts / retries",
        cells(&|a| format!("{} / {}", a.attempts, a.retries)).into_iter(),
    );
    row(
        h,
        "retry amplification",
        cells(&|a| format!("{:.2}x", a.retry_amplification)).into_iter(),
    );
    row(
        h,
        "breaker opens",
        cells(&|a| a.breaker.opens.to_string()).into_iter(),
    );
    row(
        h,
        "sheds / fallbacks / ejections",
        cells(&|a| format!("{} / {} / {}", a.sheds, a.fallbacks, a.ejections)).into_iter(),
    );
    row(h, "tokens", cells(&|a| a.tokens.to_string()).into_iter());
    for p in ["high", "normal", "low"] {
        if arms.iter().any(|(_, a)| a.priorities.contains_key(p)) {
            row(
                h,
                &format!("priority {p}: success / p99 / sheds / fallbacks"),
                cells(&|a| {
                    a.priorities.get(p).map_or("-".to_string(), |c| {
                        format!(
                            "{:.2}% / {:.0} ms / {} / {}",
                            c.success_rate * 100.0,
                            c.latency.p99_ms,
                            c.sheds,
                            c.fallbacks
                        )
                    })
                })
                .into_iter(),
            );
        }
    }
    h.push_str("</table>\n");
}

fn outcomes(h: &mut String, arms: &[(String, &ArmSummary)]) {
    h.push_str("<h2>Outcomes</h2>\n");
    header(h, "class", arms);
    // Report order (successes first), not alphabetical.
    for class in OutcomeClass::ALL.map(OutcomeClass::as_str) {
        row(
            h,
            class,
            arms.iter()
                .map(|(_, a)| a.outcomes.get(class).copied().unwrap_or(0).to_string()),
        );
    }
    h.push_str("</table>\n<h2>Status of every attempt</h2>\n");
    header(h, "status", arms);
    let mut codes: Vec<&String> = arms.iter().flat_map(|(_, a)| a.statuses.keys()).collect();
    codes.sort();
    codes.dedup();
    for code in codes {
        let label = if code == "0" {
            "0 (no response)"
        } else {
            code.as_str()
        };
        row(
            h,
            label,
            arms.iter()
                .map(|(_, a)| a.statuses.get(code).copied().unwrap_or(0).to_string()),
        );
    }
    h.push_str("</table>\n");
}

/// The verdicts judged from the fake server's journal, per arm: every
/// verdict's count, fired ones marked; examples are in `verdicts.json`.
fn verdicts(h: &mut String, arms: &[(String, &ArmSummary)]) {
    let judged: Vec<(String, &ArmSummary)> = arms
        .iter()
        .filter(|(_, a)| a.verdicts.is_some())
        .map(|(n, a)| (n.clone(), *a))
        .collect();
    let Some((_, first)) = judged.first() else {
        return;
    };
    h.push_str("<h2>Verdicts from the fake server's journal</h2>\n<p class=\"meta\">Judged from the attempts that reached the server alone (<a href=\"verdicts.json\">verdicts.json</a> has definitions and example timelines; docs/journal.md explains each).</p>\n");
    header(h, "verdict", &judged);
    let names: Vec<String> = first
        .verdicts
        .as_ref()
        .map(|v| v.counts.keys().cloned().collect())
        .unwrap_or_default();
    for name in names {
        let _ = write!(h, "<tr><td>{}</td>", escape(&name));
        for (_, a) in &judged {
            let v = a.verdicts.as_ref();
            let n = v.and_then(|v| v.counts.get(&name)).copied().unwrap_or(0);
            let sev = v.and_then(|v| {
                v.fired
                    .iter()
                    .find(|f| f.split(' ').next() == Some(name.as_str()))
            });
            match sev {
                Some(f) if f.ends_with("(fail)") => {
                    let _ = write!(h, "<td class=\"bad\">{n} (fail)</td>");
                }
                Some(f) => {
                    let _ = write!(
                        h,
                        "<td>{n} {}</td>",
                        escape(f.split(' ').nth(1).unwrap_or(""))
                    );
                }
                None => {
                    let _ = write!(h, "<td>{n}</td>");
                }
            }
        }
        h.push_str("</tr>\n");
    }
    row(
        h,
        "attempts the server saw / calls",
        judged.iter().map(|(_, a)| {
            a.verdicts
                .as_ref()
                .map_or("-".into(), |v| format!("{} / {}", v.attempts, v.calls))
        }),
    );
    h.push_str("</table>\n");
}

fn breakers(h: &mut String, arms: &[(String, &ArmSummary)]) {
    let any = arms.iter().any(|(_, a)| !a.breaker.endpoints.is_empty());
    if !any {
        return;
    }
    h.push_str("<h2>Circuit breakers per endpoint</h2><table><tr><th>arm</th><th>endpoint</th><th>opens</th><th>time open</th><th>time half-open</th><th>final state</th></tr>\n");
    for (name, a) in arms {
        for (ep, b) in &a.breaker.endpoints {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}s</td><td>{:.1}s</td><td>{}</td></tr>",
                escape(name),
                escape(ep),
                b.opens,
                b.time_open_s,
                b.time_half_open_s,
                escape(&b.final_state)
            );
        }
    }
    h.push_str("</table>\n");
}
