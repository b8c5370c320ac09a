//! Sliding windows of call outcomes for the circuit breaker: count-based (the
//! last N calls, a ring buffer) and time-based (the last N seconds, one bucket
//! per second), both O(1) per record with running totals, as in resilience4j.

use tokio::time::Instant;

/// Totals over the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub calls: u32,
    pub failures: u32,
    pub slow: u32,
}

impl Totals {
    fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failures += u32::from(failed);
        self.slow += u32::from(slow);
    }
    fn sub(&mut self, other: Totals) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

#[derive(Clone, Debug)]
pub(crate) enum Window {
    /// Last `ring.len()` outcomes; each byte holds FAILED | SLOW bits.
    Count {
        ring: Box<[u8]>,
        next: usize,
        filled: usize,
        totals: Totals,
    },
    /// One bucket per second over the last `buckets.len()` seconds.
    Time {
        buckets: Box<[Totals]>,
        origin: Option<Instant>,
        epoch: u64,
        totals: Totals,
    },
}

impl Window {
    pub(crate) fn count(size: u32) -> Self {
        Window::Count {
            ring: vec![0; size.max(1) as usize].into_boxed_slice(),
            next: 0,
            filled: 0,
            totals: Totals::default(),
        }
    }

    pub(crate) fn time(seconds: u32) -> Self {
        Window::Time {
            buckets: vec![Totals::default(); seconds.max(1) as usize].into_boxed_slice(),
            origin: None,
            epoch: 0,
            totals: Totals::default(),
        }
    }

    pub(crate) fn record(&mut self, failed: bool, slow: bool, now: Instant) -> Totals {
        match self {
            Window::Count {
                ring,
                next,
                filled,
                totals,
            } => {
                if *filled == ring.len() {
                    let old = ring[*next];
                    totals.sub(Totals {
                        calls: 1,
                        failures: u32::from(old & FAILED != 0),
                        slow: u32::from(old & SLOW != 0),
                    });
                } else {
                    *filled += 1;
                }
                ring[*next] = if failed { FAILED } else { 0 } | if slow { SLOW } else { 0 };
                *next = (*next + 1) % ring.len();
                totals.add(failed, slow);
                *totals
            }
            Window::Time { .. } => {
                let i = self.advance(now);
                if let Window::Time {
                    buckets, totals, ..
                } = self
                {
                    buckets[i].add(failed, slow);
                    totals.add(failed, slow);
                    return *totals;
                }
                Totals::default()
            }
        }
    }

    /// Current totals, after dropping buckets that fell out of a time window.
    pub(crate) fn totals(&mut self, now: Instant) -> Totals {
        self.advance(now);
        match self {
            Window::Count { totals, .. } | Window::Time { totals, .. } => *totals,
        }
    }

    pub(crate) fn reset(&mut self) {
        match self {
            Window::Count {
                ring,
                next,
                filled,
                totals,
            } => {
                ring.fill(0);
                (*next, *filled, *totals) = (0, 0, Totals::default());
            }
            Window::Time {
                buckets,
                origin,
                epoch,
                totals,
            } => {
                buckets.fill(Totals::default());
                (*origin, *epoch, *totals) = (None, 0, Totals::default());
            }
        }
    }

    /// Moves a time window to `now`, clearing the buckets of elapsed seconds;
    /// returns the index of the current bucket (0 for count windows).
    fn advance(&mut self, now: Instant) -> usize {
        let Window::Time {
            buckets,
            origin,
            epoch,
            totals,
        } = self
        else {
            return 0;
        };
        let start = *origin.get_or_insert(now);
        let current = now.saturating_duration_since(start).as_secs();
        let n = buckets.len() as u64;
        if current > *epoch {
            // At most n buckets need clearing however long the gap was.
            let first = (*epoch + 1).max(current.saturating_sub(n - 1));
            for e in first..=current {
                let b = &mut buckets[(e % n) as usize];
                totals.sub(*b);
                *b = Totals::default();
            }
            *epoch = current;
        }
        (*epoch % n) as usize
    }
}
