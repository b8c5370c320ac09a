//! The recorder: folds outcomes and client events into HDR histograms,
//! counters and per-second rows, streaming events to `events.jsonl` and
//! interval histograms to `latency.hlog`. Nothing is kept per request, so
//! memory is O(run seconds) however high the rate.
//!
//! It is a plain synchronous struct meant to be owned by one task.

mod arm;
mod breaker;
mod error;
mod hist;
mod hlog;
mod live;
mod priority;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

pub use arm::{class_index, ArmData, IntervalRow, CLASSES};
pub use breaker::{BreakerState, EndpointBreaker, Transition, MAX_TRANSITIONS};
pub use error::RecordError;
pub use hist::{latency_histogram, Histograms, Metric, MAX_MICROS};
pub use live::{LiveArm, LiveStats};
pub use priority::{priority_index, PriorityData};

use crate::outcome::{Arm, EventRecord, Outcome};
use hlog::HlogWriter;

/// Outcomes further than this many intervals ahead of the current one are
/// folded into the current interval instead of opening thousands of rows
/// (guards memory against a bogus timestamp).
const MAX_SKIP_INTERVALS: usize = 3600;

/// Tag of the shared send-lag histogram in `latency.hlog`.
pub const SEND_LAG_TAG: &str = "send_lag";

/// What the recorder needs to start.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// Arms to expect, in report order (others are added when first seen).
    pub arms: Vec<Arm>,
    /// Where `events.jsonl` is streamed.
    pub events_path: PathBuf,
    /// Where the interval log is streamed.
    pub hlog_path: PathBuf,
    /// Interval length (1 s).
    pub interval: Duration,
}

struct Slot {
    data: ArmData,
    interval: Histograms,
}

/// The recorder. See the module doc.
pub struct Recorder {
    slots: Vec<Slot>,
    send_lag: Histogram<u64>,
    send_lag_interval: Histogram<u64>,
    interval: Duration,
    cur: usize,
    now: Duration,
    hlog: Option<HlogWriter>,
    events: Option<BufWriter<File>>,
    error: Option<RecordError>,
    events_total: u64,
    server_events: BTreeMap<String, u64>,
    events_path: PathBuf,
    hlog_path: PathBuf,
    started_at: SystemTime,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("interval", &self.interval)
            .field("cur", &self.cur)
            .field("events_total", &self.events_total)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Creates both output files; t0 is taken as now (wall clock) for the
    /// interval log's StartTime/BaseTime.
    pub fn new(config: RecorderConfig) -> Result<Self, RecordError> {
        if config.interval.is_zero() {
            return Err(RecordError::ZeroInterval);
        }
        let started_at = SystemTime::now();
        let hlog = HlogWriter::create(&config.hlog_path, started_at)?;
        let events = File::create(&config.events_path)
            .map_err(|e| RecordError::io(&config.events_path, e))?;
        let mut slots: Vec<Slot> = Vec::new();
        for arm in config.arms {
            if !slots.iter().any(|s| s.data.arm == arm) {
                slots.push(Slot::new(arm));
            }
        }
        Ok(Self {
            slots,
            send_lag: latency_histogram(),
            send_lag_interval: latency_histogram(),
            interval: config.interval,
            cur: 0,
            now: Duration::ZERO,
            hlog: Some(hlog),
            events: Some(BufWriter::new(events)),
            error: None,
            events_total: 0,
            server_events: BTreeMap::new(),
            events_path: config.events_path,
            hlog_path: config.hlog_path,
            started_at,
        })
    }

    /// Wall-clock instant taken as t0 by the interval log.
    pub fn started_at(&self) -> SystemTime {
        self.started_at
    }

    fn index_of(&self, d: Duration) -> usize {
        let i = d.as_nanos() / self.interval.as_nanos();
        usize::try_from(i).unwrap_or(usize::MAX)
    }

    /// Start of interval `idx` (saturating: never panics on overflow).
    fn start_of(&self, idx: usize) -> Duration {
        u32::try_from(idx)
            .ok()
            .and_then(|i| self.interval.checked_mul(i))
            .unwrap_or(Duration::MAX)
    }

    fn slot(&mut self, arm: Arm) -> &mut Slot {
        let i = match self.slots.iter().position(|s| s.data.arm == arm) {
            Some(i) => i,
            None => {
                // Not announced in the config: add it with rows aligned to
                // the others so the time series stays rectangular.
                let mut slot = Slot::new(arm);
                slot.data.rows = vec![IntervalRow::default(); self.cur + 1];
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        &mut self.slots[i]
    }

    /// Folds one outcome into the histograms, counters and current interval.
    pub fn record(&mut self, o: &Outcome) {
        self.advance_to(o.done);
        hist::record_duration(&mut self.send_lag_interval, o.send_lag());
        let sent_row = self.index_of(o.sent);
        let slot = self.slot(o.arm);
        slot.interval.record(o);
        slot.data.count_outcome(o, sent_row);
    }

    /// Closes the intervals before the one holding `at`, so data stamped
    /// `at` lands in its own second even if the caller's tick is late.
    fn advance_to(&mut self, at: Duration) {
        let idx = self.index_of(at);
        if idx.saturating_sub(self.cur) > MAX_SKIP_INTERVALS {
            // A bogus timestamp far ahead: keep the data, not the time jump.
            return;
        }
        if idx > self.cur {
            self.tick(self.start_of(idx));
        }
        self.now = self.now.max(at);
    }

    /// Streams one event to `events.jsonl` and folds it into the counters.
    pub fn record_event(&mut self, e: EventRecord) {
        self.advance_to(e.at);
        self.events_total += 1;
        if let Some(w) = self.events.as_mut() {
            let res = serde_json::to_writer(&mut *w, &e)
                .map_err(std::io::Error::from)
                .and_then(|()| w.write_all(b"\n"));
            if let Err(err) = res {
                self.events = None;
                self.fail(RecordError::io(&self.events_path.clone(), err));
            }
        }
        match e.arm {
            Some(arm) => self.slot(arm).data.count_event(&e),
            None => *self.server_events.entry(e.kind.to_string()).or_insert(0) += 1,
        }
    }

    /// Samples the in-flight gauge of one arm.
    pub fn set_in_flight(&mut self, arm: Arm, n: u64) {
        self.slot(arm).data.set_in_flight(n);
    }

    /// Closes every interval that ends at or before `now` (offset from t0).
    pub fn tick(&mut self, now: Duration) {
        self.now = self.now.max(now);
        let target = self.index_of(now);
        while self.cur < target {
            self.close_interval(self.interval, true);
        }
    }

    /// Progress figures for the live line.
    pub fn live(&self) -> LiveStats {
        LiveStats::from_arms(self.now, self.slots.iter().map(|s| &s.data))
    }

    fn fail(&mut self, e: RecordError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    fn close_interval(&mut self, length: Duration, open_next: bool) {
        let start = self.start_of(self.cur);
        // Disjoint field borrows: histograms are written straight from the
        // interval sets, no copies.
        let mut write_err = None;
        let hlog = &mut self.hlog;
        let mut write = |tag: &str, h: &Histogram<u64>| {
            if let Some(w) = hlog.as_mut() {
                if let Err(e) = w.write(tag, h, start, length) {
                    *hlog = None;
                    write_err.get_or_insert(e);
                }
            }
        };
        for slot in &mut self.slots {
            slot.data.close_row(&slot.interval, open_next);
            slot.data.hist.add(&slot.interval);
            for m in Metric::ALL {
                let h = slot.interval.get(m);
                // Latency is always logged so every second is present;
                // stream-only metrics are skipped when empty.
                if m == Metric::Corrected || !h.is_empty() {
                    write(&format!("{}.{}", slot.data.arm.as_str(), m.tag_suffix()), h);
                }
            }
            slot.interval.reset();
        }
        let _ = self.send_lag.add(&self.send_lag_interval);
        write(SEND_LAG_TAG, &self.send_lag_interval);
        self.send_lag_interval.reset();
        if let Some(e) = write_err {
            self.fail(e);
        }
        if open_next {
            self.cur += 1;
        }
    }

    /// Closes the last (partial) interval, flushes both files and hands over
    /// everything the report needs. Returns the first write error, if any.
    pub fn finish(mut self, end: Duration) -> Result<RunData, RecordError> {
        self.tick(end);
        let start = self.start_of(self.cur);
        let has_data = self.slots.iter().any(|s| {
            !s.interval.corrected.is_empty() || s.data.rows.last().is_some_and(|r| r.sent > 0)
        });
        if end > start || has_data || self.cur == 0 {
            let length = end.saturating_sub(start).max(Duration::from_millis(1));
            self.close_interval(length.min(self.interval), false);
        } else {
            // `end` fell exactly on a boundary: the opened row is empty.
            for s in &mut self.slots {
                s.data.rows.pop();
            }
        }
        if let Some(mut w) = self.hlog.take() {
            if let Err(e) = w.flush() {
                self.fail(e);
            }
        }
        if let Some(mut w) = self.events.take() {
            if let Err(e) = w.flush() {
                self.fail(RecordError::io(&self.events_path.clone(), e));
            }
        }
        if let Some(e) = self.error {
            return Err(e);
        }
        let end = end.max(self.now);
        let arms = self
            .slots
            .into_iter()
            .map(|mut s| {
                s.data.finish(end);
                s.data
            })
            .collect();
        Ok(RunData {
            arms,
            send_lag: self.send_lag,
            interval: self.interval,
            end,
            events_total: self.events_total,
            server_events: self.server_events,
            events_path: self.events_path,
            hlog_path: self.hlog_path,
            started_at: self.started_at,
        })
    }
}

impl Slot {
    fn new(arm: Arm) -> Self {
        Self {
            data: ArmData::new(arm),
            interval: Histograms::default(),
        }
    }
}

/// Everything the report needs, handed over by [`Recorder::finish`].
#[derive(Debug, Clone)]
pub struct RunData {
    /// Per arm, resilient first when configured so.
    pub arms: Vec<ArmData>,
    /// Send lag (actual minus intended send instant), all arms, µs.
    pub send_lag: Histogram<u64>,
    /// Interval length of the rows (1 s).
    pub interval: Duration,
    /// End of the run (offset from t0).
    pub end: Duration,
    /// Events written to `events.jsonl`.
    pub events_total: u64,
    /// Server-side events (no arm) by kind, e.g. `phase_start`.
    pub server_events: BTreeMap<String, u64>,
    /// Where `events.jsonl` was streamed.
    pub events_path: PathBuf,
    /// Where the interval log was streamed.
    pub hlog_path: PathBuf,
    /// Wall-clock t0 used in the interval log.
    pub started_at: SystemTime,
}

impl RunData {
    /// Data of one arm, if it ran.
    pub fn arm(&self, arm: Arm) -> Option<&ArmData> {
        self.arms.iter().find(|a| a.arm == arm)
    }

    /// Number of per-second rows (same for every arm).
    pub fn row_count(&self) -> usize {
        self.arms.iter().map(|a| a.rows.len()).max().unwrap_or(0)
    }
}
