//! Host-side randomness. Every random draw of a training step comes from an RNG seeded by
//! (run seed, step, stream), so a resumed run draws exactly what the straight run drew and no
//! RNG state needs saving.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Independent streams of one run.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Stream {
    Shuffle = 1,
    Preprocess = 2,
    Model = 3,
    FixedNoise = 4,
    Eval = 5,
}

pub fn rng_for(seed: u64, step: u64, stream: Stream) -> ChaCha8Rng {
    // SplitMix-style mixing so nearby (seed, step) pairs give unrelated streams.
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(step.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add((stream as u64).wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}
