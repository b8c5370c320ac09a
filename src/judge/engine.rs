//! The streaming judge: push attempt records (in end order, or roughly so),
//! then `finish` for the verdicts.
//!
//! Memory is bounded by the rate times `call_idle`, not by the run's length:
//! per-call state lives only until the call has been idle for `call_idle` of
//! journal time (the latest `end_at` seen); then the call is judged and
//! dropped, leaving counts and at most five examples per verdict. Besides
//! that the judge holds sparse per-second counters, the successes recent
//! enough for `no_failover`, and the synchronized-retry groups not yet
//! settled. A periodic sweep (every `call_idle / 8` of journal time) evicts
//! idle calls, so eviction costs O(1) per record amortized.
//!
//! Order: each call's attempts are kept sorted by arrival, and anything
//! that depends on other calls is settled only once journal time is
//! `call_idle` past it, so records pushed late by less than that give the
//! same counts (unless a late record lands on its call's idle deadline).

use std::collections::{BTreeMap, HashMap};

use mock_server::journal::{Attempt, RecordError};

use super::attempt::{timeline, Att, Class};
use super::call::{judge_call, OtherNodes};
use super::config::{ConfigError, VerdictConfig};
use super::limits::Limits;
use super::sync::Sync;
use super::traffic::Traffic;
use super::verdicts::{
    Example, ExampleSet, KeyCounts, Kind, Verdict, Verdicts, KINDS, MAX_EXAMPLES,
};

#[derive(Debug, Default)]
struct Call {
    atts: Vec<Att>,
    first_at: f64,
    last_end: f64,
}

/// Successes per node, keyed by their end instant in µs.
#[derive(Debug, Default)]
struct Successes(Vec<BTreeMap<i64, u32>>);

fn micros(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

impl OtherNodes for Successes {
    fn success_near(&self, node: u32, t: f64, window: f64) -> bool {
        let (lo, hi) = (micros(t - window), micros(t + window));
        self.0
            .iter()
            .enumerate()
            .any(|(i, m)| i as u32 != node && m.range(lo..=hi).next().is_some())
    }
}

/// How much the judge holds right now (for tests and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// Unfinished calls.
    pub live_calls: usize,
    /// Attempts of unfinished calls.
    pub live_attempts: usize,
    /// Successes kept for `no_failover`.
    pub successes: usize,
    /// Synchronized-retry groups not settled.
    pub sync_groups: usize,
    /// Seconds with traffic (kept for the whole run: they are the chart).
    pub seconds: usize,
}

/// The streaming judge.
#[derive(Debug)]
pub struct Judge {
    config: VerdictConfig,
    limits: Limits,
    now: f64,
    next_sweep: f64,
    calls: HashMap<String, Call>,
    successes: Successes,
    traffic: Traffic,
    sync: Sync,
    counts: [u64; KINDS],
    examples: [ExampleSet; KINDS],
    attempts: u64,
    calls_done: u64,
    dropped: u64,
    unreadable: u64,
    nodes: u32,
    call_keys: KeyCounts,
    /// Attempts by the status the server sent (`0`: none sent).
    statuses: BTreeMap<u16, u64>,
    /// Finished calls by their number of attempts.
    attempts_per_call: BTreeMap<u32, u64>,
}

fn example(call: &str, atts: &[Att]) -> Example {
    Example {
        call: Some(call.to_string()),
        note: None,
        attempts: timeline(atts),
    }
}

impl Judge {
    /// A judge with these thresholds (checked here).
    pub fn new(config: VerdictConfig) -> Result<Judge, ConfigError> {
        config.validate()?;
        let limits = Limits::new(&config);
        Ok(Judge {
            next_sweep: Self::sweep_every(&limits),
            config,
            limits,
            now: 0.0,
            calls: HashMap::new(),
            successes: Successes::default(),
            traffic: Traffic::default(),
            sync: Sync::default(),
            counts: [0; KINDS],
            examples: Default::default(),
            attempts: 0,
            calls_done: 0,
            dropped: 0,
            unreadable: 0,
            nodes: 0,
            call_keys: KeyCounts::default(),
            statuses: BTreeMap::new(),
            attempts_per_call: BTreeMap::new(),
        })
    }

    fn sweep_every(l: &Limits) -> f64 {
        (l.call_idle / 8.0).max(0.25)
    }

    /// The thresholds in force.
    pub fn config(&self) -> &VerdictConfig {
        &self.config
    }

    /// Adds one record. An impossible record (see [`Attempt::check`]) is
    /// refused and changes nothing.
    pub fn push(&mut self, a: &Attempt) -> Result<(), RecordError> {
        a.check()?;
        let att = Att::new(a);
        self.attempts += 1;
        self.call_keys.add(a.call_from);
        *self.statuses.entry(a.status.unwrap_or(0)).or_default() += 1;
        self.nodes = self.nodes.max(att.node + 1);
        self.now = self.now.max(att.end_at);
        self.traffic.attempt(&att);
        if att.class == Class::Success {
            let node = att.node as usize;
            if self.successes.0.len() <= node {
                self.successes.0.resize_with(node + 1, BTreeMap::new);
            }
            *self.successes.0[node]
                .entry(micros(att.end_at))
                .or_default() += 1;
        }
        match self.calls.get_mut(a.call.as_str()) {
            Some(c) => {
                c.first_at = c.first_at.min(att.at);
                c.last_end = c.last_end.max(att.end_at);
                let pos = c
                    .atts
                    .iter()
                    .rposition(|x| x.before(&att))
                    .map_or(0, |p| p + 1);
                c.atts.insert(pos, att);
            }
            None => {
                let call = Call {
                    first_at: att.at,
                    last_end: att.end_at,
                    atts: vec![att],
                };
                self.calls.insert(a.call.clone(), call);
            }
        }
        if self.now >= self.next_sweep {
            self.sweep();
        }
        Ok(())
    }

    /// Records lost by the writer (`{"dropped": N}`): the verdicts are then
    /// marked incomplete.
    pub fn push_dropped(&mut self, n: u64) {
        self.dropped = self.dropped.saturating_add(n);
    }

    /// Journal lines that could not be read (also makes the result incomplete).
    pub fn note_unreadable(&mut self, n: u64) {
        self.unreadable = self.unreadable.saturating_add(n);
    }

    /// Records accepted so far.
    pub fn attempts(&self) -> u64 {
        self.attempts
    }

    /// Unfinished calls held.
    pub fn live_calls(&self) -> usize {
        self.calls.len()
    }

    /// What the judge holds now.
    pub fn footprint(&self) -> Footprint {
        Footprint {
            live_calls: self.calls.len(),
            live_attempts: self.calls.values().map(|c| c.atts.len()).sum(),
            successes: self.successes.0.iter().map(BTreeMap::len).sum(),
            sync_groups: self.sync.groups(),
            seconds: self.traffic.seconds(),
        }
    }

    /// Judges the calls idle past `call_idle`, then settles what no
    /// unfinished call can change any more.
    fn sweep(&mut self) {
        let l = &self.limits;
        let deadline = self.now - l.call_idle;
        let mut idle: Vec<(String, Call)> = Vec::new();
        self.calls.retain(|k, c| {
            if c.last_end < deadline {
                idle.push((k.clone(), std::mem::take(c)));
                false
            } else {
                true
            }
        });
        self.judge_calls(idle);
        // Anything older than this can only be touched by calls that are
        // still open (none reach back further) or by records later than the
        // tolerated disorder.
        let oldest_open = self
            .calls
            .values()
            .map(|c| c.first_at)
            .fold(f64::INFINITY, f64::min);
        let watermark = deadline.min(oldest_open);
        self.sync.settle(Some(watermark), &self.limits);
        let keep_from = micros(watermark - self.limits.failover_window - 1.0);
        for m in &mut self.successes.0 {
            *m = m.split_off(&keep_from);
        }
        self.next_sweep = self.now + Self::sweep_every(&self.limits);
    }

    /// Judges finished calls in a fixed order (last activity, then key).
    fn judge_calls(&mut self, mut done: Vec<(String, Call)>) {
        done.sort_by(|a, b| {
            (a.1.last_end, a.0.as_str())
                .partial_cmp(&(b.1.last_end, b.0.as_str()))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for (key, call) in done {
            self.judge_one(&key, &call.atts);
        }
    }

    fn judge_one(&mut self, key: &str, atts: &[Att]) {
        let Some(first) = atts.first() else { return };
        let found = judge_call(atts, &self.limits, &self.successes);
        self.calls_done += 1;
        *self
            .attempts_per_call
            .entry(u32::try_from(atts.len()).unwrap_or(u32::MAX))
            .or_default() += 1;
        self.traffic.call(atts);
        let rank = (first.at, key);
        for kind in Kind::ALL {
            let i = kind.index();
            if found.fired[i] {
                self.counts[i] += 1;
                if self.examples[i].wants(rank) {
                    self.examples[i].offer(rank, example(key, atts));
                }
            }
        }
        self.sync.add(&found.retries, &self.limits, key, &mut || {
            example(key, atts)
        });
    }

    /// Judges every call still open (the end of the journal finishes them)
    /// and returns the verdicts.
    pub fn finish(mut self) -> Verdicts {
        let open: Vec<(String, Call)> = self.calls.drain().collect();
        self.judge_calls(open);
        let l = &self.limits;
        let (sync_count, sync_examples) = std::mem::take(&mut self.sync).finish(l);
        let (storms, storm_examples) = self.traffic.storms(l);
        let failing = self.traffic.failing(l);
        let mut verdicts = Vec::with_capacity(KINDS);
        for (kind, set) in Kind::ALL.into_iter().zip(self.examples) {
            let i = kind.index();
            let (count, examples) = match kind {
                Kind::SynchronizedRetries => (sync_count, sync_examples.clone()),
                Kind::RetryStorm => {
                    let mut ex = set.into_vec();
                    ex.extend(storm_examples.iter().cloned());
                    ex.truncate(MAX_EXAMPLES);
                    (self.counts[i] + storms, ex)
                }
                Kind::KeptSendingToFailingNode => (failing.fired, failing.examples.clone()),
                _ => (self.counts[i], set.into_vec()),
            };
            verdicts.push(Verdict {
                name: kind.name(),
                definition: kind.definition(&self.config),
                severity: kind.severity(),
                applicable: self.nodes >= kind.needs_nodes(),
                count,
                unit: kind.unit(),
                examples,
            });
        }
        Verdicts {
            complete: self.dropped == 0 && self.unreadable == 0,
            dropped: self.dropped,
            unreadable: self.unreadable,
            attempts: self.attempts,
            calls: self.calls_done,
            nodes: self.nodes,
            call_keys: self.call_keys,
            verdicts,
            breaker_open: failing.breaker_open,
            traffic: self.traffic.into_series(),
            statuses: self
                .statuses
                .iter()
                .map(|(s, n)| (s.to_string(), *n))
                .collect(),
            attempts_per_call: self
                .attempts_per_call
                .iter()
                .map(|(a, n)| (a.to_string(), *n))
                .collect(),
        }
    }
}
