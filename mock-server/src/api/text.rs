//! Deterministic filler text: each token is one word from a fixed list,
//! picked by a ChaCha RNG seeded per request, so replies replay exactly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ANSWER: [&str; 32] = [
    "the",
    "service",
    "responded",
    "within",
    "budget",
    "and",
    "every",
    "request",
    "was",
    "handled",
    "with",
    "care",
    "while",
    "latency",
    "stayed",
    "low",
    "so",
    "clients",
    "could",
    "retry",
    "safely",
    "after",
    "a",
    "short",
    "backoff",
    "when",
    "errors",
    "appeared",
    "in",
    "the",
    "stream",
    "today",
];

const REASONING: [&str; 16] = [
    "first",
    "consider",
    "the",
    "question",
    "then",
    "check",
    "each",
    "step",
    "carefully",
    "because",
    "details",
    "matter",
    "and",
    "verify",
    "the",
    "result",
];

/// A seeded word source.
pub struct Words {
    rng: ChaCha8Rng,
    first: [bool; 2],
}

impl Words {
    /// Words for the request with this seed.
    pub fn new(seed: u64) -> Self {
        Words {
            rng: ChaCha8Rng::seed_from_u64(seed),
            first: [true, true],
        }
    }

    /// The next token: a word, with a leading space except the first of its
    /// kind. Never needs JSON escaping.
    pub fn next(&mut self, reasoning: bool) -> &'static str {
        let list: &[&'static str] = if reasoning { &REASONING } else { &ANSWER };
        let i = self.rng.gen_range(0..list.len());
        let first = std::mem::replace(&mut self.first[reasoning as usize], false);
        // Leading-space variants are static so tokens never allocate.
        if first {
            list[i]
        } else {
            spaced(reasoning, i)
        }
    }

    /// `n` tokens joined.
    pub fn text(&mut self, n: u32, reasoning: bool) -> String {
        let mut s = String::with_capacity(n as usize * 8);
        for _ in 0..n {
            s.push_str(self.next(reasoning));
        }
        s
    }
}

macro_rules! spaced_list {
    ($($w:literal),* $(,)?) => { [$(concat!(" ", $w)),*] };
}

const ANSWER_SPACED: [&str; 32] = spaced_list![
    "the",
    "service",
    "responded",
    "within",
    "budget",
    "and",
    "every",
    "request",
    "was",
    "handled",
    "with",
    "care",
    "while",
    "latency",
    "stayed",
    "low",
    "so",
    "clients",
    "could",
    "retry",
    "safely",
    "after",
    "a",
    "short",
    "backoff",
    "when",
    "errors",
    "appeared",
    "in",
    "the",
    "stream",
    "today",
];

const REASONING_SPACED: [&str; 16] = spaced_list![
    "first",
    "consider",
    "the",
    "question",
    "then",
    "check",
    "each",
    "step",
    "carefully",
    "because",
    "details",
    "matter",
    "and",
    "verify",
    "the",
    "result",
];

fn spaced(reasoning: bool, i: usize) -> &'static str {
    if reasoning {
        REASONING_SPACED[i]
    } else {
        ANSWER_SPACED[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_text() {
        let a = Words::new(7).text(20, false);
        assert_eq!(a, Words::new(7).text(20, false));
        assert_ne!(a, Words::new(8).text(20, false));
        assert_eq!(a.split(' ').count(), 20);
        assert_eq!(ANSWER_SPACED[3].trim(), ANSWER[3]);
    }
}
