//! Per-priority-class counters of one arm (`load.requests[].priority`):
//! requests, successes, fallbacks, sheds and a corrected-latency histogram
//! per class. Three classes, so memory stays bounded like the rest.

use hdrhistogram::Histogram;
use resilient_client::Priority;

use super::hist::{latency_histogram, record_duration};
use crate::outcome::{Outcome, OutcomeClass};

/// One class's whole-run numbers.
#[derive(Debug, Clone)]
pub struct PriorityData {
    /// Logical requests completed.
    pub requests: u64,
    /// Ok or fallback.
    pub successes: u64,
    /// Answered by a fallback (cached, static or another model).
    pub fallbacks: u64,
    /// Shed by the client (bulkhead or the class's share).
    pub sheds: u64,
    /// Corrected latency (µs).
    pub corrected: Histogram<u64>,
}

impl Default for PriorityData {
    fn default() -> Self {
        PriorityData {
            requests: 0,
            successes: 0,
            fallbacks: 0,
            sheds: 0,
            corrected: latency_histogram(),
        }
    }
}

/// Index of a class in [`Priority::ALL`] order.
pub fn priority_index(p: Priority) -> usize {
    Priority::ALL.iter().position(|q| *q == p).unwrap_or(1)
}

impl PriorityData {
    pub(crate) fn count(&mut self, o: &Outcome) {
        self.requests += 1;
        self.successes += u64::from(o.class.is_success());
        self.fallbacks += u64::from(o.class == OutcomeClass::Fallback);
        self.sheds += u64::from(o.class == OutcomeClass::Shed);
        record_duration(&mut self.corrected, o.corrected_latency());
    }
}
