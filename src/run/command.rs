//! `harness run` on the command line: overrides, repeats, gates and the exit
//! code.

use std::io::IsTerminal;

use super::{execute_with, AbortRule, Progress, RunOutput};
use crate::cli::{exit, RunArgs};
use crate::scenario;

/// `harness run` from the command line; returns the exit code.
pub async fn main(args: RunArgs) -> u8 {
    let scenario = match scenario::load(&args.scenario, &args.all_sets()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    if args.repeat == 0 {
        eprintln!("error: --repeat must be >= 1");
        return exit::USAGE;
    }
    let progress = if args.quiet {
        Progress::Quiet
    } else if std::io::stderr().is_terminal() {
        Progress::Tty
    } else {
        Progress::Plain
    };
    let gates = if args.gate || args.abort_on_fail {
        match crate::gate::parse_all(&scenario.gates) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("error: gates: {e}");
                return exit::ERROR;
            }
        }
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
        match execute_with(
            &scenario,
            &args.scenario,
            &args.out,
            progress,
            abort.clone(),
        )
        .await
        {
            Ok(o) => {
                let stop = o.interrupted;
                outs.push(o);
                if stop {
                    break;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        }
    }
    let mut code = exit::OK;
    if !gates.is_empty() {
        let summaries: Vec<serde_json::Value> = outs.iter().map(|o| o.summary.clone()).collect();
        let r = crate::gate::evaluate(&gates, &summaries);
        outln!();
        out!("{}", crate::gate::table(&r));
        if let Some(last) = outs.last() {
            let written = crate::gate_cmd::write_outputs(
                &r,
                &scenario.name,
                Some(&last.dir.join("gates.json")),
                Some(&last.dir.join("gates.junit.xml")),
            );
            if let Err(e) = written {
                eprintln!("error: {e}");
                code = exit::ERROR;
            }
        }
        if !r.passed && code == exit::OK {
            code = exit::GATE_FAILED;
        }
    }
    if outs.iter().any(|o| o.interrupted) {
        return exit::INTERRUPTED;
    }
    if outs.iter().any(|o| !o.healthy) && code == exit::OK {
        eprintln!(
            "the generator could not keep the asked load; see generator.problems in summary.json"
        );
        code = exit::GENERATOR_UNHEALTHY;
    }
    code
}
