//! Gate expressions: `<metric> <op> <value>[unit]`, e.g. `p99 < 2s`,
//! `success_rate >= 99.5%`, `breaker_opens >= 1`. Parsed once, with errors
//! that say what was expected.

use std::fmt;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// Whether `lhs op rhs` holds.
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            Op::Lt => lhs < rhs,
            Op::Le => lhs <= rhs,
            Op::Gt => lhs > rhs,
            Op::Ge => lhs >= rhs,
            Op::Eq => (lhs - rhs).abs() <= f64::EPSILON * lhs.abs().max(rhs.abs()).max(1.0),
            Op::Ne => !Op::Eq.holds(lhs, rhs),
        }
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// The unit a bound was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A bare number.
    None,
    /// A duration, normalised to milliseconds.
    Millis,
    /// A percentage, normalised to a fraction (99% -> 0.99).
    Fraction,
}

/// One parsed gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The metric name as written (`p99`, `raw.ttft.p99`, ...).
    pub metric: String,
    /// The comparison.
    pub op: Op,
    /// The bound, normalised (ms for durations, fraction for percentages).
    pub bound: f64,
    /// How the bound was written.
    pub unit: Unit,
    /// The original text.
    pub text: String,
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a gate expression did not parse; each names the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    /// No operator at all.
    #[error("`{0}`: no comparison; write e.g. `p99 < 2s` or `success_rate >= 99%`")]
    NoComparison(String),
    /// The left side is not a metric name.
    #[error("`{text}`: `{metric}` is not a metric name")]
    NotAMetric {
        /// The expression.
        text: String,
        /// What stood where the metric should.
        metric: String,
    },
    /// An operator that is not one of the six.
    #[error("`{0}`: unknown operator; use <, <=, >, >=, == or !=")]
    UnknownOperator(String),
    /// The bound is not a number with a known unit.
    #[error("`{text}`: {problem}")]
    Value {
        /// The expression.
        text: String,
        /// What is wrong with the bound.
        problem: ValueError,
    },
}

/// What is wrong with a gate's bound.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Nothing after the operator.
    #[error("missing the value after the operator")]
    Missing,
    /// Not a number.
    #[error("`{0}` is not a number with an optional unit (ms, s, m, us, %)")]
    NotANumber(String),
    /// Infinite or NaN.
    #[error("`{0}` is not a finite number")]
    NotFinite(String),
    /// A unit other than us, ms, s, m, %.
    #[error("unknown unit `{0}`; use us, ms, s, m or %")]
    UnknownUnit(String),
}

/// Parse `metric op value[unit]`.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let t = text.trim();
    let at = t
        .find(['<', '>', '=', '!'])
        .ok_or_else(|| ExprError::NoComparison(t.to_string()))?;
    let (metric, rest) = t.split_at(at);
    let metric = metric.trim();
    if metric.is_empty()
        || !metric
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(ExprError::NotAMetric {
            text: t.to_string(),
            metric: metric.to_string(),
        });
    }
    let (op, value) = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ]
    .iter()
    .find_map(|(s, op)| rest.strip_prefix(s).map(|v| (*op, v.trim())))
    .ok_or_else(|| ExprError::UnknownOperator(t.to_string()))?;
    let (bound, unit) = parse_value(value).map_err(|problem| ExprError::Value {
        text: t.to_string(),
        problem,
    })?;
    Ok(Expr {
        metric: metric.to_string(),
        op,
        bound,
        unit,
        text: t.to_string(),
    })
}

fn parse_value(v: &str) -> Result<(f64, Unit), ValueError> {
    if v.is_empty() {
        return Err(ValueError::Missing);
    }
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| ValueError::NotANumber(v.to_string()))?;
    if !n.is_finite() {
        return Err(ValueError::NotFinite(v.to_string()));
    }
    Ok(match unit.trim() {
        "" => (n, Unit::None),
        "%" => (n / 100.0, Unit::Fraction),
        "us" | "µs" => (n / 1000.0, Unit::Millis),
        "ms" => (n, Unit::Millis),
        "s" => (n * 1000.0, Unit::Millis),
        "m" | "min" => (n * 60_000.0, Unit::Millis),
        other => return Err(ValueError::UnknownUnit(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_operator_and_unit() {
        let e = parse("p99 < 2s").unwrap();
        assert_eq!(
            (e.metric.as_str(), e.op, e.bound, e.unit),
            ("p99", Op::Lt, 2000.0, Unit::Millis)
        );
        assert_eq!(parse("ttft.p99 <= 800ms").unwrap().bound, 800.0);
        assert_eq!(parse("x <= 250us").unwrap().bound, 0.25);
        assert_eq!(parse("x < 1m").unwrap().bound, 60_000.0);
        let e = parse("success_rate >= 99.5%").unwrap();
        assert_eq!((e.op, e.unit), (Op::Ge, Unit::Fraction));
        assert!((e.bound - 0.995).abs() < 1e-12);
        assert_eq!(parse("breaker_opens>=1").unwrap().op, Op::Ge);
        assert_eq!(parse("retry_amplification > 1.3").unwrap().op, Op::Gt);
        assert_eq!(parse("outcomes.shed == 0").unwrap().op, Op::Eq);
        assert_eq!(parse("outcomes.shed != 0").unwrap().op, Op::Ne);
    }

    #[test]
    fn operators_hold() {
        assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0));
        assert!(Op::Le.holds(2.0, 2.0) && Op::Ge.holds(2.0, 2.0));
        assert!(Op::Gt.holds(3.0, 2.0) && !Op::Gt.holds(2.0, 2.0));
        assert!(Op::Eq.holds(0.1 + 0.2, 0.3) && Op::Ne.holds(1.0, 2.0));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(parse("p99 2s")
            .unwrap_err()
            .to_string()
            .contains("no comparison"));
        assert!(parse("p99 < 2h")
            .unwrap_err()
            .to_string()
            .contains("unknown unit `h`"));
        assert!(parse("p99 < fast")
            .unwrap_err()
            .to_string()
            .contains("not a number"));
        assert!(parse("< 2s")
            .unwrap_err()
            .to_string()
            .contains("not a metric"));
        assert!(parse("p99 =< 2s")
            .unwrap_err()
            .to_string()
            .contains("unknown operator"));
        assert!(parse("p99 <")
            .unwrap_err()
            .to_string()
            .contains("missing the value"));
    }
}
