//! The f64 Gaussian-mixture library the classical families share: [`Mixture`] (blocked
//! log-densities, E- and M-steps, sampling, BIC/AIC), responsibility-weighted statistics,
//! k-means++ and Lloyd's k-means initialisation, [`fit`] (EM to convergence), [`Restarts`]
//! (`n_init` fits side by side, the best kept, saved and loaded), and the PCA and row plumbing
//! around them. Used by `gmm`, `bgmm`, `class-gaussian`, `genlab gmm-select` and the benchmarks.
//!
//! NOTE: like sklearn, `reg_covar` is added to every variance, and 10 * f64::EPSILON to every N_k.

use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::{Bound, NamedTensors};
use genlab_data::Kind;
use genlab_nn::linalg::{cholesky, gemm_into, lower_inverse, matmul_tn, Pca};
use genlab_nn::special::LN_2PI;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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

/// Bytes an EM fit of `k` components over `d` dimensions holds at its peak (f64 arrays),
/// counted from what it allocates and checked against measured peaks: each of the `n_init`
/// restarts keeps its mixture (covariances, Cholesky factors of the precisions, their inverses)
/// while the step builds the next one beside it, 7 matrices per covariance and restart in all;
/// and each worker thread sums weighted scatter into its own `k x d x d` buffer.
pub fn fit_bytes(covariance: Covariance, k: usize, d: usize, n_init: usize) -> f64 {
    let (k, d, n_init) = (k as f64, d as f64, n_init as f64);
    let threads = rayon::current_num_threads() as f64;
    let (matrices, size, scratch) = match covariance {
        Covariance::Full => (k, d * d, k * d * d),
        Covariance::Tied => (1.0, d * d, k * d * d),
        Covariance::Diag => (k, d, k * d),
        Covariance::Spherical => (k, 1.0, k * d),
    };
    8.0 * (7.0 * matrices * size * n_init + threads * scratch)
}

/// Bytes a PCA of `d` columns holds: the `d x d` covariance and its eigendecomposition.
pub fn pca_bytes(d: usize) -> f64 {
    8.0 * 3.0 * (d as f64) * (d as f64)
}

/// Refuse a mixture fit that would not fit in memory, before anything is allocated, with the
/// figure and what the alternatives need ([`genlab_core::memory`]).
pub fn check_memory(
    family: &str,
    covariance: Covariance,
    k: usize,
    d: usize,
    pca: usize,
    n_init: usize,
) -> Result<()> {
    let fit_d = if pca > 0 { pca } else { d };
    let mut need = fit_bytes(covariance, k, fit_d, n_init);
    if pca > 0 {
        need += pca_bytes(d);
    }
    let gib = |b: f64| b / (1u64 << 30) as f64;
    let alternatives = format!(
        "set model.covariance = \"diag\" (about {:.3} GiB), or model.pca = 50 (about {:.3} GiB: PCA itself holds a {d}x{d} covariance)",
        gib(fit_bytes(Covariance::Diag, k, d, n_init)),
        gib(fit_bytes(covariance, k, 50.min(d), n_init) + pca_bytes(d)),
    );
    genlab_core::memory::check(
        &format!(
            "{family}: k = {k} {} covariances over {fit_d} dimensions",
            format!("{covariance:?}").to_lowercase()
        ),
        need as u64,
        &alternatives,
    )
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

    pub(crate) fn save(&self, out: &mut NamedTensors, prefix: &str) {
        let (k, d) = (self.k, self.d);
        out.insert_f64(format!("{prefix}.weights"), vec![k], self.weights.clone());
        out.insert_f64(format!("{prefix}.means"), vec![k, d], self.means.clone());
        out.insert_f64(
            format!("{prefix}.covariances"),
            vec![self.covariances.len()],
            self.covariances.clone(),
        );
    }

    pub(crate) fn load(
        params: &NamedTensors,
        prefix: &str,
        covariance: Covariance,
    ) -> Result<Self> {
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
    let mut mix = start;
    let mut history = Vec::new();
    let mut converged = false;
    for _ in 0..max_iter {
        let (next, mean) = em_step(x, &mix, reg)?;
        mix = next;
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

/// One EM iteration from `mix` on rows `x`: the E-step, whose mean log-likelihood per example
/// (under `mix`, before the update) is returned, then the M-step.
pub fn em_step(x: &[f64], mix: &Mixture, reg: f64) -> Result<(Mixture, f64)> {
    let n = x.len() / mix.d;
    // 1. E-step under the current parameters (its log-likelihood is the reported one).
    let (ll, resp) = mix.e_step(x);
    let mean = ll.iter().sum::<f64>() / n as f64;
    // 2. M-step.
    let next = Mixture::m_step(x, &resp, mix.k, mix.covariance, reg)?;
    Ok((next, mean))
}

/// One of the fits of [`Restarts`].
#[derive(Clone, Debug)]
pub struct Restart<S> {
    /// The fitted parameters: a [`Mixture`] for EM, a posterior for the variational mixture.
    pub state: S,
    /// The objective after the last iteration (mean log-likelihood, or the variational bound).
    pub last: f64,
    pub converged: bool,
    /// Iterations taken since [`Restarts::begin`] (not saved in checkpoints).
    pub iterations: usize,
}

/// `n_init` fits from different initialisations, iterated side by side (one iteration of each
/// unconverged fit per [`Restarts::step`]), the best objective winning; sklearn runs them one
/// after another, with the same result. Used by `gmm`, `bgmm` and `genlab gmm-select`.
#[derive(Clone, Debug)]
pub struct Restarts<S> {
    runs: Vec<Restart<S>>,
}

impl<S: Clone> Restarts<S> {
    /// `n_init` fits, all at `state` and not yet started.
    pub fn new(state: S, n_init: usize) -> Self {
        let run = Restart {
            state,
            last: f64::NEG_INFINITY,
            converged: false,
            iterations: 0,
        };
        Self {
            runs: vec![run; n_init],
        }
    }

    /// `n_init` fits started from `init(i)`, in order.
    pub fn from_init(n_init: usize, mut init: impl FnMut(usize) -> Result<S>) -> Result<Self> {
        let first = init(0)?;
        let mut restarts = Self::new(first, n_init);
        for (i, r) in restarts.runs.iter_mut().enumerate().skip(1) {
            r.state = init(i)?;
        }
        Ok(restarts)
    }

    /// Start every fit afresh from `init(i)`, in order (so a shared RNG is drawn from in order).
    pub fn begin(&mut self, mut init: impl FnMut(usize) -> Result<S>) -> Result<()> {
        for (i, r) in self.runs.iter_mut().enumerate() {
            r.state = init(i)?;
            r.last = f64::NEG_INFINITY;
            r.converged = false;
            r.iterations = 0;
        }
        Ok(())
    }

    /// One iteration of every unconverged fit: `iterate(state) -> (next state, objective)`; a
    /// fit has converged once its objective changes by less than `tol`.
    pub fn step(
        &mut self,
        tol: f64,
        mut iterate: impl FnMut(&S) -> Result<(S, f64)>,
    ) -> Result<()> {
        for r in self.runs.iter_mut().filter(|r| !r.converged) {
            let (state, objective) = iterate(&r.state)?;
            r.state = state;
            r.converged = (objective - r.last).abs() < tol;
            r.last = objective;
            r.iterations += 1;
        }
        Ok(())
    }

    /// [`Restarts::step`] until every fit has converged, at most `max_iter` times.
    pub fn run(
        &mut self,
        max_iter: usize,
        tol: f64,
        mut iterate: impl FnMut(&S) -> Result<(S, f64)>,
    ) -> Result<()> {
        for _ in 0..max_iter {
            if self.converged() {
                break;
            }
            self.step(tol, &mut iterate)?;
        }
        Ok(())
    }

    pub fn converged(&self) -> bool {
        self.runs.iter().all(|r| r.converged)
    }

    /// The fit with the highest objective (the last of equals).
    pub fn best(&self) -> &Restart<S> {
        self.runs
            .iter()
            .max_by(|a, b| a.last.total_cmp(&b.last))
            .expect("n_init >= 1")
    }

    /// The fit with the highest `score` (the first of equals), with its score.
    pub fn best_by(&self, mut score: impl FnMut(&Restart<S>) -> f64) -> (&Restart<S>, f64) {
        let mut best: Option<(&Restart<S>, f64)> = None;
        for r in &self.runs {
            let s = score(r);
            if best.is_none_or(|b| s > b.1) {
                best = Some((r, s));
            }
        }
        best.expect("n_init >= 1")
    }

    /// Save every fit as `model/restart{i}` (by `save`) plus `model/restart{i}.state`
    /// (`[last, converged]`).
    pub(crate) fn save(&self, out: &mut NamedTensors, save: impl Fn(&S, &mut NamedTensors, &str)) {
        for (i, r) in self.runs.iter().enumerate() {
            save(&r.state, out, &format!("model/restart{i}"));
            out.insert_f64(
                format!("model/restart{i}.state"),
                vec![2],
                vec![r.last, r.converged as u8 as f64],
            );
        }
    }

    /// Restore what [`Restarts::save`] saved.
    pub(crate) fn load(
        &mut self,
        params: &NamedTensors,
        load: impl Fn(&NamedTensors, &str) -> Result<S>,
    ) -> Result<()> {
        for (i, r) in self.runs.iter_mut().enumerate() {
            r.state = load(params, &format!("model/restart{i}"))?;
            let s = params.get_f64(&format!("model/restart{i}.state"), &[2])?;
            r.last = s[0];
            r.converged = s[1] != 0.0;
        }
        Ok(())
    }
}

/// The first step of a mixture family: refuse more components than examples, fit the PCA when
/// `pca_dims > 0`, and return the rows the mixture sees (projected by `pca`, if any).
pub(crate) fn prepare(
    name: &str,
    k: usize,
    (pca_dims, whiten): (usize, bool),
    pca: &mut Option<Pca>,
    x: &[f64],
    n: usize,
) -> Result<Vec<f64>> {
    let d = x.len() / n;
    if k > n {
        bail!("{name}: model.k = {k} components but only {n} training examples; lower model.k");
    }
    if pca_dims > 0 {
        *pca = Some(Pca::fit(x, n, d, pca_dims, whiten));
    }
    Ok(project(pca.as_ref(), x.to_vec(), n))
}

/// Rows projected onto their `p` leading principal components, unwhitened (`p = 0`: unchanged);
/// what `genlab gmm-select --pca` fits.
pub fn pca_rows(x: Vec<f64>, n: usize, p: usize) -> Vec<f64> {
    if p == 0 {
        return x;
    }
    let d = x.len() / n;
    Pca::fit(&x, n, d, p, false).transform(&x, n)
}

/// Save a fitted PCA as `model/pca.{mean,components,variances}`.
pub(crate) fn save_pca(pca: Option<&Pca>, out: &mut NamedTensors) {
    if let Some(p) = pca {
        out.insert_f64("model/pca.mean".into(), vec![p.d], p.mean.clone());
        out.insert_f64(
            "model/pca.components".into(),
            vec![p.d, p.p],
            p.components.clone(),
        );
        out.insert_f64("model/pca.variances".into(), vec![p.p], p.variances.clone());
    }
}

/// Restore what [`save_pca`] saved (`None` when the checkpoint has no PCA).
pub(crate) fn load_pca(params: &NamedTensors, whiten: bool) -> Result<Option<Pca>> {
    Ok(match params.1.get("model/pca.components") {
        Some((shape, _)) => {
            let (d, p) = (shape[0], shape[1]);
            Some(Pca {
                d,
                p,
                mean: params.get_f64("model/pca.mean", &[d])?,
                components: params.get_f64("model/pca.components", &[d, p])?,
                variances: params.get_f64("model/pca.variances", &[p])?,
                whiten,
            })
        }
        None => None,
    })
}

/// Before fitting: every component a broad Gaussian over the data range, so that an untrained
/// model can still draw (meaningless) samples. Returns the common mean and the covariances in
/// the layout of `covariance`.
pub(crate) fn broad_start(
    covariance: Covariance,
    k: usize,
    d: usize,
    kind: Kind,
) -> (f64, Vec<f64>) {
    let (center, var) = match kind {
        Kind::Images => (0.5, 1.0 / 12.0),
        Kind::Points => (0.0, 1.0),
    };
    let covariances = match covariance {
        Covariance::Full => identity(d, var).repeat(k),
        Covariance::Tied => identity(d, var),
        Covariance::Diag => vec![var; k * d],
        Covariance::Spherical => vec![var; k],
    };
    (center, covariances)
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

/// The bound kind of a mixture's density: exact, or [`Bound::Projected`] when it was fitted on
/// PCA components (an exact density of `pca.p` numbers, not of the data's values).
pub(crate) fn density_bound(pca: Option<&Pca>) -> Bound {
    match pca {
        Some(_) => Bound::Projected,
        None => Bound::Exact,
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
