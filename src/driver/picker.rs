//! Which request body goes next: rotation, or seeded sampling.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::scenario::load::Pick;

/// Picks request bodies by rotation or seeded sampling.
pub(super) struct Picker {
    /// How many request bodies there are.
    n: usize,
    pick: Pick,
    i: usize,
    rng: ChaCha8Rng,
    seed: u64,
}

impl Picker {
    /// Picks among `n` bodies.
    pub(super) fn new(n: usize, pick: Pick, seed: u64) -> Picker {
        Picker {
            n: n.max(1),
            pick,
            i: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
        }
    }

    /// An independent picker for stream (user) `stream`.
    pub(super) fn fork(&self, stream: u64) -> Picker {
        Picker {
            n: self.n,
            pick: self.pick,
            i: stream as usize,
            rng: ChaCha8Rng::seed_from_u64(
                self.seed.wrapping_add(stream.wrapping_mul(0x9e37_79b9)),
            ),
            seed: self.seed,
        }
    }

    /// The index of the next request in the scenario's list.
    pub(super) fn next(&mut self) -> usize {
        let n = self.n;
        match self.pick {
            Pick::Rotate => {
                let i = self.i % n;
                self.i = self.i.wrapping_add(1);
                i
            }
            Pick::Sample => self.rng.gen_range(0..n),
        }
    }
}
