//! A gate as the harness uses it: an expression whose metric is resolved to
//! a `summary.json` path and whose bound's unit fits the metric.

use super::expr::{self, Expr, ExprError, Unit};
use super::metrics::{self, Kind, UnknownMetric};

/// A parsed gate with its metric resolved to a summary path.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// The expression.
    pub expr: Expr,
    /// Where the metric lives in `summary.json`.
    pub path: String,
    /// What kind of number it is.
    pub kind: Kind,
}

/// Why a gate is not usable; each names the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// The expression does not parse.
    #[error(transparent)]
    Expr(#[from] ExprError),
    /// The metric is unknown.
    #[error("`{text}`: {source}")]
    Metric {
        /// The expression.
        text: String,
        /// Which name, and the valid ones.
        #[source]
        source: UnknownMetric,
    },
    /// The bound's unit does not fit the metric (`p99 < 99%`).
    #[error("`{text}`: `{metric}` is {}, so the bound needs {}", kind_name(*kind), kind_unit(*kind))]
    UnitMismatch {
        /// The expression.
        text: String,
        /// The metric as written.
        metric: String,
        /// What kind of number it is.
        kind: Kind,
    },
    /// A duration bound without a unit (`p99 < 200`): not guessed.
    #[error("`{text}`: `{metric}` is a duration; write the bound with a unit, e.g. {bound}ms")]
    NoUnit {
        /// The expression.
        text: String,
        /// The metric as written.
        metric: String,
        /// The bound as written.
        bound: f64,
    },
}

/// Parse and check every expression; the error names the failing one.
pub fn parse_all(exprs: &[String]) -> Result<Vec<Gate>, GateError> {
    exprs.iter().map(|e| parse_one(e)).collect()
}

/// Parse and check one expression.
pub fn parse_one(text: &str) -> Result<Gate, GateError> {
    let expr = expr::parse(text)?;
    let (path, kind) = metrics::resolve(&expr.metric).map_err(|source| GateError::Metric {
        text: text.to_string(),
        source,
    })?;
    match (kind, expr.unit) {
        (Kind::Millis, Unit::Fraction)
        | (Kind::Fraction, Unit::Millis)
        | (Kind::Number, Unit::Millis) => {
            return Err(GateError::UnitMismatch {
                text: text.to_string(),
                metric: expr.metric,
                kind,
            })
        }
        (Kind::Millis, Unit::None) if expr.bound != 0.0 => {
            return Err(GateError::NoUnit {
                text: text.to_string(),
                metric: expr.metric,
                bound: expr.bound,
            })
        }
        _ => {}
    }
    Ok(Gate { expr, path, kind })
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Millis => "a duration",
        Kind::Fraction => "a rate",
        Kind::Number => "a plain number",
    }
}

fn kind_unit(k: Kind) -> &'static str {
    match k {
        Kind::Millis => "a time unit (ms, s)",
        Kind::Fraction => "a percentage (99%) or a fraction (0.99)",
        Kind::Number => "no unit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_mismatch_is_an_error() {
        assert!(parse_one("p99 < 99%")
            .unwrap_err()
            .to_string()
            .contains("needs a time unit"));
        assert!(parse_one("success_rate > 2s")
            .unwrap_err()
            .to_string()
            .contains("percentage"));
        assert!(parse_one("p99 < 200")
            .unwrap_err()
            .to_string()
            .contains("with a unit"));
        assert!(parse_one("retries < 2s")
            .unwrap_err()
            .to_string()
            .contains("no unit"));
    }
}
