//! `gmm`: Gaussian mixture fitted by expectation-maximisation (Dempster, Laird & Rubin 1977;
//! Bishop, PRML §9.2), with the four covariance structures and initialisations of
//! scikit-learn's `GaussianMixture`, so that results can be checked against it number for number.
//!
//! Each training step is one EM iteration over the whole training set:
//!   1. E-step: r_ik = w_k N(x_i | mu_k, Sigma_k) / sum_j w_j N(x_i | mu_j, Sigma_j)   (eq. 9.23)
//!   2. M-step: N_k = sum_i r_ik, w_k = N_k / N, mu_k = sum_i r_ik x_i / N_k,
//!      Sigma_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)ᵀ / N_k + reg_covar I     (eqs. 9.24-9.27)
//!
//! and training stops early once the mean log-likelihood changes by less than `tol`.
//! On images, `pca = p` first projects onto the p leading principal components (stored in the
//! model); samples are mapped back to pixels.
//!
//! NOTE: `n_init > 1` runs the restarts side by side, one EM iteration each per step, and keeps
//! the one with the highest log-likelihood (sklearn runs them one after another; same result).
//! NOTE: like sklearn, `reg_covar` is added to every variance, and 10 * f64::EPSILON to every N_k.

use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::{
    Batch, Bound, DataInfo, Family, Likelihood, Losses, Model, NamedTensors, Sample, StepCtx,
};
use genlab_data::Kind;
use genlab_nn::linalg::{cholesky, gemm_into, lower_inverse, matmul_tn, Pca};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const LN_2PI: f64 = 1.837_877_066_409_345_3;
/// Rows per parallel block: a block of x and its scratch stay in L2 cache.
const BLOCK: usize = 256;

/// Per-thread scratch buffers, reused across the blocks a thread takes (no allocation per block).
#[derive(Default)]
struct Scratch {
    a: Vec<f64>,
    b: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Covariance {
    /// One full covariance matrix per component.
    Full,
    /// One full covariance matrix shared by all components.
    Tied,
    /// One diagonal covariance per component.
    Diag,
    /// One variance per component.
    Spherical,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Init {
    /// k-means++ seeding (Arthur & Vassilvitskii 2007), responsibilities = nearest seed.
    #[serde(rename = "kmeans++")]
    KmeansPlusPlus,
    /// Random responsibilities, normalised per example.
    #[serde(rename = "random")]
    Random,
    /// k-means++ seeding, then Lloyd's k-means to convergence (sklearn's default).
    #[serde(rename = "kmeans")]
    Kmeans,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GmmConfig {
    /// Number of components K.
    pub k: usize,
    pub covariance: Covariance,
    pub init: Init,
    /// Restarts from different initialisations; the best log-likelihood wins.
    pub n_init: usize,
    /// Added to the diagonal of every covariance: keeps it invertible (sklearn's 1e-6).
    pub reg_covar: f64,
    /// Stop when the mean log-likelihood per example changes by less than this (sklearn 1e-3).
    pub tol: f64,
    /// Project onto this many principal components before fitting (0 = fit the raw data).
    pub pca: usize,
    /// Scale the principal components to unit variance.
    pub whiten: bool,
}

impl Default for GmmConfig {
    fn default() -> Self {
        Self {
            k: 10,
            covariance: Covariance::Full,
            init: Init::Kmeans,
            n_init: 1,
            reg_covar: 1e-6,
            tol: 1e-3,
            pca: 0,
            whiten: false,
        }
    }
}

/// A fitted mixture: weights `[K]`, means `[K, d]`, covariances (full `[K, d, d]`, tied
/// `[d, d]`, diag `[K, d]`, spherical `[K]`), and the Cholesky factors of the precisions
/// (`prec_chol`: upper triangular `Pᵀ` with `P Pᵀ = Sigma⁻¹`, same layout) the E-step uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    pub k: usize,
    pub d: usize,
    pub covariance: Covariance,
    pub weights: Vec<f64>,
    pub means: Vec<f64>,
    pub covariances: Vec<f64>,
    prec_chol: Vec<f64>,
    /// Cholesky factors `L` of the covariances (full and tied only), for sampling.
    lower: Vec<f64>,
    /// `log det P_k` = -1/2 log det Sigma_k, per component.
    pub(crate) log_det: Vec<f64>,
}

impl Mixture {
    /// Build from parameters; a covariance that is not positive definite is an error that
    /// names the fix.
    pub fn new(
        covariance: Covariance,
        weights: Vec<f64>,
        means: Vec<f64>,
        covariances: Vec<f64>,
    ) -> Result<Self> {
        let k = weights.len();
        let d = means.len() / k.max(1);
        let singular = |j: usize| {
            anyhow::anyhow!(
                "gmm: component {j} has a singular covariance (it collapsed onto too few or duplicate points); raise model.reg_covar (e.g. --set model.reg_covar=1e-3), lower model.k, or use model.covariance = \"diag\""
            )
        };
        let (prec_chol, lower, log_det) = match covariance {
            Covariance::Full | Covariance::Tied => {
                let mats = if covariance == Covariance::Full { k } else { 1 };
                let mut pc = Vec::with_capacity(mats * d * d);
                let mut lower = Vec::with_capacity(mats * d * d);
                let mut ld = Vec::with_capacity(mats);
                for j in 0..mats {
                    let l = cholesky(&covariances[j * d * d..(j + 1) * d * d], d)
                        .ok_or_else(|| singular(j))?;
                    let inv = lower_inverse(&l, d);
                    // P = L⁻ᵀ (upper triangular): x P has covariance I when x ~ N(0, L Lᵀ).
                    for r in 0..d {
                        for c in 0..d {
                            pc.push(inv[c * d + r]);
                        }
                    }
                    ld.push(-(0..d).map(|i| l[i * d + i].ln()).sum::<f64>());
                    lower.extend(l);
                }
                if covariance == Covariance::Tied {
                    ld = vec![ld[0]; k];
                }
                (pc, lower, ld)
            }
            Covariance::Diag | Covariance::Spherical => {
                if let Some(j) = covariances.iter().position(|v| *v <= 0.0 || !v.is_finite()) {
                    let per = if covariance == Covariance::Diag { d } else { 1 };
                    return Err(singular(j / per));
                }
                let pc: Vec<f64> = covariances.iter().map(|v| 1.0 / v.sqrt()).collect();
                let ld = (0..k)
                    .map(|j| match covariance {
                        Covariance::Diag => pc[j * d..(j + 1) * d].iter().map(|p| p.ln()).sum(),
                        _ => d as f64 * pc[j].ln(),
                    })
                    .collect();
                (pc, Vec::new(), ld)
            }
        };
        Ok(Self {
            k,
            d,
            covariance,
            weights,
            means,
            covariances,
            prec_chol,
            lower,
            log_det,
        })
    }

    /// Every component starting from the same covariance: the empirical one of `x`.
    pub fn from_means(
        covariance: Covariance,
        means: Vec<f64>,
        d: usize,
        x: &[f64],
        reg: f64,
    ) -> Result<Self> {
        let (k, n) = (means.len() / d, x.len() / d);
        let (_, mut cov) = genlab_nn::linalg::mean_and_covariance(x, n, d);
        for i in 0..d {
            cov[i * d + i] += reg;
        }
        let covariances = match covariance {
            Covariance::Full => cov.repeat(k),
            Covariance::Tied => cov,
            Covariance::Diag => (0..d).map(|i| cov[i * d + i]).collect::<Vec<_>>().repeat(k),
            Covariance::Spherical => {
                vec![(0..d).map(|i| cov[i * d + i]).sum::<f64>() / d as f64; k]
            }
        };
        Self::new(covariance, vec![1.0 / k as f64; k], means, covariances)
    }

    /// `log w_k + log N(x_i | k)` for every row, `[n, K]`.
    pub fn weighted_log_prob(&self, x: &[f64]) -> Vec<f64> {
        let (k, d) = (self.k, self.d);
        let n = x.len() / d;
        let mut out = vec![0.0; n * k];
        let log_w: Vec<f64> = self.weights.iter().map(|w| w.ln()).collect();
        let stacked = self.stacked_precisions();
        out.par_chunks_mut(BLOCK * k)
            .zip(x.par_chunks(BLOCK * d))
            .for_each_init(Scratch::default, |scratch, (o, xb)| {
                let rows = xb.len() / d;
                let maha = &mut scratch.b;
                maha.resize(rows * k, 0.0);
                self.mahalanobis(xb, &stacked, &mut scratch.a, maha);
                for i in 0..rows {
                    for j in 0..k {
                        o[i * k + j] = log_w[j] - 0.5 * (d as f64 * LN_2PI + maha[i * k + j])
                            + self.log_det[j];
                    }
                }
            });
        out
    }

    /// Full / tied: the precision factors side by side, `[P_1 | ... | P_K]` `[d, K d]`, and
    /// `mu_k P_k` `[K d]`, so that one product per block of rows serves every component.
    fn stacked_precisions(&self) -> (Vec<f64>, Vec<f64>) {
        let (k, d) = (self.k, self.d);
        if !matches!(self.covariance, Covariance::Full | Covariance::Tied) {
            return (Vec::new(), Vec::new());
        }
        let mut stacked = vec![0.0; d * k * d];
        let mut mu_p = vec![0.0; k * d];
        for j in 0..k {
            let m = if self.covariance == Covariance::Full {
                j
            } else {
                0
            };
            let p = &self.prec_chol[m * d * d..(m + 1) * d * d];
            for r in 0..d {
                stacked[r * k * d + j * d..r * k * d + (j + 1) * d]
                    .copy_from_slice(&p[r * d..(r + 1) * d]);
            }
            let mu = &self.means[j * d..(j + 1) * d];
            gemm_into(
                &mut mu_p[j * d..(j + 1) * d],
                mu,
                p,
                (1, d, d),
                false,
                false,
                false,
                false,
            );
        }
        (stacked, mu_p)
    }

    /// `||(x_i - mu_k) P_k||²` into `out [rows, K]` for a block of rows.
    fn mahalanobis(
        &self,
        xb: &[f64],
        stacked: &(Vec<f64>, Vec<f64>),
        y: &mut Vec<f64>,
        out: &mut [f64],
    ) {
        let (k, d) = (self.k, self.d);
        let rows = xb.len() / d;
        match self.covariance {
            Covariance::Full | Covariance::Tied => {
                let (p_all, mu_p) = stacked;
                // y = x [P_1 | ... | P_K]   [rows, K d]; row i, component j: y_ij - mu_j P_j
                y.resize(rows * k * d, 0.0);
                gemm_into(y, xb, p_all, (rows, d, k * d), false, false, false, false);
                for (i, yi) in y.chunks_exact(k * d).enumerate() {
                    for j in 0..k {
                        out[i * k + j] =
                            sum_sq_diff(&yi[j * d..(j + 1) * d], &mu_p[j * d..(j + 1) * d]);
                    }
                }
            }
            Covariance::Diag | Covariance::Spherical => {
                // sklearn's expansion, as two products: sum_t mu²p - 2 x·(mu p) + x²·p.
                let prec: Vec<f64> = (0..k * d)
                    .map(|i| match self.covariance {
                        Covariance::Diag => self.prec_chol[i].powi(2),
                        _ => self.prec_chol[i / d].powi(2),
                    })
                    .collect();
                let mu_prec: Vec<f64> = prec.iter().zip(&self.means).map(|(p, m)| p * m).collect();
                let base: Vec<f64> = (0..k)
                    .map(|j| {
                        (0..d)
                            .map(|t| self.means[j * d + t] * mu_prec[j * d + t])
                            .sum()
                    })
                    .collect();
                let x2: Vec<f64> = xb.iter().map(|v| v * v).collect();
                let mut cross = vec![0.0; rows * k];
                gemm_into(
                    &mut cross,
                    xb,
                    &mu_prec,
                    (rows, d, k),
                    false,
                    true,
                    false,
                    false,
                );
                gemm_into(out, &x2, &prec, (rows, d, k), false, true, false, false);
                for i in 0..rows {
                    for j in 0..k {
                        out[i * k + j] += base[j] - 2.0 * cross[i * k + j];
                    }
                }
            }
        }
    }

    /// Per-example log-likelihood `[n]` and responsibilities `[n, K]` (the E-step).
    pub fn e_step(&self, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let k = self.k;
        let mut resp = self.weighted_log_prob(x);
        let ll: Vec<f64> = resp
            .par_chunks_mut(k)
            .map(|row| {
                let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                row.iter_mut().for_each(|v| *v = (*v - lse).exp());
                lse
            })
            .collect();
        (ll, resp)
    }

    /// The M-step: parameters that maximise the expected complete-data log-likelihood.
    pub fn m_step(
        x: &[f64],
        resp: &[f64],
        k: usize,
        covariance: Covariance,
        reg: f64,
    ) -> Result<Self> {
        let (nk, means, covariances) = gaussian_statistics(x, resp, k, covariance, reg);
        let total: f64 = nk.iter().sum();
        Self::new(
            covariance,
            nk.iter().map(|v| v / total).collect(),
            means,
            covariances,
        )
    }

    /// `n` draws `[n, d]`: a component by its weight, then its Gaussian.
    pub fn sample(&self, n: usize, rng: &mut impl Rng) -> Vec<f64> {
        let mut out = Vec::with_capacity(n * self.d);
        for _ in 0..n {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let j = self
                .weights
                .iter()
                .position(|w| {
                    acc += w;
                    u < acc
                })
                .unwrap_or(self.k - 1);
            out.extend(self.sample_component(j, rng));
        }
        out
    }

    /// One draw `[d]` from component `j`: mu_j + L_j eps with eps ~ N(0, I).
    pub fn sample_component(&self, j: usize, rng: &mut impl Rng) -> Vec<f64> {
        let d = self.d;
        let eps: Vec<f64> = (0..d).map(|_| StandardNormal.sample(rng)).collect();
        let mu = &self.means[j * d..(j + 1) * d];
        (0..d)
            .map(|r| {
                let dev = match self.covariance {
                    Covariance::Full | Covariance::Tied => {
                        let m = if self.covariance == Covariance::Full {
                            j
                        } else {
                            0
                        };
                        let l = &self.lower[m * d * d..(m + 1) * d * d];
                        (0..=r).map(|c| l[r * d + c] * eps[c]).sum::<f64>()
                    }
                    Covariance::Diag => self.covariances[j * d + r].sqrt() * eps[r],
                    Covariance::Spherical => self.covariances[j].sqrt() * eps[r],
                };
                mu[r] + dev
            })
            .collect()
    }

    /// Free parameters: K - 1 weights, K d means, and the covariances.
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.k, self.d);
        let cov = match self.covariance {
            Covariance::Full => k * d * (d + 1) / 2,
            Covariance::Tied => d * (d + 1) / 2,
            Covariance::Diag => k * d,
            Covariance::Spherical => k,
        };
        k - 1 + k * d + cov
    }

    /// Bayesian information criterion: -2 log L + p log N (lower is better).
    pub fn bic(&self, total_log_lik: f64, n: usize) -> f64 {
        -2.0 * total_log_lik + self.n_parameters() as f64 * (n as f64).ln()
    }

    /// Akaike information criterion: -2 log L + 2 p.
    pub fn aic(&self, total_log_lik: f64) -> f64 {
        -2.0 * total_log_lik + 2.0 * self.n_parameters() as f64
    }

    fn save(&self, out: &mut NamedTensors, prefix: &str) {
        let (k, d) = (self.k, self.d);
        out.insert_f64(format!("{prefix}.weights"), vec![k], self.weights.clone());
        out.insert_f64(format!("{prefix}.means"), vec![k, d], self.means.clone());
        out.insert_f64(
            format!("{prefix}.covariances"),
            vec![self.covariances.len()],
            self.covariances.clone(),
        );
    }

    fn load(params: &NamedTensors, prefix: &str, covariance: Covariance) -> Result<Self> {
        let shape = |name: &str| -> Result<Vec<usize>> {
            Ok(params
                .1
                .get(&format!("{prefix}.{name}"))
                .ok_or_else(|| {
                    anyhow::anyhow!("checkpoint does not fit this model: missing {prefix}.{name}")
                })?
                .0
                .clone())
        };
        let means_shape = shape("means")?;
        let (k, d) = (means_shape[0], means_shape[1]);
        let want = match covariance {
            Covariance::Full => k * d * d,
            Covariance::Tied => d * d,
            Covariance::Diag => k * d,
            Covariance::Spherical => k,
        };
        Self::new(
            covariance,
            params.get_f64(&format!("{prefix}.weights"), &[k])?,
            params.get_f64(&format!("{prefix}.means"), &[k, d])?,
            params.get_f64(&format!("{prefix}.covariances"), &[want])?,
        )
    }
}

/// `sum_t (a_t - b_t)²` with four running sums, so that the compiler can vectorise it.
fn sum_sq_diff(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (u, v) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += (u[l] - v[l]) * (u[l] - v[l]);
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(u, v)| (u - v) * (u - v)).sum();
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

/// Responsibility-weighted statistics of `x` (sklearn's `_estimate_gaussian_parameters`):
/// `N_k = sum_i r_ik + 10 eps` `[K]`, means `x̄_k` `[K, d]`, and covariances `S_k` (+ `reg` on
/// every variance) in the layout of `covariance`. Shared by the EM and the variational M-steps.
pub(crate) fn gaussian_statistics(
    x: &[f64],
    resp: &[f64],
    k: usize,
    covariance: Covariance,
    reg: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = resp.len() / k;
    let d = x.len() / n.max(1);
    let nk: Vec<f64> = (0..k)
        .map(|j| (0..n).map(|i| resp[i * k + j]).sum::<f64>() + 10.0 * f64::EPSILON)
        .collect();
    let rx = matmul_tn(resp, x, n, k, d); // [K, d] = Rᵀ X
    let means: Vec<f64> = (0..k * d).map(|i| rx[i] / nk[i / d]).collect();
    let covariances = match covariance {
        Covariance::Full => full_covariances(x, resp, &means, &nk, k, d, reg),
        Covariance::Tied => {
            let mut c = matmul_tn(x, x, n, d, d); // Xᵀ X
            let total: f64 = nk.iter().sum();
            for j in 0..k {
                let mu = &means[j * d..(j + 1) * d];
                for r in 0..d {
                    for s in 0..d {
                        c[r * d + s] -= nk[j] * mu[r] * mu[s];
                    }
                }
            }
            c.iter_mut().for_each(|v| *v /= total);
            for i in 0..d {
                c[i * d + i] += reg;
            }
            c
        }
        Covariance::Diag | Covariance::Spherical => {
            // sklearn's form: E[x²] - 2 mu E[x] + mu², per component and dimension.
            let x2: Vec<f64> = x.iter().map(|v| v * v).collect();
            let rx2 = matmul_tn(resp, &x2, n, k, d);
            let var: Vec<f64> = (0..k * d)
                .map(|i| {
                    let j = i / d;
                    rx2[i] / nk[j] - 2.0 * means[i] * rx[i] / nk[j] + means[i] * means[i] + reg
                })
                .collect();
            if covariance == Covariance::Diag {
                var
            } else {
                var.chunks_exact(d)
                    .map(|v| v.iter().sum::<f64>() / d as f64)
                    .collect()
            }
        }
    };
    (nk, means, covariances)
}

/// Sigma_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)ᵀ / N_k + reg I, in row blocks across threads.
fn full_covariances(
    x: &[f64],
    resp: &[f64],
    means: &[f64],
    nk: &[f64],
    k: usize,
    d: usize,
    reg: f64,
) -> Vec<f64> {
    let mut cov = x
        .par_chunks(BLOCK * d)
        .zip(resp.par_chunks(BLOCK * k))
        .fold(
            || (vec![0.0; k * d * d], Scratch::default()),
            |(mut acc, mut scratch), (xb, rb)| {
                let rows = xb.len() / d;
                let (diff, weighted) = (&mut scratch.a, &mut scratch.b);
                diff.resize(rows * d, 0.0);
                weighted.resize(rows * d, 0.0);
                for j in 0..k {
                    let mu = &means[j * d..(j + 1) * d];
                    for i in 0..rows {
                        let r = rb[i * k + j];
                        for t in 0..d {
                            let v = xb[i * d + t] - mu[t];
                            diff[i * d + t] = v;
                            weighted[i * d + t] = r * v;
                        }
                    }
                    // acc_k += (r ∘ D)ᵀ D   [d, d]
                    gemm_into(
                        &mut acc[j * d * d..(j + 1) * d * d],
                        weighted,
                        diff,
                        (d, rows, d),
                        true,
                        false,
                        true,
                        false,
                    );
                }
                (acc, scratch)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(
            || vec![0.0; k * d * d],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    for j in 0..k {
        for v in &mut cov[j * d * d..(j + 1) * d * d] {
            *v /= nk[j];
        }
        for i in 0..d {
            cov[j * d * d + i * d + i] += reg;
        }
    }
    cov
}

/// Starting responsibilities `[n, K]` for EM.
pub fn initial_resp(x: &[f64], d: usize, k: usize, init: Init, rng: &mut impl Rng) -> Vec<f64> {
    let n = x.len() / d;
    let one_hot = |labels: &[usize]| {
        let mut r = vec![0.0; n * k];
        for (i, &l) in labels.iter().enumerate() {
            r[i * k + l] = 1.0;
        }
        r
    };
    match init {
        Init::Random => {
            let mut r: Vec<f64> = (0..n * k).map(|_| rng.random::<f64>()).collect();
            for row in r.chunks_exact_mut(k) {
                let s: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= s);
            }
            r
        }
        Init::KmeansPlusPlus => {
            let centers = kmeans_plus_plus(x, d, k, rng);
            one_hot(&nearest(x, d, &centers).0)
        }
        Init::Kmeans => {
            let mut centers = kmeans_plus_plus(x, d, k, rng);
            let mut labels = nearest(x, d, &centers).0;
            for _ in 0..300 {
                let mut sums = vec![0.0; k * d];
                let mut counts = vec![0usize; k];
                for (i, &l) in labels.iter().enumerate() {
                    counts[l] += 1;
                    for t in 0..d {
                        sums[l * d + t] += x[i * d + t];
                    }
                }
                for j in 0..k {
                    if counts[j] > 0 {
                        for t in 0..d {
                            centers[j * d + t] = sums[j * d + t] / counts[j] as f64;
                        }
                    }
                }
                let next = nearest(x, d, &centers).0;
                if next == labels {
                    break;
                }
                labels = next;
            }
            one_hot(&labels)
        }
    }
}

/// k-means++ seeds `[K, d]`: each next seed drawn with probability proportional to the squared
/// distance to the nearest seed so far (greedy: the best of 2 + ln K candidates, as sklearn).
pub fn kmeans_plus_plus(x: &[f64], d: usize, k: usize, rng: &mut impl Rng) -> Vec<f64> {
    let n = x.len() / d;
    let trials = 2 + (k as f64).ln() as usize;
    let dist2 =
        |i: usize, c: &[f64]| -> f64 { (0..d).map(|t| (x[i * d + t] - c[t]).powi(2)).sum() };
    let first = rng.random_range(0..n);
    let mut centers = x[first * d..(first + 1) * d].to_vec();
    let mut closest: Vec<f64> = (0..n).map(|i| dist2(i, &centers[..d])).collect();
    for _ in 1..k {
        let total: f64 = closest.iter().sum();
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let mut u = rng.random::<f64>() * total;
            let cand = closest
                .iter()
                .position(|&c| {
                    u -= c;
                    u < 0.0
                })
                .unwrap_or(n - 1);
            let c = &x[cand * d..(cand + 1) * d];
            let next: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|i| closest[i].min(dist2(i, c)))
                .collect();
            let pot: f64 = next.iter().sum();
            if best.as_ref().is_none_or(|b| pot < b.0) {
                best = Some((pot, cand, next));
            }
        }
        let (_, cand, next) = best.unwrap();
        centers.extend_from_slice(&x[cand * d..(cand + 1) * d]);
        closest = next;
    }
    centers
}

/// Index of the nearest center for every row, and the squared distance to it.
pub fn nearest(x: &[f64], d: usize, centers: &[f64]) -> (Vec<usize>, Vec<f64>) {
    let k = centers.len() / d;
    x.par_chunks(d)
        .map(|row| {
            (0..k)
                .map(|j| {
                    let c = &centers[j * d..(j + 1) * d];
                    (
                        j,
                        row.iter().zip(c).map(|(a, b)| (a - b).powi(2)).sum::<f64>(),
                    )
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap()
        })
        .unzip()
}

/// Outcome of [`fit`].
pub struct Fit {
    pub mixture: Mixture,
    /// Mean log-likelihood per example after each iteration's E-step.
    pub history: Vec<f64>,
    pub converged: bool,
}

/// EM from the given mixture for at most `max_iter` iterations (the library entry point used by
/// `gmm-select` and the benchmarks; the `gmm` family runs the same steps one per train step).
pub fn fit(x: &[f64], start: Mixture, max_iter: usize, tol: f64, reg: f64) -> Result<Fit> {
    let n = x.len() / start.d;
    let mut mix = start;
    let mut history = Vec::new();
    let mut converged = false;
    for _ in 0..max_iter {
        let (ll, resp) = mix.e_step(x);
        let mean = ll.iter().sum::<f64>() / n as f64;
        mix = Mixture::m_step(x, &resp, mix.k, mix.covariance, reg)?;
        let change = mean - history.last().copied().unwrap_or(f64::NEG_INFINITY);
        history.push(mean);
        if change.abs() < tol {
            converged = true;
            break;
        }
    }
    Ok(Fit {
        mixture: mix,
        history,
        converged,
    })
}

/// One restart of EM inside the family.
#[derive(Clone, Debug)]
struct Restart {
    mix: Mixture,
    /// Mean log-likelihood at the last E-step.
    last: f64,
    converged: bool,
}

pub struct Gmm {
    cfg: GmmConfig,
    kind: Kind,
    restarts: Vec<Restart>,
    pca: Option<Pca>,
    fitted: bool,
}

impl Gmm {
    pub fn new(cfg: GmmConfig, info: &DataInfo) -> Result<Self> {
        if cfg.k == 0 || cfg.n_init == 0 {
            bail!("gmm: model.k and model.n_init must be at least 1");
        }
        if cfg.reg_covar < 0.0 || !cfg.reg_covar.is_finite() {
            bail!("gmm: model.reg_covar must be >= 0 (sklearn's default is 1e-6)");
        }
        let d = info.shape.dim();
        if cfg.pca > d {
            bail!(
                "gmm: model.pca = {} exceeds the data's {d} dimensions",
                cfg.pca
            );
        }
        // Before fitting: every component a broad Gaussian over the data range, so that an
        // untrained model can still draw (meaningless) samples.
        let (center, var) = match info.kind {
            Kind::Images => (0.5, 1.0 / 12.0),
            Kind::Points => (0.0, 1.0),
        };
        let covariances = match cfg.covariance {
            Covariance::Full => identity(d, var).repeat(cfg.k),
            Covariance::Tied => identity(d, var),
            Covariance::Diag => vec![var; cfg.k * d],
            Covariance::Spherical => vec![var; cfg.k],
        };
        let mix = Mixture::new(
            cfg.covariance,
            vec![1.0 / cfg.k as f64; cfg.k],
            vec![center; cfg.k * d],
            covariances,
        )?;
        Ok(Self {
            restarts: vec![
                Restart {
                    mix,
                    last: f64::NEG_INFINITY,
                    converged: false,
                };
                cfg.n_init
            ],
            cfg,
            kind: info.kind,
            pca: None,
            fitted: false,
        })
    }

    fn best(&self) -> &Restart {
        self.restarts
            .iter()
            .max_by(|a, b| a.last.total_cmp(&b.last))
            .unwrap()
    }

    pub fn mixture(&self) -> &Mixture {
        &self.best().mix
    }

    fn start(&mut self, x: &[f64], n: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let d = x.len() / n;
        if self.cfg.k > n {
            bail!(
                "gmm: model.k = {} components but only {n} training examples; lower model.k",
                self.cfg.k
            );
        }
        if self.cfg.pca > 0 {
            self.pca = Some(Pca::fit(x, n, d, self.cfg.pca, self.cfg.whiten));
        }
        let z = project(self.pca.as_ref(), x.to_vec(), n);
        let dz = z.len() / n;
        for r in &mut self.restarts {
            let resp = initial_resp(&z, dz, self.cfg.k, self.cfg.init, rng);
            r.mix = Mixture::m_step(
                &z,
                &resp,
                self.cfg.k,
                self.cfg.covariance,
                self.cfg.reg_covar,
            )?;
        }
        self.fitted = true;
        Ok(z)
    }
}

fn identity(d: usize, v: f64) -> Vec<f64> {
    let mut m = vec![0.0; d * d];
    for i in 0..d {
        m[i * d + i] = v;
    }
    m
}

/// A batch `[b, d]` as f64 rows.
pub(crate) fn rows_f64(x: &Tensor<2>) -> (Vec<f64>, usize) {
    let n = x.dims()[0];
    let v = genlab_core::tensor::to_vec(x.clone())
        .into_iter()
        .map(f64::from)
        .collect();
    (v, n)
}

impl Model for Gmm {
    fn family(&self) -> &'static str {
        "gmm"
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }
    fn full_batch(&self) -> bool {
        true
    }
    fn converged(&self) -> bool {
        self.fitted && self.restarts.iter().all(|r| r.converged)
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (x, n) = rows_f64(&batch.x);
        let z = if self.fitted {
            project(self.pca.as_ref(), x, n)
        } else {
            self.start(&x, n, &mut ctx.rng)?
        };
        let (k, cov, reg, tol) = (
            self.cfg.k,
            self.cfg.covariance,
            self.cfg.reg_covar,
            self.cfg.tol,
        );
        for r in self.restarts.iter_mut().filter(|r| !r.converged) {
            // 1. E-step under the current parameters (its log-likelihood is the reported one).
            let (ll, resp) = r.mix.e_step(&z);
            let mean = ll.iter().sum::<f64>() / n as f64;
            // 2. M-step.
            r.mix = Mixture::m_step(&z, &resp, k, cov, reg)?;
            r.converged = (mean - r.last).abs() < tol;
            r.last = mean;
        }
        let best = self.best();
        let mut losses = Losses::default();
        losses.push("nll", -best.last);
        losses.push("bic", best.mix.bic(best.last * n as f64, n));
        Ok(losses)
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::default();
        for (i, r) in self.restarts.iter().enumerate() {
            r.mix.save(&mut out, &format!("model/restart{i}"));
            out.insert_f64(
                format!("model/restart{i}.state"),
                vec![2],
                vec![r.last, r.converged as u8 as f64],
            );
        }
        out.insert_f64(
            "model/fitted".into(),
            vec![1],
            vec![self.fitted as u8 as f64],
        );
        if let Some(p) = &self.pca {
            out.insert_f64("model/pca.mean".into(), vec![p.d], p.mean.clone());
            out.insert_f64(
                "model/pca.components".into(),
                vec![p.d, p.p],
                p.components.clone(),
            );
            out.insert_f64("model/pca.variances".into(), vec![p.p], p.variances.clone());
        }
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        for (i, r) in self.restarts.iter_mut().enumerate() {
            r.mix = Mixture::load(params, &format!("model/restart{i}"), self.cfg.covariance)?;
            let s = params.get_f64(&format!("model/restart{i}.state"), &[2])?;
            r.last = s[0];
            r.converged = s[1] != 0.0;
        }
        self.fitted = params.get_f64("model/fitted", &[1])?[0] != 0.0;
        self.pca = match params.1.get("model/pca.components") {
            Some((shape, _)) => {
                let (d, p) = (shape[0], shape[1]);
                Some(Pca {
                    d,
                    p,
                    mean: params.get_f64("model/pca.mean", &[d])?,
                    components: params.get_f64("model/pca.components", &[d, p])?,
                    variances: params.get_f64("model/pca.variances", &[p])?,
                    whiten: self.cfg.whiten,
                })
            }
            None => None,
        };
        Ok(())
    }

    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        Some(self)
    }

    fn diagnostics(&self, x: Tensor<2>) -> Result<serde_json::Map<String, serde_json::Value>> {
        let (x, n) = rows_f64(&x);
        let z = project(self.pca.as_ref(), x, n);
        let mix = self.mixture();
        let (ll, resp) = mix.e_step(&z);
        let total: f64 = ll.iter().sum();
        let mut m = serde_json::Map::new();
        m.insert("bic".into(), mix.bic(total, n).into());
        m.insert("aic".into(), mix.aic(total).into());
        m.insert("n_parameters".into(), mix.n_parameters().into());
        m.insert("weights".into(), mix.weights.clone().into());
        m.insert("converged".into(), self.best().converged.into());
        let hard: Vec<usize> = (0..mix.k)
            .map(|j| {
                (0..n)
                    .filter(|&i| (0..mix.k).all(|o| resp[i * mix.k + o] <= resp[i * mix.k + j]))
                    .count()
            })
            .collect();
        m.insert("assigned_per_component".into(), hard.into());
        if let Some(p) = &self.pca {
            m.insert("pca_components".into(), p.p.into());
        }
        Ok(m)
    }
}

impl Sample for Gmm {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let z = self.mixture().sample(n, rng);
        let x = match &self.pca {
            Some(p) => p.inverse(&z, n),
            None => z,
        };
        Ok(to_tensor(x, n, self.kind, device))
    }
}

/// Rows back to a tensor; images clamp to the pixel range (a Gaussian's tails leave it).
pub(crate) fn to_tensor(x: Vec<f64>, n: usize, kind: Kind, device: &Device) -> Tensor<2> {
    let d = x.len() / n.max(1);
    let v: Vec<f32> = x
        .into_iter()
        .map(|v| match kind {
            Kind::Images => v.clamp(0.0, 1.0) as f32,
            Kind::Points => v as f32,
        })
        .collect();
    genlab_core::tensor::matrix(v, n, d, device)
}

/// Data rows -> the space a mixture lives in (its PCA projection, if it has one).
pub(crate) fn project(pca: Option<&Pca>, x: Vec<f64>, n: usize) -> Vec<f64> {
    match pca {
        Some(p) => p.transform(&x, n),
        None => x,
    }
}

/// Per-example log-density of data rows under `mix` fitted after `pca`: the mixture's
/// log-likelihood of the projected rows plus the projection's log-determinant.
pub(crate) fn log_density(mix: &Mixture, pca: Option<&Pca>, x: &Tensor<2>) -> Vec<f64> {
    let (x, n) = rows_f64(x);
    let log_det = pca.map(|p| p.log_det()).unwrap_or(0.0);
    let z = project(pca, x, n);
    mix.e_step(&z).0.into_iter().map(|l| l + log_det).collect()
}

impl Likelihood for Gmm {
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        Ok(log_density(self.mixture(), self.pca.as_ref(), &x))
    }
    fn bound(&self, _k: usize) -> Bound {
        // With PCA this is the exact density of the projected data, not of the pixels.
        Bound::Exact
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(GmmConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, _device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Gmm::new(parse_section("model", model)?, info)?))
}

pub const FAMILY: Family = Family {
    name: "gmm",
    summary: "Gaussian mixture by EM (full/tied/diag/spherical; kmeans++/kmeans/random init; BIC)",
    paper: "Dempster, Laird & Rubin 1977; Bishop PRML §9.2",
    groups: &["model"],
    capabilities: &["sample", "likelihood"],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/gmm/default.toml"),
        ),
        (
            "images",
            include_str!("../../../../configs/gmm/images.toml"),
        ),
        ("tiny", include_str!("../../../../configs/gmm/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Three well separated 2-D clusters.
    fn blobs(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centers = [(-4.0, 0.0), (4.0, 1.0), (0.0, 5.0)];
        (0..n)
            .flat_map(|i| {
                let (cx, cy) = centers[i % 3];
                let a: f64 = StandardNormal.sample(&mut rng);
                let b: f64 = StandardNormal.sample(&mut rng);
                [cx + 0.5 * a, cy + 0.8 * b + 0.3 * a]
            })
            .collect()
    }

    /// log N(x | mu, Sigma) for 2-D, written out from the formula.
    fn gauss2(x: &[f64], mu: &[f64], s: &[f64]) -> f64 {
        let det = s[0] * s[3] - s[1] * s[2];
        let (a, b) = (x[0] - mu[0], x[1] - mu[1]);
        let q = (s[3] * a * a - (s[1] + s[2]) * a * b + s[0] * b * b) / det;
        -LN_2PI - 0.5 * det.ln() - 0.5 * q
    }

    #[test]
    fn log_likelihood_matches_the_closed_form() {
        let x = blobs(30, 1);
        let weights = vec![0.2, 0.3, 0.5];
        let means = vec![-4.0, 0.0, 4.0, 1.0, 0.0, 5.0];
        let covs = vec![0.3, 0.1, 0.1, 0.6, 1.0, 0.0, 0.0, 2.0, 0.5, -0.2, -0.2, 0.4];
        let mix = Mixture::new(
            Covariance::Full,
            weights.clone(),
            means.clone(),
            covs.clone(),
        )
        .unwrap();
        let (ll, resp) = mix.e_step(&x);
        for i in 0..30 {
            let xi = &x[i * 2..i * 2 + 2];
            let comps: Vec<f64> = (0..3)
                .map(|j| {
                    weights[j] * gauss2(xi, &means[j * 2..j * 2 + 2], &covs[j * 4..j * 4 + 4]).exp()
                })
                .collect();
            let total: f64 = comps.iter().sum();
            assert!((ll[i] - total.ln()).abs() < 1e-10, "row {i}");
            for j in 0..3 {
                assert!((resp[i * 3 + j] - comps[j] / total).abs() < 1e-10);
            }
        }
        // The diagonal and spherical forms agree with full matrices of the same shape.
        let diag = Mixture::new(
            Covariance::Diag,
            weights.clone(),
            means.clone(),
            vec![0.3, 0.6, 1.0, 2.0, 0.5, 0.4],
        )
        .unwrap();
        let as_full = Mixture::new(
            Covariance::Full,
            weights.clone(),
            means.clone(),
            vec![0.3, 0.0, 0.0, 0.6, 1.0, 0.0, 0.0, 2.0, 0.5, 0.0, 0.0, 0.4],
        )
        .unwrap();
        let sph = Mixture::new(
            Covariance::Spherical,
            weights.clone(),
            means.clone(),
            vec![0.3, 1.0, 0.5],
        )
        .unwrap();
        let sph_full = Mixture::new(
            Covariance::Full,
            weights,
            means,
            vec![0.3, 0.0, 0.0, 0.3, 1.0, 0.0, 0.0, 1.0, 0.5, 0.0, 0.0, 0.5],
        )
        .unwrap();
        for (a, b) in [(diag, as_full), (sph, sph_full)] {
            for (u, v) in a.e_step(&x).0.iter().zip(b.e_step(&x).0) {
                assert!((u - v).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn em_never_lowers_the_log_likelihood() {
        let x = blobs(600, 2);
        for cov in [
            Covariance::Full,
            Covariance::Tied,
            Covariance::Diag,
            Covariance::Spherical,
        ] {
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let resp = initial_resp(&x, 2, 3, Init::Random, &mut rng);
            let start = Mixture::m_step(&x, &resp, 3, cov, 1e-6).unwrap();
            let f = fit(&x, start, 60, 0.0, 1e-6).unwrap();
            for w in f.history.windows(2) {
                assert!(w[1] >= w[0] - 1e-9, "{cov:?}: {} -> {}", w[0], w[1]);
            }
        }
    }

    #[test]
    fn bic_picks_the_true_number_of_components() {
        let x = blobs(900, 4);
        let bic: Vec<f64> = (1..=6)
            .map(|k| {
                let mut rng = ChaCha8Rng::seed_from_u64(5);
                let resp = initial_resp(&x, 2, k, Init::Kmeans, &mut rng);
                let start = Mixture::m_step(&x, &resp, k, Covariance::Full, 1e-6).unwrap();
                let f = fit(&x, start, 200, 1e-6, 1e-6).unwrap();
                let total: f64 = f.mixture.e_step(&x).0.iter().sum();
                f.mixture.bic(total, 900)
            })
            .collect();
        let best = bic
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0
            + 1;
        assert_eq!(best, 3, "BIC by K: {bic:?}");
    }

    #[test]
    fn a_collapsed_component_names_reg_covar() {
        let e = Mixture::new(
            Covariance::Full,
            vec![1.0],
            vec![0.0, 0.0],
            vec![1.0, 1.0, 1.0, 1.0],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("model.reg_covar"), "{e}");
    }
}
