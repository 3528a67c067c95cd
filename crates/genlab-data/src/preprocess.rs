//! How pixels reach a model: binarization, scaling and dequantization. Applied per batch by the
//! trainer so that dynamic binarization draws fresh bits every step from the run's seed.

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Binarize {
    /// Keep grey levels.
    #[default]
    None,
    /// Each step draws x ~ Bernoulli(pixel) afresh (Salakhutdinov & Murray 2008 style training).
    Dynamic,
    /// One fixed draw per example, seeded by the example index and STATIC_BINARIZATION_SEED.
    Static,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// Pixels in [0, 1].
    #[default]
    Unit,
    /// Pixels in [-1, 1] (tanh outputs).
    Symmetric,
}

impl Scale {
    /// `v` on this scale to the same value on scale `to` (affine, no clipping: points are
    /// unbounded).
    pub fn convert(self, v: f32, to: Scale) -> f32 {
        match (self, to) {
            (Scale::Symmetric, Scale::Unit) => (v + 1.0) * 0.5,
            (Scale::Unit, Scale::Symmetric) => v * 2.0 - 1.0,
            _ => v,
        }
    }
}

/// The fixed seed of static binarization, printed in every eval protocol.
pub const STATIC_BINARIZATION_SEED: u64 = 0x005E_EDB1;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    pub binarize: Binarize,
    pub scale: Scale,
    /// Add U(0, 1/256) noise to 8-bit pixels so that a density on [0, 1] is a valid likelihood.
    pub dequantize: bool,
}

impl Preprocess {
    /// Transform a batch in place. `index` gives each row's dataset index (static binarization).
    pub fn apply(&self, x: &mut [f32], d: usize, index: &[usize], rng: &mut impl Rng) {
        match self.binarize {
            Binarize::None => {}
            Binarize::Dynamic => x
                .iter_mut()
                .for_each(|v| *v = (rng.random::<f32>() < *v) as u8 as f32),
            Binarize::Static => {
                for (row, &i) in x.chunks_mut(d).zip(index) {
                    let mut r = static_rng(i);
                    row.iter_mut()
                        .for_each(|v| *v = (r.random::<f32>() < *v) as u8 as f32);
                }
            }
        }
        if self.dequantize && self.binarize == Binarize::None {
            // x in {0, 1/255, ..., 1} -> (255 x + u) / 256 in [0, 1).
            x.iter_mut()
                .for_each(|v| *v = (*v * 255.0 + rng.random::<f32>()) / 256.0);
        }
        if self.scale == Scale::Symmetric {
            x.iter_mut().for_each(|v| *v = *v * 2.0 - 1.0);
        }
    }

    /// Evaluation never draws a fresh binarization: dynamic training means a fixed static one.
    pub fn for_evaluation(self) -> Self {
        match self.binarize {
            Binarize::Dynamic => Self {
                binarize: Binarize::Static,
                ..self
            },
            _ => self,
        }
    }

    /// Map model-space values back to [0, 1] for pictures.
    pub fn to_unit(&self, v: f32) -> f32 {
        match self.scale {
            Scale::Unit => v,
            Scale::Symmetric => (v + 1.0) * 0.5,
        }
        .clamp(0.0, 1.0)
    }

    /// Map [0, 1] pixels into model space (the inverse of [`Self::to_unit`]).
    pub fn from_unit(&self, v: f32) -> f32 {
        match self.scale {
            Scale::Unit => v,
            Scale::Symmetric => v * 2.0 - 1.0,
        }
    }

    pub fn is_binary(&self) -> bool {
        self.binarize != Binarize::None
    }
}

fn static_rng(i: usize) -> rand_chacha::ChaCha8Rng {
    use rand::SeedableRng;
    rand_chacha::ChaCha8Rng::seed_from_u64(
        STATIC_BINARIZATION_SEED ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn static_binarization_is_the_same_every_time() {
        let p = Preprocess {
            binarize: Binarize::Static,
            scale: Scale::Unit,
            dequantize: false,
        };
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut a = vec![0.5f32; 8];
        let mut b = vec![0.5f32; 8];
        p.apply(&mut a, 4, &[3, 7], &mut r);
        p.apply(&mut b, 4, &[3, 7], &mut r);
        assert_eq!(a, b);
        assert!(a.iter().all(|&v| v == 0.0 || v == 1.0));
    }

    #[test]
    fn dequantized_pixels_stay_in_their_bin() {
        let p = Preprocess {
            binarize: Binarize::None,
            scale: Scale::Unit,
            dequantize: true,
        };
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut x = vec![0.0, 1.0, 128.0 / 255.0];
        p.apply(&mut x, 3, &[0], &mut r);
        assert!(x[0] >= 0.0 && x[0] < 1.0 / 256.0);
        assert!(x[1] >= 255.0 / 256.0 && x[1] < 1.0);
        assert!(x[2] >= 128.0 / 256.0 && x[2] < 129.0 / 256.0);
    }
}
