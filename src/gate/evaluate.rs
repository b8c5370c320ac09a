//! Judging gates on summaries: each metric is the median across the
//! summaries given (repeats), optionally compared with a baseline.

use serde::Serialize;
use serde_json::Value;

use super::expr::Op;
use super::metrics::{self, Kind};
use super::parse::Gate;

/// Result of one gate.
#[derive(Debug, Clone, Serialize)]
pub struct GateResult {
    /// The expression (or `baseline: <metric>` for a baseline check).
    pub gate: String,
    /// Summary path read.
    pub metric: String,
    /// The value (median across summaries); `None` when the metric is absent.
    pub value: Option<f64>,
    /// The bound it was compared with.
    pub bound: f64,
    /// The operator.
    pub op: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed or how it was judged.
    pub note: String,
    /// Number formatting hint: `ms`, `%` or empty.
    pub unit: &'static str,
}

/// Every gate's result.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    /// True when every gate passed.
    pub passed: bool,
    /// Summaries the values were taken from (median when more than one).
    pub summaries: usize,
    /// One per gate (then one per baseline comparison).
    pub results: Vec<GateResult>,
}

/// Median of a metric across summaries. `error_rate` is derived from
/// `success_rate` when a summary does not carry it.
pub fn value_of(summaries: &[Value], path: &str) -> Option<f64> {
    let mut vals: Vec<f64> = summaries
        .iter()
        .filter_map(|s| {
            metrics::lookup(s, path)
                .or_else(|| {
                    let base = path.strip_suffix("error_rate")?;
                    metrics::lookup(s, &format!("{base}success_rate")).map(|r| 1.0 - r)
                })
                .or_else(|| unseen_status(s, path))
        })
        .collect();
    if vals.is_empty() {
        return None;
    }
    vals.sort_by(f64::total_cmp);
    let n = vals.len();
    Some(if n % 2 == 1 {
        vals[n / 2]
    } else {
        (vals[n / 2 - 1] + vals[n / 2]) / 2.0
    })
}

/// `statuses` lists only the codes seen: a code absent from a present
/// `statuses` map was seen 0 times (`statuses.429 < 200` on a run with no
/// 429 passes instead of reading as a missing metric).
fn unseen_status(s: &Value, path: &str) -> Option<f64> {
    let (parent, code) = path.rsplit_once('.')?;
    if !parent.ends_with("statuses") || code.parse::<u16>().is_err() {
        return None;
    }
    let full = metrics::effective_path(s, parent);
    let pointer = format!("/{}", full.replace('.', "/"));
    s.pointer(&pointer)?.as_object().map(|_| 0.0)
}

fn unit_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Millis => "ms",
        Kind::Fraction => "%",
        Kind::Number => "",
    }
}

/// Evaluate gates on one or more summaries.
pub fn evaluate(gates: &[Gate], summaries: &[Value]) -> GateReport {
    let results: Vec<GateResult> = gates
        .iter()
        .map(|g| {
            let value = value_of(summaries, &g.path);
            let passed = value.is_some_and(|v| g.expr.op.holds(v, g.expr.bound));
            GateResult {
                gate: g.expr.text.clone(),
                metric: summaries
                    .first()
                    .map_or_else(|| g.path.clone(), |s| metrics::effective_path(s, &g.path)),
                value,
                bound: g.expr.bound,
                op: g.expr.op.as_str(),
                passed,
                note: match value {
                    None => {
                        "metric absent from the summary (was the arm or stream part run?)".into()
                    }
                    Some(_) if passed => String::new(),
                    Some(_) => "bound not met".into(),
                },
                unit: unit_of(g.kind),
            }
        })
        .collect();
    GateReport {
        passed: results.iter().all(|r| r.passed),
        summaries: summaries.len(),
        results,
    }
}

/// Compare each gated metric with a baseline summary: a metric gated with
/// `<`/`<=` regresses when it grows beyond `baseline * (1 + tolerance)`, one
/// gated with `>`/`>=` when it falls below `baseline * (1 - tolerance)`.
/// Equality gates have no direction and are not compared.
pub fn compare_baseline(
    gates: &[Gate],
    summaries: &[Value],
    baseline: &Value,
    tolerance: f64,
) -> Vec<GateResult> {
    gates
        .iter()
        .filter(|g| !matches!(g.expr.op, Op::Eq | Op::Ne))
        .map(|g| {
            let value = value_of(summaries, &g.path);
            let base = value_of(std::slice::from_ref(baseline), &g.path);
            let lower_is_better = matches!(g.expr.op, Op::Lt | Op::Le);
            let (bound, op) = match base {
                Some(b) if lower_is_better => (b * (1.0 + tolerance), Op::Le),
                Some(b) => (b * (1.0 - tolerance), Op::Ge),
                None => (f64::NAN, Op::Le),
            };
            let passed = match (value, base) {
                (Some(v), Some(_)) => op.holds(v, bound),
                // Nothing to compare with: a new metric is not a regression.
                (_, None) => true,
                (None, Some(_)) => false,
            };
            let note = match (value, base) {
                (_, None) => "not in the baseline; skipped".to_string(),
                (None, _) => "metric absent from the summary".to_string(),
                (Some(v), Some(b)) => format!(
                    "baseline {} ({:+.1}%), tolerance {:.0}%",
                    fmt_num(b, g.kind),
                    if b != 0.0 {
                        (v - b) / b.abs() * 100.0
                    } else {
                        0.0
                    },
                    tolerance * 100.0
                ),
            };
            GateResult {
                gate: format!("baseline: {}", g.expr.metric),
                metric: g.path.clone(),
                value,
                bound,
                op: op.as_str(),
                passed,
                note,
                unit: unit_of(g.kind),
            }
        })
        .collect()
}

/// Format a value in its kind's unit.
pub fn fmt_num(v: f64, kind: Kind) -> String {
    match kind {
        Kind::Millis => format!("{v:.1}ms"),
        Kind::Fraction => format!("{:.2}%", v * 100.0),
        Kind::Number => format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::parse_all;
    use serde_json::json;

    fn summary(p99: f64, success: f64) -> Value {
        json!({"arms": {"resilient": {"latency": {"corrected": {"p99_ms": p99}}, "success_rate": success,
               "breaker": {"opens": 2}}}})
    }

    #[test]
    fn pass_and_fail() {
        let gates = parse_all(&[
            "p99 < 2s".into(),
            "success_rate >= 99%".into(),
            "breaker_opens >= 1".into(),
        ])
        .unwrap();
        let ok = evaluate(&gates, &[summary(1500.0, 0.995)]);
        assert!(ok.passed, "{ok:?}");
        let bad = evaluate(&gates, &[summary(2500.0, 0.995)]);
        assert!(!bad.passed);
        assert!(!bad.results[0].passed && bad.results[1].passed);
    }

    #[test]
    fn absent_metric_fails() {
        let gates = parse_all(&["ttft.p99 < 1s".into()]).unwrap();
        let r = evaluate(&gates, &[summary(1.0, 1.0)]);
        assert!(!r.passed && r.results[0].value.is_none());
    }

    #[test]
    fn a_status_never_seen_counts_zero_but_a_missing_arm_is_absent() {
        let gates = parse_all(&["statuses.429 < 200".into(), "statuses.200 > 5".into()]).unwrap();
        let s = json!({"arms": {"resilient": {"statuses": {"200": 10}}}});
        let r = evaluate(&gates, &[s]);
        assert!(r.passed, "{r:?}");
        assert_eq!(r.results[0].value, Some(0.0));
        let raw = parse_all(&["raw.statuses.429 < 200".into()]).unwrap();
        let r = evaluate(&raw, &[json!({"arms": {"resilient": {"statuses": {}}}})]);
        assert!(!r.passed && r.results[0].value.is_none());
    }

    #[test]
    fn error_rate_is_derived() {
        let gates = parse_all(&["error_rate < 1%".into()]).unwrap();
        assert!(evaluate(&gates, &[summary(1.0, 0.995)]).passed);
        assert!(!evaluate(&gates, &[summary(1.0, 0.98)]).passed);
    }

    #[test]
    fn median_of_repeats_ignores_one_outlier() {
        let gates = parse_all(&["p99 < 2s".into()]).unwrap();
        let r = evaluate(
            &gates,
            &[
                summary(1000.0, 1.0),
                summary(9000.0, 1.0),
                summary(1200.0, 1.0),
            ],
        );
        assert!(r.passed);
        assert_eq!(r.results[0].value, Some(1200.0));
    }

    #[test]
    fn baseline_with_tolerance() {
        let gates = parse_all(&["p99 < 5s".into(), "success_rate >= 90%".into()]).unwrap();
        let base = summary(1000.0, 0.99);
        let within = compare_baseline(&gates, &[summary(1090.0, 0.95)], &base, 0.10);
        assert!(within.iter().all(|r| r.passed), "{within:?}");
        let worse = compare_baseline(&gates, &[summary(1200.0, 0.99)], &base, 0.10);
        assert!(!worse[0].passed && worse[1].passed);
        let dropped = compare_baseline(&gates, &[summary(1000.0, 0.80)], &base, 0.10);
        assert!(dropped[0].passed && !dropped[1].passed);
    }
}
