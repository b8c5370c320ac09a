//! The HDR histograms kept per arm: one set for the whole run and one set per
//! interval (reset every second). Values are microseconds, 3 significant
//! digits, bounded at one hour so memory is fixed however long the run.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::outcome::Outcome;

/// Highest recordable latency in microseconds (1 hour); larger values are
/// clamped so a stuck request cannot make recording fail.
pub const MAX_MICROS: u64 = 3_600_000_000;

/// Highest recordable attempts-per-request count.
pub const MAX_ATTEMPTS: u64 = 10_000;

/// A latency histogram: microseconds, 1 µs to 1 h, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    // Static bounds: construction cannot fail.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static histogram bounds are valid")
}

/// A histogram of attempts per logical request (exact for small counts).
pub fn attempts_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_ATTEMPTS, 3).expect("static histogram bounds are valid")
}

/// Records `d` as microseconds, clamped to the histogram's range.
pub fn record_duration(h: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    h.saturating_record(us.min(MAX_MICROS));
}

/// Which latency-like metric a histogram holds; names the hlog tag suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `done - intended` (coordinated-omission corrected).
    Corrected,
    /// `done - sent`.
    Uncorrected,
    /// Time to first token (streams).
    Ttft,
    /// Inter-token latency, one value per gap (streams).
    Itl,
    /// Time waiting in the client's queue / limiter.
    QueueWait,
}

impl Metric {
    /// Every metric, in hlog order.
    pub const ALL: [Metric; 5] = [
        Metric::Corrected,
        Metric::Uncorrected,
        Metric::Ttft,
        Metric::Itl,
        Metric::QueueWait,
    ];

    /// Tag suffix in `latency.hlog` (`<arm>.<suffix>`).
    pub fn tag_suffix(self) -> &'static str {
        match self {
            Metric::Corrected => "latency",
            Metric::Uncorrected => "latency_uncorrected",
            Metric::Ttft => "ttft",
            Metric::Itl => "itl",
            Metric::QueueWait => "queue_wait",
        }
    }
}

/// One set of latency histograms (whole run or one interval).
#[derive(Debug, Clone)]
pub struct Histograms {
    /// Latency from the intended send instant.
    pub corrected: Histogram<u64>,
    /// Latency from the actual send.
    pub uncorrected: Histogram<u64>,
    /// Time to first token.
    pub ttft: Histogram<u64>,
    /// Inter-token gaps.
    pub itl: Histogram<u64>,
    /// Queue / limiter wait.
    pub queue_wait: Histogram<u64>,
}

impl Default for Histograms {
    fn default() -> Self {
        Self {
            corrected: latency_histogram(),
            uncorrected: latency_histogram(),
            ttft: latency_histogram(),
            itl: latency_histogram(),
            queue_wait: latency_histogram(),
        }
    }
}

impl Histograms {
    /// Folds one outcome in.
    pub fn record(&mut self, o: &Outcome) {
        record_duration(&mut self.corrected, o.corrected_latency());
        record_duration(&mut self.uncorrected, o.uncorrected_latency());
        record_duration(&mut self.queue_wait, o.queue_wait);
        if let Some(t) = o.ttft {
            record_duration(&mut self.ttft, t);
        }
        for gap in &o.itl {
            record_duration(&mut self.itl, *gap);
        }
    }

    /// The histogram of one metric.
    pub fn get(&self, m: Metric) -> &Histogram<u64> {
        match m {
            Metric::Corrected => &self.corrected,
            Metric::Uncorrected => &self.uncorrected,
            Metric::Ttft => &self.ttft,
            Metric::Itl => &self.itl,
            Metric::QueueWait => &self.queue_wait,
        }
    }

    fn get_mut(&mut self, m: Metric) -> &mut Histogram<u64> {
        match m {
            Metric::Corrected => &mut self.corrected,
            Metric::Uncorrected => &mut self.uncorrected,
            Metric::Ttft => &mut self.ttft,
            Metric::Itl => &mut self.itl,
            Metric::QueueWait => &mut self.queue_wait,
        }
    }

    /// Adds every histogram of `other` into `self` (same bounds, cannot fail).
    pub fn add(&mut self, other: &Histograms) {
        for m in Metric::ALL {
            // Same bounds on both sides, so `add` never needs to resize.
            let _ = self.get_mut(m).add(other.get(m));
        }
    }

    /// Clears every histogram, keeping its allocation.
    pub fn reset(&mut self) {
        for m in Metric::ALL {
            self.get_mut(m).reset();
        }
    }
}
