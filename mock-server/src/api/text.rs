//! Deterministic filler text: each token is one word from a fixed list,
//! picked by a SplitMix64 sequence seeded per request (the seed itself comes
//! from the node's ChaCha RNG), so replies replay exactly. SplitMix costs a
//! nanosecond per word, which matters on the throughput fast path.

/// A `[&str; N]` of the words with a leading space; the first word of a
/// reply drops it by slicing, so no token ever allocates.
macro_rules! spaced_list {
    ($($w:literal),* $(,)?) => { [$(concat!(" ", $w)),*] };
}

/// A seeded word source.
pub struct Words {
    state: u64,
    first: [bool; 2],
}

impl Words {
    /// Words for the request with this seed.
    pub fn new(seed: u64) -> Self {
        Words {
            state: seed,
            first: [true, true],
        }
    }

    /// The next token: a word, with a leading space except the first of its
    /// kind. Never needs JSON escaping.
    pub fn next(&mut self, reasoning: bool) -> &'static str {
        let list: &[&'static str] = if reasoning { &REASONING } else { &ANSWER };
        let i = (((self.split_mix() >> 32) * list.len() as u64) >> 32) as usize;
        let first = std::mem::replace(&mut self.first[reasoning as usize], false);
        let word = list[i];
        if first {
            &word[1..]
        } else {
            word
        }
    }

    fn split_mix(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
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

const ANSWER: [&str; 32] = spaced_list![
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

const REASONING: [&str; 16] = spaced_list![
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_text() {
        let a = Words::new(7).text(20, false);
        assert_eq!(a, Words::new(7).text(20, false));
        assert_ne!(a, Words::new(8).text(20, false));
        assert_eq!(a.split(' ').count(), 20);
        assert!(!a.starts_with(' ') && a.contains(" "));
    }
}
