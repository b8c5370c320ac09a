//! Gates: expressions over `summary.json` metrics, evaluated after a run or on
//! saved reports, optionally against a committed baseline with a tolerance.
//! With several summaries (repeats), each metric is the median across them,
//! so one noisy run neither fails nor passes a gate alone.

mod evaluate;
pub mod expr;
pub mod files;
pub mod metrics;
mod output;
mod parse;

pub use evaluate::{compare_baseline, evaluate, fmt_num, value_of, GateReport, GateResult};
pub use expr::{Expr, ExprError, Op, Unit};
pub use metrics::{Kind, UnknownMetric};
pub use output::{junit_xml, table};
pub use parse::{parse_all, parse_one, Gate, GateError};
