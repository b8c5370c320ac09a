//! The in-memory ring of the last N journal records, and the paging of
//! `GET /_mock/journal?since=N&limit=M` over it. Pure: no locks, no I/O.

use crate::journal::Attempt;
use serde::Serialize;
use std::collections::VecDeque;

/// Records kept when the start options say 0.
pub const DEFAULT_RING: usize = 100_000;

/// Rings up to this size get their slots reserved at start (address space
/// only); larger ones grow as records come.
const PREALLOCATE_MAX: usize = 1 << 22;

/// Largest (and default) `limit` of one page.
pub const MAX_PAGE: usize = 10_000;

/// The last `cap` records, in `seq` order with no holes (every record that
/// gets a `seq` enters the ring, so `seq` runs contiguously from the oldest).
#[derive(Debug)]
pub struct Ring {
    cap: usize,
    records: VecDeque<Attempt>,
}

/// One page of `GET /_mock/journal`.
#[derive(Debug, Serialize)]
pub struct Page {
    /// Records with `seq > since`, in `seq` order.
    pub records: Vec<Attempt>,
    /// `seq` of the last record returned, or `since` when none.
    pub next: u64,
    /// Records lost so far (every sink).
    pub dropped: u64,
    /// `seq` of the oldest record still held, `None` when the ring is empty.
    pub oldest: Option<u64>,
}

impl Ring {
    /// A ring of `cap` records (0 = [`DEFAULT_RING`]). Memory grows with the
    /// records held, not with `cap`.
    pub fn new(cap: usize) -> Ring {
        let cap = if cap == 0 { DEFAULT_RING } else { cap };
        Ring {
            cap,
            // Exactly `cap` slots when it is reasonable: a deque grown by
            // doubling has up to 2x the slots, and as the ring wraps its
            // records move through all of them (a 20,000-record ring: 3 MB
            // more resident after it was full). Untouched slots are not
            // resident, so this costs nothing up front.
            records: VecDeque::with_capacity(cap.min(PREALLOCATE_MAX)),
        }
    }

    /// Records it holds at most.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Adds the next record, forgetting the oldest when full.
    pub fn push(&mut self, a: Attempt) {
        if self.records.len() == self.cap {
            self.records.pop_front();
        }
        self.records.push_back(a);
    }

    /// Up to `limit` records with `seq > since`.
    pub fn page(&self, since: u64, limit: usize, dropped: u64) -> Page {
        let oldest = self.records.front().map(|a| a.seq);
        let skip = match oldest {
            // Contiguous seqs: the record after `since` sits at this index.
            Some(first) => {
                usize::try_from(since.saturating_add(1).saturating_sub(first)).unwrap_or(usize::MAX)
            }
            None => 0,
        };
        let records: Vec<Attempt> = self
            .records
            .iter()
            .skip(skip)
            .take(limit)
            .cloned()
            .collect();
        Page {
            next: records.last().map_or(since, |a| a.seq),
            records,
            dropped,
            oldest,
        }
    }
}

/// The query of `GET /_mock/journal`: `since` (default 0) and `limit`
/// (1 to [`MAX_PAGE`], default [`MAX_PAGE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery {
    /// Return records after this `seq`.
    pub since: u64,
    /// At most this many.
    pub limit: usize,
}

impl PageQuery {
    /// Reads `since=N&limit=M`; the error names the parameter and says what
    /// it takes.
    pub fn parse(query: Option<&str>) -> Result<PageQuery, String> {
        let mut q = PageQuery {
            since: 0,
            limit: MAX_PAGE,
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "since" => {
                    q.since = value.parse().map_err(|_| {
                        format!("`since` must be a record seq (a whole number >= 0), got `{value}`")
                    })?
                }
                "limit" => {
                    q.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| {
                            format!(
                            "`limit` must be a whole number from 1 to {MAX_PAGE}, got `{value}`"
                        )
                        })?
                }
                other => {
                    return Err(format!(
                        "unknown parameter `{other}`: /_mock/journal takes `since` and `limit`"
                    ))
                }
            }
        }
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{CallFrom, End};

    fn rec(seq: u64) -> Attempt {
        Attempt {
            seq,
            node: 0,
            call: format!("c{seq}"),
            call_from: CallFrom::Header,
            at: 0.0,
            headers_at: None,
            end_at: 0.0,
            end: End::Answered,
            faults: vec![],
            status: Some(200),
            retry_after_s: None,
            retry_after_ms: None,
            should_retry: None,
            tokens: 1,
            model: None,
            stream: false,
            sdk_retry_count: None,
            client_gone_after: None,
            stalled_at: None,
        }
    }

    fn seqs(p: &Page) -> Vec<u64> {
        p.records.iter().map(|a| a.seq).collect()
    }

    #[test]
    fn a_full_ring_forgets_the_oldest_and_pages_from_since() {
        let mut r = Ring::new(3);
        for s in 1..=5 {
            r.push(rec(s));
        }
        let p = r.page(0, 10, 7);
        assert_eq!(seqs(&p), vec![3, 4, 5]);
        assert_eq!((p.oldest, p.next, p.dropped), (Some(3), 5, 7));
        let p = r.page(3, 1, 0);
        assert_eq!(seqs(&p), vec![4]);
        assert_eq!(p.next, 4);
        let p = r.page(5, 10, 0);
        assert!(p.records.is_empty());
        assert_eq!(p.next, 5, "no records: next stays at since");
        let p = r.page(u64::MAX, 10, 0);
        assert!(p.records.is_empty());
    }

    #[test]
    fn an_empty_ring_has_no_oldest() {
        let p = Ring::new(0).page(4, 10, 0);
        assert_eq!((p.oldest, p.next, p.records.len()), (None, 4, 0));
        assert_eq!(Ring::new(0).capacity(), DEFAULT_RING);
    }

    #[test]
    fn the_query_takes_since_and_limit_and_names_a_bad_one() {
        assert_eq!(
            PageQuery::parse(None).unwrap(),
            PageQuery {
                since: 0,
                limit: MAX_PAGE
            }
        );
        assert_eq!(
            PageQuery::parse(Some("since=12&limit=5")).unwrap(),
            PageQuery {
                since: 12,
                limit: 5
            }
        );
        for (q, name) in [
            ("since=-1", "`since`"),
            ("since=abc", "`since`"),
            ("limit=0", "`limit`"),
            ("limit=10001", "`limit`"),
            ("limit=", "`limit`"),
            ("sinse=3", "`sinse`"),
        ] {
            let e = PageQuery::parse(Some(q)).unwrap_err();
            assert!(e.contains(name), "{q}: {e}");
        }
    }
}
