//! `bigan`: bidirectional GAN (Donahue, Krähenbühl & Darrell 2017; also ALI, Dumoulin et al.
//! 2017). An encoder E learns the inverse of G: D judges joint pairs, (x, E(x)) against
//! (G(z), z):
//!   D:      min  -log D(x, E(x)) - log(1 - D(G(z), z))
//!   G, E:   min  -log D(G(z), z) - log(1 - D(x, E(x)))     (the labels swapped: the
//!           non-saturating form of the paper's minimax objective, §3.4)
//! At the optimum E = G⁻¹ (Theorem 2), so `genlab reconstruct` shows G(E(x)) and interpolation
//! starts from the codes of real images. G and E share the `gen` group's optimizer.

use super::kit::{self, GanConfig, DISC, GEN, GROUPS};
use anyhow::Result;
use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::tensor::normal;
use genlab_core::Capability;
use genlab_core::{
    Adversarial, Batch, DataInfo, Family, LatentDecode, Losses, Model, NamedTensors, Reconstruct,
    Sample, Selection, StepCtx,
};
use genlab_nn::gan_loss::{discriminator_loss, generator_loss, GanLoss};
use genlab_nn::gan_nets::{Discriminator, Generator, Output};
use rand_chacha::ChaCha8Rng;

/// The `gen` group: G and the encoder E (a discriminator-shaped net with `latent` outputs).
#[derive(Module, Debug)]
pub struct GenEnc {
    gen: Generator,
    enc: Discriminator,
}

pub struct Bigan {
    cfg: GanConfig,
    ge: GenEnc,
    /// D(x, z): the latent joins after the body.
    disc: Discriminator,
    output: Output,
}

impl Bigan {
    pub fn new(cfg: GanConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let body = kit::check("bigan", &cfg, info, kit::Uses::default())?;
        let latent = cfg.latent_dim;
        let enc_cfg = GanConfig {
            spectral_norm: false,
            minibatch_std: false,
            ..cfg.clone()
        };
        Ok(Self {
            ge: GenEnc {
                gen: kit::generator(&cfg, body, info, 0, device),
                enc: kit::discriminator(&enc_cfg, body, info, (0, false), latent, device),
            },
            disc: kit::discriminator(&cfg, body, info, (latent, false), 1, device),
            output: kit::output(info),
            cfg,
        })
    }

    fn infer(&self, device: &Device) -> GenEnc {
        self.ge.valid().to_device(device)
    }
}

impl Model for Bigan {
    fn family(&self) -> &'static str {
        "bigan"
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
        kit::save_pair(&self.ge, &self.disc)
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        kit::load_pair(&mut self.ge, &mut self.disc, params)
    }

    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_latent(&self) -> Option<&dyn LatentDecode> {
        Some(self)
    }
    fn as_reconstruct(&self) -> Option<&dyn Reconstruct> {
        Some(self)
    }
    fn as_adversarial(&mut self) -> Option<&mut dyn Adversarial> {
        Some(self)
    }
}

impl Adversarial for Bigan {
    /// Step 1: D on the pairs (x, E(x)) and (G(z), z), both detached from G and E.
    fn step_disc(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (x, loss) = (batch.x.clone(), self.cfg.loss); // x: [b, d]
        let [b, _] = x.dims();
        let device = x.device();
        self.disc.power_iteration();
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = self.output.apply(self.ge.gen.forward(z.clone())).detach();
        let code = self.ge.enc.forward(x.clone(), None).detach(); // [b, latent]
        let real_logit = self
            .disc
            .forward(kit::noisy(&self.cfg, x.clone(), ctx), Some(code));
        let fake_logit = self.disc.forward(kit::noisy(&self.cfg, fake, ctx), Some(z));
        let (d_real, d_fake) = (
            kit::report(loss, real_logit.clone()),
            kit::report(loss, fake_logit.clone()),
        );
        let g_value = generator_loss(loss, fake_logit.clone()).into_scalar::<f32>() as f64;
        let d_loss = discriminator_loss(loss, real_logit, fake_logit, self.cfg.label_smoothing);
        let d_value = d_loss.clone().into_scalar::<f32>() as f64;
        self.disc = ctx.update(DISC, self.disc.clone(), &d_loss);
        Ok(Losses::of(&[
            ("d_loss", d_value),
            ("g_loss", g_value),
            ("d_real", d_real),
            ("d_fake", d_fake),
        ]))
    }

    /// Step 2: G and E, the same game with the labels swapped.
    fn step_gen(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (x, loss) = (batch.x.clone(), self.cfg.loss);
        let [b, _] = x.dims();
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &x.device());
        let fake = self.output.apply(self.ge.gen.forward(z.clone()));
        let code = self.ge.enc.forward(x.clone(), None);
        let disc = kit::frozen(&self.disc);
        let real_logit = disc.forward(x, Some(code));
        let fake_logit = disc.forward(kit::noisy(&self.cfg, fake, ctx), Some(z));
        let ge_loss = discriminator_loss(loss, fake_logit, real_logit, 0.0);
        let g_value = ge_loss.clone().into_scalar::<f32>() as f64;
        self.ge = ctx.update(GEN, self.ge.clone(), &ge_loss);
        Ok(Losses::of(&[("g_loss", g_value)]))
    }

    fn noise_dim(&self) -> usize {
        self.cfg.latent_dim
    }

    fn generate(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        self.decode(z)
    }

    /// The joint D read at (x, E(x)): what it says of a point with the code E gives it.
    fn critic(&self, x: Tensor<2>) -> Result<Vec<f32>> {
        let code = self.encode(x.clone())?;
        let logit = kit::frozen(&self.disc).forward(x, Some(code));
        Ok(kit::critic_values(self.cfg.loss, logit))
    }

    /// At the pairs (G(z), z): -dL/dx of the term of step 2's swapped game that holds G's
    /// points (D's loss with (G(z), z) labelled real), z held.
    fn generator_gradient(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let disc = kit::frozen(&self.disc);
        let x = self.decode(z.clone())?;
        // D's loss on pairs called real, as a G loss: the non-saturating -log D for both
        // logistic games, relu(1 - D) for hinge; the least-squares and Wasserstein terms are
        // the usual G losses.
        let game = match self.cfg.loss {
            GanLoss::Minimax => GanLoss::NonSaturating,
            g => g,
        };
        kit::push(x, |x| {
            let logit = disc.forward(x, Some(z));
            match game {
                GanLoss::Hinge => relu(logit.neg().add_scalar(1.0)).mean().reshape([1]),
                g => generator_loss(g, logit),
            }
        })
    }

    /// Minimax and non-saturating are one game here (step 2 swaps D's labels): one is listed.
    fn games(&self) -> Vec<&'static str> {
        let current = self.cfg.loss.name();
        kit::games(&self.cfg, false)
            .into_iter()
            .filter(|g| *g == current || *g != "minimax")
            .collect()
    }

    fn set_game(&mut self, game: &str) -> Result<()> {
        self.cfg.loss = kit::pick_game("bigan", &self.games(), game)?;
        Ok(())
    }
}

impl Sample for Bigan {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        self.decode(self.prior_sample(n, rng, device)?)
    }
}

impl LatentDecode for Bigan {
    fn latent_dim(&self) -> usize {
        self.cfg.latent_dim
    }
    /// E(x).
    fn encode(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        Ok(self.infer(&x.device()).enc.forward(x, None))
    }
    /// G(z); differentiable in z on an autodiff device (`genlab invert`).
    fn decode(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let gen = genlab_core::device::module_for(&self.ge.gen, &z.device());
        Ok(self.output.apply(gen.forward(z)))
    }
}

impl Reconstruct for Bigan {
    /// G(E(x)).
    fn reconstruct(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        self.decode(self.encode(x)?)
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(GanConfig {
        arch: kit::Arch::Auto,
        ..GanConfig::default()
    })
    .expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Bigan::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "bigan",
    summary: "bidirectional GAN: an encoder learns G's inverse; D judges (x, z) pairs",
    paper: "Donahue, Krähenbühl & Darrell 2017",
    groups: GROUPS,
    capabilities: &[
        Capability::Sample,
        Capability::Reconstruct,
        Capability::Interpolate,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/bigan/default.toml"),
        ),
        ("tiny", include_str!("../../../../configs/bigan/tiny.toml")),
    ],
    default_model,
    build,
};
