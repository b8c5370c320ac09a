//! The tuning results: one [`Row`] per setting, `tune.csv`, the ranked
//! table, and the recommended settings as a `client:` snippet.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::grid::{self, Axis, Objective};
use crate::gate::{self, Kind};
use crate::scenario;

/// One row of the tuning table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The settings (`path=value`).
    pub settings: Vec<String>,
    /// Objective value (median of repeats).
    pub value: Option<f64>,
    /// All constraints met.
    pub feasible: bool,
    /// Corrected p99 (ms) and success rate, for the chart.
    pub p99_ms: Option<f64>,
    /// Success rate 0..1.
    pub success_rate: Option<f64>,
    /// Report folders of each repeat.
    pub reports: Vec<PathBuf>,
}

/// `min p99 = 12.3ms`: the objective and the row's value.
pub fn objective_text(o: &Objective, r: &Row) -> String {
    format!(
        "{} {} = {}",
        match o.direction {
            grid::Direction::Min => "min",
            grid::Direction::Max => "max",
        },
        o.metric,
        r.value.map_or("-".into(), |v| gate::fmt_num(v, o.kind))
    )
}

fn setting_value<'a>(settings: &'a [String], path: &str) -> &'a str {
    settings
        .iter()
        .find_map(|s| s.strip_prefix(path).and_then(|v| v.strip_prefix('=')))
        .unwrap_or("")
}

/// `tune.csv`: one row per setting, best first.
pub fn tune_csv(axes: &[Axis], rows: &[Row], order: &[usize], o: &Objective) -> String {
    let mut out = String::new();
    let head: Vec<&str> = axes.iter().map(|a| a.path.as_str()).collect();
    let _ = writeln!(
        out,
        "rank,{},{},feasible,p99_ms,success_rate",
        head.join(","),
        o.metric
    );
    for (rank, &i) in order.iter().enumerate() {
        let r = &rows[i];
        let vals: Vec<&str> = axes
            .iter()
            .map(|a| setting_value(&r.settings, &a.path))
            .collect();
        let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            rank + 1,
            vals.join(","),
            num(r.value),
            r.feasible,
            num(r.p99_ms),
            num(r.success_rate)
        );
    }
    out
}

/// The rows as an aligned table, best first.
pub fn ranked_table(axes: &[Axis], rows: &[Row], order: &[usize], o: &Objective) -> String {
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["rank".to_string()];
    head.extend(axes.iter().map(|a| a.path.clone()));
    // The objective column first; p99 and success follow unless they are it.
    let show_p99 = o.path != "arms.resilient.latency.corrected.p99_ms";
    let show_success = o.path != "arms.resilient.success_rate";
    head.push(o.metric.clone());
    if show_p99 {
        head.push("p99".into());
    }
    if show_success {
        head.push("success".into());
    }
    head.push("ok?".into());
    table.push(head);
    for (rank, &i) in order.iter().enumerate() {
        let r = &rows[i];
        let mut line = vec![(rank + 1).to_string()];
        line.extend(
            axes.iter()
                .map(|a| setting_value(&r.settings, &a.path).to_string()),
        );
        line.push(r.value.map_or("-".into(), |v| gate::fmt_num(v, o.kind)));
        if show_p99 {
            line.push(
                r.p99_ms
                    .map_or("-".into(), |v| gate::fmt_num(v, Kind::Millis)),
            );
        }
        if show_success {
            line.push(
                r.success_rate
                    .map_or("-".into(), |v| gate::fmt_num(v, Kind::Fraction)),
            );
        }
        line.push(if r.feasible {
            "yes".into()
        } else {
            "no".into()
        });
        table.push(line);
    }
    let cols = table[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in &table {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// The chosen settings as a YAML snippet to paste into a scenario.
pub fn snippet(settings: &[String]) -> String {
    let mut root = serde_yaml::Value::Null;
    for s in settings {
        // The same override syntax the runs used; it cannot fail here.
        let _ = scenario::apply_set(&mut root, s);
    }
    serde_yaml::to_string(&root).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_nests_paths() {
        let s = snippet(&[
            "client.pool.max_idle_per_host=32".into(),
            "client.timeouts.total=5s".into(),
        ]);
        assert_eq!(
            s,
            "client:\n  pool:\n    max_idle_per_host: 32\n  timeouts:\n    total: 5s\n"
        );
    }

    #[test]
    fn csv_has_one_row_per_setting_best_first() {
        let axes = vec![grid::parse_axis("client.retry.max_attempts=1,3").unwrap()];
        let o = grid::parse_objective("min p99 where success_rate >= 99%").unwrap();
        let rows = vec![
            Row {
                settings: vec!["client.retry.max_attempts=1".into()],
                value: Some(10.0),
                feasible: false,
                p99_ms: Some(10.0),
                success_rate: Some(0.9),
                reports: vec![],
            },
            Row {
                settings: vec!["client.retry.max_attempts=3".into()],
                value: Some(30.0),
                feasible: true,
                p99_ms: Some(30.0),
                success_rate: Some(1.0),
                reports: vec![],
            },
        ];
        let order = o.rank(
            &rows
                .iter()
                .map(|r| (r.value, r.feasible))
                .collect::<Vec<_>>(),
        );
        let csv = tune_csv(&axes, &rows, &order, &o);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("1,3,30.0"), "{csv}");
        assert!(lines[2].contains(",false,"), "{csv}");
    }
}
