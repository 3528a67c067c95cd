//! `rbm`: restricted Boltzmann machine (Smolensky 1986; Hinton 2002, "Training products of
//! experts by minimizing contrastive divergence"), trained by CD-k or persistent CD (Tieleman
//! 2008), with Gaussian-Bernoulli units for real data (Hinton & Salakhutdinov 2006) and the
//! log-likelihood estimated by annealed importance sampling (Salakhutdinov & Murray 2008).
//!
//! Energy (Bernoulli visible):  E(v, h) = -bᵀv - cᵀh - vᵀWh
//! Free energy:                 F(v) = -bᵀv - sum_j softplus(c_j + vᵀW_j)
//! (Gaussian visible, unit variance: F(v) = ||v - b||²/2 - sum_j softplus(c_j + vᵀW_j).)
//! The log-likelihood gradient is  -dF(v_data)/dθ + E_model[dF(v)/dθ]; CD-k and PCD replace the
//! model expectation by the end of a k-step Gibbs chain, started at the data (CD) or carried
//! over from the previous step (PCD). So each step:
//!   1. h ~ p(h | v_data) (CD) or the persistent chain's h (PCD)
//!   2. k Gibbs steps v ~ p(v | h), h ~ p(h | v) -> v_neg (no gradient through the chain)
//!   3. gradient of  mean F(v_data) - mean F(v_neg) [+ sparsity cost * sum_j (p - mean_j q_j)²],
//!      written out (no autodiff): dW = (v_negᵀ q_neg - v_dataᵀ q_pos) / b, ...
//!   4. the optimizer of group `model` (SGD with momentum and weight decay) steps on it.
//!
//! NOTE: step 3 is exactly the CD/PCD update of the papers; handing it to the shared optimizers
//! (rather than adding it by hand) gives momentum, weight decay and schedules.
//! NOTE: sparsity follows Lee, Ekanadham & Ng 2008 (squared deviation of mean activation).

use anyhow::{bail, Result};
use burn::module::{Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Distribution, Tensor};
use genlab_core::config::parse_section;
use genlab_core::tensor::{matrix, normal, to_vec};
use genlab_core::Capability;
use genlab_core::{
    Batch, Bound, Complete, DataInfo, Family, GibbsChain, Likelihood, Losses, Model, NamedTensors,
    Reconstruct, Sample, StepCtx,
};
use genlab_data::Kind;
use genlab_kernels::fused::softplus;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visible {
    /// Binary pixels (or intensities in [0, 1] read as probabilities).
    Bernoulli,
    /// Real values with unit variance: standardise the data first.
    Gaussian,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbmConfig {
    pub hidden: usize,
    pub visible: Visible,
    /// Gibbs steps per update (CD-k / PCD-k).
    pub k: usize,
    /// Persistent chains (PCD, sklearn's BernoulliRBM) instead of restarting at the data (CD).
    pub persistent: bool,
    /// Target mean activation of the hidden units (0 = no sparsity term).
    pub sparsity_target: f64,
    pub sparsity_cost: f64,
    /// Gibbs steps from noise for `genlab sample`.
    pub sample_steps: usize,
    /// AIS: intermediate distributions (inverse temperatures) and independent chains.
    pub ais_betas: usize,
    pub ais_chains: usize,
}

impl Default for RbmConfig {
    fn default() -> Self {
        Self {
            hidden: 500,
            visible: Visible::Bernoulli,
            k: 1,
            persistent: true,
            sparsity_target: 0.0,
            sparsity_cost: 0.0,
            sample_steps: 1000,
            // Salakhutdinov & Murray used 14,500 betas and 100 chains for MNIST RBMs.
            ais_betas: 14_500,
            ais_chains: 100,
        }
    }
}

/// Weights `[v, h]`, visible bias `[v]`, hidden bias `[h]`.
#[derive(Module, Debug)]
pub struct RbmNet {
    pub w: Param<Tensor<2>>,
    pub b: Param<Tensor<1>>,
    pub c: Param<Tensor<1>>,
}

impl RbmNet {
    /// Hinton's practical guide: W ~ N(0, 0.01²), zero biases.
    pub fn new(visible: usize, hidden: usize, device: &Device) -> Self {
        let w = Tensor::random([visible, hidden], Distribution::Normal(0.0, 0.01), device);
        Self {
            w: Param::from_tensor(w),
            b: Param::from_tensor(Tensor::zeros([visible], device)),
            c: Param::from_tensor(Tensor::zeros([hidden], device)),
        }
    }

    /// The tensors without autodiff, on `device`.
    pub fn weights(&self, visible: Visible, device: &Device) -> Weights {
        let net = self.valid();
        Weights {
            w: net.w.val().to_device(device),
            b: net.b.val().to_device(device),
            c: net.c.val().to_device(device),
            visible,
        }
    }
}

/// The tensors of one RBM without autodiff, for Gibbs chains and AIS.
#[derive(Clone)]
pub struct Weights {
    pub w: Tensor<2>,
    pub b: Tensor<1>,
    pub c: Tensor<1>,
    pub visible: Visible,
}

impl Weights {
    /// c + v W   `[b, v] -> [b, h]`
    pub fn activation(&self, v: Tensor<2>) -> Tensor<2> {
        v.matmul(self.w.clone()) + self.c.clone().unsqueeze()
    }

    /// p(h = 1 | v) = sigmoid(c + v W)   `[b, v] -> [b, h]`
    pub fn hidden_prob(&self, v: Tensor<2>) -> Tensor<2> {
        sigmoid(self.activation(v))
    }

    /// E[v | h]: sigmoid(b + h Wᵀ) or b + h Wᵀ   `[b, h] -> [b, v]`
    pub fn visible_mean(&self, h: Tensor<2>) -> Tensor<2> {
        let a = h.matmul(self.w.clone().transpose()) + self.b.clone().unsqueeze();
        match self.visible {
            Visible::Bernoulli => sigmoid(a),
            Visible::Gaussian => a,
        }
    }

    pub fn sample_visible(&self, h: Tensor<2>, rng: &mut impl Rng) -> Tensor<2> {
        let mean = self.visible_mean(h);
        let device = mean.device();
        match self.visible {
            Visible::Bernoulli => bernoulli(mean, rng),
            Visible::Gaussian => {
                let noise = normal(mean.dims(), rng, &device);
                mean + noise
            }
        }
    }

    /// Gibbs sampling from the visible state `v` `[n, v]`: `v` itself (step 0), then `frames`
    /// snapshots of E[v | h], taken every `every` steps (v -> h ~ p(h | v) -> v ~ p(v | h)).
    pub fn gibbs_frames(
        &self,
        mut v: Tensor<2>,
        frames: usize,
        every: usize,
        rng: &mut impl Rng,
    ) -> Vec<Tensor<2>> {
        let mut out = Vec::with_capacity(frames + 1);
        out.push(v.clone());
        for _ in 0..frames {
            let mut mean = v.clone();
            for _ in 0..every.max(1) {
                let h = bernoulli(self.hidden_prob(v), rng);
                mean = self.visible_mean(h.clone());
                v = self.sample_visible(h, rng);
            }
            out.push(mean);
        }
        out
    }

    /// F(v) per example `[b]`.
    pub fn free_energy(&self, v: Tensor<2>) -> Tensor<1> {
        let act = self.activation(v.clone());
        self.free_energy_from(v, act)
    }

    /// F(v) given the activations `act = c + v W` already computed.
    pub fn free_energy_from(&self, v: Tensor<2>, act: Tensor<2>) -> Tensor<1> {
        let hidden_term = softplus(act).sum_dim(1).squeeze_dim(1); // [b]
        let visible_term = match self.visible {
            Visible::Bernoulli => -(v * self.b.clone().unsqueeze()).sum_dim(1).squeeze_dim(1),
            Visible::Gaussian => {
                let d = v - self.b.clone().unsqueeze();
                (d.clone() * d).sum_dim(1).squeeze_dim(1) * 0.5
            }
        };
        visible_term - hidden_term
    }
}

/// One CD-k / PCD-k update of the RBM `wts` on the batch `v0` `[b, v]` (steps 1-3 above): runs
/// the negative chain (PCD carries its hidden states in `chains`) and returns the gradient keyed
/// `w`, `b`, `c` with the losses to report.
pub fn cd_step(
    wts: &Weights,
    cfg: &RbmConfig,
    chains: &mut Option<(usize, Vec<f32>)>,
    v0: Tensor<2>,
    rng: &mut ChaCha8Rng,
) -> (BTreeMap<String, Tensor<1>>, Losses) {
    let [bsz, _] = v0.dims();
    let [_, nh] = wts.w.dims();
    let device = v0.device();
    // 1. Positive phase: q = p(h | v_data).
    let act_pos = wts.activation(v0.clone()); // [b, h]
    let h_pos = sigmoid(act_pos.clone());
    // 2. Start of the negative chain: the data's hidden sample (CD) or the persistent one.
    let mut h = match (chains.as_ref(), cfg.persistent) {
        (Some((n, hs)), true) if *n == bsz && hs.len() == bsz * nh => {
            matrix(hs.clone(), bsz, nh, &device)
        }
        (_, true) => Tensor::zeros([bsz, nh], &device), // sklearn's start
        (_, false) => bernoulli(h_pos.clone(), rng),
    };
    // 3. k Gibbs steps -> v_neg and its activations.
    let mut v_neg = v0.clone();
    let mut act_neg = act_pos.clone();
    for _ in 0..cfg.k {
        v_neg = wts.sample_visible(h, rng);
        act_neg = wts.activation(v_neg.clone());
        h = bernoulli(sigmoid(act_neg.clone()), rng);
    }
    if cfg.persistent {
        *chains = Some((bsz, to_vec(h)));
    }
    let grads = cd_gradient(
        v0.clone(),
        h_pos.clone(),
        v_neg.clone(),
        sigmoid(act_neg.clone()),
        cfg.sparsity_target,
        cfg.sparsity_cost,
    );
    // Reported, on (at most) 32 examples of the batch to keep the step lean: the free-energy gap
    // (from the activations at hand) and the squared error of a one-step reconstruction.
    let m = bsz.min(32);
    let gap = (wts.free_energy_from(v0.clone().narrow(0, 0, m), act_pos.narrow(0, 0, m))
        - wts.free_energy_from(v_neg.narrow(0, 0, m), act_neg.narrow(0, 0, m)))
    .mean()
    .into_scalar::<f32>() as f64;
    let recon = wts.visible_mean(h_pos.narrow(0, 0, m));
    let err = (recon - v0.narrow(0, 0, m))
        .powf_scalar(2.0)
        .sum()
        .into_scalar::<f32>() as f64
        / m as f64;
    let mut losses = Losses::default();
    losses.push("recon_error", err);
    losses.push("free_energy_gap", gap);
    (grads, losses)
}

/// The gradient of  mean F(v_data) - mean F(v_neg) + cost * sum_j (p - mean_i q_ij)²  written out
/// (both visible types), keyed by parameter path:
///   dW = (v_negᵀ q_neg - v_dataᵀ q_pos) / b + v_dataᵀ S,   db = mean v_neg - mean v_data,
///   dc = mean q_neg - mean q_pos + sum_i S_i,   S_ij = -2 cost (p - q_j) q_ij (1 - q_ij) / b,
/// with q = p(h | v). dW is one GEMM over the stacked batch [v_neg; v_data].
pub fn cd_gradient(
    v_data: Tensor<2>,
    q_pos: Tensor<2>,
    v_neg: Tensor<2>,
    q_neg: Tensor<2>,
    sparsity_target: f64,
    sparsity_cost: f64,
) -> BTreeMap<String, Tensor<1>> {
    let [bsz, _] = v_data.dims();
    let scale = 1.0 / bsz as f64;
    let mut pos = q_pos.clone().neg() * scale; // [b, h]
    if sparsity_cost > 0.0 {
        let q = q_pos.clone().mean_dim(0); // [1, h]
        let dev = (q.neg() + sparsity_target) * (-2.0 * sparsity_cost);
        pos = pos + q_pos.clone() * (q_pos.neg() + 1.0) * dev * scale;
    }
    let right = Tensor::cat(vec![q_neg * scale, pos], 0); // [2b, h]
    let db = (v_neg.clone() - v_data.clone()).mean_dim(0).reshape([-1]); // [v]
    let left = Tensor::cat(vec![v_neg, v_data], 0); // [2b, v]
    BTreeMap::from([
        (
            "w".to_string(),
            left.transpose().matmul(right.clone()).reshape([-1]),
        ),
        ("b".to_string(), db),
        ("c".to_string(), right.sum_dim(0).reshape([-1])),
    ])
}

/// 1 with probability p, drawn from the host RNG so that chains are reproducible.
pub use genlab_core::tensor::bernoulli;

pub struct Rbm {
    cfg: RbmConfig,
    kind: Kind,
    shape_dim: usize,
    net: RbmNet,
    /// PCD: the hidden states of the persistent chains `[batch, h]`, kept on the host.
    chains: Option<(usize, Vec<f32>)>,
    /// (log Z, standard error) from AIS, computed on first use after training.
    log_z: Mutex<Option<(f64, f64)>>,
}

impl Rbm {
    pub fn new(cfg: RbmConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        if cfg.hidden == 0 || cfg.k == 0 || cfg.ais_betas < 2 || cfg.ais_chains == 0 {
            bail!("rbm: model.hidden, model.k and model.ais_chains must be >= 1, model.ais_betas >= 2");
        }
        if cfg.visible == Visible::Bernoulli && info.preprocess.scale != genlab_data::Scale::Unit {
            bail!("rbm: bernoulli visible units model values in [0, 1]; set data.scale = \"unit\" or model.visible = \"gaussian\"");
        }
        let v = info.shape.dim();
        Ok(Self {
            net: RbmNet::new(v, cfg.hidden, device),
            cfg,
            kind: info.kind,
            shape_dim: v,
            chains: None,
            log_z: Mutex::new(None),
        })
    }

    /// The current parameters without autodiff, on `device`.
    pub fn weights(&self, device: &Device) -> Weights {
        self.net.weights(self.cfg.visible, device)
    }

    /// Bernoulli-visible AIS estimate of log Z with its standard error.
    pub fn log_partition(&self, device: &Device) -> Result<(f64, f64)> {
        let mut cache = self.log_z.lock().unwrap();
        if let Some(v) = *cache {
            return Ok(v);
        }
        if self.cfg.visible != Visible::Bernoulli {
            bail!(
                "rbm: the AIS likelihood estimate is implemented for bernoulli visible units only"
            );
        }
        let mut rng = genlab_core::rng::rng_for(0, 0, genlab_core::rng::Stream::Eval);
        let est = ais_log_z(
            &self.weights(device),
            None,
            self.cfg.ais_betas,
            self.cfg.ais_chains,
            &mut rng,
        );
        *cache = Some(est);
        Ok(est)
    }
}

/// Annealed importance sampling (Salakhutdinov & Murray 2008, §4) from the base-rate model
/// p_A(v) ∝ exp(b_Aᵀv) (W = 0, hidden biases 0) to the RBM, through
///   p*_beta(v) = exp((1-beta) b_Aᵀv + beta bᵀv) prod_j (1 + exp(beta (c_j + vᵀW_j))),
/// beta on a uniform grid. Returns (log Z estimate, standard error of log Z by the delta method).
pub fn ais_log_z(
    rbm: &Weights,
    base_bias: Option<Tensor<1>>,
    betas: usize,
    chains: usize,
    rng: &mut impl Rng,
) -> (f64, f64) {
    let device = rbm.w.device();
    let [nv, nh] = rbm.w.dims();
    let b_a = base_bias.unwrap_or_else(|| Tensor::zeros([nv], &device)); // [v]

    // log p*_beta(v) from vW + c (computed once per step and shared by both temperatures).
    let log_p_star = |v: &Tensor<2>, act: &Tensor<2>, beta: f64| -> Tensor<1> {
        let lin = v
            .clone()
            .matmul((b_a.clone() * (1.0 - beta) + rbm.b.clone() * beta).unsqueeze_dim(1)); // [m, 1]
        lin.squeeze_dim(1) + softplus(act.clone() * beta).sum_dim(1).squeeze_dim(1)
    };
    // 1. Exact draws from the base model: independent Bernoulli(sigmoid(b_A)).
    let p_a: Tensor<2> = sigmoid(b_a.clone()).unsqueeze::<2>().repeat_dim(0, chains);
    let mut v = bernoulli(p_a, rng); // [m, v]
    let mut log_w = Tensor::<1>::zeros([chains], &device);
    let mut progress = genlab_core::progress::Progress::new("rbm: AIS log Z", betas as u64 - 1);
    for i in 1..betas {
        progress.inc(1);
        let (prev, beta) = (
            (i - 1) as f64 / (betas - 1) as f64,
            i as f64 / (betas - 1) as f64,
        );
        let act = v.clone().matmul(rbm.w.clone()) + rbm.c.clone().unsqueeze(); // [m, h]

        // 2. Weight: log p*_beta(v) - log p*_prev(v).
        log_w = log_w + log_p_star(&v, &act, beta) - log_p_star(&v, &act, prev);
        if i + 1 < betas {
            // 3. One Gibbs transition that leaves p_beta invariant.
            let h = bernoulli(sigmoid(act * beta), rng);
            let a = h.matmul(rbm.w.clone().transpose()) * beta
                + (b_a.clone() * (1.0 - beta) + rbm.b.clone() * beta).unsqueeze();
            v = bernoulli(sigmoid(a), rng);
        }
    }
    // 4. log Z_A = sum_i softplus(b_A,i) + n_h log 2.
    let log_z_a = to_vec(softplus(b_a)).iter().map(|&x| x as f64).sum::<f64>()
        + nh as f64 * std::f64::consts::LN_2;
    let w: Vec<f64> = to_vec(log_w).into_iter().map(f64::from).collect();
    let m = w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let r: Vec<f64> = w.iter().map(|x| (x - m).exp()).collect();
    let mean = r.iter().sum::<f64>() / chains as f64;
    let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (chains.max(2) - 1) as f64;
    let stderr = (var / chains as f64).sqrt() / mean;
    (log_z_a + m + mean.ln(), stderr)
}

impl Model for Rbm {
    fn family(&self) -> &'static str {
        "rbm"
    }
    fn binary(&self) -> bool {
        self.cfg.visible == Visible::Bernoulli
    }
    /// `recon_error` of held-out examples: one deterministic up-down pass, E[v | p(h | x)].
    fn held_out(&self, batch: &Batch, _rng: &mut ChaCha8Rng) -> Result<Losses> {
        let x = batch.x.clone();
        let n = x.dims()[0].max(1);
        let wts = self.weights(&x.device());
        let err = (wts.visible_mean(wts.hidden_prob(x.clone())) - x)
            .powf_scalar(2.0)
            .sum();
        let err = genlab_core::tensor::scalar(err) / n as f64;
        Ok(Losses::of(&[("recon_error", err)]))
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let wts = self.weights(&batch.x.device());
        let (grads, losses) = cd_step(
            &wts,
            &self.cfg,
            &mut self.chains,
            batch.x.clone(),
            &mut ctx.rng,
        );
        self.net = ctx.apply("model", self.net.clone(), &grads);
        *self.log_z.lock().unwrap() = None;
        Ok(losses)
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::of("model", &self.net);
        if let Some((n, h)) = &self.chains {
            out.insert(
                "model/pcd_chains".into(),
                vec![*n, self.cfg.hidden],
                h.clone(),
            );
        }
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.net = params.restore("model", self.net.clone())?;
        if let Some((shape, h)) = params.0.get("model/pcd_chains") {
            self.chains = Some((shape[0], h.clone()));
        }
        *self.log_z.lock().unwrap() = None;
        Ok(())
    }

    fn filters(&self) -> Option<Tensor<2>> {
        Some(self.net.valid().w.val().transpose()) // [h, v]
    }
    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_reconstruct(&self) -> Option<&dyn Reconstruct> {
        Some(self)
    }
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        (self.cfg.visible == Visible::Bernoulli).then_some(self as &dyn Likelihood)
    }
    fn as_chain(&self) -> Option<&dyn GibbsChain> {
        Some(self)
    }
    fn as_complete(&self) -> Option<&dyn Complete> {
        Some(self)
    }

    fn diagnostics(&self, x: Tensor<2>) -> Result<serde_json::Map<String, serde_json::Value>> {
        let device = x.device();
        let wts = self.weights(&device);
        let mut m = serde_json::Map::new();
        let fe = to_vec(wts.free_energy(x.clone()));
        m.insert(
            "mean_free_energy".into(),
            (fe.iter().map(|&v| v as f64).sum::<f64>() / fe.len() as f64).into(),
        );
        let q = to_vec(wts.hidden_prob(x).mean_dim(0));
        m.insert(
            "mean_hidden_activation".into(),
            (q.iter().map(|&v| v as f64).sum::<f64>() / q.len() as f64).into(),
        );
        if self.cfg.visible == Visible::Bernoulli {
            let (log_z, se) = self.log_partition(&device)?;
            m.insert("ais_log_z".into(), log_z.into());
            m.insert("ais_log_z_stderr".into(), se.into());
            m.insert("ais_betas".into(), self.cfg.ais_betas.into());
            m.insert("ais_chains".into(), self.cfg.ais_chains.into());
        }
        Ok(m)
    }
}

impl Rbm {
    fn to_output(&self, v: Tensor<2>) -> Tensor<2> {
        match self.kind {
            Kind::Images => v.clamp(0.0, 1.0),
            Kind::Points => v,
        }
    }
}

impl Sample for Rbm {
    /// Gibbs chains from uniform noise, `sample_steps` long; returns E[v | h] of the last step.
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let frames = self.chain(n, 1, self.cfg.sample_steps, rng, device)?;
        Ok(frames.into_iter().last().unwrap())
    }
}

impl GibbsChain for Rbm {
    fn sampling_steps(&self) -> usize {
        self.cfg.sample_steps
    }
    fn chain(
        &self,
        n: usize,
        frames: usize,
        every: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Vec<Tensor<2>>> {
        let v = bernoulli(Tensor::full([n, self.shape_dim], 0.5, device), rng);
        let frames = self.weights(device).gibbs_frames(v, frames, every, rng);
        Ok(frames.into_iter().map(|m| self.to_output(m)).collect())
    }
}

impl Reconstruct for Rbm {
    /// One deterministic up-down pass: E[v | h = p(h | x)].
    fn reconstruct(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        let wts = self.weights(&x.device());
        Ok(self.to_output(wts.visible_mean(wts.hidden_prob(x))))
    }
}

impl Complete for Rbm {
    /// Clamped Gibbs sampling: the known pixels are reset to their values after every step.
    fn complete(&self, x: Tensor<2>, known: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let device = x.device();
        let wts = self.weights(&device);
        let unknown = known.clone().neg() + 1.0;
        let noise = bernoulli(Tensor::full(x.dims(), 0.5, &device), rng);
        let mut v = x.clone() * known.clone() + noise * unknown.clone();
        let mut mean = v.clone();
        for _ in 0..self.cfg.sample_steps.max(1) {
            let h = bernoulli(wts.hidden_prob(v), rng);
            mean = wts.visible_mean(h.clone());
            v = wts.sample_visible(h, rng) * unknown.clone() + x.clone() * known.clone();
        }
        Ok(self.to_output(mean * unknown + x * known))
    }
}

impl Likelihood for Rbm {
    /// log p(v) = -F(v) - log Z, with log Z from AIS (an estimate: see `ais_log_z_stderr`).
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let device = x.device();
        let (log_z, _) = self.log_partition(&device)?;
        let fe = to_vec(self.weights(&device).free_energy(x));
        Ok(fe.into_iter().map(|f| -(f as f64) - log_z).collect())
    }
    fn bound(&self, _k: usize) -> Bound {
        Bound::Estimate
    }
    fn needs_binary_data(&self) -> bool {
        self.cfg.visible == Visible::Bernoulli
    }
    fn for_real_values(&self) -> Option<&'static str> {
        Some("model.visible = \"gaussian\"")
    }
}

/// sklearn's `BernoulliRBM.score_samples`: d · log sigmoid(F(v') - F(v)) with one random bit of
/// each example flipped — a stochastic pseudo-likelihood, reported for comparison only.
pub fn pseudo_log_likelihood(wts: &Weights, v: Tensor<2>, rng: &mut impl Rng) -> Vec<f64> {
    let [n, d] = v.dims();
    let device = v.device();
    let mut flip = vec![0.0f32; n * d];
    for i in 0..n {
        flip[i * d + rng.random_range(0..d)] = 1.0;
    }
    let flip = matrix(flip, n, d, &device);
    // v' = v XOR flip = v + flip - 2 v flip
    let v_flipped = v.clone() + flip.clone() - v.clone() * flip * 2.0;
    let gap = wts.free_energy(v_flipped) - wts.free_energy(v);
    to_vec(gap)
        .into_iter()
        .map(|g| {
            let g = g as f64;
            // log sigmoid(g), stable
            d as f64
                * (-(if g > 0.0 {
                    (-g).exp().ln_1p()
                } else {
                    -g + g.exp().ln_1p()
                }))
        })
        .collect()
}

fn default_model() -> toml::Table {
    toml::Table::try_from(RbmConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Rbm::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "rbm",
    summary: "restricted Boltzmann machine (CD-k / PCD; Bernoulli or Gaussian visible; AIS log Z)",
    paper: "Hinton 2002; Tieleman 2008; Salakhutdinov & Murray 2008 (AIS)",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Reconstruct,
        Capability::Likelihood,
        Capability::GibbsChain,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/rbm/default.toml"),
        ),
        ("demo", include_str!("../../../../configs/rbm/demo.toml")),
        ("tiny", include_str!("../../../../configs/rbm/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn host(v: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
        matrix(v, shape[0], shape[1], device)
    }

    /// log Z by summing over all 2^v visible states (hidden units summed analytically).
    fn exact_log_z(w: &Weights) -> f64 {
        let [nv, _] = w.w.dims();
        let device = w.w.device();
        let states: Vec<f32> = (0..1usize << nv)
            .flat_map(|s| (0..nv).map(move |i| ((s >> i) & 1) as f32))
            .collect();
        let fe = to_vec(w.free_energy(host(states, [1 << nv, nv], &device)));
        let m = fe
            .iter()
            .map(|&f| -(f as f64))
            .fold(f64::NEG_INFINITY, f64::max);
        m + fe
            .iter()
            .map(|&f| (-(f as f64) - m).exp())
            .sum::<f64>()
            .ln()
    }

    #[test]
    fn ais_agrees_with_exact_enumeration_within_its_error_bar() {
        let device = Device::default();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (nv, nh) = (10, 8);
        let r = |rng: &mut ChaCha8Rng, n: usize, s: f32| -> Vec<f32> {
            (0..n)
                .map(|_| (rng.random::<f32>() - 0.5) * 2.0 * s)
                .collect()
        };
        let w = Weights {
            w: host(r(&mut rng, nv * nh, 1.0), [nv, nh], &device),
            b: Tensor::from_floats(r(&mut rng, nv, 0.5).as_slice(), &device),
            c: Tensor::from_floats(r(&mut rng, nh, 0.5).as_slice(), &device),
            visible: Visible::Bernoulli,
        };
        let exact = exact_log_z(&w);
        let (est, se) = ais_log_z(&w, None, 1000, 200, &mut rng);
        assert!(se < 0.05, "stderr {se}");
        assert!(
            (est - exact).abs() < 3.0 * se + 1e-3,
            "AIS {est} ± {se} vs exact {exact}"
        );
    }

    #[test]
    fn cd_gradient_has_the_sign_that_raises_data_probability() {
        // Two visible units, one hidden: the data always has v = (1, 1), the chain's negative
        // sample v = (0, 0). The update must push W and b up (descent lowers the loss, so the
        // gradient itself is negative).
        let device = Device::default();
        let w = Weights {
            w: host(vec![0.1, -0.2], [2, 1], &device),
            b: Tensor::<1>::zeros([2], &device),
            c: Tensor::<1>::zeros([1], &device),
            visible: Visible::Bernoulli,
        };
        let v_data = host(vec![1.0, 1.0], [1, 2], &device);
        let v_neg = host(vec![0.0, 0.0], [1, 2], &device);
        let g = cd_gradient(
            v_data.clone(),
            w.hidden_prob(v_data),
            v_neg.clone(),
            w.hidden_prob(v_neg),
            0.0,
            0.0,
        );
        let (gw, gb) = (to_vec(g["w"].clone()), to_vec(g["b"].clone()));
        assert!(gw.iter().all(|&g| g < 0.0), "dW {gw:?}");
        assert!(gb.iter().all(|&g| g < 0.0), "db {gb:?}");
    }

    #[test]
    fn written_out_gradient_equals_autodiff_of_the_free_energy_gap() {
        let device = Device::default().autodiff();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (b, nv, nh) = (5, 6, 4);
        let r = |rng: &mut ChaCha8Rng, n: usize| -> Vec<f32> {
            (0..n).map(|_| rng.random::<f32>() - 0.5).collect()
        };
        let bits = |rng: &mut ChaCha8Rng, n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| (rng.random::<f32>() < 0.5) as u8 as f32)
                .collect()
        };
        for visible in [Visible::Bernoulli, Visible::Gaussian] {
            let live = Weights {
                w: host(r(&mut rng, nv * nh), [nv, nh], &device).require_grad(),
                b: Tensor::from_floats(r(&mut rng, nv).as_slice(), &device).require_grad(),
                c: Tensor::from_floats(r(&mut rng, nh).as_slice(), &device).require_grad(),
                visible,
            };
            let v_data = host(bits(&mut rng, b * nv), [b, nv], &device);
            let v_neg = host(bits(&mut rng, b * nv), [b, nv], &device);
            let (p, cost) = (0.1, 0.7);
            let q = live.hidden_prob(v_data.clone()).mean_dim(0);
            let dev = q.neg() + p;
            let loss = live.free_energy(v_data.clone()).mean()
                - live.free_energy(v_neg.clone()).mean()
                + (dev.clone() * dev).sum().reshape([1]) * cost;
            let grads = loss.backward();
            let inner = Weights {
                w: live.w.clone().inner(),
                b: live.b.clone().inner(),
                c: live.c.clone().inner(),
                visible,
            };
            let (vd, vn) = (v_data.inner(), v_neg.inner());
            let mine = cd_gradient(
                vd.clone(),
                inner.hidden_prob(vd),
                vn.clone(),
                inner.hidden_prob(vn),
                p,
                cost,
            );
            let want = [
                ("w", to_vec(live.w.grad(&grads).unwrap().reshape([-1]))),
                ("b", to_vec(live.b.grad(&grads).unwrap())),
                ("c", to_vec(live.c.grad(&grads).unwrap())),
            ];
            for (k, want) in want {
                let got = to_vec(mine[k].clone());
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() < 1e-5,
                        "{visible:?} d{k}: {got:?} vs {want:?}"
                    );
                }
            }
        }
    }
}
