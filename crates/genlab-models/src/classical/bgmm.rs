//! `bgmm`: variational Bayesian Gaussian mixture (Bishop, PRML §10.2; Attias 2000), with the
//! truncated Dirichlet-process prior on the weights of Blei & Jordan 2006 as the default. It is
//! scikit-learn's `BayesianGaussianMixture` step for step (its bound, priors and defaults), so
//! that numbers can be checked against it, and it reuses `gmm`'s mixture, statistics and init.
//!
//! Priors: q(pi) Dirichlet(alpha_0) or stick-breaking v_k ~ Beta(1, alpha_0) (`dirichlet_process`),
//! mu_k | Lambda_k ~ N(m_0, (beta_0 Lambda_k)⁻¹), Lambda_k ~ Wishart(W_0, nu_0). Each train step
//! is one coordinate-ascent iteration over the whole training set:
//! ```text
//!   1. E-step (eqs. 10.64-10.67):
//!      ln r_ik = E[ln pi_k] + ½ E[ln |Lambda_k|] - D/2 ln 2π
//!      - ½ (D / beta_k + nu_k (x_i - m_k)ᵀ W_k (x_i - m_k))
//!      with E[ln pi_k] = psi(alpha_k) - psi(sum_j alpha_j)                            (eq. 10.66)
//!      or, for the DP, psi(a_k) - psi(a_k + b_k) + sum_{j<k} [psi(b_j) - psi(a_j + b_j)].
//!   2. M-step from N_k, x̄_k, S_k (`gmm::gaussian_statistics`):
//!      alpha_k = alpha_0 + N_k  (DP: a_k = 1 + N_k, b_k = alpha_0 + sum_{j>k} N_j)     (eq. 10.58)
//!      beta_k = beta_0 + N_k,  m_k = (beta_0 m_0 + N_k x̄_k) / beta_k           (eqs. 10.60-10.61)
//!      W_k⁻¹ = W_0⁻¹ + N_k S_k + beta_0 N_k / beta_k (x̄_k - m_0)(x̄_k - m_0)ᵀ, nu_k = nu_0 + N_k
//!      (eqs. 10.62-10.63)
//!   3. the lower bound (sklearn's `_compute_lower_bound`); stop when it changes by < `tol`.
//! ```
//!
//! The fitted model is the plug-in mixture sklearn reports: weights E[pi_k] (normalised),
//! means m_k, covariances (nu_k W_k)⁻¹ = E[Lambda_k]⁻¹. It samples and scores with that mixture.
//! Components the data do not need keep a weight near zero: `effective_components` counts the
//! weights above 1e-2.
//!
//! NOTE: the bound is sklearn's, which drops the terms that are constant in the parameters, so it
//! is not the ELBO of eq. 10.70 in value, only in its changes (it is what `tol` is compared with).
//! NOTE: "auto" in the config is sklearn's `None`: alpha_0 = 1/K, beta_0 = 1, m_0 = the data mean,
//! nu_0 = D, W_0⁻¹ = the data covariance (divided by N - 1; its diagonal for `diag`, the mean
//! variance for `spherical`), all computed on the data the mixture sees (after `pca`).
//! NOTE: `tied` shares one Wishart: nu = nu_0 + N/K and W⁻¹ = W_0⁻¹ + S N/K + beta_0/K sum_k ...,
//! as sklearn does; its single nu is stored once per component.
//! NOTE: `n_init > 1` runs the restarts side by side and keeps the highest bound, as `gmm` does.

use super::gmm::{
    gaussian_statistics, initial_resp, log_density, project, rows_f64, to_tensor, Covariance, Init,
    Mixture,
};
use anyhow::{anyhow, bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::{
    Batch, Bound, DataInfo, Family, Likelihood, Losses, Model, NamedTensors, Sample, StepCtx,
};
use genlab_data::Kind;
use genlab_nn::linalg::{cholesky, mean_and_covariance, Pca};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::f64::consts::LN_2;

const LN_2PI: f64 = 1.837_877_066_409_345_3;
/// A component counts as used when its weight exceeds this.
pub const EFFECTIVE_WEIGHT: f64 = 1e-2;

/// The prior on the mixing weights (sklearn's `weight_concentration_prior_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorType {
    /// Stick-breaking, truncated at K (Blei & Jordan 2006): unused components fade out.
    DirichletProcess,
    /// Symmetric Dirichlet(alpha_0) on the K weights (Bishop eq. 10.39).
    DirichletDistribution,
}

/// The word `"auto"` in a config: sklearn's `None`, a default computed from the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutoWord {
    #[serde(rename = "auto")]
    Auto,
}

/// A prior hyper-parameter as written in the config: `"auto"`, a number, a list `[d]` or a
/// matrix `[[d]; d]`, whichever the key takes (checked, with the key's name, once `d` is known).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prior {
    Auto(AutoWord),
    Scalar(f64),
    Vector(Vec<f64>),
    Matrix(Vec<Vec<f64>>),
}

impl Prior {
    pub const AUTO: Prior = Prior::Auto(AutoWord::Auto);
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgmmConfig {
    /// Upper bound on the number of components (sklearn's n_components, whose default is 1).
    pub k: usize,
    pub covariance: Covariance,
    /// Initial responsibilities, as `gmm` (sklearn's default: k-means).
    pub init: Init,
    /// Restarts from different initialisations; the highest lower bound wins.
    pub n_init: usize,
    /// Added to the variances of S_k (sklearn's 1e-6).
    pub reg_covar: f64,
    /// Stop when the lower bound changes by less than this (sklearn 1e-3; not per example).
    pub tol: f64,
    pub weight_concentration_prior_type: PriorType,
    /// alpha_0 (DP: the concentration of the stick-breaking Beta(1, alpha_0)); auto = 1/K.
    /// Small values favour few components.
    pub weight_concentration_prior: Prior,
    /// beta_0, precision of the prior on the means; auto = 1.
    pub mean_precision_prior: Prior,
    /// m_0 `[d]`; auto = the data mean.
    pub mean_prior: Prior,
    /// nu_0 > d - 1; auto = d.
    pub degrees_of_freedom_prior: Prior,
    /// W_0⁻¹: `[[d]; d]` for full and tied, `[d]` for diag, a number for spherical;
    /// auto = the data covariance (its diagonal; its mean variance).
    pub covariance_prior: Prior,
    /// Project onto this many principal components before fitting (0 = fit the raw data).
    pub pca: usize,
    /// Scale the principal components to unit variance.
    pub whiten: bool,
}

impl Default for BgmmConfig {
    fn default() -> Self {
        Self {
            k: 10,
            covariance: Covariance::Full,
            init: Init::Kmeans,
            n_init: 1,
            reg_covar: 1e-6,
            tol: 1e-3,
            weight_concentration_prior_type: PriorType::DirichletProcess,
            weight_concentration_prior: Prior::AUTO,
            mean_precision_prior: Prior::AUTO,
            mean_prior: Prior::AUTO,
            degrees_of_freedom_prior: Prior::AUTO,
            covariance_prior: Prior::AUTO,
            pca: 0,
            whiten: false,
        }
    }
}

/// `"auto"` or a positive number for `model.{key}`.
fn positive(key: &str, prior: &Prior, auto: f64) -> Result<f64> {
    match prior {
        Prior::Auto(_) => Ok(auto),
        Prior::Scalar(v) if *v > 0.0 && v.is_finite() => Ok(*v),
        Prior::Scalar(v) => bail!(
            "bgmm: model.{key} = {v} must be > 0; set a positive number, or \"auto\" for sklearn's default"
        ),
        _ => bail!("bgmm: model.{key} takes a number > 0 or \"auto\", not a list"),
    }
}

/// The resolved priors (sklearn's `weight_concentration_prior_`, `mean_prior_`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Priors {
    pub kind: PriorType,
    /// alpha_0
    pub weight_concentration: f64,
    /// beta_0
    pub mean_precision: f64,
    /// m_0 `[d]`
    pub mean: Vec<f64>,
    /// nu_0
    pub degrees_of_freedom: f64,
    /// W_0⁻¹: `[d, d]` (full, tied), `[d]` (diag) or `[1]` (spherical).
    pub covariance: Vec<f64>,
}

impl Priors {
    /// Fill in the "auto" priors from the rows `x` `[n, d]` and check the given ones.
    pub fn resolve(cfg: &BgmmConfig, x: &[f64], d: usize) -> Result<Self> {
        let n = x.len() / d;
        if n < 2 {
            bail!(
                "bgmm: needs at least 2 training examples for the data covariance prior, found {n}"
            );
        }
        let (data_mean, mut data_cov) = mean_and_covariance(x, n, d);
        // np.cov divides by N - 1.
        data_cov
            .iter_mut()
            .for_each(|c| *c *= n as f64 / (n - 1) as f64);
        let variances: Vec<f64> = (0..d).map(|i| data_cov[i * d + i]).collect();
        let mean = match &cfg.mean_prior {
            Prior::Auto(_) => data_mean,
            Prior::Vector(v) if v.len() == d && v.iter().all(|m| m.is_finite()) => v.clone(),
            Prior::Scalar(v) if d == 1 && v.is_finite() => vec![*v],
            _ => bail!(
                "bgmm: model.mean_prior must be \"auto\" (the data mean) or a list of {d} numbers, one per dimension the mixture sees (after model.pca)"
            ),
        };
        let degrees_of_freedom = match &cfg.degrees_of_freedom_prior {
            Prior::Auto(_) => d as f64,
            Prior::Scalar(v) if *v > d as f64 - 1.0 && v.is_finite() => *v,
            _ => bail!(
                "bgmm: model.degrees_of_freedom_prior must be a number > d - 1 = {} (the mixture sees d = {d} dimensions), or \"auto\" (= d)",
                d as f64 - 1.0
            ),
        };
        let singular = "the data covariance (model.covariance_prior = \"auto\") is singular: some dimensions are constant or dependent; project first (e.g. --set model.pca=50) or give model.covariance_prior";
        let covariance = match (cfg.covariance, &cfg.covariance_prior) {
            (Covariance::Full | Covariance::Tied, Prior::Auto(_)) => {
                if cholesky(&data_cov, d).is_none() {
                    bail!("bgmm: {singular}");
                }
                data_cov
            }
            (Covariance::Diag, Prior::Auto(_)) => {
                if variances.iter().any(|v| *v <= 0.0) {
                    bail!("bgmm: {singular}");
                }
                variances
            }
            (Covariance::Spherical, Prior::Auto(_)) => {
                let mean_var = variances.iter().sum::<f64>() / d as f64;
                if mean_var <= 0.0 {
                    bail!("bgmm: {singular}");
                }
                vec![mean_var]
            }
            (Covariance::Full | Covariance::Tied, Prior::Matrix(m))
                if m.len() == d && m.iter().all(|row| row.len() == d) =>
            {
                let flat = m.concat();
                let symmetric = (0..d).all(|r| (0..d).all(|s| flat[r * d + s] == flat[s * d + r]));
                if !symmetric || cholesky(&flat, d).is_none() {
                    bail!("bgmm: model.covariance_prior must be symmetric positive definite");
                }
                flat
            }
            (Covariance::Diag, Prior::Vector(v)) if v.len() == d => {
                if v.iter().any(|s| *s <= 0.0 || !s.is_finite()) {
                    bail!("bgmm: every entry of model.covariance_prior must be > 0");
                }
                v.clone()
            }
            (Covariance::Spherical, Prior::Scalar(v)) => {
                if *v <= 0.0 || !v.is_finite() {
                    bail!("bgmm: model.covariance_prior = {v} must be > 0");
                }
                vec![*v]
            }
            (cov, _) => {
                let form = match cov {
                    Covariance::Full | Covariance::Tied => {
                        format!("a {d} x {d} matrix [[...], ...]")
                    }
                    Covariance::Diag => format!("a list of {d} variances"),
                    Covariance::Spherical => "one variance (a number)".to_string(),
                };
                bail!(
                    "bgmm: model.covariance_prior for covariance = \"{}\" must be \"auto\" or {form}",
                    format!("{cov:?}").to_lowercase()
                )
            }
        };
        Ok(Self {
            kind: cfg.weight_concentration_prior_type,
            weight_concentration: positive(
                "weight_concentration_prior",
                &cfg.weight_concentration_prior,
                1.0 / cfg.k as f64,
            )?,
            mean_precision: positive("mean_precision_prior", &cfg.mean_precision_prior, 1.0)?,
            mean,
            degrees_of_freedom,
            covariance,
        })
    }
}

/// q(pi): the variational posterior of the mixing weights.
#[derive(Clone, Debug, PartialEq)]
pub enum WeightPosterior {
    /// Dir(alpha_k)  (eq. 10.57).
    Dirichlet { alpha: Vec<f64> },
    /// Beta(a_k, b_k) on the stick fractions v_k, pi_k = v_k prod_{j<k} (1 - v_j).
    Stick { a: Vec<f64>, b: Vec<f64> },
}

impl WeightPosterior {
    /// alpha_k = alpha_0 + N_k (eq. 10.58); DP: a_k = 1 + N_k, b_k = alpha_0 + sum_{j>k} N_j.
    pub fn update(kind: PriorType, alpha0: f64, nk: &[f64]) -> Self {
        match kind {
            PriorType::DirichletDistribution => Self::Dirichlet {
                alpha: nk.iter().map(|n| alpha0 + n).collect(),
            },
            PriorType::DirichletProcess => {
                let mut b = vec![0.0; nk.len()];
                let mut tail = 0.0; // sum_{j>k} N_j, summed from the end as sklearn's cumsum
                for j in (0..nk.len()).rev() {
                    b[j] = alpha0 + tail;
                    tail += nk[j];
                }
                Self::Stick {
                    a: nk.iter().map(|n| 1.0 + n).collect(),
                    b,
                }
            }
        }
    }

    /// E[ln pi_k] `[K]` (eq. 10.66; for the stick, E[ln v_k] + sum_{j<k} E[ln(1 - v_j)]).
    pub fn expected_log(&self) -> Vec<f64> {
        match self {
            Self::Dirichlet { alpha } => {
                let total = digamma(alpha.iter().sum::<f64>());
                alpha.iter().map(|a| digamma(*a) - total).collect()
            }
            Self::Stick { a, b } => {
                let mut before = 0.0; // sum_{j<k} E[ln(1 - v_j)]
                a.iter()
                    .zip(b)
                    .map(|(a, b)| {
                        let both = digamma(a + b);
                        let out = digamma(*a) - both + before;
                        before += digamma(*b) - both;
                        out
                    })
                    .collect()
            }
        }
    }

    /// E[pi_k], normalised (sklearn's `weights_`).
    pub fn mean(&self) -> Vec<f64> {
        let w: Vec<f64> = match self {
            Self::Dirichlet { alpha } => alpha.clone(),
            Self::Stick { a, b } => {
                let mut left = 1.0; // prod_{j<k} E[1 - v_j]
                a.iter()
                    .zip(b)
                    .map(|(a, b)| {
                        let out = a / (a + b) * left;
                        left *= b / (a + b);
                        out
                    })
                    .collect()
            }
        };
        let total: f64 = w.iter().sum();
        w.iter().map(|v| v / total).collect()
    }

    /// The weights' log-normaliser term of the bound: ln C(alpha) (eq. B.23), or
    /// -sum_k ln B(a_k, b_k) for the stick.
    fn log_norm(&self) -> f64 {
        match self {
            Self::Dirichlet { alpha } => {
                ln_gamma(alpha.iter().sum::<f64>())
                    - alpha.iter().map(|a| ln_gamma(*a)).sum::<f64>()
            }
            Self::Stick { a, b } => -a.iter().zip(b).map(|(a, b)| ln_beta(*a, *b)).sum::<f64>(),
        }
    }
}

/// The variational posterior q(pi) q(mu, Lambda).
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    pub weights: WeightPosterior,
    /// beta_k `[K]`
    pub mean_precision: Vec<f64>,
    /// nu_k `[K]` (tied: the one shared value, repeated)
    pub degrees_of_freedom: Vec<f64>,
    /// Means m_k and covariances (nu_k W_k)⁻¹, with unit weights: its weighted log-probability
    /// is ln N(x | m_k, (nu_k W_k)⁻¹), the Gaussian part of the E-step.
    pub gauss: Mixture,
}

impl Posterior {
    /// The M-step (sklearn's `_initialize` / `_m_step`): the posterior given responsibilities.
    pub fn update(
        x: &[f64],
        resp: &[f64],
        k: usize,
        covariance: Covariance,
        reg: f64,
        priors: &Priors,
    ) -> Result<Self> {
        let d = priors.mean.len();
        let (nk, xk, sk) = gaussian_statistics(x, resp, k, covariance, reg);
        // 1. q(pi)  (eq. 10.58)
        let weights = WeightPosterior::update(priors.kind, priors.weight_concentration, &nk);
        // 2. q(mu_k | Lambda_k) = N(m_k, (beta_k Lambda_k)⁻¹)  (eqs. 10.60, 10.61)
        let (beta0, m0, nu0, c0) = (
            priors.mean_precision,
            &priors.mean,
            priors.degrees_of_freedom,
            &priors.covariance,
        );
        let beta: Vec<f64> = nk.iter().map(|n| beta0 + n).collect();
        let means: Vec<f64> = (0..k * d)
            .map(|i| (beta0 * m0[i % d] + nk[i / d] * xk[i]) / beta[i / d])
            .collect();
        // 3. q(Lambda_k) = W(W_k, nu_k), kept as covariances W_k⁻¹ / nu_k  (eqs. 10.62, 10.63)
        let diff = |j: usize, t: usize| xk[j * d + t] - m0[t]; // x̄_k - m_0
        let (nu, covariances): (Vec<f64>, Vec<f64>) = match covariance {
            Covariance::Full => {
                let nu: Vec<f64> = nk.iter().map(|n| nu0 + n).collect();
                let mut c = vec![0.0; k * d * d];
                for j in 0..k {
                    let shrink = nk[j] * beta0 / beta[j];
                    for r in 0..d {
                        for s in 0..d {
                            let i = j * d * d + r * d + s;
                            c[i] = (c0[r * d + s]
                                + nk[j] * sk[i]
                                + shrink * (diff(j, r) * diff(j, s)))
                                / nu[j];
                        }
                    }
                }
                (nu, c)
            }
            Covariance::Tied => {
                // One Wishart for all: N_k -> N / K.
                let (total, kf) = (nk.iter().sum::<f64>(), k as f64);
                let nu = nu0 + total / kf;
                let mut c = vec![0.0; d * d];
                for r in 0..d {
                    for s in 0..d {
                        let spread: f64 = (0..k)
                            .map(|j| nk[j] / beta[j] * diff(j, r) * diff(j, s))
                            .sum();
                        c[r * d + s] =
                            (c0[r * d + s] + sk[r * d + s] * total / kf + beta0 / kf * spread) / nu;
                    }
                }
                (vec![nu; k], c)
            }
            Covariance::Diag => {
                let nu: Vec<f64> = nk.iter().map(|n| nu0 + n).collect();
                let c = (0..k * d)
                    .map(|i| {
                        let (j, t) = (i / d, i % d);
                        (c0[t] + nk[j] * (sk[i] + beta0 / beta[j] * diff(j, t).powi(2))) / nu[j]
                    })
                    .collect();
                (nu, c)
            }
            Covariance::Spherical => {
                let nu: Vec<f64> = nk.iter().map(|n| nu0 + n).collect();
                let c = (0..k)
                    .map(|j| {
                        let sq = (0..d).map(|t| diff(j, t).powi(2)).sum::<f64>() / d as f64;
                        (c0[0] + nk[j] * (sk[j] + beta0 / beta[j] * sq)) / nu[j]
                    })
                    .collect();
                (nu, c)
            }
        };
        Ok(Self {
            weights,
            mean_precision: beta,
            degrees_of_freedom: nu,
            gauss: Mixture::new(covariance, vec![1.0; k], means, covariances)?,
        })
    }

    /// The E-step: ln r_ik `[n, K]` (eqs. 10.64-10.67; sklearn's `_estimate_log_prob` plus
    /// `_estimate_log_weights`, normalised per row).
    pub fn log_resp(&self, x: &[f64]) -> Vec<f64> {
        let (k, d) = (self.gauss.k, self.gauss.d);
        let df = d as f64;
        let log_pi = self.weights.expected_log();
        // Per component: E[ln pi_k] + ½ E[ln |Lambda_k|] - ½ ln |nu_k W_k| - D / (2 beta_k), with
        // E[ln |Lambda_k|] - ln |W_k| = D ln 2 + sum_i psi((nu_k - i) / 2)  (eq. 10.65).
        let shift: Vec<f64> = (0..k)
            .map(|j| {
                let nu = self.degrees_of_freedom[j];
                let log_lambda =
                    df * LN_2 + (0..d).map(|i| digamma(0.5 * (nu - i as f64))).sum::<f64>();
                -0.5 * df * nu.ln() + 0.5 * (log_lambda - df / self.mean_precision[j]) + log_pi[j]
            })
            .collect();
        let mut out = self.gauss.weighted_log_prob(x); // ln N(x_i | m_k, (nu_k W_k)⁻¹)   [n, K]
        out.par_chunks_mut(k).for_each(|row| {
            row.iter_mut().zip(&shift).for_each(|(v, s)| *v += s);
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            row.iter_mut().for_each(|v| *v -= lse);
        });
        out
    }

    /// sklearn's lower bound for this posterior and the E-step's `log_resp` `[n, K]`:
    ///   -sum r ln r - sum_k ln B(W_k, nu_k) - ln C(q(pi)) - D/2 sum_k ln beta_k
    /// (ln B without its pi term; the terms constant in the parameters dropped).
    pub fn lower_bound(&self, log_resp: &[f64]) -> f64 {
        let (k, d) = (self.gauss.k, self.gauss.d);
        let df = d as f64;
        // 1. Entropy of q(z).
        let entropy = -log_resp.iter().map(|l| l.exp() * l).sum::<f64>();
        // 2. Wishart normalisers: ln B(W, nu) = -nu ln|W|^½ - nu D/2 ln 2 - sum_i ln Γ((nu - i)/2),
        //    ln|W_k|^½ = ln|nu_k W_k|^½ - D/2 ln nu_k  (eq. B.79).
        let log_wishart: f64 = (0..k)
            .map(|j| {
                let nu = self.degrees_of_freedom[j];
                let log_det_chol = self.gauss.log_det[j] - 0.5 * df * nu.ln();
                -(nu * log_det_chol
                    + nu * df * 0.5 * LN_2
                    + (0..d).map(|i| ln_gamma(0.5 * (nu - i as f64))).sum::<f64>())
            })
            .sum();
        // 3. The weights' normaliser, and 4. the means' precisions.
        let log_beta: f64 = self.mean_precision.iter().map(|b| b.ln()).sum();
        entropy - log_wishart - self.weights.log_norm() - 0.5 * df * log_beta
    }

    /// One variational iteration (the body of sklearn's fit loop): E-step under this posterior,
    /// M-step, and the new posterior's bound with the E-step's responsibilities.
    pub fn iterate(&self, x: &[f64], priors: &Priors, reg: f64) -> Result<(Self, f64)> {
        let log_resp = self.log_resp(x);
        let resp: Vec<f64> = log_resp.iter().map(|l| l.exp()).collect();
        let next = Self::update(x, &resp, self.gauss.k, self.gauss.covariance, reg, priors)?;
        let bound = next.lower_bound(&log_resp);
        Ok((next, bound))
    }

    /// The plug-in mixture: weights E[pi_k], means m_k, covariances E[Lambda_k]⁻¹.
    pub fn mixture(&self) -> Mixture {
        let mut m = self.gauss.clone();
        m.weights = self.weights.mean();
        m
    }

    fn save(&self, out: &mut NamedTensors, prefix: &str) {
        let (k, d) = (self.gauss.k, self.gauss.d);
        let (shape, concentration) = match &self.weights {
            WeightPosterior::Dirichlet { alpha } => (vec![k], alpha.clone()),
            WeightPosterior::Stick { a, b } => (vec![2, k], [a.as_slice(), b.as_slice()].concat()),
        };
        out.insert_f64(
            format!("{prefix}.weight_concentration"),
            shape,
            concentration,
        );
        out.insert_f64(
            format!("{prefix}.mean_precision"),
            vec![k],
            self.mean_precision.clone(),
        );
        out.insert_f64(
            format!("{prefix}.degrees_of_freedom"),
            vec![k],
            self.degrees_of_freedom.clone(),
        );
        out.insert_f64(
            format!("{prefix}.means"),
            vec![k, d],
            self.gauss.means.clone(),
        );
        out.insert_f64(
            format!("{prefix}.covariances"),
            vec![self.gauss.covariances.len()],
            self.gauss.covariances.clone(),
        );
    }

    fn load(
        params: &NamedTensors,
        prefix: &str,
        covariance: Covariance,
        kind: PriorType,
    ) -> Result<Self> {
        let means_shape = params
            .1
            .get(&format!("{prefix}.means"))
            .ok_or_else(|| anyhow!("checkpoint does not fit this model: missing {prefix}.means"))?
            .0
            .clone();
        let (k, d) = (means_shape[0], means_shape[1]);
        let get = |name: &str, shape: &[usize]| params.get_f64(&format!("{prefix}.{name}"), shape);
        let weights = match kind {
            PriorType::DirichletDistribution => WeightPosterior::Dirichlet {
                alpha: get("weight_concentration", &[k])?,
            },
            PriorType::DirichletProcess => {
                let ab = get("weight_concentration", &[2, k])?;
                WeightPosterior::Stick {
                    a: ab[..k].to_vec(),
                    b: ab[k..].to_vec(),
                }
            }
        };
        let want = match covariance {
            Covariance::Full => k * d * d,
            Covariance::Tied => d * d,
            Covariance::Diag => k * d,
            Covariance::Spherical => k,
        };
        Ok(Self {
            weights,
            mean_precision: get("mean_precision", &[k])?,
            degrees_of_freedom: get("degrees_of_freedom", &[k])?,
            gauss: Mixture::new(
                covariance,
                vec![1.0; k],
                get("means", &[k, d])?,
                get("covariances", &[want])?,
            )?,
        })
    }
}

/// Components with a weight above [`EFFECTIVE_WEIGHT`].
pub fn effective_components(weights: &[f64]) -> usize {
    weights.iter().filter(|w| **w > EFFECTIVE_WEIGHT).count()
}

/// Outcome of [`fit`].
pub struct Fit {
    pub posterior: Posterior,
    /// The lower bound after each iteration.
    pub lower_bounds: Vec<f64>,
    pub converged: bool,
}

/// Variational iterations from `start` until the bound changes by less than `tol` or
/// `max_iter` (the library entry point; the family runs the same iterations, one per step).
pub fn fit(
    x: &[f64],
    start: Posterior,
    priors: &Priors,
    max_iter: usize,
    tol: f64,
    reg: f64,
) -> Result<Fit> {
    let mut posterior = start;
    let mut lower_bounds: Vec<f64> = Vec::new();
    let mut converged = false;
    for _ in 0..max_iter {
        let (next, bound) = posterior.iterate(x, priors, reg)?;
        posterior = next;
        let change = bound - lower_bounds.last().copied().unwrap_or(f64::NEG_INFINITY);
        lower_bounds.push(bound);
        if change.abs() < tol {
            converged = true;
            break;
        }
    }
    Ok(Fit {
        posterior,
        lower_bounds,
        converged,
    })
}

// ---- special functions (x > 0), to ~1e-14 absolute ----

/// ln Γ(x): shifted to x >= 10 by Γ(x + 1) = x Γ(x), then Stirling's series.
fn ln_gamma(x: f64) -> f64 {
    let (mut x, mut shift) = (x, 1.0);
    while x < 10.0 {
        shift *= x;
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    let series = (1.0 / 12.0
        + z * (-1.0 / 360.0
            + z * (1.0 / 1260.0
                + z * (-1.0 / 1680.0
                    + z * (1.0 / 1188.0 + z * (-691.0 / 360_360.0 + z / 156.0))))))
        / x;
    (x - 0.5) * x.ln() - x + 0.5 * LN_2PI + series - shift.ln()
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b).
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// psi(x) = d/dx ln Γ(x): shifted to x >= 10 by psi(x) = psi(x + 1) - 1/x, then the asymptotic
/// series.
fn digamma(x: f64) -> f64 {
    let (mut x, mut acc) = (x, 0.0);
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    let tail = z
        * (1.0 / 12.0
            - z * (1.0 / 120.0
                - z * (1.0 / 252.0
                    - z * (1.0 / 240.0 - z * (1.0 / 132.0 - z * (691.0 / 32_760.0 - z / 12.0))))));
    acc + x.ln() - 0.5 / x - tail
}

/// One restart inside the family.
#[derive(Clone, Debug)]
struct Restart {
    post: Posterior,
    /// Lower bound after the last iteration.
    last: f64,
    converged: bool,
}

pub struct Bgmm {
    cfg: BgmmConfig,
    kind: Kind,
    restarts: Vec<Restart>,
    /// Resolved from the training data at the first step.
    priors: Option<Priors>,
    pca: Option<Pca>,
    fitted: bool,
}

impl Bgmm {
    pub fn new(cfg: BgmmConfig, info: &DataInfo) -> Result<Self> {
        if cfg.k == 0 || cfg.n_init == 0 {
            bail!("bgmm: model.k and model.n_init must be at least 1");
        }
        if cfg.reg_covar < 0.0 || !cfg.reg_covar.is_finite() {
            bail!("bgmm: model.reg_covar must be >= 0 (sklearn's default is 1e-6)");
        }
        // The scalar priors can be checked now; the rest need the data's dimension.
        positive(
            "weight_concentration_prior",
            &cfg.weight_concentration_prior,
            1.0 / cfg.k as f64,
        )?;
        positive("mean_precision_prior", &cfg.mean_precision_prior, 1.0)?;
        positive(
            "degrees_of_freedom_prior",
            &cfg.degrees_of_freedom_prior,
            1.0,
        )?;
        let d = info.shape.dim();
        if cfg.pca > d {
            bail!(
                "bgmm: model.pca = {} exceeds the data's {d} dimensions",
                cfg.pca
            );
        }
        // Before fitting: every component a broad Gaussian over the data range, so that an
        // untrained model can still draw (meaningless) samples.
        let (center, var) = match info.kind {
            Kind::Images => (0.5, 1.0 / 12.0),
            Kind::Points => (0.0, 1.0),
        };
        let k = cfg.k;
        let eye = || -> Vec<f64> {
            (0..d * d)
                .map(|i| if i / d == i % d { var } else { 0.0 })
                .collect()
        };
        let covariances = match cfg.covariance {
            Covariance::Full => eye().repeat(k),
            Covariance::Tied => eye(),
            Covariance::Diag => vec![var; k * d],
            Covariance::Spherical => vec![var; k],
        };
        let post = Posterior {
            weights: WeightPosterior::update(
                cfg.weight_concentration_prior_type,
                1.0,
                &vec![0.0; k],
            ),
            mean_precision: vec![1.0; k],
            degrees_of_freedom: vec![d as f64; k],
            gauss: Mixture::new(
                cfg.covariance,
                vec![1.0; k],
                vec![center; k * d],
                covariances,
            )?,
        };
        Ok(Self {
            restarts: vec![
                Restart {
                    post,
                    last: f64::NEG_INFINITY,
                    converged: false,
                };
                cfg.n_init
            ],
            cfg,
            kind: info.kind,
            priors: None,
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

    pub fn posterior(&self) -> &Posterior {
        &self.best().post
    }

    /// First step: PCA, the priors from the data, and each restart's posterior from its initial
    /// responsibilities (sklearn's `_initialize`).
    fn start(&mut self, x: &[f64], n: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let d = x.len() / n;
        if self.cfg.k > n {
            bail!(
                "bgmm: model.k = {} components but only {n} training examples; lower model.k",
                self.cfg.k
            );
        }
        if self.cfg.pca > 0 {
            self.pca = Some(Pca::fit(x, n, d, self.cfg.pca, self.cfg.whiten));
        }
        let z = project(self.pca.as_ref(), x.to_vec(), n);
        let dz = z.len() / n;
        let priors = Priors::resolve(&self.cfg, &z, dz)?;
        let (k, cov, reg) = (self.cfg.k, self.cfg.covariance, self.cfg.reg_covar);
        for r in &mut self.restarts {
            let resp = initial_resp(&z, dz, k, self.cfg.init, rng);
            r.post = Posterior::update(&z, &resp, k, cov, reg, &priors)?;
            r.last = f64::NEG_INFINITY;
            r.converged = false;
        }
        self.priors = Some(priors);
        self.fitted = true;
        Ok(z)
    }
}

impl Model for Bgmm {
    fn family(&self) -> &'static str {
        "bgmm"
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
        let priors = self.priors.as_ref().expect("start() resolves the priors");
        let (reg, tol) = (self.cfg.reg_covar, self.cfg.tol);
        for r in self.restarts.iter_mut().filter(|r| !r.converged) {
            // 1. E-step, 2. M-step, 3. lower bound.
            let (post, bound) = r.post.iterate(&z, priors, reg)?;
            r.post = post;
            r.converged = (bound - r.last).abs() < tol;
            r.last = bound;
        }
        let best = self.best();
        let mut losses = Losses::default();
        losses.push("neg_lower_bound", -best.last / n as f64);
        losses.push(
            "effective_components",
            effective_components(&best.post.weights.mean()) as f64,
        );
        Ok(losses)
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::default();
        for (i, r) in self.restarts.iter().enumerate() {
            r.post.save(&mut out, &format!("model/restart{i}"));
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
        if let Some(p) = &self.priors {
            out.insert_f64(
                "model/prior.scalars".into(),
                vec![3],
                vec![
                    p.weight_concentration,
                    p.mean_precision,
                    p.degrees_of_freedom,
                ],
            );
            out.insert_f64(
                "model/prior.mean".into(),
                vec![p.mean.len()],
                p.mean.clone(),
            );
            out.insert_f64(
                "model/prior.covariance".into(),
                vec![p.covariance.len()],
                p.covariance.clone(),
            );
        }
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
        let (cov, kind) = (
            self.cfg.covariance,
            self.cfg.weight_concentration_prior_type,
        );
        for (i, r) in self.restarts.iter_mut().enumerate() {
            r.post = Posterior::load(params, &format!("model/restart{i}"), cov, kind)?;
            let s = params.get_f64(&format!("model/restart{i}.state"), &[2])?;
            r.last = s[0];
            r.converged = s[1] != 0.0;
        }
        self.fitted = params.get_f64("model/fitted", &[1])?[0] != 0.0;
        self.priors = match (
            params.1.get("model/prior.mean"),
            params.1.get("model/prior.covariance"),
        ) {
            (Some((mean_shape, _)), Some((cov_shape, _))) => {
                let s = params.get_f64("model/prior.scalars", &[3])?;
                Some(Priors {
                    kind,
                    weight_concentration: s[0],
                    mean_precision: s[1],
                    degrees_of_freedom: s[2],
                    mean: params.get_f64("model/prior.mean", mean_shape)?,
                    covariance: params.get_f64("model/prior.covariance", cov_shape)?,
                })
            }
            _ => None,
        };
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
        let best = self.best();
        let k = best.post.gauss.k;
        let weights = best.post.weights.mean();
        let mut sorted = weights.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        // Hard assignments under the variational responsibilities (sklearn's `predict`).
        let log_resp = best.post.log_resp(&z);
        let mut assigned = vec![0usize; k];
        for row in log_resp.chunks_exact(k) {
            let j = (0..k).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            assigned[j] += 1;
        }
        let mut m = serde_json::Map::new();
        // The bound of the training data at the last iteration (not of `x`).
        m.insert("lower_bound".into(), best.last.into());
        m.insert(
            "effective_components".into(),
            effective_components(&weights).into(),
        );
        m.insert("weights".into(), weights.into());
        m.insert("weights_sorted".into(), sorted.into());
        m.insert("assigned_per_component".into(), assigned.into());
        m.insert("converged".into(), best.converged.into());
        if let Some(p) = &self.pca {
            m.insert("pca_components".into(), p.p.into());
        }
        Ok(m)
    }
}

impl Sample for Bgmm {
    /// Draws from the plug-in mixture (weights E[pi_k], covariances E[Lambda_k]⁻¹).
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let z = self.posterior().mixture().sample(n, rng);
        let x = match &self.pca {
            Some(p) => p.inverse(&z, n),
            None => z,
        };
        Ok(to_tensor(x, n, self.kind, device))
    }
}

impl Likelihood for Bgmm {
    /// ln sum_k E[pi_k] N(x | m_k, E[Lambda_k]⁻¹): the exact log-density of the plug-in mixture
    /// that `sample` draws from. It is neither sklearn's `score_samples` (which sums the
    /// unnormalised variational terms of the E-step) nor the Bayesian predictive density (a
    /// mixture of Student-t's, Bishop eq. 10.81).
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        Ok(log_density(
            &self.posterior().mixture(),
            self.pca.as_ref(),
            &x,
        ))
    }
    fn bound(&self, _k: usize) -> Bound {
        // Exact for the plug-in mixture; with PCA, of the projected data, as `gmm`.
        Bound::Exact
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(BgmmConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, _device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Bgmm::new(parse_section("model", model)?, info)?))
}

pub const FAMILY: Family = Family {
    name: "bgmm",
    summary: "Variational Bayesian Gaussian mixture, Dirichlet or truncated Dirichlet-process weights (prunes unused components)",
    paper: "Bishop PRML §10.2; Blei & Jordan 2006",
    groups: &["model"],
    capabilities: &["sample", "likelihood"],
    presets: &[
        ("default", include_str!("../../../../configs/bgmm/default.toml")),
        ("tiny", include_str!("../../../../configs/bgmm/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::PriorType::{DirichletDistribution as Dd, DirichletProcess as Dp};
    use super::*;
    use crate::classical::gmm::Covariance::{Diag, Full, Spherical, Tied};
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    /// 40 points in 3-D around three centres, from integer formulas: exact in f64, so
    /// bench/golden/bgmm_golden.py builds the very same numbers.
    fn golden_data() -> Vec<f64> {
        const CENTERS: [[f64; 3]; 3] = [[-2.0, 0.0, 1.0], [2.0, 0.5, -1.0], [0.0, 3.0, 0.5]];
        (0..40usize)
            .flat_map(|i| {
                let c = CENTERS[i % 3];
                let u0 = ((i * 37 + 11) % 97) as f64 / 97.0;
                let u1 = ((i * 53 + 29) % 97) as f64 / 97.0;
                let u2 = ((i * 71 + 5) % 97) as f64 / 97.0;
                [
                    c[0] + 1.5 * (u0 - 0.5),
                    c[1] + (u1 - 0.5) + 0.5 * (u0 - 0.5),
                    c[2] + 0.8 * (u2 - 0.5),
                ]
            })
            .collect()
    }

    /// Initial responsibilities `[40, 4]`, leaning to the true cluster; the 4th is spare.
    fn golden_resp() -> Vec<f64> {
        (0..40usize)
            .flat_map(|i| {
                let row: Vec<f64> = (0..4usize)
                    .map(|j| ((i * 7 + j * 3) % 5 + 1 + if j == i % 3 { 2 } else { 0 }) as f64)
                    .collect();
                let s: f64 = row.iter().sum();
                row.into_iter().map(move |v| v / s)
            })
            .collect()
    }

    fn golden_config(covariance: Covariance, kind: PriorType, explicit: bool) -> BgmmConfig {
        let mut cfg = BgmmConfig {
            k: 4,
            covariance,
            weight_concentration_prior_type: kind,
            ..BgmmConfig::default()
        };
        if explicit {
            cfg.weight_concentration_prior = Prior::Scalar(0.05);
            cfg.mean_precision_prior = Prior::Scalar(0.5);
            cfg.mean_prior = Prior::Vector(vec![0.1, -0.2, 0.3]);
            cfg.degrees_of_freedom_prior = Prior::Scalar(4.5);
            cfg.covariance_prior = match covariance {
                Covariance::Full | Covariance::Tied => Prior::Matrix(vec![
                    vec![1.0, 0.2, 0.0],
                    vec![0.2, 0.8, 0.1],
                    vec![0.0, 0.1, 0.5],
                ]),
                Covariance::Diag => Prior::Vector(vec![0.5, 0.7, 0.9]),
                Covariance::Spherical => Prior::Scalar(0.6),
            };
        }
        cfg
    }

    /// One case of tests/golden/bgmm.json, written by bench/golden/bgmm_golden.py
    /// (scikit-learn 1.9.1, numpy 2.4.6, scipy 1.17.1): the bound after each of 10 iterations
    /// from `golden_resp`, then sklearn's `weights_` and `means_`.
    #[derive(Deserialize)]
    struct Golden {
        name: String,
        covariance: Covariance,
        weight_concentration_prior_type: PriorType,
        explicit: bool,
        #[serde(deserialize_with = "exact")]
        lower_bounds: Vec<f64>,
        #[serde(deserialize_with = "exact")]
        weights: Vec<f64>,
        #[serde(deserialize_with = "exact")]
        means: Vec<f64>,
    }

    /// The numbers are stored as strings (Python's repr) and parsed with `str::parse`, which
    /// rounds exactly; serde_json's default float parser can land one ulp away.
    fn exact<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|v| v.parse().map_err(serde::de::Error::custom))
            .collect()
    }

    #[derive(Deserialize)]
    struct Goldens {
        cases: Vec<Golden>,
    }

    fn goldens() -> Vec<Golden> {
        let text = include_str!("../../tests/golden/bgmm.json");
        serde_json::from_str::<Goldens>(text)
            .expect("tests/golden/bgmm.json parses")
            .cases
    }

    #[test]
    fn matches_sklearn_iteration_by_iteration() {
        let x = golden_data();
        let resp = golden_resp();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-8 * b.abs() + 1e-12;
        let goldens = goldens();
        assert!(goldens.len() >= 8);
        for g in &goldens {
            let cfg = golden_config(g.covariance, g.weight_concentration_prior_type, g.explicit);
            let priors = Priors::resolve(&cfg, &x, 3).unwrap();
            let start = Posterior::update(&x, &resp, 4, g.covariance, 1e-6, &priors).unwrap();
            let f = fit(&x, start, &priors, g.lower_bounds.len(), -1.0, 1e-6).unwrap();
            assert_eq!(f.lower_bounds.len(), g.lower_bounds.len(), "{}", g.name);
            for (i, (a, b)) in f.lower_bounds.iter().zip(&g.lower_bounds).enumerate() {
                assert!(close(*a, *b), "{} bound {i}: {a} vs sklearn {b}", g.name);
            }
            let w = f.posterior.weights.mean();
            for (a, b) in w.iter().zip(&g.weights) {
                assert!(
                    close(*a, *b),
                    "{} weights: {w:?} vs sklearn {:?}",
                    g.name,
                    g.weights
                );
            }
            let m = &f.posterior.gauss.means;
            for (a, b) in m.iter().zip(&g.means) {
                assert!(
                    close(*a, *b),
                    "{} means: {m:?} vs sklearn {:?}",
                    g.name,
                    g.means
                );
            }
        }
    }

    /// Three well separated 2-D clusters (as in gmm.rs).
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

    #[test]
    fn dirichlet_process_keeps_three_of_ten_components_on_three_clusters() {
        let x = blobs(600, 4);
        let cfg = BgmmConfig {
            k: 10,
            ..BgmmConfig::default()
        };
        let priors = Priors::resolve(&cfg, &x, 2).unwrap();
        for seed in [5, 6] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let resp = initial_resp(&x, 2, 10, Init::Kmeans, &mut rng);
            let start = Posterior::update(&x, &resp, 10, Covariance::Full, 1e-6, &priors).unwrap();
            let f = fit(&x, start, &priors, 1000, 1e-3, 1e-6).unwrap();
            assert!(f.converged, "seed {seed}");
            let w = f.posterior.weights.mean();
            assert_eq!(effective_components(&w), 3, "seed {seed}: weights {w:?}");
        }
    }

    #[test]
    fn the_bound_never_falls() {
        let x = blobs(300, 2);
        for kind in [Dp, Dd] {
            for cov in [Full, Tied, Diag, Spherical] {
                let cfg = BgmmConfig {
                    k: 5,
                    covariance: cov,
                    weight_concentration_prior_type: kind,
                    ..BgmmConfig::default()
                };
                let priors = Priors::resolve(&cfg, &x, 2).unwrap();
                let mut rng = ChaCha8Rng::seed_from_u64(3);
                let resp = initial_resp(&x, 2, 5, Init::Random, &mut rng);
                let start = Posterior::update(&x, &resp, 5, cov, 1e-6, &priors).unwrap();
                let f = fit(&x, start, &priors, 100, 0.0, 1e-6).unwrap();
                for w in f.lower_bounds.windows(2) {
                    assert!(
                        w[1] >= w[0] - 1e-9 * w[0].abs(),
                        "{kind:?} {cov:?}: {} -> {}",
                        w[0],
                        w[1]
                    );
                }
            }
        }
    }

    #[test]
    fn special_functions_match_known_values() {
        let cases = [
            (ln_gamma(0.5), 0.572_364_942_924_7), // ln √π
            (ln_gamma(1.0), 0.0),
            (ln_gamma(10.0), 12.801_827_480_081_469), // ln 9!
            (ln_gamma(123.4), 469.336_097_442_190_6),
            (digamma(1.0), -0.577_215_664_901_532_9), // -γ
            (digamma(0.5), -1.963_510_026_021_423_5),
            (digamma(0.01), -100.560_885_457_868_68),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            assert!(
                (got - want).abs() < 1e-13 * want.abs().max(1.0),
                "{i}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn config_takes_auto_numbers_lists_and_matrices() {
        let mut t = default_model();
        assert_eq!(t["mean_prior"].as_str(), Some("auto"));
        let over: toml::Table = toml::from_str(
            "weight_concentration_prior = 1\nmean_prior = [0, 1.5]\ncovariance_prior = [[2, 0], [0, 1]]",
        )
        .unwrap();
        genlab_core::config::merge(&mut t, &over, "test").unwrap();
        let cfg: BgmmConfig = parse_section("model", &t).unwrap();
        assert_eq!(cfg.weight_concentration_prior, Prior::Scalar(1.0));
        assert_eq!(cfg.mean_prior, Prior::Vector(vec![0.0, 1.5]));
        assert_eq!(
            cfg.covariance_prior,
            Prior::Matrix(vec![vec![2.0, 0.0], vec![0.0, 1.0]])
        );
        assert_eq!(cfg.mean_precision_prior, Prior::AUTO);
    }

    #[test]
    fn bad_priors_and_too_many_components_name_the_key() {
        let x = blobs(30, 1);
        let bad = |cfg: BgmmConfig| Priors::resolve(&cfg, &x, 2).unwrap_err().to_string();
        let e = bad(BgmmConfig {
            mean_precision_prior: Prior::Scalar(0.0),
            ..BgmmConfig::default()
        });
        assert!(e.contains("model.mean_precision_prior"), "{e}");
        let e = bad(BgmmConfig {
            degrees_of_freedom_prior: Prior::Scalar(0.5),
            ..BgmmConfig::default()
        });
        assert!(
            e.contains("model.degrees_of_freedom_prior") && e.contains("> d - 1"),
            "{e}"
        );
        let e = bad(BgmmConfig {
            covariance_prior: Prior::Vector(vec![1.0, 1.0]),
            ..BgmmConfig::default()
        });
        assert!(e.contains("model.covariance_prior"), "{e}");

        let info = DataInfo {
            kind: Kind::Points,
            shape: genlab_data::Shape { c: 2, h: 1, w: 1 },
            classes: 0,
            preprocess: genlab_core::config::DataConfig::default().preprocess(),
        };
        let e = Bgmm::new(
            BgmmConfig {
                weight_concentration_prior: Prior::Scalar(-1.0),
                ..BgmmConfig::default()
            },
            &info,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("model.weight_concentration_prior"), "{e}");
        let mut model = Bgmm::new(
            BgmmConfig {
                k: 40,
                ..BgmmConfig::default()
            },
            &info,
        )
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let e = model.start(&x, 30, &mut rng).unwrap_err().to_string();
        assert!(
            e.contains("model.k = 40") && e.contains("lower model.k"),
            "{e}"
        );
    }
}
