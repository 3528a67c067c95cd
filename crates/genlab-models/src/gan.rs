//! `gan`: generative adversarial nets (Goodfellow et al. 2014, "Generative Adversarial Nets"),
//! with MLP generator and discriminator, on 2-D toy sets and images.
//!
//! Algorithm 1 of the paper, one minibatch per train step:
//!   1. z ~ N(0, I); update D by descending  -log D(x) - log(1 - D(G(z)))   (group `disc`)
//!   2. every `d_steps`-th step (the paper's k), fresh z; update G by descending
//!      log(1 - D(G(z))) (`minimax`) or -log D(G(z)) (`non_saturating`, §3)   (group `gen`)
//!
//! `model.loss` also selects the least-squares, Wasserstein (with `model.clip`) and hinge games
//! of `genlab_nn::gan_loss`; the `lsgan` and `wgan` families are this file with those games.
//!
//! NOTE: the paper draws k fresh minibatches for the k D updates; here consecutive train steps
//! supply them (step t updates D, and G too when (t + 1) % d_steps == 0).
//! NOTE: the generator's output layer matches the data: linear for points, tanh for images
//! scaled to [-1, 1] (`data.scale = "symmetric"`), sigmoid for [0, 1].

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::tensor::normal;
use genlab_core::{Batch, DataInfo, Family, Losses, Model, NamedTensors, Sample, StepCtx};
use genlab_data::{Kind, Scale};
use genlab_nn::gan_loss::{clip_weights, discriminator_loss, generator_loss, GanLoss};
use genlab_nn::{Activation, Mlp};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GanConfig {
    pub latent_dim: usize,
    /// Generator hidden sizes (z side first).
    pub g_hidden: Vec<usize>,
    /// Discriminator hidden sizes (data side first).
    pub d_hidden: Vec<usize>,
    pub g_activation: Activation,
    pub d_activation: Activation,
    pub loss: GanLoss,
    /// Discriminator updates per generator update (the paper's k).
    pub d_steps: u64,
    /// One-sided label smoothing of the real target (0 = off).
    pub label_smoothing: f64,
    /// WGAN weight clipping of the critic to [-clip, clip] after each update (0 = off).
    pub clip: f64,
}

impl Default for GanConfig {
    fn default() -> Self {
        Self {
            latent_dim: 16,
            g_hidden: vec![128, 128],
            d_hidden: vec![128, 128],
            g_activation: Activation::Relu,
            d_activation: Activation::LeakyRelu,
            loss: GanLoss::NonSaturating,
            d_steps: 1,
            label_smoothing: 0.0,
            clip: 0.0,
        }
    }
}

/// How the generator's last layer maps to data space.
#[derive(Clone, Copy, Debug)]
enum Output {
    Linear,
    Tanh,
    Sigmoid,
}

pub struct Gan {
    /// Registry name: `gan`, or a family that is this game with another loss (`lsgan`, `wgan`).
    name: &'static str,
    cfg: GanConfig,
    gen: Mlp,
    disc: Mlp,
    output: Output,
}

impl Gan {
    pub fn new(
        name: &'static str,
        cfg: GanConfig,
        info: &DataInfo,
        device: &Device,
    ) -> Result<Self> {
        if cfg.latent_dim == 0 || cfg.d_steps == 0 {
            bail!("gan: model.latent_dim and model.d_steps must be at least 1");
        }
        if cfg.g_hidden.contains(&0) || cfg.d_hidden.contains(&0) {
            bail!("gan: model.g_hidden and model.d_hidden sizes must be positive");
        }
        if cfg.clip < 0.0 || (cfg.loss == GanLoss::Wasserstein) != (cfg.clip > 0.0) {
            bail!(
                "gan: model.clip = {} with model.loss = {:?}: weight clipping (e.g. 0.01) goes with the wasserstein loss, and only with it",
                cfg.clip,
                cfg.loss
            );
        }
        if !(0.0..0.5).contains(&cfg.label_smoothing) {
            bail!(
                "gan: model.label_smoothing = {} must be in [0, 0.5) (0.1 is common)",
                cfg.label_smoothing
            );
        }
        let d = info.shape.dim();
        let g_sizes: Vec<usize> = std::iter::once(cfg.latent_dim)
            .chain(cfg.g_hidden.iter().copied())
            .chain([d])
            .collect();
        let d_sizes: Vec<usize> = std::iter::once(d)
            .chain(cfg.d_hidden.iter().copied())
            .chain([1])
            .collect();
        let output = match (info.kind, info.preprocess.scale) {
            (Kind::Points, _) => Output::Linear,
            (Kind::Images, Scale::Symmetric) => Output::Tanh,
            (Kind::Images, Scale::Unit) => Output::Sigmoid,
        };
        Ok(Self {
            name,
            gen: Mlp::new(&g_sizes, cfg.g_activation, device),
            disc: Mlp::new(&d_sizes, cfg.d_activation, device),
            cfg,
            output,
        })
    }

    /// G(z): `[b, latent] -> [b, d]` in model space.
    fn generate(gen: &Mlp, output: Output, z: Tensor<2>) -> Tensor<2> {
        let x = gen.forward(z);
        match output {
            Output::Linear => x,
            Output::Tanh => tanh(x),
            Output::Sigmoid => sigmoid(x),
        }
    }
}

impl Model for Gan {
    fn family(&self) -> &'static str {
        self.name
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["gen", "disc"]
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let x = batch.x.clone(); // [b, d]
        let [b, _] = x.dims();
        let device = x.device();
        // 1. Discriminator on real data and on detached samples.
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = Self::generate(&self.gen, self.output, z).detach();
        let (real_logit, fake_logit) = (self.disc.forward(x), self.disc.forward(fake));
        // Reported: D's mean probability (logistic losses) or mean raw output (the others).
        let report = |t: Tensor<2>| {
            let t = if self.cfg.loss.is_logistic() {
                sigmoid(t)
            } else {
                t
            };
            t.mean().into_scalar::<f32>() as f64
        };
        let (d_real, d_fake) = (report(real_logit.clone()), report(fake_logit.clone()));
        // Reported on steps without a G update: G's loss on this step's samples.
        let mut g_value =
            generator_loss(self.cfg.loss, fake_logit.clone()).into_scalar::<f32>() as f64;
        let d_loss = discriminator_loss(
            self.cfg.loss,
            real_logit,
            fake_logit,
            self.cfg.label_smoothing,
        );
        let d_value = d_loss.clone().into_scalar::<f32>() as f64;
        self.disc = ctx.update("disc", self.disc.clone(), &d_loss);
        if self.cfg.clip > 0.0 {
            self.disc = clip_weights(self.disc.clone(), self.cfg.clip);
        }
        // 2. Generator, every d_steps-th step, through the updated discriminator.
        if (ctx.step + 1).is_multiple_of(self.cfg.d_steps) {
            let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
            let fake = Self::generate(&self.gen, self.output, z);
            let g_loss = generator_loss(self.cfg.loss, self.disc.forward(fake));
            g_value = g_loss.clone().into_scalar::<f32>() as f64;
            self.gen = ctx.update("gen", self.gen.clone(), &g_loss);
        }
        let mut losses = Losses::default();
        losses.push("d_loss", d_value);
        losses.push("g_loss", g_value);
        losses.push("d_real", d_real);
        losses.push("d_fake", d_fake);
        Ok(losses)
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::of("gen", &self.gen);
        out.collect("disc", &self.disc);
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.gen = params.restore("gen", self.gen.clone())?;
        self.disc = params.restore("disc", self.disc.clone())?;
        Ok(())
    }

    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
}

impl Sample for Gan {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let z = normal([n, self.cfg.latent_dim], rng, device);
        let gen = self.gen.valid().to_device(device);
        Ok(Self::generate(&gen, self.output, z))
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(GanConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Gan::new(
        "gan",
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "gan",
    summary: "generative adversarial net, MLP G and D (minimax or non-saturating loss, k D steps)",
    paper: "Goodfellow et al. 2014",
    groups: &["gen", "disc"],
    capabilities: &["sample"],
    presets: &[
        ("default", include_str!("../../../configs/gan/default.toml")),
        ("grid25", include_str!("../../../configs/gan/grid25.toml")),
        ("tiny", include_str!("../../../configs/gan/tiny.toml")),
    ],
    default_model,
    build,
};
