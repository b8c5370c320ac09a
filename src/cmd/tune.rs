//! `harness tune`: run a scenario over a grid of settings (same seed and
//! schedule each time), rank the settings by an objective under constraints,
//! and print the recommended `client:` snippet. Bounded: the number of runs
//! and the time they take are printed first, and big grids need `--yes`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::status::{Error, Status};
use crate::report::{write_atomic, Summary};
use crate::run::{self, Progress};
use crate::scenario;
use crate::tune::grid::{self, Axis};
use crate::tune::table::{objective_text, ranked_table, snippet, tune_csv, Row};
use crate::tune::{chart, TuneError};

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

/// Runs the grid and recommends the best feasible setting.
pub async fn run(args: &TuneArgs) -> Result<Status, Error> {
    let axes: Vec<Axis> = args
        .vary
        .iter()
        .map(|v| grid::parse_axis(v))
        .collect::<Result<_, _>>()?;
    let objective = grid::parse_objective(&args.objective)?;
    if args.repeat == 0 {
        return Err(TuneError::Repeat.into());
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
        let s = scenario::load(&args.scenario, &sets)?;
        first.get_or_insert(s);
    }
    let Some(base) = first else {
        return Err(TuneError::EmptyGrid.into());
    };
    let runs = combos.len() * args.repeat;
    let arms = base.arms().len();
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
        return Err(TuneError::TooManyRuns {
            runs,
            max: args.max_runs,
        }
        .into());
    }
    let dir = tune_dir(&args.out, &base.name)?;
    let runs_dir = dir.join("runs");
    let mut rows = Vec::new();
    // A signal (Ctrl-C, SIGTERM, SIGHUP) stops the grid: the setting whose
    // run it cut short is left out (its numbers are partial), the settings
    // done so far are ranked and written, and the exit code says so.
    let mut interrupted = false;
    for (i, c) in combos.iter().enumerate() {
        let sets: Vec<String> = base_sets.iter().chain(c).cloned().collect();
        let mut summaries: Vec<Summary> = Vec::new();
        let mut reports = Vec::new();
        for r in 0..args.repeat {
            outln!(
                "[{}/{}] {} (repeat {})",
                i + 1,
                combos.len(),
                c.join(" "),
                r + 1
            );
            let s = scenario::load(&args.scenario, &sets)?;
            let out = run::run(&s, &args.scenario, &runs_dir, Progress::Silent, Vec::new()).await?;
            if out.interrupted || crate::signals::received().count > 0 {
                interrupted = true;
                break;
            }
            summaries.push(out.summary);
            reports.push(out.dir);
        }
        if interrupted {
            eprintln!(
                "tune interrupted: ranking the {} of {} settings that completed",
                rows.len(),
                combos.len()
            );
            break;
        }
        // The objective and its constraints are gate expressions, which
        // read any summary path: they judge the JSON form.
        let json = summaries
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()?;
        let (value, feasible) = objective.judge(&json);
        rows.push(Row {
            settings: c.clone(),
            value,
            feasible,
            p99_ms: median(
                summaries
                    .iter()
                    .filter_map(|s| s.arms.get("resilient").map(|a| a.latency.corrected.p99_ms)),
            ),
            success_rate: median(
                summaries
                    .iter()
                    .filter_map(|s| s.arms.get("resilient").map(|a| a.success_rate)),
            ),
            reports,
        });
    }
    let order = objective.rank(
        &rows
            .iter()
            .map(|r| (r.value, r.feasible))
            .collect::<Vec<_>>(),
    );
    write_atomic(
        &dir.join("tune.csv"),
        tune_csv(&axes, &rows, &order, &objective).as_bytes(),
    )?;
    let chosen = order.first().copied().filter(|&i| rows[i].feasible);
    if let Err(e) = chart::tune_chart(&dir, &rows, &order, chosen) {
        eprintln!("tune chart not written: {e}");
    }
    out!("{}", ranked_table(&axes, &rows, &order, &objective));
    outln!("tune report: {}", dir.display());
    if interrupted {
        return Ok(Status::Interrupted);
    }
    match chosen {
        Some(i) => {
            outln!(
                "\nrecommended settings ({}):\n{}",
                objective_text(&objective, &rows[i]),
                snippet(&rows[i].settings)
            );
            Ok(Status::Ok)
        }
        None => {
            outln!("\nno setting met the constraints of `{}`", args.objective);
            Ok(Status::NoSettingFound)
        }
    }
}

/// The median of the values (mean of the middle two for an even count),
/// as gates take it across repeats.
fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn tune_dir(root: &Path, name: &str) -> Result<PathBuf, TuneError> {
    let dir = root.join(format!("{name}-tune-{}", run::utc_stamp()));
    std::fs::create_dir_all(&dir).map_err(|source| TuneError::Dir {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}
