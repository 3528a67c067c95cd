//! Sample quality on a judge's features (issue 21): FID, KID, precision / recall, density /
//! coverage, the Inception score and memorisation, one file each, in f64. Each takes feature
//! matrices ([`Features`], row-major `[n, d]`), so that `genlab score` can compute them on any
//! two `.npy` files and anyone can recompute them from `genlab features`.

mod distances;
mod fid;
mod inception;
mod kid;
mod memorization;
mod prdc;
mod protocol;

pub use distances::{kth_neighbour_distances, pairwise_sq_distances};
pub use fid::{fid, Fid};
pub use inception::{inception_score, InceptionScore, IS_SPLITS};
pub use kid::{kid, Kid, KID_SUBSETS, KID_SUBSET_SIZE};
pub use memorization::{memorization, Memorization};
pub use prdc::{prdc, Prdc, DC_K, PR_K};
pub use protocol::{
    draw_samples, features_of, model_space, refuse_diverged, sample_quality, JudgeRef,
    ProtocolRecord, SampleQuality, PROTOCOL_SAMPLES, SAMPLE_STREAM,
};

use anyhow::{bail, Result};

/// `n` feature vectors of width `d`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    pub x: Vec<f64>,
    pub n: usize,
    pub d: usize,
}

impl Features {
    /// `x` as `[n, d]`; an error when its length is not a multiple of `d`.
    pub fn new(x: Vec<f64>, d: usize) -> Result<Self> {
        if d == 0 || !x.len().is_multiple_of(d) {
            bail!("{} values do not make rows of width {d}", x.len());
        }
        Ok(Self {
            n: x.len() / d,
            x,
            d,
        })
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The first `n` rows.
    pub fn head(&self, n: usize) -> Self {
        let n = n.min(self.n);
        Self {
            x: self.x[..n * self.d].to_vec(),
            n,
            d: self.d,
        }
    }
}

/// Both sets have the same width and at least `min` rows each.
pub(crate) fn check_pair(real: &Features, fake: &Features, min: usize) -> Result<()> {
    if real.d != fake.d {
        bail!(
            "the real features have {} columns and the generated ones {}: compute both with the same judge",
            real.d,
            fake.d
        );
    }
    if real.n < min || fake.n < min {
        bail!(
            "too few feature rows ({} real, {} generated): this metric needs at least {min} of each",
            real.n,
            fake.n
        );
    }
    Ok(())
}
