//! `vae`: the variational autoencoder of Kingma & Welling, "Auto-Encoding Variational Bayes"
//! (ICLR 2014, https://arxiv.org/abs/1312.6114), with the beta-VAE weight (Higgins et al. 2017),
//! KL warm-up (Sønderby et al. 2016) and free bits (Kingma et al. 2016) as options.
//!
//! q(z|x) = N(mu(x), diag exp(log_var(x))), p(z) = N(0, I), p(x|z) Bernoulli or Gaussian.
//! Training maximises the ELBO  E_q[log p(x|z)] - beta * KL(q(z|x) || p(z))  (eq. 10), with
//! one reparameterised sample per example. With `k > 1` the same networks train on the
//! importance-weighted bound instead (see iwae.rs).
//!
//! NOTE: the paper's MNIST MLP used tanh hidden units and Adagrad; the defaults here use ReLU and
//! Adam (lr 1e-3), the common modern reference setting (PyTorch examples/vae).
//! NOTE: the Gaussian decoder learns one log-variance per pixel, shared over examples.

use anyhow::{bail, Result};
use burn::module::{Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::model::held_out_nll;
use genlab_core::Capability;
use genlab_core::{
    Batch, Bound, Complete, DataInfo, Family, LatentDecode, Likelihood, Losses, Model,
    NamedTensors, Reconstruct, Sample, StepCtx,
};
use genlab_data::Scale;
use genlab_nn::loss::{
    bernoulli_log_prob, gaussian_kl_per_unit, gaussian_log_prob, log_mean_exp,
    standard_normal_log_prob,
};
use genlab_nn::{Activation, Arch, Decoder, Encoder, NetConfig};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecoderKind {
    /// p(x|z) = prod Bernoulli(sigmoid(logits)): for binarized data.
    Bernoulli,
    /// p(x|z) = N(mean, diag exp(log_var)) with a learned per-pixel log-variance.
    Gaussian,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaeConfig {
    /// "mlp" or "conv" (two stride-2 4x4 convolutions).
    pub arch: Arch,
    /// MLP hidden sizes, encoder order; the decoder mirrors them.
    pub hidden: Vec<usize>,
    /// Channels of the two conv stages.
    pub channels: Vec<usize>,
    pub activation: Activation,
    /// Size of z. The paper sweeps 2..200; 20 is its MNIST likelihood setting.
    pub latent_dim: usize,
    pub decoder: DecoderKind,
    /// Weight of the KL term; 1 is the true ELBO, > 1 the beta-VAE.
    pub beta: f64,
    /// Ramp beta linearly from 0 over this many steps (0 = off).
    pub kl_warmup_steps: u64,
    /// Minimum KL per latent unit in nats, averaged over the batch (0 = off).
    pub free_bits: f64,
    /// Importance samples per example in training: 1 = the ELBO, k > 1 = the IWAE bound.
    pub k: usize,
}

impl Default for VaeConfig {
    fn default() -> Self {
        Self {
            arch: Arch::Mlp,
            hidden: vec![400],
            channels: vec![32, 64],
            activation: Activation::Relu,
            latent_dim: 20,
            decoder: DecoderKind::Bernoulli,
            beta: 1.0,
            kl_warmup_steps: 0,
            free_bits: 0.0,
            k: 1,
        }
    }
}

impl VaeConfig {
    pub fn net(&self) -> NetConfig {
        NetConfig {
            arch: self.arch,
            hidden: self.hidden.clone(),
            channels: self.channels.clone(),
            activation: self.activation,
        }
    }

    pub fn validate(&self, info: &DataInfo) -> Result<()> {
        self.net().validate(info.shape)?;
        if self.latent_dim == 0 || self.k == 0 {
            bail!("model.latent_dim and model.k must be at least 1");
        }
        if self.beta < 0.0 || self.free_bits < 0.0 {
            bail!("model.beta and model.free_bits must not be negative");
        }
        if self.decoder == DecoderKind::Bernoulli && info.kind == genlab_data::Kind::Points {
            bail!("a bernoulli decoder models pixels; for points set model.decoder = \"gaussian\"");
        }
        if self.decoder == DecoderKind::Bernoulli && info.preprocess.scale != Scale::Unit {
            bail!("a bernoulli decoder models pixels in [0, 1]; set data.scale = \"unit\" or model.decoder = \"gaussian\"");
        }
        Ok(())
    }
}

/// Encoder, decoder and (Gaussian decoder only) the per-pixel output log-variance.
#[derive(Module, Debug)]
pub struct VaeNet {
    pub encoder: Encoder,
    pub decoder: Decoder,
    pub log_var_x: Option<Param<Tensor<1>>>,
}

impl VaeNet {
    pub fn new(cfg: &VaeConfig, info: &DataInfo, device: &Device) -> Self {
        Self {
            encoder: Encoder::new(&cfg.net(), info.shape, 2 * cfg.latent_dim, device),
            decoder: Decoder::new(&cfg.net(), info.shape, cfg.latent_dim, 1, device),
            log_var_x: (cfg.decoder == DecoderKind::Gaussian)
                .then(|| Param::from_tensor(Tensor::zeros([info.shape.dim()], device))),
        }
    }

    /// q(z|x): `[b, d] -> (mu [b, z], log_var [b, z])`
    pub fn encode(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let h = self.encoder.forward(x); // [b, 2z]
        let z = h.dims()[1] / 2;
        let mu = h.clone().narrow(1, 0, z); // [b, z]
        let log_var = h.narrow(1, z, z); //    [b, z]
        (mu, log_var)
    }

    /// log p(x|z) per example: `z [b, z], x [b, d] -> [b]`
    pub fn log_px_z(&self, z: Tensor<2>, x: Tensor<2>) -> Tensor<1> {
        let out = self.decoder.forward(z); // [b, d]
        match &self.log_var_x {
            None => bernoulli_log_prob(out, x),
            Some(lv) => {
                let log_var = lv.val().unsqueeze_dim::<2>(0).expand(out.dims()); // [b, d]
                gaussian_log_prob(x, out, log_var)
            }
        }
    }

    /// Mean of p(x|z) in data space: `[b, z] -> [b, d]`
    pub fn decode_mean(&self, z: Tensor<2>) -> Tensor<2> {
        let out = self.decoder.forward(z);
        match self.log_var_x {
            None => sigmoid(out),
            Some(_) => out,
        }
    }

    /// Importance log-weights log p(x, z_i) - log q(z_i | x) for `k` draws per example:
    /// `x [b, d] -> [b, k]`. Used by the IWAE bound in training and by evaluation.
    pub fn log_weights(
        &self,
        x: Tensor<2>,
        k: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Tensor<2> {
        let [b, d] = x.dims();
        let (mu, log_var) = self.encode(x.clone()); // [b, z]
        let zdim = mu.dims()[1];
        let rep = |t: Tensor<2>, w: usize| {
            t.unsqueeze_dim::<3>(1)
                .expand([b, k, w])
                .reshape([b * k, w])
        };
        let (mu, log_var, x) = (rep(mu, zdim), rep(log_var, zdim), rep(x, d)); // [b*k, .]
        let z = reparameterize(mu.clone(), log_var.clone(), rng, device); // [b*k, z]
        let log_q = gaussian_log_prob(z.clone(), mu, log_var); //               [b*k]
        let log_p = standard_normal_log_prob(z.clone()) + self.log_px_z(z, x); // [b*k]
        (log_p - log_q).reshape([b, k])
    }
}

/// The reparameterisation trick (section 2.4): z = mu + exp(½ log_var) ⊙ eps with
/// eps ~ N(0, I) of mu's shape, a draw from q(z|x) that is differentiable in mu and log_var.
/// `[b, z], [b, z] -> [b, z]`.
pub fn reparameterize(
    mu: Tensor<2>,
    log_var: Tensor<2>,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Tensor<2> {
    let eps = genlab_core::tensor::normal(mu.dims(), rng, device);
    mu + log_var.mul_scalar(0.5).exp() * eps
}

pub struct Vae {
    pub config: VaeConfig,
    pub net: VaeNet,
    pub device: Device,
    pub family: &'static str,
}

impl Vae {
    pub fn new(
        config: VaeConfig,
        info: &DataInfo,
        device: &Device,
        family: &'static str,
    ) -> Result<Self> {
        config.validate(info)?;
        Ok(Self {
            net: VaeNet::new(&config, info, device),
            config,
            device: device.clone(),
            family,
        })
    }

    fn infer(&self) -> VaeNet {
        self.net.valid()
    }

    /// -ELBO with beta, warm-up and free bits, per the numbered steps of eq. 10.
    fn elbo_step(&self, x: Tensor<2>, ctx: &mut StepCtx) -> (Tensor<1>, Losses) {
        // 1. q(z|x) and one reparameterised draw z = mu + sigma * eps.
        let (mu, log_var) = self.net.encode(x.clone()); // [b, z]
        let z = reparameterize(mu.clone(), log_var.clone(), &mut ctx.rng, &ctx.device); // [b, z]

        // 2. Reconstruction term log p(x|z).
        let rec = self.net.log_px_z(z, x).mean(); // [1]

        // 3. KL(q(z|x) || p(z)) in closed form, per unit.
        let kl_units = gaussian_kl_per_unit(mu, log_var)
            .mean_dim(0)
            .squeeze_dim::<1>(0); // [z]
        let kl = kl_units.clone().sum(); // [1]

        // 4. Free bits: units under the floor give no gradient.
        let kl_loss = if self.config.free_bits > 0.0 {
            kl_units.clamp_min(self.config.free_bits).sum()
        } else {
            kl.clone()
        };
        // 5. beta with linear warm-up.
        let warm = match self.config.kl_warmup_steps {
            0 => 1.0,
            w => ((ctx.step + 1) as f64 / w as f64).min(1.0),
        };
        let loss = kl_loss.mul_scalar(self.config.beta * warm) - rec.clone();
        let (rec, kl) = (
            genlab_core::tensor::scalar(rec),
            genlab_core::tensor::scalar(kl),
        );
        let mut losses = Losses::default();
        losses.push("neg_elbo", kl - rec);
        losses.push("rec_nll", -rec);
        losses.push("kl", kl);
        (loss, losses)
    }

    /// Negative IWAE bound, log (1/k) sum_i w_i (Burda et al. 2016, eq. 8).
    fn iwae_step(&self, x: Tensor<2>, ctx: &mut StepCtx) -> (Tensor<1>, Losses) {
        let log_w = self
            .net
            .log_weights(x, self.config.k, &mut ctx.rng, &ctx.device); // [b, k]
        let bound = log_mean_exp(log_w).mean(); // [1]
        let mut losses = Losses::default();
        losses.push(
            "neg_iwae_bound",
            -genlab_core::tensor::scalar(bound.clone()),
        );
        (bound.neg(), losses)
    }
}

/// A latent unit is active when Cov_x(E_q[z_u]) > 0.01 (Burda et al. 2016, section 5.2).
const ACTIVE_UNIT_THRESHOLD: f64 = 0.01;

impl Model for Vae {
    fn family(&self) -> &'static str {
        self.family
    }
    fn binary(&self) -> bool {
        self.config.decoder == DecoderKind::Bernoulli
    }
    /// The bound it trains: the ELBO (one z per example), or the IWAE bound with k samples.
    fn held_out(&self, batch: &Batch, rng: &mut ChaCha8Rng) -> Result<Losses> {
        match self.config.k {
            1 => held_out_nll(self, "neg_elbo", batch.x.clone(), 1, rng),
            k => held_out_nll(self, "neg_iwae_bound", batch.x.clone(), k, rng),
        }
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }
    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (loss, losses) = if self.config.k == 1 {
            self.elbo_step(batch.x.clone(), ctx)
        } else {
            self.iwae_step(batch.x.clone(), ctx)
        };
        self.net = ctx.update("model", self.net.clone(), &loss);
        Ok(losses)
    }
    fn save_params(&self) -> NamedTensors {
        NamedTensors::of("model", &self.net)
    }
    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.net = params.restore("model", self.net.clone())?;
        Ok(())
    }
    fn diagnostics(&self, x: Tensor<2>) -> Result<serde_json::Map<String, serde_json::Value>> {
        let (mu, log_var) = self.infer().encode(x);
        let kl = genlab_core::tensor::to_vec(gaussian_kl_per_unit(mu.clone(), log_var).mean_dim(0)); // [z]
        let var = genlab_core::tensor::to_vec(mu.var(0)); //                                              [z]
        let active = var
            .iter()
            .filter(|&&v| v as f64 > ACTIVE_UNIT_THRESHOLD)
            .count();
        let mut m = serde_json::Map::new();
        m.insert("kl_per_unit".into(), kl.into());
        m.insert("active_units".into(), active.into());
        m.insert("latent_dim".into(), self.config.latent_dim.into());
        Ok(m)
    }
    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_reconstruct(&self) -> Option<&dyn Reconstruct> {
        Some(self)
    }
    fn as_latent(&self) -> Option<&dyn LatentDecode> {
        Some(self)
    }
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        Some(self)
    }
    fn as_complete(&self) -> Option<&dyn Complete> {
        Some(self)
    }
}

/// Encode-sample-decode rounds of `genlab complete` for VAEs.
const COMPLETION_ROUNDS: usize = 50;

impl Complete for Vae {
    /// Missing-data imputation by iterating the autoencoder (Rezende, Mohamed & Wierstra 2014,
    /// section 5.2): z ~ q(z | x), hidden pixels <- the mean of p(x | z), known pixels kept. A
    /// Markov chain whose fixed point approximates p(hidden | known); the last round's means
    /// are shown.
    fn complete(&self, x: Tensor<2>, known: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let net = self.infer();
        let device = x.device();
        let hidden = known.clone().neg().add_scalar(1.0);
        let mut cur = x.clone() * known.clone() + hidden.clone().mul_scalar(0.5);
        for _ in 0..COMPLETION_ROUNDS {
            let (mu, log_var) = net.encode(cur.clone());
            let z = reparameterize(mu, log_var, rng, &device);
            cur = x.clone() * known.clone() + net.decode_mean(z) * hidden.clone();
        }
        Ok(cur)
    }
}

impl Sample for Vae {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let z = self.prior_sample(n, rng, device)?; // [n, z]
        Ok(self.infer().decode_mean(z))
    }
}

impl Reconstruct for Vae {
    fn reconstruct(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        let net = self.infer();
        let (mu, _) = net.encode(x);
        Ok(net.decode_mean(mu))
    }
}

impl LatentDecode for Vae {
    fn latent_dim(&self) -> usize {
        self.config.latent_dim
    }
    fn encode(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        Ok(self.infer().encode(x).0)
    }
    /// Differentiable in z on an autodiff device (`genlab invert`).
    fn decode(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let net = genlab_core::device::module_for(&self.net, &z.device());
        Ok(net.decode_mean(z))
    }
}

impl Likelihood for Vae {
    /// k = 1: the ELBO with the KL in closed form; k > 1: the IWAE estimate of log p(x).
    fn log_likelihood(&self, x: Tensor<2>, k: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let net = self.infer();
        let device = x.device();
        let out = if k == 1 {
            let (mu, log_var) = net.encode(x.clone());
            let z = reparameterize(mu.clone(), log_var.clone(), rng, &device);
            let kl = gaussian_kl_per_unit(mu, log_var)
                .sum_dim(1)
                .squeeze_dim::<1>(1);
            net.log_px_z(z, x) - kl
        } else {
            log_mean_exp(net.log_weights(x, k, rng, &device))
        };
        Ok(genlab_core::tensor::to_vec(out)
            .into_iter()
            .map(f64::from)
            .collect())
    }
    fn uses_k(&self) -> bool {
        true
    }
    fn bound(&self, k: usize) -> Bound {
        if k == 1 {
            Bound::LowerBound
        } else {
            Bound::Estimate
        }
    }
    fn needs_binary_data(&self) -> bool {
        self.config.decoder == DecoderKind::Bernoulli
    }
    fn for_real_values(&self) -> Option<&'static str> {
        Some("model.decoder = \"gaussian\"")
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(VaeConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Vae::new(
        parse_section("model", model)?,
        info,
        device,
        "vae",
    )?))
}

pub const FAMILY: Family = Family {
    name: "vae",
    summary: "variational autoencoder (ELBO; beta, KL warm-up, free bits)",
    paper: "Kingma & Welling 2014, arXiv:1312.6114",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Reconstruct,
        Capability::Interpolate,
        Capability::Likelihood,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/vae/default.toml"),
        ),
        ("demo", include_str!("../../../../configs/vae/demo.toml")),
        ("conv", include_str!("../../../../configs/vae/conv.toml")),
        ("tiny", include_str!("../../../../configs/vae/tiny.toml")),
        ("ring8", include_str!("../../../../configs/vae/ring8.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use genlab_core::rng::{rng_for, Stream};
    use genlab_data::{Binarize, Kind, Preprocess, Shape};

    fn setup() -> (Vae, Tensor<2>) {
        let info = DataInfo {
            kind: Kind::Images,
            shape: Shape { c: 1, h: 28, w: 28 },
            classes: 4,
            preprocess: Preprocess {
                binarize: Binarize::Static,
                scale: Scale::Unit,
                dequantize: false,
            },
            modes: None,
            standardization: None,
            input: None,
        };
        let device =
            genlab_core::device::inference_device(&genlab_core::device::training_device(3));
        let cfg = VaeConfig {
            hidden: vec![64],
            latent_dim: 4,
            ..VaeConfig::default()
        };
        let vae = Vae::new(cfg, &info, &device, "vae").unwrap();
        let mut rng = rng_for(0, 0, Stream::Eval);
        let x = genlab_core::tensor::uniform([16, 784], &mut rng, &device)
            .greater_elem(0.7)
            .float();
        (vae, x)
    }

    fn mean_log_lik(vae: &Vae, x: &Tensor<2>, k: usize, draws: u64) -> f64 {
        let total: f64 = (0..draws)
            .map(|s| {
                let v = vae
                    .log_likelihood(x.clone(), k, &mut rng_for(s, 1, Stream::Eval))
                    .unwrap();
                v.iter().sum::<f64>() / v.len() as f64
            })
            .sum();
        total / draws as f64
    }

    #[test]
    fn iwae_bound_is_at_least_the_elbo_and_tightens_with_k() {
        // Burda et al. theorem 1: E[L_1] <= E[L_k] <= E[L_m] for k <= m.
        let (vae, x) = setup();
        let elbo = mean_log_lik(&vae, &x, 1, 20);
        let l10 = mean_log_lik(&vae, &x, 10, 5);
        let l200 = mean_log_lik(&vae, &x, 200, 2);
        assert!(
            elbo < l10 && l10 < l200,
            "ELBO {elbo}, L10 {l10}, L200 {l200}"
        );
    }

    #[test]
    fn the_back_propagated_loss_is_the_negative_elbo_only_at_beta_one() {
        let (mut vae, x) = setup();
        let train_device = genlab_core::device::training_device(3);
        let x = x.to_device(&train_device);
        // The loss tensor that is differentiated and the logged neg_elbo, same draws each time.
        let step = |vae: &Vae| {
            let mut optim = genlab_core::optim::Optimizers::new(
                &std::collections::BTreeMap::from([("model".to_string(), Default::default())]),
                1,
            );
            let mut ctx = StepCtx::new(0, 1, 0, train_device.clone(), &mut optim);
            let (loss, losses) = vae.elbo_step(x.clone(), &mut ctx);
            let get = |k: &str| losses.0.iter().find(|(n, _)| n == k).unwrap().1;
            (
                genlab_core::tensor::scalar(loss),
                get("neg_elbo"),
                get("kl"),
            )
        };
        vae.config.beta = 1.0;
        vae.config.kl_warmup_steps = 0;
        vae.config.free_bits = 0.0;
        let (loss, neg_elbo, kl) = step(&vae);
        assert!(
            (loss - neg_elbo).abs() < 1e-4 * neg_elbo.abs(),
            "{loss} vs {neg_elbo}"
        );
        assert!(kl > 0.0);
        // beta < 1 weighs the KL less: the loss is under the negative ELBO by (1 - beta) KL.
        vae.config.beta = 0.5;
        let (loss, _, _) = step(&vae);
        assert!((loss - (neg_elbo - 0.5 * kl)).abs() < 1e-3, "{loss}");
        // Free bits above every unit's KL: the loss counts the floor, not the KL.
        vae.config.beta = 1.0;
        vae.config.free_bits = 100.0;
        let (loss, _, _) = step(&vae);
        let floor = 100.0 * vae.config.latent_dim as f64;
        assert!((loss - (neg_elbo - kl + floor)).abs() < 1e-2, "{loss}");
    }
}
