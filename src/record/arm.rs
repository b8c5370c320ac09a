//! Everything recorded for one arm (resilient or raw): whole-run histograms,
//! counters, breaker facts and the per-second rows.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::breaker::{BreakerState, EndpointBreaker};
use super::hist::{attempts_histogram, Histograms};
use super::priority::{priority_index, PriorityData};
use crate::outcome::{Arm, EventRecord, Outcome, OutcomeClass};

/// Number of outcome classes (length of the per-class counter arrays).
pub const CLASSES: usize = OutcomeClass::ALL.len();

/// Index of a class in [`OutcomeClass::ALL`] and in the counter arrays.
pub fn class_index(c: OutcomeClass) -> usize {
    // `ALL` lists the variants in declaration order (checked by a test).
    c as usize
}

/// One per-second row of the time series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntervalRow {
    /// Requests whose actual send fell in this second.
    pub sent: u64,
    /// Requests completed in this second, per class ([`OutcomeClass::ALL`] order).
    pub outcomes: [u64; CLASSES],
    /// Median corrected latency of the requests completed in this second (µs).
    pub p50_us: u64,
    /// 99th percentile corrected latency of this second (µs).
    pub p99_us: u64,
    /// Highest in-flight gauge sampled during the second.
    pub in_flight: u64,
    /// Worst breaker state per endpoint during the second, in the order of
    /// [`ArmData::breakers`] (missing entries: closed).
    pub breaker: Vec<BreakerState>,
}

impl IntervalRow {
    /// Completions in this second, all classes.
    pub fn completed(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// Count for one class.
    pub fn count(&self, c: OutcomeClass) -> u64 {
        self.outcomes[class_index(c)]
    }
}

/// Whole-run data of one arm.
#[derive(Debug, Clone)]
pub struct ArmData {
    /// Which client.
    pub arm: Arm,
    /// The name charts show it under (`arm.as_str()`, or `direct` for a
    /// `load.via: direct` run, which had no client).
    pub label: &'static str,
    /// Whole-run latency histograms (µs).
    pub hist: Histograms,
    /// Attempts per logical request.
    pub attempts_hist: Histogram<u64>,
    /// Logical requests completed.
    pub requests: u64,
    /// Outcomes per class ([`OutcomeClass::ALL`] order).
    pub outcomes: [u64; CLASSES],
    /// Status of every attempt (0 = no status).
    pub statuses: BTreeMap<u16, u64>,
    /// Attempts over all requests.
    pub attempts: u64,
    /// Attempts beyond the first, over all requests.
    pub retries: u64,
    /// Content tokens received.
    pub tokens: u64,
    /// Client events by kind (`retry`, `ejected`, `shed`, `breaker`, ...).
    pub events: BTreeMap<String, u64>,
    /// Breaker facts per endpoint, in order of first appearance.
    pub breakers: Vec<EndpointBreaker>,
    /// One row per interval (second), index = second since t0.
    pub rows: Vec<IntervalRow>,
    /// Highest in-flight gauge sampled over the run.
    pub max_in_flight: u64,
    /// Per priority class, in [`resilient_client::Priority::ALL`] order.
    pub priorities: [PriorityData; 3],
    pub(crate) in_flight_now: u64,
    /// The first few notes of outcomes that carried one (an external
    /// system's protocol errors), as `class: note`.
    pub notes: Vec<String>,
}

/// Notes kept per arm.
pub const MAX_NOTES: usize = 5;

impl ArmData {
    pub(crate) fn new(arm: Arm) -> Self {
        Self {
            arm,
            label: arm.as_str(),
            hist: Histograms::default(),
            attempts_hist: attempts_histogram(),
            requests: 0,
            outcomes: [0; CLASSES],
            statuses: BTreeMap::new(),
            attempts: 0,
            retries: 0,
            tokens: 0,
            events: BTreeMap::new(),
            breakers: Vec::new(),
            rows: vec![IntervalRow::default()],
            max_in_flight: 0,
            priorities: Default::default(),
            in_flight_now: 0,
            notes: Vec::new(),
        }
    }

    /// Count for one class over the run.
    pub fn count(&self, c: OutcomeClass) -> u64 {
        self.outcomes[class_index(c)]
    }

    /// Successful (ok + fallback) requests.
    pub fn successes(&self) -> u64 {
        OutcomeClass::ALL
            .iter()
            .filter(|c| c.is_success())
            .map(|c| self.count(*c))
            .sum()
    }

    /// Events of one kind.
    pub fn event_count(&self, kind: &str) -> u64 {
        self.events.get(kind).copied().unwrap_or(0)
    }

    /// Folds the counters of one outcome (histograms are handled by the
    /// recorder's interval set). `sent_row` is the row of the send instant.
    pub(crate) fn count_outcome(&mut self, o: &Outcome, sent_row: usize) {
        let ci = class_index(o.class);
        if let (Some(note), true) = (&o.note, self.notes.len() < MAX_NOTES) {
            self.notes.push(format!("{}: {note}", o.class.as_str()));
        }
        self.requests += 1;
        self.outcomes[ci] += 1;
        self.priorities[priority_index(o.priority)].count(o);
        for s in &o.statuses {
            *self.statuses.entry(*s).or_insert(0) += 1;
        }
        let attempts = u64::from(o.attempts);
        self.attempts += attempts;
        self.retries += attempts.saturating_sub(1);
        self.tokens += u64::from(o.tokens);
        self.attempts_hist.saturating_record(attempts);
        let last = self.rows.len() - 1;
        if let Some(row) = self.rows.get_mut(sent_row.min(last)) {
            row.sent += 1;
        }
        if let Some(row) = self.rows.last_mut() {
            row.outcomes[ci] += 1;
        }
    }

    pub(crate) fn count_event(&mut self, e: &EventRecord) {
        *self.events.entry(e.kind.to_string()).or_insert(0) += 1;
        if e.kind != "breaker" {
            return;
        }
        let (Some(endpoint), Some(state)) = (e.endpoint.as_deref(), e.state) else {
            return;
        };
        let Some(state) = BreakerState::parse(state) else {
            return;
        };
        let idx = self.breaker_index(endpoint);
        self.breakers[idx].transition(e.at, state);
    }

    /// Index of an endpoint's breaker, adding a closed one if new.
    pub(crate) fn breaker_index(&mut self, endpoint: &str) -> usize {
        if let Some(i) = self.breakers.iter().position(|b| b.endpoint == endpoint) {
            return i;
        }
        self.breakers
            .push(EndpointBreaker::new(endpoint.to_string()));
        self.breakers.len() - 1
    }

    pub(crate) fn set_in_flight(&mut self, n: u64) {
        self.in_flight_now = n;
        self.max_in_flight = self.max_in_flight.max(n);
        if let Some(row) = self.rows.last_mut() {
            row.in_flight = row.in_flight.max(n);
        }
    }

    /// Finishes the current row with its percentiles and opens the next one.
    pub(crate) fn close_row(&mut self, interval: &Histograms, open_next: bool) {
        let breaker: Vec<BreakerState> = self
            .breakers
            .iter_mut()
            .map(|b| b.take_interval_worst())
            .collect();
        if let Some(row) = self.rows.last_mut() {
            row.p50_us = interval.corrected.value_at_quantile(0.5);
            row.p99_us = interval.corrected.value_at_quantile(0.99);
            row.breaker = breaker;
        }
        if open_next {
            let in_flight = self.in_flight_now;
            self.rows.push(IntervalRow {
                in_flight,
                ..IntervalRow::default()
            });
        }
    }

    /// Accounts open/half-open time up to the run's end.
    pub(crate) fn finish(&mut self, end: Duration) {
        for b in &mut self.breakers {
            b.close_span(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_index_matches_all_order() {
        for (i, c) in OutcomeClass::ALL.iter().enumerate() {
            assert_eq!(class_index(*c), i);
        }
    }
}
