//! `gan`: generative adversarial nets (Goodfellow et al. 2014, "Generative Adversarial Nets"),
//! with MLP generator and discriminator, on 2-D toy sets and images.
//!
//! Algorithm 1 of the paper, one minibatch per train step:
//!   1. z ~ N(0, I); update D by descending  -log D(x) - log(1 - D(G(z)))   (group `disc`)
//!   2. every `d_steps`-th step (the paper's k), fresh z; update G by descending
//!      log(1 - D(G(z))) (`minimax`) or -log D(G(z)) (`non_saturating`, §3)   (group `gen`)
//!
//! `model.loss` also selects the least-squares, Wasserstein (with `model.clip`) and hinge games
//! of `genlab_nn::gan_loss`; `model.arch` the networks of `genlab_nn::gan_nets` (MLPs, or the
//! DCGAN convnets). The `dcgan`, `lsgan`, `wgan` and `sngan` families are this file with their
//! papers' choices; every GAN family takes its [`GanConfig`], network builders and checkpoint
//! layout from the kit (kit.rs).
//!
//! Options of later practice, all off by default: one-sided label smoothing (Salimans et al.
//! 2016), instance noise annealed to 0 (Sønderby et al. 2017), minibatch standard deviation
//! (Karras et al. 2018), spectral normalization (Miyato et al. 2018), packing (PacGAN, Lin et
//! al. 2018: D judges `pack` samples at once, which penalises a generator that repeats
//! itself). The EMA generator and TTUR are the trainer's `train.ema_decay` and per-group
//! `optim.gen.lr` / `optim.disc.lr`.
//!
//! NOTE: the paper draws k fresh minibatches for the k D updates; here consecutive train steps
//! supply them (step t updates D, and G too when (t + 1) % d_steps == 0).

use super::kit::{
    check, critic_values, discriminator, frozen, games, generator, generator_gradient, load_pair,
    noisy, output, pick_game, report, save_pair, schedule, GanConfig, Uses, DISC, GEN, GROUPS,
};
use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::tensor::normal;
use genlab_core::Capability;
use genlab_core::{
    Adversarial, Batch, DataInfo, Family, LatentDecode, Losses, Model, NamedTensors, Sample,
    Selection, StepCtx,
};
use genlab_nn::gan_loss::{clip_weights, discriminator_loss, generator_loss, GanLoss};
use genlab_nn::gan_nets::{Discriminator, Generator, Output};
use rand_chacha::ChaCha8Rng;

pub struct Gan {
    /// Registry name: `gan`, or a family that is this game with other choices.
    name: &'static str,
    cfg: GanConfig,
    gen: Generator,
    disc: Discriminator,
    output: Output,
}

impl Gan {
    pub fn new(
        name: &'static str,
        cfg: GanConfig,
        info: &DataInfo,
        device: &Device,
    ) -> Result<Self> {
        let uses = Uses {
            packing: true,
            ..Uses::default()
        };
        let body = check(name, &cfg, info, uses)?;
        // D sees `pack` examples at once: `pack` times the channels.
        let packed = DataInfo {
            shape: genlab_data::Shape {
                c: info.shape.c * cfg.pack,
                ..info.shape
            },
            ..info.clone()
        };
        Ok(Self {
            name,
            gen: generator(&cfg, body, info, 0, device),
            disc: discriminator(&cfg, body, &packed, (0, false), 1, device),
            output: output(info),
            cfg,
        })
    }

    /// G(z): `[b, latent] -> [b, d]` in model space.
    fn generate(&self, z: Tensor<2>) -> Tensor<2> {
        self.output.apply(self.gen.forward(z))
    }

    /// A packed D judges `pack` points at once, never one: an error for the GAN Lab's views.
    fn unpacked(&self, what: &str) -> Result<()> {
        if self.cfg.pack > 1 {
            bail!(
                "{}: a packed discriminator (model.pack = {}) cannot {what}; use model.pack = 1",
                self.name,
                self.cfg.pack
            );
        }
        Ok(())
    }

    /// `[b, d] -> [b / pack, pack * d]`: consecutive examples side by side for D.
    fn pack(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, d] = x.dims();
        x.reshape([b / self.cfg.pack, self.cfg.pack * d])
    }
}

impl Model for Gan {
    fn family(&self) -> &'static str {
        self.name
    }
    /// A Wasserstein critic's values are unbounded scores, not losses that should stay small.
    fn unbounded_terms(&self) -> &'static [&'static str] {
        match self.cfg.loss {
            GanLoss::Wasserstein => &["d_loss", "g_loss", "d_real", "d_fake"],
            _ => &[],
        }
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
        schedule(self, d_steps, batch, ctx)
    }

    fn save_params(&self) -> NamedTensors {
        save_pair(&self.gen, &self.disc)
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        load_pair(&mut self.gen, &mut self.disc, params)
    }

    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_latent(&self) -> Option<&dyn LatentDecode> {
        Some(self)
    }
    fn as_adversarial(&mut self) -> Option<&mut dyn Adversarial> {
        Some(self)
    }
}

impl Adversarial for Gan {
    /// Step 1: D on real data and on detached samples. Also reports G's loss on these samples
    /// (what a step without a G update logs).
    fn step_disc(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let x = batch.x.clone(); // [b, d]
        let [b, _] = x.dims();
        if !b.is_multiple_of(self.cfg.pack) {
            bail!(
                "{}: train.batch_size = {b} is not a multiple of model.pack = {}",
                self.name,
                self.cfg.pack
            );
        }
        let device = x.device();
        let loss = self.cfg.loss;
        self.disc.power_iteration();
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = self.generate(z).detach();
        let real_logit = self.disc.forward(self.pack(noisy(&self.cfg, x, ctx)), None);
        let fake_logit = self
            .disc
            .forward(self.pack(noisy(&self.cfg, fake, ctx)), None);
        let (d_real, d_fake) = (
            report(loss, real_logit.clone()),
            report(loss, fake_logit.clone()),
        );
        let g_value = generator_loss(loss, fake_logit.clone()).into_scalar::<f32>() as f64;
        let d_loss = discriminator_loss(loss, real_logit, fake_logit, self.cfg.label_smoothing);
        let d_value = d_loss.clone().into_scalar::<f32>() as f64;
        self.disc = ctx.update(DISC, self.disc.clone(), &d_loss);
        if self.cfg.clip > 0.0 {
            self.disc = clip_weights(self.disc.clone(), self.cfg.clip);
        }
        Ok(Losses::of(&[
            ("d_loss", d_value),
            ("g_loss", g_value),
            ("d_real", d_real),
            ("d_fake", d_fake),
        ]))
    }

    /// Step 2: G on fresh z through the frozen D.
    fn step_gen(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let [b, _] = batch.x.dims();
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &batch.x.device());
        let fake = self.pack(noisy(&self.cfg, self.generate(z), ctx));
        let g_loss = generator_loss(self.cfg.loss, frozen(&self.disc).forward(fake, None));
        let g_value = g_loss.clone().into_scalar::<f32>() as f64;
        self.gen = ctx.update(GEN, self.gen.clone(), &g_loss);
        Ok(Losses::of(&[("g_loss", g_value)]))
    }

    fn noise_dim(&self) -> usize {
        self.cfg.latent_dim
    }

    fn generate(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        self.decode(z)
    }

    fn critic(&self, x: Tensor<2>) -> Result<Vec<f32>> {
        self.unpacked("look at single points")?;
        let logit = frozen(&self.disc).forward(x, None);
        Ok(critic_values(self.cfg.loss, logit))
    }

    fn generator_gradient(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        self.unpacked("push single points")?;
        let disc = frozen(&self.disc);
        generator_gradient(self.cfg.loss, self.decode(z)?, |x| disc.forward(x, None))
    }

    fn games(&self) -> Vec<&'static str> {
        games(&self.cfg, false)
    }

    fn set_game(&mut self, game: &str) -> Result<()> {
        self.cfg.loss = pick_game(self.name, &self.games(), game)?;
        Ok(())
    }
}

impl Sample for Gan {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let z = self.prior_sample(n, rng, device)?;
        self.decode(z)
    }
}

impl LatentDecode for Gan {
    fn latent_dim(&self) -> usize {
        self.cfg.latent_dim
    }
    fn encode(&self, _x: Tensor<2>) -> Result<Tensor<2>> {
        bail!(
            "{} has no encoder: find a latent code for an image with `genlab invert RUN IMAGE.png`, or interpolate between random codes with `genlab interpolate RUN --random`",
            self.name
        )
    }
    /// G(z) in inference mode (batch norm from its running statistics); differentiable in z
    /// when z is on an autodiff device, which `genlab invert` uses.
    fn decode(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let gen = genlab_core::device::module_for(&self.gen, &z.device());
        Ok(self.output.apply(gen.forward(z)))
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
    groups: GROUPS,
    capabilities: &[Capability::Sample, Capability::Interpolate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/gan/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/gan/fashion.toml"),
        ),
        (
            "grid25",
            include_str!("../../../../configs/gan/grid25.toml"),
        ),
        ("tiny", include_str!("../../../../configs/gan/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::info;
    use genlab_core::optim::Optimizers;
    use genlab_data::{Kind, Shape};

    fn toy_gan(cfg: GanConfig) -> (Gan, Device) {
        let device = genlab_core::device::training_device(1);
        let info = info(Kind::Points, Shape { c: 2, h: 1, w: 1 });
        (Gan::new("gan", cfg, &info, &device).unwrap(), device)
    }

    fn small() -> GanConfig {
        GanConfig {
            latent_dim: 2,
            g_hidden: vec![8],
            d_hidden: vec![8],
            ..GanConfig::default()
        }
    }

    fn optimizers(total: u64) -> Optimizers {
        let groups = GROUPS.iter().map(|g| (g.to_string(), Default::default()));
        Optimizers::new(&groups.collect(), total)
    }

    #[test]
    fn g_steps_once_every_d_steps_and_d_every_step() {
        let (mut gan, device) = toy_gan(GanConfig {
            d_steps: 3,
            ..small()
        });
        let batch = Batch::of(normal(
            [8, 2],
            &mut genlab_core::rng::rng_for(0, 0, genlab_core::rng::Stream::Eval),
            &device,
        ));
        let mut optim = optimizers(6);
        let mut g_updates = Vec::new();
        for step in 0..6 {
            let (g0, d0) = (
                NamedTensors::of(GEN, &gan.gen),
                NamedTensors::of(DISC, &gan.disc),
            );
            let mut ctx = StepCtx::new(step, 6, 0, device.clone(), &mut optim);
            gan.train_step(&batch, &mut ctx).unwrap();
            assert_ne!(
                d0,
                NamedTensors::of(DISC, &gan.disc),
                "D steps at step {step}"
            );
            if g0 != NamedTensors::of(GEN, &gan.gen) {
                g_updates.push(step);
            }
        }
        assert_eq!(g_updates, vec![2, 5], "G after every third D step");
    }

    #[test]
    fn packing_puts_consecutive_examples_side_by_side() {
        let (gan, device) = toy_gan(GanConfig { pack: 2, ..small() });
        let x = genlab_core::tensor::matrix((0..8).map(|v| v as f32).collect(), 4, 2, &device);
        let packed = gan.pack(x);
        assert_eq!(packed.dims(), [2, 4]);
        assert_eq!(
            genlab_core::tensor::to_vec(packed),
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
        );
    }

    #[test]
    fn label_smoothing_changes_only_the_real_target() {
        let device = Device::default();
        let m = |v: Vec<f32>| genlab_core::tensor::matrix(v, 2, 1, &device);
        let d = |fake: Vec<f32>, s: f64| {
            let l = discriminator_loss(GanLoss::NonSaturating, m(vec![1.0, -0.5]), m(fake), s);
            genlab_core::tensor::scalar(l)
        };
        // Smoothing adds the same amount whatever D says of the fakes: the fake target stays 0.
        let a = d(vec![0.3, -2.0], 0.1) - d(vec![0.3, -2.0], 0.0);
        let b = d(vec![4.0, 1.0], 0.1) - d(vec![4.0, 1.0], 0.0);
        assert!(a.abs() > 1e-3 && (a - b).abs() < 1e-6, "{a} vs {b}");
    }

    #[test]
    fn instance_noise_starts_at_its_std_and_is_zero_at_the_last_step() {
        let cfg = GanConfig {
            instance_noise: 0.5,
            ..small()
        };
        let device = Device::default();
        let x = genlab_core::tensor::matrix(vec![0.0; 20_000], 10_000, 2, &device);
        let mut optim = optimizers(100);
        let mut std_at = |step: u64| {
            let mut ctx = StepCtx::new(step, 100, 0, device.clone(), &mut optim);
            let y = genlab_core::tensor::to_vec(noisy(&cfg, x.clone(), &mut ctx));
            (y.iter().map(|v| (v * v) as f64).sum::<f64>() / y.len() as f64).sqrt()
        };
        assert!((std_at(0) - 0.5).abs() < 0.01, "{}", std_at(0));
        assert_eq!(std_at(99), 0.0);
    }
}
