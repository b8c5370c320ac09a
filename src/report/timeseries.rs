//! `timeseries.csv`: one row per second and arm.
//!
//! Columns: `t_s,arm,sent,ok,<every other outcome class>,p50_ms,p99_ms,
//! in_flight,breaker[<endpoint>]...` — `t_s` is the start of the second,
//! outcome columns count completions in that second, `sent` counts sends,
//! breaker columns hold the worst state during the second.

use std::fmt::Write as _;

use super::info::RunInfo;
use crate::outcome::OutcomeClass;
use crate::record::{BreakerState, RunData};

/// Endpoints in column order: the client's endpoints first, then any other
/// endpoint that appeared in breaker events.
pub(crate) fn breaker_endpoints(run: &RunData, info: &RunInfo) -> Vec<String> {
    let mut eps = info.endpoints.clone();
    for a in &run.arms {
        for b in &a.breakers {
            if !eps.contains(&b.endpoint) {
                eps.push(b.endpoint.clone());
            }
        }
    }
    eps
}

/// Renders the whole CSV.
pub(crate) fn render_csv(run: &RunData, info: &RunInfo) -> String {
    let eps = breaker_endpoints(run, info);
    let mut out = String::from("t_s,arm,sent");
    for c in OutcomeClass::ALL {
        out.push(',');
        out.push_str(c.as_str());
    }
    out.push_str(",p50_ms,p99_ms,in_flight");
    for e in &eps {
        // Quoted: endpoints are URLs and must not break the column split.
        let _ = write!(out, ",\"breaker[{}]\"", e.replace('"', "'"));
    }
    out.push('\n');
    let step = run.interval.as_secs_f64();
    for a in &run.arms {
        // Column index -> this arm's breaker index.
        let map: Vec<Option<usize>> = eps
            .iter()
            .map(|e| a.breakers.iter().position(|b| &b.endpoint == e))
            .collect();
        for (i, r) in a.rows.iter().enumerate() {
            let _ = write!(
                out,
                "{},{},{}",
                fmt_num(i as f64 * step),
                a.arm.as_str(),
                r.sent
            );
            for n in r.outcomes {
                let _ = write!(out, ",{n}");
            }
            let _ = write!(
                out,
                ",{:.3},{:.3},{}",
                r.p50_us as f64 / 1000.0,
                r.p99_us as f64 / 1000.0,
                r.in_flight
            );
            for m in &map {
                let st = m
                    .and_then(|bi| r.breaker.get(bi).copied())
                    .unwrap_or(BreakerState::Closed);
                out.push(',');
                out.push_str(st.as_str());
            }
            out.push('\n');
        }
    }
    out
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}
