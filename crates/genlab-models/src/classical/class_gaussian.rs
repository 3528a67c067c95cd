//! `class-gaussian`: one Gaussian per class, fitted in closed form — the simplest answer to
//! "generate examples of a label", and a generative classifier (Gaussian discriminant analysis;
//! Bishop, PRML §4.2; Murphy, PML §9.2).
//!
//! For each class c with n_c examples:  pi_c = n_c / N,  mu_c = mean of its examples, and
//!   - `diag`:    Sigma_c = diag(per-pixel variance) + reg
//!   - `full`:    Sigma_c = (1 - s) S_c + s (tr S_c / d) I + reg   (shrinkage s toward a sphere)
//!   - `lowrank`: Sigma_c = W Wᵀ + sigma² I, probabilistic PCA with q components
//!     (Tipping & Bishop 1999: W = U_q (Lambda_q - sigma² I)^½, sigma² = mean discarded eigenvalue)
//!
//! p(x) = sum_c pi_c N(x | mu_c, Sigma_c) is an exact density; Bayes' rule gives
//! p(c | x) ∝ pi_c N(x | mu_c, Sigma_c) for classification.
//!
//! NOTE: fitting is a single pass; the one train step computes everything and training stops.

use super::mixture::{rows_f64, to_tensor, Covariance, Mixture};
use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::model::held_out_nll;
use genlab_core::Capability;
use genlab_core::{
    Batch, Bound, Classify, DataInfo, Family, Likelihood, Losses, Model, NamedTensors, Sample,
    SampleGiven, StepCtx,
};
use genlab_data::Kind;
use genlab_nn::linalg::{mean_and_covariance, top_eigen};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassCovariance {
    Diag,
    Full,
    Lowrank,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassGaussianConfig {
    pub covariance: ClassCovariance,
    /// `full`: weight of the spherical target in the shrunk covariance, in [0, 1]. Pixel
    /// covariances of 784-d images from 6000 examples are near-singular without it.
    pub shrinkage: f64,
    /// `lowrank`: principal directions per class.
    pub rank: usize,
    /// Added to every variance (keeps constant pixels, e.g. image borders, invertible).
    pub reg: f64,
}

impl Default for ClassGaussianConfig {
    fn default() -> Self {
        Self {
            covariance: ClassCovariance::Lowrank,
            shrinkage: 0.1,
            rank: 16,
            reg: 1e-3,
        }
    }
}

pub struct ClassGaussian {
    cfg: ClassGaussianConfig,
    kind: Kind,
    classes: usize,
    d: usize,
    mix: Option<Mixture>,
}

impl ClassGaussian {
    pub fn new(cfg: ClassGaussianConfig, info: &DataInfo) -> Result<Self> {
        if info.classes < 1 {
            bail!("class-gaussian needs labelled data (fashion-mnist, shapes, idx:DIR with labels, a folder with class subfolders, or a csv with a `label` column)");
        }
        if !(0.0..=1.0).contains(&cfg.shrinkage) || cfg.reg <= 0.0 {
            bail!("class-gaussian: model.shrinkage must be in [0, 1] and model.reg > 0");
        }
        let d = info.shape.dim();
        if cfg.covariance == ClassCovariance::Lowrank && (cfg.rank == 0 || cfg.rank >= d) {
            bail!(
                "class-gaussian: model.rank must be between 1 and {} (the data dimension - 1)",
                d - 1
            );
        }
        if cfg.covariance != ClassCovariance::Diag {
            let need = super::mixture::fit_bytes(Covariance::Full, info.classes, d, 1);
            let diag = super::mixture::fit_bytes(Covariance::Diag, info.classes, d, 1);
            genlab_core::memory::check(
                &format!("class-gaussian: {} covariances of {d}x{d}", info.classes),
                need as u64,
                &format!(
                    "set model.covariance = \"diag\" (about {:.3} GiB)",
                    diag / (1u64 << 30) as f64
                ),
            )?;
        }
        Ok(Self {
            cfg,
            kind: info.kind,
            classes: info.classes,
            d,
            mix: None,
        })
    }

    fn mixture(&self) -> Result<&Mixture> {
        self.mix
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("class-gaussian is not fitted yet; train it first"))
    }

    /// How Sigma_c is stored: variances for `diag`, full matrices otherwise.
    fn structure(&self) -> Covariance {
        match self.cfg.covariance {
            ClassCovariance::Diag => Covariance::Diag,
            _ => Covariance::Full,
        }
    }

    /// Mean and Sigma_c (variances `[d]` for `diag`, else `[d, d]`) of one class's examples.
    fn covariance(&self, x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
        let d = self.d;
        let (mu, s) = mean_and_covariance(x, n, d);
        let reg = self.cfg.reg;
        let mut sigma = match self.cfg.covariance {
            ClassCovariance::Diag => return (mu, (0..d).map(|i| s[i * d + i] + reg).collect()),
            ClassCovariance::Full => {
                let target = (0..d).map(|i| s[i * d + i]).sum::<f64>() / d as f64;
                let sh = self.cfg.shrinkage;
                let mut m: Vec<f64> = s.iter().map(|v| (1.0 - sh) * v).collect();
                for i in 0..d {
                    m[i * d + i] += sh * target;
                }
                m
            }
            ClassCovariance::Lowrank => {
                let q = self.cfg.rank;
                let (vals, u) = top_eigen(&s, d, q);
                let trace: f64 = (0..d).map(|i| s[i * d + i]).sum();
                // sigma² = mean of the d - q discarded eigenvalues.
                let sigma2 = ((trace - vals.iter().sum::<f64>()) / (d - q) as f64).max(0.0);
                let mut m = vec![0.0; d * d];
                for j in 0..q {
                    let scale = (vals[j] - sigma2).max(0.0);
                    for r in 0..d {
                        let ur = u[r * q + j] * scale;
                        for c in 0..d {
                            m[r * d + c] += ur * u[c * q + j];
                        }
                    }
                }
                for i in 0..d {
                    m[i * d + i] += sigma2;
                }
                m
            }
        };
        for i in 0..d {
            sigma[i * d + i] += reg;
        }
        (mu, sigma)
    }
}

impl Model for ClassGaussian {
    fn family(&self) -> &'static str {
        "class-gaussian"
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
        self.mix.is_some()
    }

    fn train_step(&mut self, batch: &Batch, _ctx: &mut StepCtx) -> Result<Losses> {
        let (x, n) = rows_f64(&batch.x);
        if let Some(mix) = &self.mix {
            // Fitted in one pass; later steps only report.
            let mut losses = Losses::default();
            losses.push("nll", -mix.e_step(&x).0.iter().sum::<f64>() / n as f64);
            return Ok(losses);
        }
        let Some(y) = &batch.y else {
            bail!("class-gaussian needs labels, and this data has none");
        };
        let y = genlab_core::tensor::labels(y.clone());
        let d = self.d;
        let (mut weights, mut means, mut covs) = (Vec::new(), Vec::new(), Vec::new());
        for c in 0..self.classes {
            let rows: Vec<f64> = (0..n)
                .filter(|&i| y[i] as usize == c)
                .flat_map(|i| x[i * d..(i + 1) * d].to_vec())
                .collect();
            let nc = rows.len() / d;
            if nc < 2 {
                bail!("class-gaussian: class {c} has {nc} training examples; each class needs at least 2");
            }
            let (mu, sigma) = self.covariance(&rows, nc);
            weights.push(nc as f64 / n as f64);
            means.extend(mu);
            covs.extend(sigma);
        }
        let mix = Mixture::new(self.structure(), weights, means, covs)?;
        let ll: f64 = mix.e_step(&x).0.iter().sum::<f64>() / n as f64;
        self.mix = Some(mix);
        let mut losses = Losses::default();
        losses.push("nll", -ll);
        Ok(losses)
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::default();
        if let Some(m) = &self.mix {
            let (k, d) = (m.k, m.d);
            out.insert_f64("model/weights".into(), vec![k], m.weights.clone());
            out.insert_f64("model/means".into(), vec![k, d], m.means.clone());
            out.insert_f64(
                "model/covariances".into(),
                vec![m.covariances.len()],
                m.covariances.clone(),
            );
        }
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        let (k, d) = (self.classes, self.d);
        if params.1.is_empty() {
            self.mix = None;
            return Ok(());
        }
        let per = if self.structure() == Covariance::Diag {
            d
        } else {
            d * d
        };
        self.mix = Some(Mixture::new(
            self.structure(),
            params.get_f64("model/weights", &[k])?,
            params.get_f64("model/means", &[k, d])?,
            params.get_f64("model/covariances", &[k * per])?,
        )?);
        Ok(())
    }

    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_sample_given(&self) -> Option<&dyn SampleGiven> {
        Some(self)
    }
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        Some(self)
    }
    fn as_classify(&self) -> Option<&dyn Classify> {
        Some(self)
    }
}

impl Sample for ClassGaussian {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let labels: Vec<u32> = (0..n).map(|i| (i % self.classes) as u32).collect();
        self.sample_given(&labels, rng, device)
    }
}

impl SampleGiven for ClassGaussian {
    fn classes(&self) -> usize {
        self.classes
    }
    fn sample_given(
        &self,
        labels: &[u32],
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Tensor<2>> {
        let d = self.d;
        let mut x = Vec::with_capacity(labels.len() * d);
        match &self.mix {
            // Untrained: mid-grey (images) or the origin (points).
            None => x.resize(
                labels.len() * d,
                if self.kind == Kind::Images { 0.5 } else { 0.0 },
            ),
            Some(m) => {
                genlab_core::model::check_labels(labels, self.classes)?;
                for &c in labels {
                    x.extend(m.sample_component(c as usize, rng));
                }
            }
        }
        Ok(to_tensor(x, labels.len(), self.kind, device))
    }
}

impl Likelihood for ClassGaussian {
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let (x, _) = rows_f64(&x);
        Ok(self.mixture()?.e_step(&x).0)
    }
    fn bound(&self, _k: usize) -> Bound {
        Bound::Exact
    }
}

impl Classify for ClassGaussian {
    fn classify(&self, x: Tensor<2>) -> Result<Vec<u32>> {
        let (x, _) = rows_f64(&x);
        let m = self.mixture()?;
        Ok(m.weighted_log_prob(&x)
            .chunks_exact(m.k)
            .map(|row| (0..m.k).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap() as u32)
            .collect())
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(ClassGaussianConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, _device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(ClassGaussian::new(
        parse_section("model", model)?,
        info,
    )?))
}

pub const FAMILY: Family = Family {
    name: "class-gaussian",
    summary:
        "one Gaussian per class (diag, shrunk full, or low-rank PPCA); sample a label, classify",
    paper: "Tipping & Bishop 1999 (PPCA); Bishop PRML §4.2",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::SampleGivenLabel,
        Capability::Likelihood,
        Capability::Classify,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/class-gaussian/default.toml"),
        ),
        (
            "demo",
            include_str!("../../../../configs/class-gaussian/demo.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/class-gaussian/tiny.toml"),
        ),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use genlab_data::{Binarize, Preprocess, Scale, Shape};

    fn info(classes: usize, d: usize) -> DataInfo {
        DataInfo {
            kind: Kind::Points,
            shape: Shape { c: d, h: 1, w: 1 },
            classes,
            preprocess: Preprocess {
                binarize: Binarize::None,
                scale: Scale::Unit,
                dequantize: false,
            },
            modes: None,
            standardization: None,
            input: None,
        }
    }

    #[test]
    fn lowrank_covariance_is_ppca() {
        // Rank-1 data plus isotropic noise: PPCA with q = 1 keeps the line and the noise level.
        let cfg = ClassGaussianConfig {
            covariance: ClassCovariance::Lowrank,
            rank: 1,
            reg: 1e-9,
            ..Default::default()
        };
        let m = ClassGaussian::new(cfg, &info(1, 3)).unwrap();
        let n = 4000;
        let x: Vec<f64> = (0..n)
            .flat_map(|i| {
                let t = ((i * 7919) % 1000) as f64 / 100.0 - 5.0;
                let e = |k: usize| (((i * 31 + k * 17) % 101) as f64 / 101.0 - 0.5) * 0.2;
                [t + e(0), 2.0 * t + e(1), -t + e(2)]
            })
            .collect();
        let (_, sigma) = m.covariance(&x, n);
        let (_, s) = mean_and_covariance(&x, n, 3);
        // The leading direction's variance is reproduced and the matrix is symmetric.
        let (v1, _) = top_eigen(&s, 3, 1);
        let (w1, _) = top_eigen(&sigma, 3, 1);
        assert!((v1[0] - w1[0]).abs() < 1e-6 * v1[0], "{v1:?} vs {w1:?}");
        for r in 0..3 {
            for c in 0..3 {
                assert!((sigma[r * 3 + c] - sigma[c * 3 + r]).abs() < 1e-12);
            }
        }
    }
}
