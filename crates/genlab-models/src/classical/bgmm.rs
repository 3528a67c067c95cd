//! `bgmm`: variational Bayesian Gaussian mixture (Bishop, PRML §10.2; Attias 2000), with the
//! truncated Dirichlet-process prior on the weights of Blei & Jordan 2006 as the default. It is
//! scikit-learn's `BayesianGaussianMixture` step for step (its bound, priors and defaults), so
//! that numbers can be checked against it. The variational posterior, priors and bound are in
//! `variational.rs`; the mixture, statistics, k-means init and restarts are `mixture.rs`'s.
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
//!   2. M-step from N_k, x̄_k, S_k (`mixture::gaussian_statistics`):
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

use super::kmeans::{initial_resp, Init};
use super::mixture::{
    broad_start, density_bound, load_pca, log_density, prepare, project, rows_f64, save_pca,
    to_tensor, Covariance, Mixture, Restarts,
};
use super::variational::{effective_components, positive, Posterior, Priors, WeightPosterior};
use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::Capability;
use genlab_core::{
    Batch, Bound, DataInfo, Family, Likelihood, Losses, Model, NamedTensors, Sample, StepCtx,
};
use genlab_data::Kind;
use genlab_nn::linalg::Pca;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

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

pub struct Bgmm {
    cfg: BgmmConfig,
    kind: Kind,
    /// Each restart's posterior; `last` is its lower bound after the last iteration.
    restarts: Restarts<Posterior>,
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
                "bgmm: model.pca = {} exceeds the data's {d} dimensions; set model.pca to at most {d} (0 keeps every pixel)",
                cfg.pca
            );
        }
        let k = cfg.k;
        super::mixture::check_memory("bgmm", cfg.covariance, k, d, cfg.pca, cfg.n_init)?;
        let (center, covariances) = broad_start(cfg.covariance, k, d, info.kind);
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
            restarts: Restarts::new(post, cfg.n_init),
            cfg,
            kind: info.kind,
            priors: None,
            pca: None,
            fitted: false,
        })
    }

    pub fn posterior(&self) -> &Posterior {
        &self.restarts.best().state
    }

    /// First step: PCA, the priors from the data, and each restart's posterior from its initial
    /// responsibilities (sklearn's `_initialize`).
    fn start(&mut self, x: &[f64], n: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let cfg = &self.cfg;
        let z = prepare("bgmm", cfg.k, (cfg.pca, cfg.whiten), &mut self.pca, x, n)?;
        let dz = z.len() / n;
        let priors = Priors::resolve(cfg, &z, dz)?;
        let (k, cov, reg) = (cfg.k, cfg.covariance, cfg.reg_covar);
        self.restarts.begin(|_| {
            let resp = initial_resp(&z, dz, k, cfg.init, rng);
            Posterior::update(&z, &resp, k, cov, reg, &priors)
        })?;
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
        self.fitted && self.restarts.converged()
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
        // 1. E-step, 2. M-step, 3. lower bound, for every restart that has not converged.
        self.restarts
            .step(tol, |post| post.iterate(&z, priors, reg))?;
        let best = self.restarts.best();
        let mut losses = Losses::default();
        losses.push("neg_lower_bound", -best.last / n as f64);
        losses.push(
            "effective_components",
            effective_components(&best.state.weights.mean()) as f64,
        );
        Ok(losses)
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::default();
        self.restarts
            .save(&mut out, |post, out, prefix| post.save(out, prefix));
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
        save_pca(self.pca.as_ref(), &mut out);
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        let (cov, kind) = (
            self.cfg.covariance,
            self.cfg.weight_concentration_prior_type,
        );
        self.restarts.load(params, |params, prefix| {
            Posterior::load(params, prefix, cov, kind)
        })?;
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
        self.pca = load_pca(params, self.cfg.whiten)?;
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
        let best = self.restarts.best();
        let k = best.state.gauss.k;
        let weights = best.state.weights.mean();
        let mut sorted = weights.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        // Hard assignments under the variational responsibilities (sklearn's `predict`).
        let log_resp = best.state.log_resp(&z);
        let mut assigned = vec![0usize; k];
        for row in log_resp.chunks_exact(k) {
            let j = (0..k).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            assigned[j] += 1;
        }
        let mut m = serde_json::Map::new();
        m.insert(
            "effective_components".into(),
            effective_components(&weights).into(),
        );
        m.insert("weights".into(), weights.into());
        m.insert("weights_sorted".into(), sorted.into());
        m.insert("assigned_per_component".into(), assigned.into());
        m.insert("assigned_of".into(), (log_resp.len() / k).into());
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
        density_bound(self.pca.as_ref())
    }
    fn projected_dims(&self) -> Option<usize> {
        self.pca.as_ref().map(|p| p.p)
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
    capabilities: &[Capability::Sample, Capability::Likelihood],
    presets: &[
        ("default", include_str!("../../../../configs/bgmm/default.toml")),
        ("tiny", include_str!("../../../../configs/bgmm/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn more_components_than_examples_names_model_k() {
        let info = DataInfo {
            kind: Kind::Points,
            shape: genlab_data::Shape { c: 2, h: 1, w: 1 },
            classes: 0,
            preprocess: genlab_core::config::DataConfig::default().preprocess(),
            modes: None,
            standardization: None,
            input: None,
        };
        // 30 examples (their values do not matter: the count is checked first).
        let x = vec![0.0; 60];
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
