//! `infogan`: information-maximizing GAN (Chen et al. 2016, "InfoGAN"). G's input is noise z
//! and a structured code c: one categorical code (k values, one-hot) and `continuous` codes
//! uniform on [-1, 1]. A head Q on D's body predicts c from G(z, c); maximizing the variational
//! lower bound L_I(G, Q) of the mutual information I(c; G(z, c)) (§5) makes c meaningful.
//!   D and Q:  min  disc_loss(real, fake) + lambda * L_info(fake)
//!   G:        min  gen_loss(fake)        + lambda * L_info(fake)
//!   L_info = CE(Q_cat(x), c_cat) + ½ |Q_cont(x) - c_cont|²   (Q's Gaussian with unit variance:
//!   the negative log-likelihood up to a constant)
//! with lambda = `model.info_weight` (1 in the paper for MNIST).
//!
//! NOTE: Q is one more set of outputs of D's last layer, where the paper gives Q a hidden layer
//! of its own on the shared body.
//! `genlab traverse RUN` draws the paper's figure 2: one row per category, one continuous code
//! swept across the columns, the rest fixed.

use super::kit::{self, GanConfig, DISC, GEN, GROUPS};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_split;
use genlab_core::tensor::{normal, one_hot, uniform};
use genlab_core::Capability;
use genlab_core::{
    Adversarial, Batch, Codes, DataInfo, Family, Losses, Model, NamedTensors, Sample, Selection,
    StepCtx,
};
use genlab_nn::gan_loss::{discriminator_loss, generator_loss};
use genlab_nn::gan_nets::{Discriminator, Generator, Output};
use genlab_nn::loss::softmax_cross_entropy;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoganConfig {
    /// Values of the categorical code (10 for the digits of MNIST).
    pub categories: usize,
    /// Continuous codes, each uniform on [-1, 1].
    pub continuous: usize,
    /// lambda, the weight of the mutual-information term.
    pub info_weight: f64,
}

impl Default for InfoganConfig {
    fn default() -> Self {
        Self {
            categories: 10,
            continuous: 2,
            info_weight: 1.0,
        }
    }
}

pub struct Infogan {
    cfg: GanConfig,
    own: InfoganConfig,
    gen: Generator,
    /// Outputs `[source logit, category logits (k), continuous means]`.
    disc: Discriminator,
    output: Output,
}

/// A draw of the code: category indices and continuous values `[b, continuous]`.
struct Code {
    cat: Vec<u32>,
    cont: Tensor<2>,
}

impl Infogan {
    pub fn new(
        own: InfoganConfig,
        cfg: GanConfig,
        info: &DataInfo,
        device: &Device,
    ) -> Result<Self> {
        let body = kit::check("infogan", &cfg, info, kit::Uses::default())?;
        if own.categories == 1 || own.categories + own.continuous == 0 {
            bail!("infogan: model.categories ({}) must be 0 or at least 2, and there must be some code (model.continuous = {})", own.categories, own.continuous);
        }
        if !(own.info_weight > 0.0 && own.info_weight.is_finite()) {
            bail!(
                "infogan: model.info_weight = {} must be positive (1 in the paper)",
                own.info_weight
            );
        }
        let code = own.categories + own.continuous;
        Ok(Self {
            gen: kit::generator(&cfg, body, info, code, device),
            disc: kit::discriminator(&cfg, body, info, (0, false), 1 + code, device),
            output: kit::output(info),
            cfg,
            own,
        })
    }

    fn draw(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Code {
        let k = self.own.categories;
        Code {
            cat: if k > 0 {
                kit::random_labels(n, k, rng)
            } else {
                Vec::new()
            },
            cont: uniform([n, self.own.continuous], rng, device)
                .mul_scalar(2.0)
                .sub_scalar(1.0),
        }
    }

    /// G(z, c): `[b, latent]` and the code -> `[b, d]`.
    fn generate(&self, gen: &Generator, z: Tensor<2>, code: &Code) -> Tensor<2> {
        let device = z.device();
        let mut parts = vec![z];
        if self.own.categories > 0 {
            parts.push(one_hot(&code.cat, self.own.categories, &device));
        }
        parts.push(code.cont.clone());
        self.output.apply(gen.forward(Tensor::cat(parts, 1)))
    }

    /// Source logits `[b, 1]` and L_info of the code given D's outputs on G(z, c).
    fn heads(&self, disc: &Discriminator, x: Tensor<2>, code: &Code) -> (Tensor<2>, Tensor<1>) {
        let (k, m) = (self.own.categories, self.own.continuous);
        let out = disc.forward(x, None); // [b, 1 + k + m]
        let device = out.device();
        let mut info = Tensor::zeros([1], &device);
        if k > 0 {
            let logits = out.clone().narrow(1, 1, k);
            info = info + softmax_cross_entropy(logits, one_hot(&code.cat, k, &device));
        }
        if m > 0 {
            let mean = out.clone().narrow(1, 1 + k, m);
            info = info
                + (mean - code.cont.clone())
                    .powi_scalar(2)
                    .sum_dim(1)
                    .mean()
                    .mul_scalar(0.5);
        }
        (out.narrow(1, 0, 1), info)
    }
}

impl Model for Infogan {
    fn family(&self) -> &'static str {
        "infogan"
    }
    fn groups(&self) -> Vec<&'static str> {
        GROUPS.to_vec()
    }
    fn selection(&self) -> Selection {
        // A low discriminator loss marks a strong critic, not a good generator.
        Selection::None
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let d_steps = self.cfg.d_steps;
        kit::schedule(self, d_steps, batch, ctx)
    }

    fn save_params(&self) -> NamedTensors {
        kit::save_pair(&self.gen, &self.disc)
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        kit::load_pair(&mut self.gen, &mut self.disc, params)
    }

    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_codes(&self) -> Option<&dyn Codes> {
        Some(self)
    }
    fn as_adversarial(&mut self) -> Option<&mut dyn Adversarial> {
        Some(self)
    }
}

impl Infogan {
    /// The GAN Lab's codes for `n` shown points: category i mod k, continuous codes 0.
    fn shown_code(&self, n: usize, device: &Device) -> Code {
        Code {
            cat: if self.own.categories > 0 {
                kit::cycled_labels(n, self.own.categories)
            } else {
                Vec::new()
            },
            cont: Tensor::zeros([n, self.own.continuous], device),
        }
    }
}

impl Adversarial for Infogan {
    /// Step 1: D and Q.
    fn step_disc(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (x, loss, lambda) = (batch.x.clone(), self.cfg.loss, self.own.info_weight);
        let [b, _] = x.dims();
        let device = x.device();
        self.disc.power_iteration();
        let code = self.draw(b, &mut ctx.rng, &device);
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = self.generate(&self.gen, z, &code).detach();
        let (real_src, _) = self.heads(&self.disc, kit::noisy(&self.cfg, x, ctx), &code);
        let (fake_src, info) = self.heads(&self.disc, kit::noisy(&self.cfg, fake, ctx), &code);
        let (d_real, d_fake) = (
            kit::report(loss, real_src.clone()),
            kit::report(loss, fake_src.clone()),
        );
        let info_value = info.clone().into_scalar::<f32>() as f64;
        let g_value = generator_loss(loss, fake_src.clone()).into_scalar::<f32>() as f64;
        let d_loss = discriminator_loss(loss, real_src, fake_src, self.cfg.label_smoothing)
            + info.mul_scalar(lambda);
        let d_value = d_loss.clone().into_scalar::<f32>() as f64;
        self.disc = ctx.update(DISC, self.disc.clone(), &d_loss);
        Ok(Losses::of(&[
            ("d_loss", d_value),
            ("g_loss", g_value),
            ("d_real", d_real),
            ("d_fake", d_fake),
            ("info", info_value),
        ]))
    }

    /// Step 2: G fools D and keeps the code recoverable.
    fn step_gen(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (loss, lambda) = (self.cfg.loss, self.own.info_weight);
        let [b, _] = batch.x.dims();
        let device = batch.x.device();
        let code = self.draw(b, &mut ctx.rng, &device);
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = kit::noisy(&self.cfg, self.generate(&self.gen, z, &code), ctx);
        let (src, info) = self.heads(&kit::frozen(&self.disc), fake, &code);
        let g_loss = generator_loss(loss, src) + info.mul_scalar(lambda);
        let g_value = g_loss.clone().into_scalar::<f32>() as f64;
        self.gen = ctx.update(GEN, self.gen.clone(), &g_loss);
        Ok(Losses::of(&[("g_loss", g_value)]))
    }

    fn noise_dim(&self) -> usize {
        self.cfg.latent_dim
    }

    fn generate(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let device = z.device();
        let code = self.shown_code(z.dims()[0], &device);
        let gen = genlab_core::device::module_for(&self.gen, &device);
        Ok(Infogan::generate(self, &gen, z, &code))
    }

    /// The source output of D (Q's heads set aside).
    fn critic(&self, x: Tensor<2>) -> Result<Vec<f32>> {
        let out = kit::frozen(&self.disc).forward(x, None);
        Ok(kit::critic_values(self.cfg.loss, out.narrow(1, 0, 1)))
    }

    fn generator_gradient(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let disc = kit::frozen(&self.disc);
        let x = Adversarial::generate(self, z)?;
        kit::generator_gradient(self.cfg.loss, x, |x| disc.forward(x, None).narrow(1, 0, 1))
    }

    fn games(&self) -> Vec<&'static str> {
        kit::games(&self.cfg, false)
    }

    fn set_game(&mut self, game: &str) -> Result<()> {
        self.cfg.loss = kit::pick_game("infogan", &self.games(), game)?;
        Ok(())
    }
}

impl Sample for Infogan {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let code = self.draw(n, rng, device);
        let z = normal([n, self.cfg.latent_dim], rng, device);
        let gen = self.gen.valid().to_device(device);
        Ok(self.generate(&gen, z, &code))
    }
}

impl Codes for Infogan {
    fn noise_dim(&self) -> usize {
        self.cfg.latent_dim
    }
    fn categories(&self) -> usize {
        self.own.categories
    }
    fn continuous(&self) -> usize {
        self.own.continuous
    }
    fn decode_codes(&self, z: Tensor<2>, cat: &[u32], cont: Tensor<2>) -> Result<Tensor<2>> {
        if self.own.categories > 0 {
            genlab_core::model::check_labels(cat, self.own.categories)?;
        }
        let gen = self.gen.valid().to_device(&z.device());
        let code = Code {
            cat: cat.to_vec(),
            cont,
        };
        Ok(self.generate(&gen, z, &code))
    }
}

fn default_model() -> toml::Table {
    let mut t = toml::Table::try_from(GanConfig {
        arch: kit::Arch::Auto,
        ..GanConfig::default()
    })
    .expect("config serialises");
    t.extend(toml::Table::try_from(InfoganConfig::default()).expect("config serialises"));
    t
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let (own, cfg) = parse_split::<InfoganConfig, GanConfig>("model", model)?;
    Ok(Box::new(Infogan::new(own, cfg, info, device)?))
}

pub const FAMILY: Family = Family {
    name: "infogan",
    summary: "InfoGAN: categorical and continuous codes made recoverable by a Q head",
    paper: "Chen et al. 2016",
    groups: GROUPS,
    capabilities: &[Capability::Sample, Capability::Traverse],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/infogan/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/infogan/fashion.toml"),
        ),
        (
            "shapes",
            include_str!("../../../../configs/infogan/shapes.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/infogan/tiny.toml"),
        ),
    ],
    default_model,
    build,
};
