//! Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, eq. 6;
//! "FID" on Inception features, here on the judge's):
//!
//!   FID = ||mu_r - mu_g||^2 + tr(S_r) + tr(S_g) - 2 tr((S_r S_g)^(1/2))
//!
//! with unbiased covariances (numpy's `np.cov`, as pytorch-fid). The trace of the matrix square
//! root comes from a symmetric eigendecomposition in f64: tr((S_r S_g)^(1/2)) =
//! sum_i sqrt(lambda_i(S_r^(1/2) S_g S_r^(1/2))), the same eigenvalues as S_r S_g but of a
//! symmetric matrix; negative eigenvalues (round-off) are clamped to 0 and the rank reported.

use super::{check_pair, Features};
use anyhow::Result;
use genlab_nn::linalg::{matmul, matmul_tn, sym_eigen};

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Fid {
    pub fid: f64,
    /// Eigenvalues of S_r^(1/2) S_g S_r^(1/2) above 1e-10 of the largest: below the feature
    /// width, the covariances are singular (fewer samples than features, dead features).
    pub rank: usize,
}

/// Mean `[d]` and unbiased covariance `[d, d]` of the rows.
fn moments(f: &Features) -> (Vec<f64>, Vec<f64>) {
    let d = f.d;
    let mut mu = vec![0.0; d];
    for r in f.x.chunks(d) {
        mu.iter_mut().zip(r).for_each(|(m, v)| *m += v);
    }
    mu.iter_mut().for_each(|m| *m /= f.n as f64);
    let centred: Vec<f64> =
        f.x.chunks(d)
            .flat_map(|r| r.iter().zip(&mu).map(|(v, m)| v - m))
            .collect();
    let mut cov = matmul_tn(&centred, &centred, f.n, d, d);
    cov.iter_mut().for_each(|c| *c /= (f.n - 1) as f64);
    (mu, cov)
}

/// V diag(sqrt(max(lambda, 0))) V^T of a symmetric PSD matrix.
fn sqrt_psd(a: &[f64], d: usize) -> Vec<f64> {
    let (lambda, v) = sym_eigen(a, d);
    let mut vs = v.clone();
    for i in 0..d {
        for (j, l) in lambda.iter().enumerate() {
            vs[i * d + j] *= l.max(0.0).sqrt();
        }
    }
    let mut vt = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            vt[j * d + i] = v[i * d + j];
        }
    }
    matmul(&vs, &vt, d, d, d)
}

/// FID between `real` and `fake` features (at least 2 rows each, the same width).
pub fn fid(real: &Features, fake: &Features) -> Result<Fid> {
    check_pair(real, fake, 2)?;
    let d = real.d;
    let (mu_r, s_r) = moments(real);
    let (mu_g, s_g) = moments(fake);
    let root = sqrt_psd(&s_r, d);
    let m = matmul(&matmul(&root, &s_g, d, d, d), &root, d, d, d);
    // Symmetrise away round-off before the eigensolver.
    let m: Vec<f64> = (0..d * d)
        .map(|i| 0.5 * (m[i] + m[(i % d) * d + i / d]))
        .collect();
    let (lambda, _) = sym_eigen(&m, d);
    let top = lambda.iter().cloned().fold(0.0, f64::max);
    let rank = lambda.iter().filter(|&&l| l > 1e-10 * top).count();
    let tr_sqrt: f64 = lambda.iter().map(|l| l.max(0.0).sqrt()).sum();
    let trace = |s: &[f64]| (0..d).map(|i| s[i * d + i]).sum::<f64>();
    let mean_term: f64 = mu_r.iter().zip(&mu_g).map(|(a, b)| (a - b) * (a - b)).sum();
    Ok(Fid {
        fid: mean_term + trace(&s_r) + trace(&s_g) - 2.0 * tr_sqrt,
        rank,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fid_of_gaussians_with_known_moments() {
        // 1-D: N(0, 1) against N(3, 4) -> 9 + 1 + 4 - 2 * 2 = 10, from exact sample moments:
        // rows -1, 1 have mean 0 and unbiased variance 2; rows 1, 5 mean 3 and variance 8,
        // so FID = 9 + 2 + 8 - 2 sqrt(16) = 11.
        let a = Features::new(vec![-1.0, 1.0], 1).unwrap();
        let b = Features::new(vec![1.0, 5.0], 1).unwrap();
        let f = fid(&a, &b).unwrap();
        assert!((f.fid - 11.0).abs() < 1e-12, "{f:?}");
        assert_eq!(f.rank, 1);
        // A set against itself: 0.
        let c = Features::new((0..40).map(|i| ((i * 7) % 11) as f64).collect(), 4).unwrap();
        assert!(fid(&c, &c).unwrap().fid.abs() < 1e-9);
    }
}
