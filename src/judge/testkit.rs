//! Synthetic journals for the judge's tests: a record builder with the
//! defaults of a fast success, and helpers that push records in end order
//! (as the server writes them) and read a verdict's count.

use mock_server::journal::{Attempt, CallFrom, End, FaultTag};

use super::config::VerdictConfig;
use super::engine::Judge;
use super::verdicts::{Kind, Verdicts};

/// A record under construction: by default node 0, a 200 answered in 10 ms.
#[derive(Debug, Clone)]
pub(crate) struct A(pub Attempt);

pub(crate) fn a(call: &str, at: f64) -> A {
    A(Attempt {
        seq: 0,
        node: 0,
        call: call.to_string(),
        call_from: CallFrom::Header,
        at,
        headers_at: Some(at + 0.005),
        end_at: at + 0.010,
        end: End::Answered,
        faults: Vec::new(),
        status: Some(200),
        retry_after_s: None,
        retry_after_ms: None,
        should_retry: None,
        tokens: 10,
        model: Some("deepseek-v4-flash".into()),
        stream: false,
        sdk_retry_count: None,
        client_gone_after: None,
        stalled_at: None,
    })
}

impl A {
    pub(crate) fn node(mut self, n: u32) -> A {
        self.0.node = n;
        self
    }
    /// Open for `d` seconds.
    pub(crate) fn lasts(mut self, d: f64) -> A {
        self.0.end_at = self.0.at + d;
        if let Some(h) = self.0.headers_at.as_mut() {
            *h = h.min(self.0.end_at);
        }
        self
    }
    pub(crate) fn status(mut self, s: u16) -> A {
        self.0.status = Some(s);
        if s >= 300 {
            self.0.tokens = 0;
        }
        self
    }
    /// No head was sent.
    pub(crate) fn no_head(mut self) -> A {
        self.0.status = None;
        self.0.headers_at = None;
        self.0.tokens = 0;
        self
    }
    pub(crate) fn end(mut self, e: End) -> A {
        self.0.end = e;
        self
    }
    pub(crate) fn faults(mut self, f: &[&str]) -> A {
        self.0.faults = f.iter().map(|n| FaultTag::from_name(n)).collect();
        self
    }
    pub(crate) fn ra_ms(mut self, ms: u64) -> A {
        self.0.retry_after_ms = Some(ms);
        self
    }
    pub(crate) fn ra_s(mut self, s: u64) -> A {
        self.0.retry_after_s = Some(s);
        self
    }
    pub(crate) fn tokens(mut self, n: u32) -> A {
        self.0.tokens = n;
        self
    }
    pub(crate) fn stalled_at(mut self, t: f64) -> A {
        self.0.stalled_at = Some(t);
        self
    }
    /// End instant, for chaining retries.
    pub(crate) fn end_at(&self) -> f64 {
        self.0.end_at
    }
}

/// Orders records by end and numbers them, as the server's writer does.
pub(crate) fn journal(records: Vec<A>) -> Vec<Attempt> {
    let mut recs: Vec<Attempt> = records.into_iter().map(|r| r.0).collect();
    recs.sort_by(|x, y| x.end_at.total_cmp(&y.end_at));
    for (i, r) in recs.iter_mut().enumerate() {
        r.seq = i as u64 + 1;
    }
    recs
}

pub(crate) fn judge_with(config: VerdictConfig, records: &[Attempt]) -> Verdicts {
    let mut j = Judge::new(config).expect("test config is valid");
    for r in records {
        j.push(r).expect("test record is valid");
    }
    j.finish()
}

/// Judges `records` (in end order) with the default thresholds.
pub(crate) fn judge(records: Vec<A>) -> Verdicts {
    judge_with(VerdictConfig::default(), &journal(records))
}

pub(crate) fn count(v: &Verdicts, k: Kind) -> u64 {
    v.count(k)
}

/// Counts of every verdict, for comparing two judgements.
pub(crate) fn counts(v: &Verdicts) -> Vec<(&'static str, u64)> {
    v.verdicts.iter().map(|x| (x.name, x.count)).collect()
}

/// A deterministic xorshift for jitter and shuffles in tests.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
