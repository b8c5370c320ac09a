//! `harness run`: overrides, repeats, gates, and how the run ended.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::status::{Error, Status};
use crate::gate::{self, files::write_outputs};
use crate::run::{self, AbortRule, Progress, RunOutput};
use crate::scenario;

/// `harness run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Override `duration` (e.g. 10s).
    #[arg(long)]
    pub duration: Option<String>,
    /// Override the open model's constant rate (e.g. 500/s).
    #[arg(long)]
    pub rate: Option<String>,
    /// Override `seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Parent folder of the report (default `reports`).
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Override any scenario field: `--set client.retry.max_attempts=5`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Evaluate the scenario's gates after the run (exit 3 when one fails).
    #[arg(long)]
    pub gate: bool,
    /// Stop the load as soon as a `success_rate`/`error_rate` gate can no
    /// longer pass (errors already exceed what the whole run may have);
    /// implies `--gate`.
    #[arg(long)]
    pub abort_on_fail: bool,
    /// Run the scenario N times (same seed); gates judge the median of each
    /// metric across the runs, so one noisy run neither passes nor fails.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// No live progress line.
    #[arg(long, short)]
    pub quiet: bool,
    /// The system under test from a file holding an `under_test:` section
    /// (e.g. `clients/openai-python/under_test.yaml`), replacing the
    /// scenario's.
    #[arg(long, value_name = "FILE")]
    pub under_test: Option<PathBuf>,
    /// Arms to compare with it, replacing the scenario's `compare:`: `raw`,
    /// `client` (the in-process resilient client), or a file holding an
    /// `under_test:` section. Repeatable.
    #[arg(long = "compare", value_name = "raw|client|FILE")]
    pub compare: Vec<String>,
}

impl RunArgs {
    /// Every override as a `--set` line, sugar flags first.
    pub fn all_sets(&self) -> Result<Vec<String>, Error> {
        let mut sets = Vec::new();
        if let Some(f) = &self.under_test {
            let section = scenario::under_test::section_from_file(f)?;
            sets.push(format!("under_test={section}"));
        }
        if !self.compare.is_empty() {
            let mut arms = Vec::new();
            for c in &self.compare {
                arms.push(match c.as_str() {
                    "raw" | "client" => serde_json::Value::String(c.clone()),
                    file => scenario::under_test::section_from_file(std::path::Path::new(file))?,
                });
            }
            sets.push(format!("compare={}", serde_json::Value::Array(arms)));
        }
        if let Some(d) = &self.duration {
            sets.push(format!("duration={d}"));
        }
        if let Some(r) = &self.rate {
            sets.push(format!("load.rate={r}"));
        }
        if let Some(s) = self.seed {
            sets.push(format!("seed={s}"));
        }
        sets.extend(self.sets.iter().cloned());
        Ok(sets)
    }
}

/// Runs the scenario `--repeat` times, then judges the gates when asked.
/// Interrupted takes precedence over a failed gate, which takes precedence
/// over an unhealthy generator.
pub async fn run(args: RunArgs) -> Result<Status, Error> {
    let scenario = scenario::load(&args.scenario, &args.all_sets()?)?;
    if args.repeat == 0 {
        return Err(Error::Usage("--repeat must be >= 1".into()));
    }
    let progress = if args.quiet {
        Progress::Quiet
    } else if std::io::stderr().is_terminal() {
        Progress::Tty
    } else {
        Progress::Plain
    };
    let gates = if args.gate || args.abort_on_fail {
        gate::parse_all(&scenario.gates).map_err(Error::ScenarioGates)?
    } else {
        Vec::new()
    };
    let abort = if args.abort_on_fail {
        // Parsed above, so this cannot fail.
        AbortRule::from_gates(&scenario.gates).unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut outs: Vec<RunOutput> = Vec::new();
    for i in 0..args.repeat {
        if args.repeat > 1 {
            outln!("run {} of {}", i + 1, args.repeat);
        }
        let o = run::run(
            &scenario,
            &args.scenario,
            &args.out,
            progress,
            abort.clone(),
        )
        .await?;
        // A signal that came while this run's report was written stops the
        // repeats too.
        let stop = o.interrupted || crate::signals::received().count > 0;
        outs.push(o);
        if stop {
            break;
        }
    }
    let mut gate_failed = false;
    let mut write_failed = None;
    if !gates.is_empty() {
        let summaries = outs
            .iter()
            .map(|o| serde_json::to_value(&o.summary))
            .collect::<Result<Vec<_>, _>>()?;
        let r = gate::evaluate(&gates, &summaries);
        outln!();
        out!("{}", gate::table(&r));
        if let Some(last) = outs.last() {
            write_failed = write_outputs(
                &r,
                &scenario.name,
                Some(&last.dir.join("gates.json")),
                Some(&last.dir.join("gates.junit.xml")),
            )
            .err();
        }
        gate_failed = !r.passed;
    }
    if outs.iter().any(|o| o.interrupted) || crate::signals::received().count > 0 {
        if let Some(e) = write_failed {
            eprintln!("error: {e}");
        }
        return Ok(Status::Interrupted);
    }
    if let Some(e) = write_failed {
        return Err(e.into());
    }
    if gate_failed {
        return Ok(Status::GateFailed);
    }
    if outs.iter().any(|o| !o.healthy()) {
        eprintln!(
            "the generator could not keep the asked load; see generator.problems in summary.json"
        );
        return Ok(Status::GeneratorUnhealthy);
    }
    Ok(Status::Ok)
}
