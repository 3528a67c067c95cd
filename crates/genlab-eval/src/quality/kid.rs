//! Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimate of the squared MMD
//! between two feature sets under the cubic polynomial kernel k(x, y) = (x·y / d + 1)^3,
//! averaged over random subsets, as torch-fidelity computes it (100 subsets of 1000 rows by
//! default; its estimator, whose cross term divides by m^2):
//!
//!   MMD^2 = (sum_{i!=j} k(x_i, x_j) + sum_{i!=j} k(y_i, y_j)) / (m (m - 1)) - 2 sum_ij k(x_i, y_j) / m^2

use super::{check_pair, Features};
use anyhow::Result;
use genlab_nn::linalg::gemm_into;
use rand::seq::index::sample;
use rand::SeedableRng;

/// torch-fidelity's defaults.
pub const KID_SUBSETS: usize = 100;
pub const KID_SUBSET_SIZE: usize = 1000;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Kid {
    pub kid: f64,
    /// Standard deviation over the subsets (numpy's `np.std`, as torch-fidelity).
    pub kid_std: f64,
    pub subsets: usize,
    /// Rows per subset: [`KID_SUBSET_SIZE`], or fewer when a set has fewer rows.
    pub subset_size: usize,
}

/// Gram matrix of the polynomial kernel between the rows `ia` of `a` and `ib` of `b`.
fn kernel(a: &Features, ia: &[usize], b: &Features, ib: &[usize]) -> Vec<f64> {
    let d = a.d;
    let gather = |f: &Features, idx: &[usize]| -> Vec<f64> {
        idx.iter().flat_map(|&i| f.row(i).iter().copied()).collect()
    };
    let (xa, xb) = (gather(a, ia), gather(b, ib));
    let mut k = vec![0.0; ia.len() * ib.len()];
    gemm_into(
        &mut k,
        &xa,
        &xb,
        (ia.len(), d, ib.len()),
        false,
        true,
        false,
        true,
    );
    k.iter_mut()
        .for_each(|v| *v = (*v / d as f64 + 1.0).powi(3));
    k
}

/// The unbiased MMD^2 of one pair of subsets of `m` rows each.
fn mmd2(real: &Features, ir: &[usize], fake: &Features, ig: &[usize]) -> f64 {
    let m = ir.len() as f64;
    let off_diagonal = |k: Vec<f64>, n: usize| -> f64 {
        k.iter().sum::<f64>() - (0..n).map(|i| k[i * n + i]).sum::<f64>()
    };
    let xx = off_diagonal(kernel(real, ir, real, ir), ir.len());
    let yy = off_diagonal(kernel(fake, ig, fake, ig), ig.len());
    let xy: f64 = kernel(real, ir, fake, ig).iter().sum();
    (xx + yy) / (m * (m - 1.0)) - 2.0 * xy / (m * m)
}

/// KID over `subsets` random subsets of `subset_size` rows of each set (capped at the smaller
/// set; each subset drawn without replacement), seeded.
pub fn kid(
    real: &Features,
    fake: &Features,
    subsets: usize,
    subset_size: usize,
    seed: u64,
) -> Result<Kid> {
    check_pair(real, fake, 2)?;
    let m = subset_size.min(real.n).min(fake.n);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<f64> = (0..subsets.max(1))
        .map(|_| {
            let ir = sample(&mut rng, real.n, m).into_vec();
            let ig = sample(&mut rng, fake.n, m).into_vec();
            mmd2(real, &ir, fake, &ig)
        })
        .collect();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    Ok(Kid {
        kid: mean,
        kid_std: var.sqrt(),
        subsets: values.len(),
        subset_size: m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_is_zero_in_expectation_and_positive_for_a_shift() {
        // Two random subsets of one set: the estimate scatters around 0 (either sign, within
        // a few of its standard deviations); a shifted set is far above it.
        let rows = |shift: f64| {
            let x: Vec<f64> = (0..200)
                .flat_map(|i| {
                    let t = i as f64 * 0.37;
                    [t.sin() + shift, (1.7 * t).cos(), (0.3 * t).sin()]
                })
                .collect();
            Features::new(x, 3).unwrap()
        };
        let same = kid(&rows(0.0), &rows(0.0), 10, 100, 0).unwrap();
        let shifted = kid(&rows(0.0), &rows(1.0), 10, 100, 0).unwrap();
        assert_eq!((same.subsets, same.subset_size), (10, 100));
        assert!(same.kid.abs() < 3.0 * same.kid_std, "{same:?}");
        assert!(
            shifted.kid > 20.0 * same.kid_std,
            "{shifted:?} against {same:?}"
        );
        // Fewer rows than the subset size shrink the subset.
        assert_eq!(
            kid(&rows(0.0), &rows(1.0), 2, 1000, 0).unwrap().subset_size,
            200
        );
    }
}
