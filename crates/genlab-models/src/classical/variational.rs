//! The variational Bayesian Gaussian mixture of `bgmm` (Bishop, PRML §10.2), as scikit-learn's
//! `BayesianGaussianMixture` computes it: the resolved priors, the posterior over the weights
//! (Dirichlet or stick-breaking) and the Gaussian-Wishart components, its E- and M-steps and
//! lower bound, and [`fit`]. The family (config, restarts, checkpoints) is bgmm.rs; the
//! equations are in its module doc.

use super::bgmm::{BgmmConfig, Prior, PriorType};
use super::mixture::{gaussian_statistics, Covariance, Mixture};
use anyhow::{anyhow, bail, Result};
use genlab_core::NamedTensors;
use genlab_nn::linalg::{cholesky, mean_and_covariance};
use genlab_nn::special::LN_2PI;
use rayon::prelude::*;
use std::f64::consts::LN_2;

/// A component counts as used when its weight exceeds this.
pub const EFFECTIVE_WEIGHT: f64 = 1e-2;

/// `"auto"` or a positive number for `model.{key}`.
pub(crate) fn positive(key: &str, prior: &Prior, auto: f64) -> Result<f64> {
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
                    "bgmm: model.covariance_prior for covariance = \"{}\" on {d}-dimensional data must be \"auto\" or {form} (a preset sets it for the data it was written for: --set model.covariance_prior=\"auto\" takes the data's own covariance, as sklearn does)",
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

    pub(crate) fn save(&self, out: &mut NamedTensors, prefix: &str) {
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

    pub(crate) fn load(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
