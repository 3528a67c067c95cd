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
//! The mixture itself (E- and M-steps, k-means initialisation, restarts) is `mixture.rs`; this
//! file is the family: its config and one EM iteration per train step.
//!
//! NOTE: `n_init > 1` runs the restarts side by side, one EM iteration each per step, and keeps
//! the one with the highest log-likelihood (sklearn runs them one after another; same result).
//! NOTE: like sklearn, `reg_covar` is added to every variance, and 10 * f64::EPSILON to every N_k.

use super::kmeans::{initial_resp, Init};
use super::mixture::{
    broad_start, density_bound, em_step, load_pca, log_density, prepare, project, rows_f64,
    save_pca, to_tensor, Covariance, Mixture, Restarts,
};
use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::model::held_out_nll;
use genlab_core::Capability;
use genlab_core::{
    Batch, Bound, DataInfo, Family, Likelihood, Losses, Model, NamedTensors, Sample, StepCtx,
};
use genlab_data::Kind;
use genlab_nn::linalg::Pca;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

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

pub struct Gmm {
    cfg: GmmConfig,
    kind: Kind,
    restarts: Restarts<Mixture>,
    pca: Option<Pca>,
    fitted: bool,
    /// log |det dz/dx| of standardised tabular data, so that AIC and BIC are of the data as
    /// given (0 otherwise).
    log_jacobian: f64,
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
                "gmm: model.pca = {} exceeds the data's {d} dimensions; set model.pca to at most {d} (0 keeps every pixel)",
                cfg.pca
            );
        }
        super::mixture::check_memory("gmm", cfg.covariance, cfg.k, d, cfg.pca, cfg.n_init)?;
        let (center, covariances) = broad_start(cfg.covariance, cfg.k, d, info.kind);
        let mix = Mixture::new(
            cfg.covariance,
            vec![1.0 / cfg.k as f64; cfg.k],
            vec![center; cfg.k * d],
            covariances,
        )?;
        Ok(Self {
            restarts: Restarts::new(mix, cfg.n_init),
            cfg,
            kind: info.kind,
            pca: None,
            fitted: false,
            log_jacobian: info
                .standardization
                .as_ref()
                .map_or(0.0, |s| s.log_jacobian()),
        })
    }

    pub fn mixture(&self) -> &Mixture {
        &self.restarts.best().state
    }

    /// First step: PCA, then each restart's M-step from its initial responsibilities.
    fn start(&mut self, x: &[f64], n: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let cfg = &self.cfg;
        let z = prepare("gmm", cfg.k, (cfg.pca, cfg.whiten), &mut self.pca, x, n)?;
        let dz = z.len() / n;
        self.restarts.begin(|_| {
            let resp = initial_resp(&z, dz, cfg.k, cfg.init, rng);
            Mixture::m_step(&z, &resp, cfg.k, cfg.covariance, cfg.reg_covar)
        })?;
        self.fitted = true;
        Ok(z)
    }
}

impl Model for Gmm {
    fn family(&self) -> &'static str {
        "gmm"
    }
    fn held_out(&self, batch: &Batch, rng: &mut ChaCha8Rng) -> Result<Losses> {
        held_out_nll(self, "nll", batch.x.clone(), 1, rng)
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
        let (reg, tol) = (self.cfg.reg_covar, self.cfg.tol);
        // 1. E-step, 2. M-step, for every restart that has not converged (`em_step`).
        self.restarts.step(tol, |mix| em_step(&z, mix, reg))?;
        let best = self.restarts.best();
        let mut losses = Losses::default();
        losses.push("nll", -best.last);
        losses.push("bic", best.state.bic(best.last * n as f64, n));
        Ok(losses)
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::default();
        self.restarts
            .save(&mut out, |mix, out, prefix| mix.save(out, prefix));
        out.insert_f64(
            "model/fitted".into(),
            vec![1],
            vec![self.fitted as u8 as f64],
        );
        save_pca(self.pca.as_ref(), &mut out);
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        let cov = self.cfg.covariance;
        self.restarts
            .load(params, |params, prefix| Mixture::load(params, prefix, cov))?;
        self.fitted = params.get_f64("model/fitted", &[1])?[0] != 0.0;
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
        let mix = self.mixture();
        let (ll, resp) = mix.e_step(&z);
        let total: f64 = ll.iter().sum::<f64>() + n as f64 * self.log_jacobian;
        let mut m = serde_json::Map::new();
        m.insert("bic".into(), mix.bic(total, n).into());
        m.insert("aic".into(), mix.aic(total).into());
        m.insert("n_parameters".into(), mix.n_parameters().into());
        m.insert("weights".into(), mix.weights.clone().into());
        m.insert("converged".into(), self.restarts.best().converged.into());
        let hard: Vec<usize> = (0..mix.k)
            .map(|j| {
                (0..n)
                    .filter(|&i| (0..mix.k).all(|o| resp[i * mix.k + o] <= resp[i * mix.k + j]))
                    .count()
            })
            .collect();
        m.insert("assigned_per_component".into(), hard.into());
        m.insert("assigned_of".into(), n.into());
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

impl Likelihood for Gmm {
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        Ok(log_density(self.mixture(), self.pca.as_ref(), &x))
    }
    fn bound(&self, _k: usize) -> Bound {
        density_bound(self.pca.as_ref())
    }
    fn projected_dims(&self) -> Option<usize> {
        self.pca.as_ref().map(|p| p.p)
    }
}

/// How `genlab gmm-select` fits one (K, covariance) pair.
pub struct SelectionFit {
    /// EM runs from k-means per pair; the best total log-likelihood wins.
    pub n_init: usize,
    pub max_iter: usize,
    pub tol: f64,
    pub reg_covar: f64,
    /// Restart r of K components draws from host stream `Model`, draw `K * 1000 + r`.
    pub seed: u64,
}

/// The chosen mixture of one (K, covariance) pair, its total log-likelihood over the `n` rows of
/// `x` (nats) and its EM iterations. Errors when a fit fails (e.g. a singular covariance).
pub fn fit_for_selection(
    x: &[f64],
    d: usize,
    k: usize,
    covariance: Covariance,
    fit: &SelectionFit,
) -> Result<(Mixture, f64, usize)> {
    let mut restarts = Restarts::from_init(fit.n_init, |r| {
        let draw = (k * 1000 + r) as u64;
        let mut rng = genlab_core::rng::rng_for(fit.seed, draw, genlab_core::rng::Stream::Model);
        let resp = initial_resp(x, d, k, Init::Kmeans, &mut rng);
        Mixture::m_step(x, &resp, k, covariance, fit.reg_covar)
    })?;
    restarts.run(fit.max_iter, fit.tol, |mix| em_step(x, mix, fit.reg_covar))?;
    let (chosen, total) = restarts.best_by(|r| r.state.e_step(x).0.iter().sum());
    Ok((chosen.state.clone(), total, chosen.iterations))
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
    capabilities: &[Capability::Sample, Capability::Likelihood],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/gmm/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/gmm/fashion.toml"),
        ),
        ("tiny", include_str!("../../../../configs/gmm/tiny.toml")),
    ],
    default_model,
    build,
};
