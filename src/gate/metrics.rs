//! Gate metric names and where they live in `summary.json`. Short names read
//! the resilient arm (`p99`, `ttft.p99`); a `raw.` prefix reads the raw arm;
//! any full JSON path (`arms.resilient.latency.uncorrected.p99_ms`) also works.

use serde_json::Value;

/// What kind of number a metric is, so bounds can be checked for units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Milliseconds.
    Millis,
    /// A fraction 0..1 (write the bound as a percentage).
    Fraction,
    /// A count or ratio.
    Number,
}

const PERCENTILES: [&str; 7] = ["p50", "p90", "p99", "p999", "max", "mean", "min"];
const HISTOGRAMS: [&str; 4] = ["ttft", "itl", "queue_wait", "latency.uncorrected"];
const ARM_NUMBERS: [(&str, &str); 12] = [
    ("requests", "requests"),
    ("attempts", "attempts"),
    ("retries", "retries"),
    ("retry_amplification", "retry_amplification"),
    ("goodput", "goodput_rps"),
    ("goodput_rps", "goodput_rps"),
    ("tokens", "tokens"),
    ("breaker_opens", "breaker.opens"),
    ("sheds", "sheds"),
    ("fallbacks", "fallbacks"),
    ("ejections", "ejections"),
    ("abandoned", "abandoned"),
];

/// A metric name that is none of the known ones; its message lists them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "unknown metric `{metric}`; valid: {} (latency, ms), ttft.pXX, itl.pXX, queue_wait.pXX, \
     latency.uncorrected.pXX, success_rate, error_rate, {}, outcomes.<class>, statuses.<code>, \
     verdicts.<name> (from the fake server's journal), \
     priority.<high|normal|low>.<success_rate|goodput|sheds|fallbacks|requests|pXX>, generator.lag.pXX, load.achieved_rps, any of these with a `raw.` prefix, or a full \
     summary.json path such as arms.resilient.latency.corrected.p99_ms",
    PERCENTILES.join(", "),
    ARM_NUMBERS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
)]
pub struct UnknownMetric {
    /// The name as written.
    pub metric: String,
}

/// Resolve a metric name to (JSON path, kind), or explain the valid names.
pub fn resolve(metric: &str) -> Result<(String, Kind), UnknownMetric> {
    let (arm, name) = match metric.strip_prefix("raw.") {
        Some(rest) => ("raw", rest),
        None => (
            "resilient",
            metric.strip_prefix("resilient.").unwrap_or(metric),
        ),
    };
    let a = format!("arms.{arm}");
    let found = if PERCENTILES.contains(&name) {
        Some((format!("{a}.latency.corrected.{name}_ms"), Kind::Millis))
    } else if let Some((hist, p)) = name.rsplit_once('.').filter(|(h, p)| {
        (HISTOGRAMS.contains(h) || *h == "latency.corrected" || *h == "latency")
            && PERCENTILES.contains(p)
    }) {
        let hist = if hist == "latency" {
            "latency.corrected"
        } else {
            hist
        };
        Some((format!("{a}.{hist}.{p}_ms"), Kind::Millis))
    } else if name == "success_rate" {
        Some((format!("{a}.success_rate"), Kind::Fraction))
    } else if name == "error_rate" {
        Some((format!("{a}.error_rate"), Kind::Fraction))
    } else if let Some((_, path)) = ARM_NUMBERS.iter().find(|(n, _)| *n == name) {
        Some((format!("{a}.{path}"), Kind::Number))
    } else if let Some((class, metric)) = name
        .strip_prefix("priority.")
        .and_then(|rest| rest.split_once('.'))
    {
        let p = format!("{a}.priorities.{class}");
        match metric {
            "success_rate" => Some((format!("{p}.success_rate"), Kind::Fraction)),
            "goodput" | "goodput_rps" => Some((format!("{p}.goodput_rps"), Kind::Number)),
            "requests" | "sheds" | "fallbacks" => Some((format!("{p}.{metric}"), Kind::Number)),
            m if PERCENTILES.contains(&m) => Some((format!("{p}.latency.{m}_ms"), Kind::Millis)),
            _ => None,
        }
    } else if let Some(class) = name.strip_prefix("outcomes.") {
        Some((format!("{a}.outcomes.{class}"), Kind::Number))
    } else if let Some(code) = name.strip_prefix("statuses.") {
        Some((format!("{a}.statuses.{code}"), Kind::Number))
    } else if let Some(v) = name.strip_prefix("verdicts.") {
        let path = match v {
            "attempts" | "calls" => format!("{a}.verdicts.{v}"),
            _ => format!("{a}.verdicts.counts.{v}"),
        };
        Some((path, Kind::Number))
    } else if let Some(p) = metric
        .strip_prefix("generator.lag.")
        .filter(|p| PERCENTILES.contains(p))
    {
        Some((format!("generator.lag.{p}_ms"), Kind::Millis))
    } else if metric == "load.achieved_rps" || metric == "load.asked_rps" {
        Some((metric.to_string(), Kind::Number))
    } else if metric.starts_with("arms.")
        || metric.starts_with("generator.")
        || metric.starts_with("load.")
    {
        let kind = if metric.ends_with("_ms") {
            Kind::Millis
        } else if metric.ends_with("rate") && !metric.ends_with("_rps") {
            Kind::Fraction
        } else {
            Kind::Number
        };
        Some((metric.to_string(), kind))
    } else {
        None
    };
    found.ok_or_else(|| UnknownMetric {
        metric: metric.to_string(),
    })
}

/// The path actually read in `summary`: short names resolve to the
/// `resilient` arm, which in a run whose system under test is external is
/// that system's arm (the summary's `primary`).
pub fn effective_path(summary: &Value, path: &str) -> String {
    let primary = summary.get("primary").and_then(Value::as_str);
    match (path.strip_prefix("arms.resilient."), primary) {
        (Some(rest), Some(p))
            if p != "resilient" && summary.pointer("/arms/resilient").is_none() =>
        {
            format!("arms.{p}.{rest}")
        }
        _ => path.to_string(),
    }
}

/// Read a dotted path from a summary; `None` when absent or not a number.
pub fn lookup(summary: &Value, path: &str) -> Option<f64> {
    let path = effective_path(summary, path);
    let mut v = summary;
    for key in path.split('.') {
        v = v.get(key)?;
    }
    v.as_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_map_to_summary_paths() {
        assert_eq!(
            resolve("p99").unwrap(),
            (
                "arms.resilient.latency.corrected.p99_ms".into(),
                Kind::Millis
            )
        );
        assert_eq!(
            resolve("raw.p99").unwrap().0,
            "arms.raw.latency.corrected.p99_ms"
        );
        assert_eq!(resolve("ttft.p99").unwrap().0, "arms.resilient.ttft.p99_ms");
        assert_eq!(
            resolve("latency.uncorrected.p999").unwrap().0,
            "arms.resilient.latency.uncorrected.p999_ms"
        );
        assert_eq!(resolve("success_rate").unwrap().1, Kind::Fraction);
        assert_eq!(
            resolve("breaker_opens").unwrap().0,
            "arms.resilient.breaker.opens"
        );
        assert_eq!(
            resolve("generator.lag.p99").unwrap().0,
            "generator.lag.p99_ms"
        );
        assert_eq!(
            resolve("outcomes.shed").unwrap().0,
            "arms.resilient.outcomes.shed"
        );
        assert_eq!(
            resolve("verdicts.ignored_retry_after").unwrap().0,
            "arms.resilient.verdicts.counts.ignored_retry_after"
        );
        assert_eq!(
            resolve("raw.verdicts.attempts").unwrap().0,
            "arms.raw.verdicts.attempts"
        );
        assert_eq!(
            resolve("priority.high.success_rate").unwrap(),
            (
                "arms.resilient.priorities.high.success_rate".into(),
                Kind::Fraction
            )
        );
        assert_eq!(
            resolve("raw.priority.low.p99").unwrap(),
            (
                "arms.raw.priorities.low.latency.p99_ms".into(),
                Kind::Millis
            )
        );
        assert!(resolve("priority.high.nope").is_err());
    }

    #[test]
    fn unknown_metric_lists_valid_ones() {
        let e = resolve("p98").unwrap_err().to_string();
        assert!(
            e.contains("unknown metric `p98`") && e.contains("success_rate"),
            "{e}"
        );
    }

    #[test]
    fn short_names_read_an_external_primary_arm() {
        let v: Value = serde_json::json!({"primary": "openai-python", "arms": {"openai-python": {"success_rate": 0.9}}});
        assert_eq!(lookup(&v, "arms.resilient.success_rate"), Some(0.9));
        let both: Value = serde_json::json!({"primary": "py", "arms": {"py": {"x": 1.0}, "resilient": {"x": 2.0}}});
        assert_eq!(lookup(&both, "arms.resilient.x"), Some(2.0));
    }

    #[test]
    fn lookup_reads_nested_numbers() {
        let v: Value = serde_json::json!({"a": {"b": {"c": 1.5}}});
        assert_eq!(lookup(&v, "a.b.c"), Some(1.5));
        assert_eq!(lookup(&v, "a.x"), None);
    }
}
