//! Per-second counters and the verdicts read from them: attempts per node
//! per second (ok / failed / other, by arrival), first attempts and retries
//! per second, and from these the retry-storm windows, the failing spans of
//! `kept_sending_to_failing_node` and the inferred breaker-open intervals.
//!
//! Counters are sparse (seconds with attempts only), so memory follows the
//! seconds that had traffic and one odd timestamp cannot allocate a table.

use std::collections::BTreeMap;

use super::attempt::{Att, Class};
use super::limits::Limits;
use super::verdicts::{Example, Interval, NodeTraffic, SecondCounts, MAX_EXAMPLES};

fn second(t: f64) -> u32 {
    // Offsets are checked to be in [0, 1e7] before they get here.
    t.max(0.0).floor() as u32
}

#[derive(Debug, Default)]
pub(crate) struct Traffic {
    /// Per node: second -> counts.
    nodes: Vec<BTreeMap<u32, SecondCounts>>,
    /// Attempts per second over all nodes.
    totals: BTreeMap<u32, u32>,
    /// Per second: [first attempts, retries], added when a call finishes.
    starts: BTreeMap<u32, [u64; 2]>,
}

/// What the failing-node analysis found.
#[derive(Debug, Default)]
pub(crate) struct Failing {
    pub fired: u64,
    pub examples: Vec<Example>,
    pub breaker_open: Vec<Interval>,
}

impl Traffic {
    pub(crate) fn attempt(&mut self, a: &Att) {
        let node = a.node as usize;
        if self.nodes.len() <= node {
            self.nodes.resize_with(node + 1, BTreeMap::new);
        }
        let s = second(a.at);
        let c = self.nodes[node].entry(s).or_insert(SecondCounts {
            second: s,
            ..SecondCounts::default()
        });
        match a.class {
            Class::Success => c.ok += 1,
            k if k.node_failed() => c.failed += 1,
            _ => c.other += 1,
        }
        *self.totals.entry(s).or_default() += 1;
    }

    /// A finished call: its first attempt and its retries, by arrival second.
    pub(crate) fn call(&mut self, atts: &[Att]) {
        for (i, a) in atts.iter().enumerate() {
            self.starts.entry(second(a.at)).or_default()[usize::from(i > 0)] += 1;
        }
    }

    /// Seconds held (for the memory accessor).
    pub(crate) fn seconds(&self) -> usize {
        self.totals.len()
    }

    /// Retry-storm episodes: maximal runs of consecutive window starts in
    /// which retries exceeded the share of first attempts.
    pub(crate) fn storms(&self, l: &Limits) -> (u64, Vec<Example>) {
        let secs: Vec<(i64, u64, u64)> = self
            .starts
            .iter()
            .map(|(&s, &[f, r])| (i64::from(s), f, r))
            .collect();
        let Some(&(first_s, _, _)) = secs.first() else {
            return (0, Vec::new());
        };
        let w = i64::from(l.storm_window_s);
        let (mut lo, mut hi, mut first, mut retries) = (0, 0, 0u64, 0u64);
        let mut s = (first_s - w + 1).max(0);
        let mut episodes: Vec<(i64, i64, u64, u64)> = Vec::new();
        loop {
            while hi < secs.len() && secs[hi].0 < s + w {
                first += secs[hi].1;
                retries += secs[hi].2;
                hi += 1;
            }
            while lo < hi && secs[lo].0 < s {
                first -= secs[lo].1;
                retries -= secs[lo].2;
                lo += 1;
            }
            if lo == hi {
                // Nothing in this window: jump to the next one that has traffic.
                if hi == secs.len() {
                    break;
                }
                s = secs[hi].0 - w + 1;
                continue;
            }
            if first >= l.storm_min_first && retries as f64 > l.storm_share * first as f64 {
                match episodes.last_mut() {
                    Some(e) if e.1 == s - 1 => e.1 = s,
                    _ => episodes.push((s, s, first, retries)),
                }
            }
            s += 1;
        }
        let examples = episodes
            .iter()
            .take(MAX_EXAMPLES)
            .map(|&(a, b, f, r)| Example {
                call: None,
                note: Some(format!(
                    "{w}s windows starting t={a}s..{b}s; first one: {r} retries for {f} first attempts ({:.0}%)",
                    100.0 * r as f64 / f as f64
                )),
                attempts: Vec::new(),
            })
            .collect();
        (episodes.len() as u64, examples)
    }

    fn count(&self, node: usize, s: u32) -> u32 {
        self.nodes[node].get(&s).map_or(0, SecondCounts::total)
    }

    /// Failing spans per node, whether traffic kept flowing to them, and the
    /// spans in and right after them where the node got nothing while
    /// others did (a breaker, inferred).
    pub(crate) fn failing(&self, l: &Limits) -> Failing {
        let mut out = Failing::default();
        for node in 0..self.nodes.len() {
            for (start, last) in self.spans(node, l) {
                let total = |s: u32| self.totals.get(&s).copied().unwrap_or(0);
                let share0 = f64::from(self.count(node, start)) / f64::from(total(start).max(1));
                let (mut mine, mut all) = (0u64, 0u64);
                for (&s, &t) in self.totals.range(start + 1..=last) {
                    mine += u64::from(self.count(node, s));
                    all += u64::from(t);
                }
                let kept = all > 0 && mine as f64 / all as f64 >= l.failing_keep * share0;
                if kept {
                    out.fired += 1;
                    if out.examples.len() < MAX_EXAMPLES {
                        out.examples.push(Example {
                            call: None,
                            note: Some(format!(
                                "node {node} failing t={start}s..{}s; its share of attempts went {:.0}% -> {:.0}%",
                                last + 1,
                                100.0 * share0,
                                100.0 * mine as f64 / all as f64
                            )),
                            attempts: Vec::new(),
                        });
                    }
                }
                self.quiet_runs(node, start, last, &mut out.breaker_open);
            }
        }
        out.breaker_open.sort_by(|a, b| {
            (a.from, a.node)
                .partial_cmp(&(b.from, b.node))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        out
    }

    /// Maximal runs of failing seconds (seconds without attempts on the node
    /// do not break a run) spanning at least the configured length.
    fn spans(&self, node: usize, l: &Limits) -> Vec<(u32, u32)> {
        let mut spans = Vec::new();
        let mut cur: Option<(u32, u32)> = None;
        for (&s, c) in &self.nodes[node] {
            let n = c.total();
            if n == 0 {
                continue;
            }
            if f64::from(c.failed) >= l.failing_ratio * f64::from(n) {
                cur = Some(cur.map_or((s, s), |(a, _)| (a, s)));
            } else if let Some(span) = cur.take() {
                spans.push(span);
            }
        }
        spans.extend(cur);
        spans.retain(|&(a, b)| b - a + 1 >= l.failing_span_s);
        spans
    }

    fn quiet_runs(&self, node: usize, start: u32, last: u32, out: &mut Vec<Interval>) {
        let mut run: Option<(u32, u32)> = None;
        let mut close = |run: &mut Option<(u32, u32)>| {
            if let Some((a, b)) = run.take() {
                out.push(Interval {
                    node: node as u32,
                    from: f64::from(a),
                    to: f64::from(b + 1),
                });
            }
        };
        for (&s, &t) in self.totals.range(start + 1..) {
            // `t` counts this node too: zero here and t > 0 means others got some.
            let quiet = self.count(node, s) == 0 && t > 0;
            if let Some((_, b)) = run.as_mut() {
                if quiet && s == *b + 1 {
                    *b = s;
                    continue;
                }
            }
            close(&mut run);
            if s > last + 1 || (!quiet && s > last) {
                break;
            }
            if quiet {
                run = Some((s, s));
            }
        }
        close(&mut run);
    }

    /// The per-node series, for charts.
    pub(crate) fn into_series(self) -> Vec<NodeTraffic> {
        self.nodes
            .into_iter()
            .enumerate()
            .map(|(i, m)| NodeTraffic {
                node: i as u32,
                seconds: m.into_values().collect(),
            })
            .collect()
    }
}
