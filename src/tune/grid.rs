//! The tuning grid and objective: `--vary path=a,b,c` axes expanded into
//! every combination, and `min p99 where success_rate >= 99%` parsed into a
//! metric to rank by plus gate-style constraints.

use serde_json::Value;

use super::error::TuneError;
use crate::gate::{self, Gate, Kind};

/// One `--vary` axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted scenario path, e.g. `client.pool.max_idle_per_host`.
    pub path: String,
    /// Values as written (YAML scalars).
    pub values: Vec<String>,
}

/// Parse `path=v1,v2,...`.
pub fn parse_axis(s: &str) -> Result<Axis, TuneError> {
    let (path, vals) = s
        .split_once('=')
        .ok_or_else(|| TuneError::Axis(s.to_string()))?;
    let values: Vec<String> = vals
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if path.trim().is_empty() || values.is_empty() {
        return Err(TuneError::AxisEmpty(s.to_string()));
    }
    Ok(Axis {
        path: path.trim().to_string(),
        values,
    })
}

/// Every combination of the axes, as `path=value` settings in axis order.
pub fn expand(axes: &[Axis]) -> Vec<Vec<String>> {
    axes.iter().fold(vec![Vec::new()], |acc, axis| {
        acc.iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(format!("{}={}", axis.path, v));
                    p
                })
            })
            .collect()
    })
}

/// Minimise or maximise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// A parsed objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// Min or max.
    pub direction: Direction,
    /// Metric name as written.
    pub metric: String,
    /// Summary path of the metric.
    pub path: String,
    /// Its kind, for formatting.
    pub kind: Kind,
    /// Constraints a setting must meet to be chosen.
    pub constraints: Vec<Gate>,
}

/// Parse `min|max <metric> [where <gate> [and <gate>]...]`.
pub fn parse_objective(s: &str) -> Result<Objective, TuneError> {
    let s = s.trim();
    let (head, cond) = match s.split_once(" where ") {
        Some((h, c)) => (h.trim(), Some(c)),
        None => (s, None),
    };
    let mut words = head.split_whitespace();
    let direction = match words.next() {
        Some("min") => Direction::Min,
        Some("max") => Direction::Max,
        _ => return Err(TuneError::Direction(s.to_string())),
    };
    let metric = words
        .next()
        .ok_or_else(|| TuneError::NoMetric {
            text: s.to_string(),
            head: head.to_string(),
        })?
        .to_string();
    if words.next().is_some() {
        return Err(TuneError::ExpectedWhere(s.to_string()));
    }
    let (path, kind) = gate::metrics::resolve(&metric).map_err(TuneError::Metric)?;
    let constraints = match cond {
        None => Vec::new(),
        Some(c) => c
            .split(" and ")
            .map(gate::parse_one)
            .collect::<Result<_, _>>()
            .map_err(TuneError::Constraint)?,
    };
    Ok(Objective {
        direction,
        metric,
        path,
        kind,
        constraints,
    })
}

impl Objective {
    /// The objective value and whether every constraint holds.
    pub fn judge(&self, summaries: &[Value]) -> (Option<f64>, bool) {
        let value = gate::value_of(summaries, &self.path);
        let ok = gate::evaluate(&self.constraints, summaries).passed;
        (value, ok)
    }

    /// Indices of `rows` (value, feasible) best first: feasible before
    /// infeasible, then by the objective; rows without a value last.
    pub fn rank(&self, rows: &[(Option<f64>, bool)]) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        idx.sort_by(|&a, &b| {
            let (va, fa) = rows[a];
            let (vb, fb) = rows[b];
            fb.cmp(&fa).then_with(|| match (va, vb) {
                (Some(x), Some(y)) => match self.direction {
                    Direction::Min => x.total_cmp(&y),
                    Direction::Max => y.total_cmp(&x),
                },
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
        });
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_the_cartesian_product() {
        let axes = vec![
            parse_axis("client.pool.max_idle_per_host=8,32,128").unwrap(),
            parse_axis("client.timeouts.total=2s,5s").unwrap(),
        ];
        let g = expand(&axes);
        assert_eq!(g.len(), 6);
        assert_eq!(
            g[0],
            vec![
                "client.pool.max_idle_per_host=8",
                "client.timeouts.total=2s"
            ]
        );
        assert_eq!(
            g[5],
            vec![
                "client.pool.max_idle_per_host=128",
                "client.timeouts.total=5s"
            ]
        );
        assert!(parse_axis("nothing").is_err());
        assert!(parse_axis("a=").is_err());
    }

    #[test]
    fn objective_parses_and_ranks_feasible_first() {
        let o = parse_objective("min p99 where success_rate >= 99%").unwrap();
        assert_eq!(o.direction, Direction::Min);
        assert_eq!(o.constraints.len(), 1);
        let rows = [
            (Some(50.0), false),
            (Some(200.0), true),
            (Some(100.0), true),
            (None, true),
        ];
        assert_eq!(o.rank(&rows), vec![2, 1, 3, 0]);
        let m = parse_objective("max goodput").unwrap();
        assert_eq!(m.rank(&[(Some(1.0), true), (Some(3.0), true)]), vec![1, 0]);
        assert!(parse_objective("lowest p99").is_err());
        assert!(parse_objective("min p98").is_err());
        assert!(parse_objective("min p99 where p99 <").is_err());
    }
}
