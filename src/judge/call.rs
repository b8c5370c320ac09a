//! Judging one finished call from its own attempts, sorted by arrival: the
//! verdicts about consecutive attempts (a retry after a 400, too soon after
//! Retry-After, without backoff, back to the failing node, after leaving a
//! queue), too many attempts, a stall held open, giving up. The only outside
//! fact needed is whether another node succeeded near a retry.

use super::attempt::{Att, Class};
use super::limits::Limits;
use super::verdicts::{Kind, KINDS};

/// What the judge knows about other nodes.
pub(crate) trait OtherNodes {
    /// Did a node other than `node` answer a success within `window` of `t`?
    fn success_near(&self, node: u32, t: f64, window: f64) -> bool;
}

/// One retry, for the synchronized-retries groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Retry {
    /// 2 for the first retry.
    pub attempt_no: u32,
    /// Failure instant (`end_at`) of the attempt it retries.
    pub failed_at: f64,
    /// Seconds from the failure to the retry, clamped at 0.
    pub delay: f64,
    /// The failed attempt carried a Retry-After.
    pub told: bool,
}

/// The verdicts one call fired, and its retries.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub fired: [bool; KINDS],
    pub retries: Vec<Retry>,
}

impl Findings {
    fn fire(&mut self, k: Kind) {
        self.fired[k.index()] = true;
    }
}

/// Judges a call; `atts` is sorted by arrival and not empty.
pub(crate) fn judge_call(atts: &[Att], l: &Limits, others: &impl OtherNodes) -> Findings {
    let mut f = Findings::default();
    if atts.len() > l.storm_max_attempts {
        f.fire(Kind::RetryStorm);
    }
    for a in atts {
        if a.stalled_for.is_some_and(|s| s > l.stall) {
            f.fire(Kind::NoTimeoutOnStall);
        }
    }
    for (i, pair) in atts.windows(2).enumerate() {
        let (prev, next) = (&pair[0], &pair[1]);
        let delay = next.delay_after(prev);
        if prev.class == Class::NonRetryable {
            f.fire(Kind::RetriedNonRetryable);
        }
        if let Some(wait) = prev.retry_after {
            if prev.class != Class::Success && delay < wait - l.retry_after_tolerance {
                f.fire(Kind::IgnoredRetryAfter);
            }
        }
        // A retry on another node at once is failover, not hammering: the
        // node that failed gets its pause either way.
        if prev.class == Class::Retryable
            && prev.retry_after.is_none()
            && next.node == prev.node
            && delay < l.no_backoff
        {
            f.fire(Kind::NoBackoff);
        }
        if prev.class.node_failed()
            && next.node == prev.node
            && others.success_near(prev.node, next.at, l.failover_window)
        {
            f.fire(Kind::NoFailover);
        }
        if prev.left_queue {
            f.fire(Kind::AbandonedQueueWait);
        }
        if prev.class != Class::Success {
            f.retries.push(Retry {
                attempt_no: i as u32 + 2,
                failed_at: prev.end_at,
                delay,
                told: prev.retry_after.is_some(),
            });
        }
    }
    if atts.last().is_some_and(|a| a.class == Class::Retryable) {
        f.fire(Kind::GaveUpOnRetryable);
    }
    f
}
