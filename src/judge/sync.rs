//! `synchronized_retries`: retry delays with no jitter. Retries are grouped
//! by attempt number and by the slot (100 ms by default) their failure fell
//! in, and also by attempt number over the whole run; a group of at least N
//! calls whose delays have a coefficient of variation below the bound fires.
//!
//! Each group is a running count, sum and sum of squares, nothing per call.
//! A slot group is settled (judged, then dropped) once no unfinished call can
//! still add to it, so memory follows call_idle, not the run's length.

use std::collections::{BTreeMap, HashMap};

use super::call::Retry;
use super::limits::Limits;
use super::verdicts::{Example, MAX_EXAMPLES};

/// Running moments of delays, shifted by the first value so the variance
/// stays exact when delays are large and nearly equal (the case we detect).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Spread {
    n: u64,
    shift: f64,
    s1: f64,
    s2: f64,
}

impl Spread {
    pub(crate) fn add(&mut self, x: f64) {
        if self.n == 0 {
            self.shift = x;
        }
        let d = x - self.shift;
        self.n += 1;
        self.s1 += d;
        self.s2 += d * d;
    }

    /// Sample coefficient of variation; `None` below two values or when the
    /// mean is zero (immediate retries are `no_backoff`'s business).
    pub(crate) fn cv(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let mean = self.shift + self.s1 / n;
        if mean <= 1e-6 {
            return None;
        }
        let var = ((self.s2 - self.s1 * self.s1 / n) / (n - 1.0)).max(0.0);
        Some(var.sqrt() / mean)
    }
}

#[derive(Debug, Default)]
struct Group {
    spread: Spread,
    examples: Vec<Example>,
}

impl Group {
    fn fires(&self, l: &Limits) -> bool {
        self.spread.n >= l.sync_min_calls && self.spread.cv().is_some_and(|cv| cv < l.sync_max_cv)
    }

    /// Keeps the call as an example if the group fires now (a group is only
    /// known to fire once enough calls joined, so its first calls are not
    /// examples; later ones are).
    fn offer(&mut self, l: &Limits, call: &str, example: &mut dyn FnMut() -> Example) {
        if self.examples.len() < MAX_EXAMPLES
            && self.fires(l)
            && !self
                .examples
                .iter()
                .any(|e| e.call.as_deref() == Some(call))
        {
            self.examples.push(example());
        }
    }
}

fn merge(into: &mut Vec<Example>, from: Vec<Example>) {
    for e in from {
        if into.len() >= MAX_EXAMPLES {
            break;
        }
        if !into.iter().any(|x| x.call == e.call) {
            into.push(e);
        }
    }
}

/// All groups.
#[derive(Debug, Default)]
pub(crate) struct Sync {
    slots: HashMap<(u32, i64), Group>,
    run: BTreeMap<u32, Group>,
    /// Per attempt number: retries in settled slot groups that fired.
    slot_fired: BTreeMap<u32, u64>,
    slot_examples: Vec<Example>,
}

impl Sync {
    /// Adds a finished call's retries; `example` builds the call's example,
    /// only if a firing group wants it.
    pub(crate) fn add(
        &mut self,
        retries: &[Retry],
        l: &Limits,
        call: &str,
        example: &mut dyn FnMut() -> Example,
    ) {
        let mut built: Option<Example> = None;
        let mut get = || built.get_or_insert_with(&mut *example).clone();
        for r in retries {
            if r.told && !l.sync_include_retry_after {
                continue;
            }
            let slot = (r.failed_at / l.sync_slot).floor() as i64;
            let g = self.slots.entry((r.attempt_no, slot)).or_default();
            g.spread.add(r.delay);
            g.offer(l, call, &mut get);
            let g = self.run.entry(r.attempt_no).or_default();
            g.spread.add(r.delay);
            g.offer(l, call, &mut get);
        }
    }

    /// Judges and drops the slot groups that end at or before `before`
    /// (seconds); `None` settles all.
    pub(crate) fn settle(&mut self, before: Option<f64>, l: &Limits) {
        let cutoff = before.map(|b| (b / l.sync_slot).floor() as i64);
        let (slot_fired, examples) = (&mut self.slot_fired, &mut self.slot_examples);
        self.slots.retain(|&(no, slot), g| {
            if cutoff.is_some_and(|c| slot >= c) {
                return true;
            }
            if g.fires(l) {
                *slot_fired.entry(no).or_default() += g.spread.n;
                merge(examples, std::mem::take(&mut g.examples));
            }
            false
        });
    }

    /// Groups still held (for the memory accessor).
    pub(crate) fn groups(&self) -> usize {
        self.slots.len() + self.run.len()
    }

    /// The verdict: retries in firing groups (a run-wide group that fires
    /// covers its attempt number's slot groups), and examples.
    pub(crate) fn finish(mut self, l: &Limits) -> (u64, Vec<Example>) {
        self.settle(None, l);
        let mut count = 0;
        let mut examples = Vec::new();
        merge(&mut examples, std::mem::take(&mut self.slot_examples));
        let mut numbers: Vec<u32> = self.run.keys().copied().collect();
        numbers.extend(self.slot_fired.keys().copied());
        numbers.sort_unstable();
        numbers.dedup();
        for no in numbers {
            match self.run.remove(&no) {
                Some(g) if g.fires(l) => {
                    count += g.spread.n;
                    merge(&mut examples, g.examples);
                }
                _ => count += self.slot_fired.get(&no).copied().unwrap_or(0),
            }
        }
        (count, examples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_equal_delays_is_zero_and_of_jittered_ones_is_large() {
        let mut s = Spread::default();
        for _ in 0..12 {
            s.add(1_000.000_25);
        }
        assert!(s.cv().unwrap() < 1e-9);
        let mut j = Spread::default();
        for i in 0..12 {
            j.add(0.1 + 0.15 * i as f64);
        }
        let cv = j.cv().unwrap();
        // Sample CV of 0.1, 0.25, ..., 1.75.
        let xs: Vec<f64> = (0..12).map(|i| 0.1 + 0.15 * i as f64).collect();
        let m = xs.iter().sum::<f64>() / 12.0;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 11.0;
        assert!((cv - v.sqrt() / m).abs() < 1e-12);
        let mut zero = Spread::default();
        zero.add(0.0);
        zero.add(0.0);
        assert_eq!(zero.cv(), None);
    }
}
