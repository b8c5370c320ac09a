//! `harness tune`: run a scenario over a grid of settings (same seed and
//! schedule each time), rank the settings by an objective under constraints,
//! and print the recommended `client:` snippet. Bounded: the number of runs
//! and the time they take are printed first, and big grids need `--yes`.

mod chart;
pub mod grid;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::cli::exit;
use crate::gate::{self, Kind};
use crate::run::{self, Progress};
use crate::scenario;
use grid::{Axis, Objective};

/// `harness tune` arguments.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// A grid axis: `client.pool.max_idle_per_host=8,32,128`; repeatable.
    #[arg(long = "vary", required = true, value_name = "PATH=V1,V2")]
    pub vary: Vec<String>,
    /// `min|max <metric> [where <gate> [and <gate>]...]`.
    #[arg(long, default_value = "min p99 where success_rate >= 99%")]
    pub objective: String,
    /// Runs per setting; metrics are the median across them.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Length of each run (default: the scenario's).
    #[arg(long)]
    pub duration: Option<String>,
    /// Other overrides applied to every run.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Parent folder of the tuning report.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Most runs allowed without `--yes`.
    #[arg(long, default_value_t = 24)]
    pub max_runs: usize,
    /// Run a grid larger than `--max-runs`.
    #[arg(long)]
    pub yes: bool,
}

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

/// `harness tune`; returns the exit code.
pub async fn main(args: TuneArgs) -> u8 {
    match tune(&args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

async fn tune(args: &TuneArgs) -> Result<u8, String> {
    let axes: Vec<Axis> = args
        .vary
        .iter()
        .map(|v| grid::parse_axis(v))
        .collect::<Result<_, _>>()?;
    let objective = grid::parse_objective(&args.objective)?;
    if args.repeat == 0 {
        return Err("--repeat must be >= 1".into());
    }
    let mut base_sets = args.sets.clone();
    if let Some(d) = &args.duration {
        base_sets.push(format!("duration={d}"));
    }
    // Check every combination parses before spending time on runs.
    let combos = grid::expand(&axes);
    let mut first = None;
    for c in &combos {
        let sets: Vec<String> = base_sets.iter().chain(c).cloned().collect();
        let s = scenario::load(&args.scenario, &sets).map_err(|e| e.to_string())?;
        first.get_or_insert(s);
    }
    let Some(base) = first else {
        return Err("the grid is empty".into());
    };
    let runs = combos.len() * args.repeat;
    let arms = if base.compare.is_empty() { 1 } else { 2 };
    let per_run = base.duration + Duration::from_secs(1);
    outln!(
        "tune: {} settings x {} repeat(s) = {runs} runs of {} each ({} arm(s) in parallel), about {} in all",
        combos.len(),
        args.repeat,
        humantime::format_duration(base.duration),
        arms,
        humantime::format_duration(Duration::from_secs(per_run.as_secs() * runs as u64)),
    );
    if runs > args.max_runs && !args.yes {
        return Err(format!(
            "{runs} runs is more than --max-runs {}; shrink the grid, shorten --duration, or pass --yes",
            args.max_runs
        ));
    }
    let dir = tune_dir(&args.out, &base.name)?;
    let runs_dir = dir.join("runs");
    let mut rows = Vec::new();
    for (i, c) in combos.iter().enumerate() {
        let sets: Vec<String> = base_sets.iter().chain(c).cloned().collect();
        let mut summaries = Vec::new();
        let mut reports = Vec::new();
        for r in 0..args.repeat {
            outln!(
                "[{}/{}] {} (repeat {})",
                i + 1,
                combos.len(),
                c.join(" "),
                r + 1
            );
            let s = scenario::load(&args.scenario, &sets).map_err(|e| e.to_string())?;
            let out = run::execute(&s, &args.scenario, &runs_dir, Progress::Silent)
                .await
                .map_err(|e| e.to_string())?;
            summaries.push(out.summary);
            reports.push(out.dir);
        }
        let (value, feasible) = objective.judge(&summaries);
        rows.push(Row {
            settings: c.clone(),
            value,
            feasible,
            p99_ms: gate::value_of(&summaries, "arms.resilient.latency.corrected.p99_ms"),
            success_rate: gate::value_of(&summaries, "arms.resilient.success_rate"),
            reports,
        });
    }
    let order = objective.rank(
        &rows
            .iter()
            .map(|r| (r.value, r.feasible))
            .collect::<Vec<_>>(),
    );
    crate::gate_cmd::write_atomic(
        &dir.join("tune.csv"),
        tune_csv(&axes, &rows, &order, &objective).as_bytes(),
    )?;
    let chosen = order.first().copied().filter(|&i| rows[i].feasible);
    if let Err(e) = chart::tune_chart(&dir, &rows, &order, chosen) {
        eprintln!("tune chart not written: {e}");
    }
    out!("{}", ranked_table(&axes, &rows, &order, &objective));
    outln!("tune report: {}", dir.display());
    match chosen {
        Some(i) => {
            outln!(
                "\nrecommended settings ({}):\n{}",
                objective_text(&objective, &rows[i]),
                snippet(&rows[i].settings)
            );
            Ok(exit::OK)
        }
        None => {
            outln!("\nno setting met the constraints of `{}`", args.objective);
            Ok(exit::GATE_FAILED)
        }
    }
}

fn objective_text(o: &Objective, r: &Row) -> String {
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

fn tune_dir(root: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = root.join(format!("{name}-tune-{}", run::utc_stamp()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
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

fn ranked_table(axes: &[Axis], rows: &[Row], order: &[usize], o: &Objective) -> String {
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
