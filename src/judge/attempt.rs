//! What the judge keeps of one attempt while its call is open: a compact
//! copy of the record with its failure class (`docs/journal.md`, "Failure
//! classes") worked out once.

use mock_server::journal::record::KNOWN_FAULTS;
use mock_server::journal::{Attempt, End, FaultTag};

use super::verdicts::TimelineEntry;

/// The failure class of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// 2xx, answered in full, no ending fault.
    Success,
    /// 400, 401, 402 or 422: retrying cannot help.
    NonRetryable,
    /// 408, 429, 5xx, a server close, or a client timeout on a stall or queue wait.
    Retryable,
    /// A 2xx answer broken by `truncated_json`, `malformed_chunk` or `missing_done`.
    Broken,
    /// The client hung up with nothing stalled (its own deadline, or cancelled).
    ClientGone,
    /// The server stopped while the attempt was open.
    Shutdown,
    /// Any other answer (3xx, 404, 413, ...).
    Other,
}

impl Class {
    /// Counted as a failure of the node (traffic `failed`, failing spans).
    pub(crate) fn node_failed(self) -> bool {
        matches!(self, Class::Retryable | Class::Broken | Class::ClientGone)
    }
}

/// Bit of a known fault kind in [`Att::faults`]; unknown kinds share the last bit.
fn bit(tag: &FaultTag) -> u16 {
    match KNOWN_FAULTS.iter().position(|k| k == tag) {
        Some(i) => 1 << i,
        None => 1 << KNOWN_FAULTS.len(),
    }
}

fn has(bits: u16, tag: FaultTag) -> bool {
    bits & bit(&tag) != 0
}

fn classify_bits(status: Option<u16>, end: End, faults: u16) -> Class {
    match status {
        Some(400 | 401 | 402 | 422) => return Class::NonRetryable,
        Some(408 | 429 | 500..=599) => return Class::Retryable,
        _ => {}
    }
    match end {
        End::ServerClosed => Class::Retryable,
        End::ClientClosed
            if has(faults, FaultTag::Stall)
                || has(faults, FaultTag::StreamStall)
                || has(faults, FaultTag::QueueWait) =>
        {
            Class::Retryable
        }
        End::ClientClosed => Class::ClientGone,
        End::Shutdown => Class::Shutdown,
        End::Answered => match status {
            Some(200..=299)
                if has(faults, FaultTag::TruncatedJson)
                    || has(faults, FaultTag::MalformedChunk)
                    || has(faults, FaultTag::MissingDone) =>
            {
                Class::Broken
            }
            Some(200..=299) => Class::Success,
            _ => Class::Other,
        },
    }
}

/// The judge's copy of one attempt.
#[derive(Debug, Clone)]
pub(crate) struct Att {
    pub seq: u64,
    pub at: f64,
    pub end_at: f64,
    pub node: u32,
    pub status: Option<u16>,
    pub end: End,
    pub class: Class,
    /// Retry-After the server sent, in seconds (`retry-after-ms` first).
    pub retry_after: Option<f64>,
    /// Seconds the server sent nothing before the end, on a `stall` or a
    /// `stream_stall` attempt.
    pub stalled_for: Option<f64>,
    /// The client hung up during a queue wait (no token sent yet).
    pub left_queue: bool,
    /// Fault kinds as bits of `KNOWN_FAULTS`.
    pub faults: u16,
}

impl Att {
    pub(crate) fn new(a: &Attempt) -> Att {
        let faults = a.faults.iter().fold(0, |acc, f| acc | bit(f));
        let retry_after = match (a.retry_after_ms, a.retry_after_s) {
            (Some(ms), _) => Some(ms as f64 / 1000.0),
            (None, Some(s)) => Some(s as f64),
            (None, None) => None,
        };
        let stalled_from = if has(faults, FaultTag::Stall) {
            Some(a.stalled_at.unwrap_or(a.at))
        } else if has(faults, FaultTag::StreamStall) {
            // Without `stalled_at` the stall began at some point after the
            // head: the head bounds it from below (overestimating the stall).
            Some(a.stalled_at.or(a.headers_at).unwrap_or(a.at))
        } else {
            None
        };
        let queued = has(faults, FaultTag::QueueWait) || has(faults, FaultTag::Capacity);
        Att {
            seq: a.seq,
            at: a.at,
            end_at: a.end_at,
            node: a.node,
            status: a.status,
            end: a.end,
            class: classify_bits(a.status, a.end, faults),
            retry_after,
            stalled_for: stalled_from.map(|s| (a.end_at - s).max(0.0)),
            left_queue: queued && a.end == End::ClientClosed && a.tokens == 0,
            faults,
        }
    }

    /// Arrival order, ties broken by sequence number so the order is total.
    pub(crate) fn before(&self, other: &Att) -> bool {
        (self.at, self.seq) < (other.at, other.seq)
    }

    /// Delay from `prev`'s failure instant to this arrival, clamped at 0
    /// (the client may send again before the server saw the hang-up).
    pub(crate) fn delay_after(&self, prev: &Att) -> f64 {
        (self.at - prev.end_at).max(0.0)
    }

    pub(crate) fn fault_names(&self) -> Vec<String> {
        let mut out: Vec<String> = KNOWN_FAULTS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.faults & (1 << i) != 0)
            .map(|(_, k)| k.as_str().to_string())
            .collect();
        if self.faults & (1 << KNOWN_FAULTS.len()) != 0 {
            out.push("other".into());
        }
        out
    }
}

/// The timeline of a call's attempts (sorted by arrival).
pub(crate) fn timeline(atts: &[Att]) -> Vec<TimelineEntry> {
    atts.iter()
        .enumerate()
        .map(|(i, a)| TimelineEntry {
            at: a.at,
            node: a.node,
            status: a.status,
            end: a.end,
            faults: a.fault_names(),
            delay: i.checked_sub(1).map(|p| a.delay_after(&atts[p])),
            open: a.end_at - a.at,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mock_server::journal::CallFrom;

    fn rec(status: Option<u16>, end: End, faults: &[&str]) -> Attempt {
        Attempt {
            seq: 1,
            node: 0,
            call: "c".into(),
            call_from: CallFrom::Header,
            at: 1.0,
            headers_at: status.map(|_| 1.1),
            end_at: 2.0,
            end,
            faults: faults.iter().map(|f| FaultTag::from_name(f)).collect(),
            status,
            retry_after_s: None,
            retry_after_ms: None,
            should_retry: None,
            tokens: 0,
            model: None,
            stream: false,
            sdk_retry_count: None,
            client_gone_after: None,
            stalled_at: None,
        }
    }

    #[test]
    fn classes_follow_the_documented_rules() {
        use End::*;
        let cases = [
            (Some(200), Answered, &[][..], Class::Success),
            (Some(400), Answered, &[], Class::NonRetryable),
            (Some(402), ServerClosed, &[], Class::NonRetryable),
            (Some(429), Answered, &[], Class::Retryable),
            (Some(503), Answered, &["status"], Class::Retryable),
            (Some(408), Answered, &[], Class::Retryable),
            (None, ServerClosed, &["reset"], Class::Retryable),
            (Some(200), ServerClosed, &["stream_drop"], Class::Retryable),
            (None, ClientClosed, &["stall"], Class::Retryable),
            (Some(200), ClientClosed, &["queue_wait"], Class::Retryable),
            (None, ClientClosed, &["latency"], Class::ClientGone),
            (Some(200), Answered, &["truncated_json"], Class::Broken),
            (Some(200), Answered, &["missing_done"], Class::Broken),
            (None, Shutdown, &["stall"], Class::Shutdown),
            (Some(404), Answered, &[], Class::Other),
            (Some(413), Answered, &[], Class::Other),
        ];
        for (status, end, faults, want) in cases {
            assert_eq!(
                Att::new(&rec(status, end, faults)).class,
                want,
                "{status:?} {end:?} {faults:?}"
            );
        }
    }

    #[test]
    fn retry_after_prefers_milliseconds_and_stalls_measure_from_the_stall() {
        let mut r = rec(Some(429), End::Answered, &[]);
        r.retry_after_s = Some(2);
        r.retry_after_ms = Some(1500);
        assert_eq!(Att::new(&r).retry_after, Some(1.5));
        r.retry_after_ms = None;
        assert_eq!(Att::new(&r).retry_after, Some(2.0));

        let mut s = rec(Some(200), End::ClientClosed, &["stream_stall"]);
        s.stalled_at = Some(1.5);
        assert_eq!(Att::new(&s).stalled_for, Some(0.5));
        s.stalled_at = None;
        let f = Att::new(&s).stalled_for.unwrap();
        assert!((f - 0.9).abs() < 1e-9, "falls back to headers_at: {f}");
        let q = rec(Some(200), End::ClientClosed, &["queue_wait"]);
        assert!(Att::new(&q).left_queue);
        let mut q2 = q.clone();
        q2.tokens = 3;
        assert!(
            !Att::new(&q2).left_queue,
            "tokens flowed: the wait was over"
        );
        let unknown = rec(Some(200), End::Answered, &["future", "latency"]);
        assert_eq!(Att::new(&unknown).fault_names(), ["latency", "other"]);
    }
}
