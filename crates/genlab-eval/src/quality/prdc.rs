//! Precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al. 2020)
//! of generated features against real ones, with k-nearest-neighbour balls, as the `prdc`
//! package computes them:
//!
//!   precision = share of fake rows inside some real row's ball (radius: its k-th neighbour)
//!   recall    = share of real rows inside some fake row's ball
//!   density   = (1/k) mean over fake rows of the number of real balls holding them
//!   coverage  = share of real rows whose ball holds at least one fake row
//!
//! Defaults: k = 3 for precision / recall (their paper), k = 5 for density / coverage (theirs).

use super::distances::{kth_neighbour_distances, pairwise_sq_distances};
use super::{check_pair, Features};
use anyhow::Result;

pub const PR_K: usize = 3;
pub const DC_K: usize = 5;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Prdc {
    pub precision: f64,
    pub recall: f64,
    pub density: f64,
    pub coverage: f64,
    /// The k of precision / recall and of density / coverage.
    pub k_pr: usize,
    pub k_dc: usize,
}

/// The four metrics; `k_pr` and `k_dc` as above (the prdc package uses one k for all four).
pub fn prdc(real: &Features, fake: &Features, k_pr: usize, k_dc: usize) -> Result<Prdc> {
    if k_pr == 0 || k_dc == 0 {
        anyhow::bail!(
            "k must be at least 1 (found {k_pr} for precision/recall, {k_dc} for density/coverage)"
        );
    }
    check_pair(real, fake, k_pr.max(k_dc) + 1)?;
    let real_r_pr = kth_neighbour_distances(real, k_pr);
    let real_r_dc = if k_dc == k_pr {
        real_r_pr.clone()
    } else {
        kth_neighbour_distances(real, k_dc)
    };
    let fake_r_pr = kth_neighbour_distances(fake, k_pr);
    let (mut fake_in_real, mut real_in_fake) = (vec![false; fake.n], vec![false; real.n]);
    let mut density_count = 0usize;
    let mut covered = vec![false; real.n];
    // Blocks of real rows against every fake row: distances [real, fake].
    pairwise_sq_distances(real, fake, |start, block| {
        for (r, row) in block.chunks(fake.n).enumerate() {
            let i = start + r;
            let (pr, dc) = (real_r_pr[i], real_r_dc[i]);
            let mut nearest = f64::INFINITY;
            for (j, &sq) in row.iter().enumerate() {
                let dist = sq.sqrt();
                fake_in_real[j] |= dist < pr;
                real_in_fake[i] |= dist < fake_r_pr[j];
                density_count += (dist < dc) as usize;
                nearest = nearest.min(dist);
            }
            covered[i] = nearest < dc;
        }
    });
    let share = |v: &[bool]| v.iter().filter(|&&b| b).count() as f64 / v.len() as f64;
    Ok(Prdc {
        precision: share(&fake_in_real),
        recall: share(&real_in_fake),
        density: density_count as f64 / (k_dc as f64 * fake.n as f64),
        coverage: share(&covered),
        k_pr,
        k_dc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subset_has_full_precision_and_partial_recall() {
        // Real points on a line 0..40; fake points the first half of them: every fake point
        // lies inside real balls (precision 1), only about half the real ones are near fakes.
        let real = Features::new((0..40).map(|i| i as f64).collect(), 1).unwrap();
        let fake = Features::new((0..20).map(|i| i as f64 + 0.1).collect(), 1).unwrap();
        let p = prdc(&real, &fake, 3, 5).unwrap();
        assert_eq!(p.precision, 1.0, "{p:?}");
        assert!(p.recall > 0.4 && p.recall < 0.6, "{p:?}");
        assert!(p.coverage > 0.45 && p.coverage < 0.65, "{p:?}");
        assert!(p.density > 1.0, "{p:?}");
        assert!(prdc(&real, &fake.head(3), 3, 5).is_err());
    }
}
