//! The tuning chart: p99 against success rate, one point per setting, the
//! chosen one marked.

use std::path::Path;

use super::Row;

/// Write `tune.svg` (and `tune.png` when a font is available).
pub fn tune_chart(_dir: &Path, _rows: &[Row], _chosen: Option<usize>) -> Result<(), String> {
    Err("not yet".into())
}
