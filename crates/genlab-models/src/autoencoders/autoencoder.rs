//! `autoencoder`: deterministic autoencoders, x -> h = f(x) -> x_hat = g(h), in four kinds:
//! - plain: minimise the reconstruction loss L(x, g(f(x))).
//! - denoising (Vincent et al. 2008, https://www.jmlr.org/papers/v11/vincent10a.html):
//!   reconstruct x from a corrupted x~ (Gaussian, masking or salt-and-pepper noise).
//! - sparse (Ng 2011 lecture notes; Goodfellow et al., Deep Learning ch. 14.2.1): add an L1
//!   penalty on h, or KL(rho || rho_hat_j) summed over sigmoid code units.
//! - contractive (Rifai et al. 2011, ICML): add lambda ||J_f(x)||_F^2, in closed form for a
//!   sigmoid code layer h = sigmoid(W a + b):  ||J||^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ij^2.
//!
//! NOTE: with hidden layers the contractive penalty is the Jacobian of the code with respect to
//! the last hidden layer (exact w.r.t. x when `hidden = []`, as in the paper's single layer).
//! NOTE: an autoencoder has no prior over h, so it cannot sample; it reconstructs and decodes.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::Capability;
use genlab_core::{
    Batch, DataInfo, Family, LatentDecode, Losses, Model, NamedTensors, Reconstruct, StepCtx,
};
use genlab_data::Scale;
use genlab_nn::loss::bernoulli_log_prob;
use genlab_nn::{Activation, Arch, Decoder, Encoder, NetConfig};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AeKind {
    Plain,
    Denoising,
    Sparse,
    Contractive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Noise {
    /// x~ = x + sigma * eps
    Gaussian,
    /// Each pixel set to 0 with probability `noise_level` (Vincent et al.'s masking noise).
    Masking,
    /// Each pixel set to 0 or 1 with probability `noise_level`.
    SaltPepper,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sparsity {
    L1,
    Kl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecLoss {
    /// Binary cross-entropy with logits, summed over pixels: for data in [0, 1].
    Bce,
    /// Squared error summed over pixels.
    Mse,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeActivation {
    Linear,
    Sigmoid,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoencoderConfig {
    /// "mlp" or "conv" (two stride-2 4x4 convolutions).
    pub arch: Arch,
    /// MLP hidden sizes, encoder order; the decoder mirrors them.
    pub hidden: Vec<usize>,
    /// Channels of the two conv stages.
    pub channels: Vec<usize>,
    pub activation: Activation,
    pub latent_dim: usize,
    pub kind: AeKind,
    pub noise: Noise,
    /// Gaussian sigma, or the corruption probability for masking / salt-and-pepper
    /// (Vincent et al. use 0.1-0.5 masking; 0.3 is their usual choice).
    pub noise_level: f64,
    pub sparsity: Sparsity,
    pub sparsity_weight: f64,
    /// rho, the target mean activation of each code unit for KL sparsity (0.05 in Ng's notes).
    pub sparsity_target: f64,
    /// lambda of the contractive penalty (Rifai et al. sweep 1e-4..1).
    pub contractive_weight: f64,
    pub loss: RecLoss,
    /// Sigmoid codes are required by KL sparsity and the contractive closed form.
    pub code_activation: CodeActivation,
}

impl Default for AutoencoderConfig {
    fn default() -> Self {
        Self {
            arch: Arch::Mlp,
            hidden: vec![256],
            channels: vec![32, 64],
            activation: Activation::Relu,
            latent_dim: 32,
            kind: AeKind::Plain,
            noise: Noise::Masking,
            noise_level: 0.3,
            sparsity: Sparsity::Kl,
            sparsity_weight: 0.1,
            sparsity_target: 0.05,
            contractive_weight: 1e-3,
            loss: RecLoss::Bce,
            code_activation: CodeActivation::Sigmoid,
        }
    }
}

impl AutoencoderConfig {
    pub fn net(&self) -> NetConfig {
        NetConfig {
            arch: self.arch,
            hidden: self.hidden.clone(),
            channels: self.channels.clone(),
            activation: self.activation,
        }
    }

    fn validate(&self, info: &DataInfo) -> Result<()> {
        self.net().validate(info.shape)?;
        if self.latent_dim == 0 {
            bail!("model.latent_dim must be at least 1");
        }
        let sigmoid_code = self.code_activation == CodeActivation::Sigmoid;
        if self.kind == AeKind::Contractive && !sigmoid_code {
            bail!("kind = \"contractive\" uses the closed-form Jacobian of a sigmoid code; set model.code_activation = \"sigmoid\"");
        }
        if self.kind == AeKind::Sparse && self.sparsity == Sparsity::Kl && !sigmoid_code {
            bail!("KL sparsity needs code activations in (0, 1); set model.code_activation = \"sigmoid\" or model.sparsity = \"l1\"");
        }
        if !(0.0 < self.sparsity_target && self.sparsity_target < 1.0) {
            bail!(
                "model.sparsity_target must be in (0, 1), found {}",
                self.sparsity_target
            );
        }
        if self.noise_level < 0.0 || (self.noise != Noise::Gaussian && self.noise_level > 1.0) {
            bail!(
                "model.noise_level must be a probability in [0, 1] for {:?} noise, found {}",
                self.noise,
                self.noise_level
            );
        }
        if self.loss == RecLoss::Bce && info.kind == genlab_data::Kind::Points {
            bail!("loss = \"bce\" models pixels; for points set model.loss = \"mse\"");
        }
        if self.loss == RecLoss::Bce && info.preprocess.scale != Scale::Unit {
            bail!("loss = \"bce\" needs pixels in [0, 1]; set data.scale = \"unit\" or model.loss = \"mse\"");
        }
        Ok(())
    }
}

#[derive(Module, Debug)]
pub struct AutoencoderNet {
    pub encoder: Encoder,
    pub decoder: Decoder,
}

pub struct Autoencoder {
    config: AutoencoderConfig,
    net: AutoencoderNet,
}

impl Autoencoder {
    pub fn new(config: AutoencoderConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        config.validate(info)?;
        let net = AutoencoderNet {
            encoder: Encoder::new(&config.net(), info.shape, config.latent_dim, device),
            decoder: Decoder::new(&config.net(), info.shape, config.latent_dim, 1, device),
        };
        Ok(Self { config, net })
    }

    /// h = f(x): `[b, d] -> [b, latent]`
    fn code(net: &AutoencoderNet, cfg: &AutoencoderConfig, x: Tensor<2>) -> Tensor<2> {
        let h = net.encoder.forward(x);
        match cfg.code_activation {
            CodeActivation::Linear => h,
            CodeActivation::Sigmoid => sigmoid(h),
        }
    }

    /// Decoder output in data space: `[b, latent] -> [b, d]`
    fn output(&self, net: &AutoencoderNet, h: Tensor<2>) -> Tensor<2> {
        let out = net.decoder.forward(h);
        match self.config.loss {
            RecLoss::Bce => sigmoid(out),
            RecLoss::Mse => out,
        }
    }

    /// x~ for the denoising kind.
    fn corrupt(&self, x: Tensor<2>, ctx: &mut StepCtx) -> Tensor<2> {
        let p = self.config.noise_level;
        let dims = x.dims();
        match self.config.noise {
            Noise::Gaussian => {
                x + genlab_core::tensor::normal(dims, &mut ctx.rng, &ctx.device).mul_scalar(p)
            }
            Noise::Masking => {
                let keep = genlab_core::tensor::uniform(dims, &mut ctx.rng, &ctx.device)
                    .greater_equal_elem(p)
                    .float();
                x * keep
            }
            Noise::SaltPepper => {
                let u = genlab_core::tensor::uniform(dims, &mut ctx.rng, &ctx.device);
                let hit = u.clone().lower_elem(p).float(); //        [b, d] 1 where corrupted
                let salt = u.lower_elem(p / 2.0).float(); //          half of the hits become 1
                x * hit.clone().neg().add_scalar(1.0) + salt
            }
        }
    }
}

impl Model for Autoencoder {
    fn family(&self) -> &'static str {
        "autoencoder"
    }
    /// `rec` of held-out inputs as training measures it, from clean inputs (no corruption).
    fn held_out(&self, batch: &Batch, _rng: &mut rand_chacha::ChaCha8Rng) -> Result<Losses> {
        let net = genlab_core::device::module_for(&self.net, &batch.x.device());
        let x = batch.x.clone();
        let out = net
            .decoder
            .forward(Self::code(&net, &self.config, x.clone()));
        let rec = match self.config.loss {
            RecLoss::Bce => bernoulli_log_prob(out, x).neg().mean(),
            RecLoss::Mse => (out - x).square().sum_dim(1).mean(),
        };
        Ok(Losses::of(&[("rec", genlab_core::tensor::scalar(rec))]))
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }
    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let cfg = &self.config;
        let x = batch.x.clone(); // [b, d]
                                 // 1. Corrupt the input (denoising only).
        let x_in = if cfg.kind == AeKind::Denoising {
            self.corrupt(x.clone(), ctx)
        } else {
            x.clone()
        };
        // 2. Encode and decode.
        let h = Self::code(&self.net, cfg, x_in); //   [b, latent]
        let out = self.net.decoder.forward(h.clone()); // [b, d]

        // 3. Reconstruction loss against the clean x, summed over pixels.
        let rec = match cfg.loss {
            RecLoss::Bce => bernoulli_log_prob(out, x).neg().mean(),
            RecLoss::Mse => (out - x).square().sum_dim(1).mean(),
        };
        // 4. Penalty of the kind.
        let penalty = match cfg.kind {
            AeKind::Plain | AeKind::Denoising => None,
            AeKind::Sparse => Some(match cfg.sparsity {
                Sparsity::L1 => h.abs().sum_dim(1).mean().mul_scalar(cfg.sparsity_weight),
                Sparsity::Kl => {
                    let rho = cfg.sparsity_target;
                    let rho_hat = h.mean_dim(0).clamp(1e-6, 1.0 - 1e-6); // [1, latent]
                    let kl = rho_hat
                        .clone()
                        .recip()
                        .mul_scalar(rho)
                        .log()
                        .mul_scalar(rho)
                        + rho_hat
                            .neg()
                            .add_scalar(1.0)
                            .recip()
                            .mul_scalar(1.0 - rho)
                            .log()
                            .mul_scalar(1.0 - rho);
                    kl.sum().mul_scalar(cfg.sparsity_weight)
                }
            }),
            AeKind::Contractive => {
                let w_sq = self.net.encoder.last_weight().square().sum_dim(0); // [1, latent]
                let dh = (h.clone() * h.neg().add_scalar(1.0)).square(); //      [b, latent]
                Some(
                    (dh * w_sq)
                        .sum_dim(1)
                        .mean()
                        .mul_scalar(cfg.contractive_weight),
                )
            }
        };
        let mut losses = Losses::default();
        let rec_value = genlab_core::tensor::scalar(rec.clone());
        let loss = match penalty {
            Some(p) => {
                let pv = genlab_core::tensor::scalar(p.clone());
                losses.push("loss", rec_value + pv);
                losses.push("rec", rec_value);
                losses.push("penalty", pv);
                rec + p
            }
            None => {
                losses.push("rec", rec_value);
                rec
            }
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
    fn as_reconstruct(&self) -> Option<&dyn Reconstruct> {
        Some(self)
    }
    fn as_latent(&self) -> Option<&dyn LatentDecode> {
        Some(self)
    }
}

impl Reconstruct for Autoencoder {
    fn reconstruct(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        let net = self.net.valid();
        let h = Self::code(&net, &self.config, x);
        Ok(self.output(&net, h))
    }
}

impl LatentDecode for Autoencoder {
    fn latent_dim(&self) -> usize {
        self.config.latent_dim
    }
    fn encode(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        Ok(Self::code(&self.net.valid(), &self.config, x))
    }
    fn decode(&self, h: Tensor<2>) -> Result<Tensor<2>> {
        Ok(self.output(&self.net.valid(), h))
    }
    fn gaussian_prior(&self) -> bool {
        false
    }
    fn prior_sample(
        &self,
        _n: usize,
        _rng: &mut rand_chacha::ChaCha8Rng,
        _device: &Device,
    ) -> Result<Tensor<2>> {
        bail!("autoencoder has no prior to draw codes from (it cannot sample); encode images with `genlab interpolate RUN`, or train a vae")
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(AutoencoderConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Autoencoder::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "autoencoder",
    summary: "autoencoder: plain, denoising, sparse (L1/KL), contractive",
    paper: "Vincent et al. 2008; Rifai et al. 2011",
    groups: &["model"],
    capabilities: &[Capability::Reconstruct, Capability::Interpolate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/autoencoder/default.toml"),
        ),
        (
            "denoising",
            include_str!("../../../../configs/autoencoder/denoising.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/autoencoder/tiny.toml"),
        ),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use genlab_core::rng::{rng_for, Stream};
    use genlab_data::{Binarize, Kind, Preprocess, Shape};

    #[test]
    fn contractive_closed_form_matches_a_finite_difference_jacobian() {
        // One sigmoid layer h = sigmoid(W^T x + b): ||dh/dx||_F^2 by central differences over
        // every input pixel must equal sum_j (h_j (1 - h_j))^2 sum_i W_ij^2.
        let shape = Shape { c: 1, h: 4, w: 4 };
        let info = DataInfo {
            kind: Kind::Images,
            shape,
            classes: 0,
            preprocess: Preprocess {
                binarize: Binarize::None,
                scale: Scale::Unit,
                dequantize: false,
            },
            modes: None,
            standardization: None,
            input: None,
        };
        let device =
            genlab_core::device::inference_device(&genlab_core::device::training_device(5));
        let cfg = AutoencoderConfig {
            hidden: vec![],
            latent_dim: 3,
            kind: AeKind::Contractive,
            ..AutoencoderConfig::default()
        };
        let ae = Autoencoder::new(cfg, &info, &device).unwrap();
        let x: Vec<f32> = genlab_core::tensor::to_vec(genlab_core::tensor::uniform(
            [1, 16],
            &mut rng_for(0, 0, Stream::Eval),
            &device,
        ));
        let code = |v: &[f32]| {
            genlab_core::tensor::to_vec(
                ae.encode(genlab_core::tensor::matrix(v.to_vec(), 1, 16, &device))
                    .unwrap(),
            )
        };
        let eps = 1e-2f32;
        let mut fd = 0.0f64;
        for i in 0..16 {
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += eps;
            down[i] -= eps;
            let (hu, hd) = (code(&up), code(&down));
            fd += hu
                .iter()
                .zip(&hd)
                .map(|(a, b)| (((a - b) / (2.0 * eps)) as f64).powi(2))
                .sum::<f64>();
        }
        let h = Tensor::<2>::from_data(burn::tensor::TensorData::new(code(&x), [1, 3]), &device);
        let w_sq = ae.net.encoder.last_weight().square().sum_dim(0);
        let closed = genlab_core::tensor::to_vec(
            ((h.clone() * h.neg().add_scalar(1.0)).square() * w_sq).sum(),
        )[0] as f64;
        assert!(
            (closed - fd).abs() < 1e-3 * closed.max(1e-3),
            "closed form {closed} vs finite differences {fd}"
        );
    }

    #[test]
    fn rejects_contractive_with_a_linear_code() {
        let info = DataInfo {
            kind: Kind::Images,
            shape: Shape { c: 1, h: 4, w: 4 },
            classes: 0,
            preprocess: Preprocess {
                binarize: Binarize::None,
                scale: Scale::Unit,
                dequantize: false,
            },
            modes: None,
            standardization: None,
            input: None,
        };
        let cfg = AutoencoderConfig {
            kind: AeKind::Contractive,
            code_activation: CodeActivation::Linear,
            ..AutoencoderConfig::default()
        };
        let err = Autoencoder::new(cfg, &info, &burn::tensor::Device::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("code_activation"), "{err}");
    }
}
