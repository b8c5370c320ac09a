//! The thresholds of a validated [`VerdictConfig`] as plain seconds and
//! fractions, computed once so the per-record path does no conversions.

use super::config::VerdictConfig;

#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub call_idle: f64,
    pub retry_after_tolerance: f64,
    pub no_backoff: f64,
    pub sync_min_calls: u64,
    pub sync_max_cv: f64,
    pub sync_slot: f64,
    pub sync_include_retry_after: bool,
    pub storm_max_attempts: usize,
    pub storm_share: f64,
    pub storm_window_s: u32,
    pub storm_min_first: u64,
    pub stall: f64,
    pub failover_window: f64,
    pub failing_ratio: f64,
    pub failing_span_s: u32,
    pub failing_keep: f64,
}

impl Limits {
    pub(crate) fn new(c: &VerdictConfig) -> Limits {
        let s = |d: mock_server::config::HumanDuration| d.get().as_secs_f64();
        Limits {
            call_idle: s(c.call_idle),
            retry_after_tolerance: s(c.ignored_retry_after.tolerance),
            no_backoff: s(c.no_backoff.bound),
            sync_min_calls: u64::from(c.synchronized_retries.min_calls),
            sync_max_cv: c.synchronized_retries.max_cv,
            sync_slot: s(c.synchronized_retries.slot),
            sync_include_retry_after: c.synchronized_retries.include_retry_after,
            storm_max_attempts: c.retry_storm.max_attempts as usize,
            storm_share: c.retry_storm.share.get(),
            storm_window_s: c.storm_window_s(),
            storm_min_first: u64::from(c.retry_storm.min_first_attempts),
            stall: s(c.no_timeout_on_stall.bound),
            failover_window: s(c.no_failover.window),
            failing_ratio: c.kept_sending_to_failing_node.ratio.get(),
            failing_span_s: c.failing_span_s(),
            failing_keep: c.kept_sending_to_failing_node.keep.get(),
        }
    }
}
