//! The ten verdicts as one table: name, severity, what a count counts,
//! where they apply, and the definition with the thresholds in force.
//! Adding a verdict touches its row here, its check and its tests.

use serde::Serialize;

use super::config::VerdictConfig;

/// How bad a fired verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The client misbehaves; `harness judge` exits non-zero.
    Fail,
    /// Probably wrong, worth a look.
    Warn,
    /// Information.
    Info,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fail => "fail",
            Severity::Warn => "warn",
            Severity::Info => "info",
        }
    }
}

/// One verdict kind; the order is the order of `docs/journal.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Another attempt after a 400/401/402/422.
    RetriedNonRetryable,
    /// A retry earlier than the Retry-After sent.
    IgnoredRetryAfter,
    /// An immediate retry after a retryable failure without Retry-After.
    NoBackoff,
    /// Retry delays without jitter.
    SynchronizedRetries,
    /// Too many attempts per call, or too many retries per first attempt.
    RetryStorm,
    /// A stalled attempt held past the bound.
    NoTimeoutOnStall,
    /// A retry back to the failing node while another node succeeded.
    NoFailover,
    /// Traffic kept flowing to a failing node.
    KeptSendingToFailingNode,
    /// A call ended on a retryable failure.
    GaveUpOnRetryable,
    /// A hang-up during a queue wait, then the call sent again.
    AbandonedQueueWait,
}

/// Number of verdict kinds.
pub const KINDS: usize = 10;

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; KINDS] = [
        Kind::RetriedNonRetryable,
        Kind::IgnoredRetryAfter,
        Kind::NoBackoff,
        Kind::SynchronizedRetries,
        Kind::RetryStorm,
        Kind::NoTimeoutOnStall,
        Kind::NoFailover,
        Kind::KeptSendingToFailingNode,
        Kind::GaveUpOnRetryable,
        Kind::AbandonedQueueWait,
    ];

    /// Position in [`Kind::ALL`] (the declaration order).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in reports, flags and JUnit.
    pub fn name(self) -> &'static str {
        match self {
            Kind::RetriedNonRetryable => "retried_non_retryable",
            Kind::IgnoredRetryAfter => "ignored_retry_after",
            Kind::NoBackoff => "no_backoff",
            Kind::SynchronizedRetries => "synchronized_retries",
            Kind::RetryStorm => "retry_storm",
            Kind::NoTimeoutOnStall => "no_timeout_on_stall",
            Kind::NoFailover => "no_failover",
            Kind::KeptSendingToFailingNode => "kept_sending_to_failing_node",
            Kind::GaveUpOnRetryable => "gave_up_on_retryable",
            Kind::AbandonedQueueWait => "abandoned_queue_wait",
        }
    }

    /// Its severity.
    pub fn severity(self) -> Severity {
        match self {
            Kind::SynchronizedRetries | Kind::NoFailover | Kind::KeptSendingToFailingNode => {
                Severity::Warn
            }
            Kind::GaveUpOnRetryable | Kind::AbandonedQueueWait => Severity::Info,
            _ => Severity::Fail,
        }
    }

    /// What `count` counts.
    pub fn unit(self) -> &'static str {
        match self {
            Kind::SynchronizedRetries => "retries",
            Kind::RetryStorm => "calls + windows",
            Kind::KeptSendingToFailingNode => "failing spans",
            _ => "calls",
        }
    }

    /// Verdicts about failover only apply with two nodes or more.
    pub fn needs_nodes(self) -> u32 {
        match self {
            Kind::NoFailover | Kind::KeptSendingToFailingNode => 2,
            _ => 1,
        }
    }

    /// One line saying when it fires, with the thresholds in force.
    pub fn definition(self, c: &VerdictConfig) -> String {
        let d = |h: mock_server::config::HumanDuration| humantime::format_duration(h.get());
        let pct = |p: f64| format!("{}%", (p * 1000.0).round() / 10.0);
        match self {
            Kind::RetriedNonRetryable => {
                "a call sent another attempt after a non-retryable answer (400, 401, 402, 422)".into()
            }
            Kind::IgnoredRetryAfter => format!(
                "a retry came earlier than the Retry-After the server sent, minus {}",
                d(c.ignored_retry_after.tolerance)
            ),
            Kind::NoBackoff => format!(
                "a retry came to the same node less than {} after a retryable failure without Retry-After",
                d(c.no_backoff.bound)
            ),
            Kind::SynchronizedRetries => format!(
                "for one attempt number, the delays of >= {} calls failing in one {} slot (or of all calls) had a coefficient of variation below {}",
                c.synchronized_retries.min_calls,
                d(c.synchronized_retries.slot),
                c.synchronized_retries.max_cv
            ),
            Kind::RetryStorm => format!(
                "a call made more than {} attempts, or retries exceeded {} of first attempts in a {} window with >= {} first attempts",
                c.retry_storm.max_attempts,
                pct(c.retry_storm.share.get()),
                d(c.retry_storm.window),
                c.retry_storm.min_first_attempts
            ),
            Kind::NoTimeoutOnStall => format!(
                "an attempt on which the server sent nothing stayed open longer than {}",
                d(c.no_timeout_on_stall.bound)
            ),
            Kind::NoFailover => format!(
                "a retry went back to the node that failed while another node answered a success within +-{}",
                d(c.no_failover.window)
            ),
            Kind::KeptSendingToFailingNode => format!(
                "a node failed >= {} of its attempts for >= {} and kept >= {} of its first-second share of traffic",
                pct(c.kept_sending_to_failing_node.ratio.get()),
                d(c.kept_sending_to_failing_node.span),
                pct(c.kept_sending_to_failing_node.keep.get())
            ),
            Kind::GaveUpOnRetryable => {
                "a call's last attempt was a retryable failure and nothing followed".into()
            }
            Kind::AbandonedQueueWait => {
                "the client hung up during a queue wait and sent the call again".into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_declaration_order_with_unique_names() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS);
    }
}
