//! `cgan`: conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"):
//! both players see the class label y, as a one-hot vector joined to their input: to z in G;
//! to x in an MLP D, and as k constant planes beside the image channels in a DCGAN D.
//!
//! One minibatch (x, y) per train step, the `gan` family's game conditioned on y (eq. 2):
//!   1. z ~ N(0, I), y' ~ uniform; update D on  -log D(x | y) - log(1 - D(G(z | y') | y'))
//!   2. every `d_steps`-th step, fresh z, y'; update G on  -log D(G(z | y') | y')
//!      (non-saturating; `model.loss` selects the other games too)
//!
//! `genlab sample --label C` draws class C; `--per-class` one row per class.

use super::kit::{self, GanConfig, DISC, GEN, GROUPS};
use anyhow::Result;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::tensor::{normal, one_hot};
use genlab_core::Capability;
use genlab_core::{
    Adversarial, Batch, DataInfo, Family, Losses, Model, NamedTensors, Sample, SampleGiven,
    Selection, StepCtx,
};
use genlab_nn::gan_loss::{clip_weights, discriminator_loss, generator_loss};
use genlab_nn::gan_nets::{Discriminator, Generator, Output};
use rand_chacha::ChaCha8Rng;

pub struct Cgan {
    cfg: GanConfig,
    classes: usize,
    gen: Generator,
    disc: Discriminator,
    output: Output,
}

impl Cgan {
    pub fn new(cfg: GanConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let body = kit::check("cgan", &cfg, info, kit::Uses::default())?;
        let k = kit::classes("cgan", info)?;
        Ok(Self {
            gen: kit::generator(&cfg, body, info, k, device),
            disc: kit::discriminator(&cfg, body, info, (k, true), 1, device),
            output: kit::output(info),
            classes: k,
            cfg,
        })
    }
}

impl Model for Cgan {
    fn family(&self) -> &'static str {
        "cgan"
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
    fn as_sample_given(&self) -> Option<&dyn SampleGiven> {
        Some(self)
    }
    fn as_adversarial(&mut self) -> Option<&mut dyn Adversarial> {
        Some(self)
    }
}

impl Adversarial for Cgan {
    /// Step 1: D on (x, y) and on samples of random classes.
    fn step_disc(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (x, k, loss) = (batch.x.clone(), self.classes, self.cfg.loss); // x: [b, d]
        let [b, _] = x.dims();
        let device = x.device();
        let y = one_hot(&kit::batch_labels("cgan", batch)?, k, &device); // [b, k]
        self.disc.power_iteration();
        let y_fake = one_hot(&kit::random_labels(b, k, &mut ctx.rng), k, &device);
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = kit::generate_given(&self.gen, self.output, z, y_fake.clone()).detach();
        let real_logit = self.disc.forward(kit::noisy(&self.cfg, x, ctx), Some(y));
        let fake_logit = self
            .disc
            .forward(kit::noisy(&self.cfg, fake, ctx), Some(y_fake));
        let (d_real, d_fake) = (
            kit::report(loss, real_logit.clone()),
            kit::report(loss, fake_logit.clone()),
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

    /// Step 2: G on fresh z and random classes, through the frozen D.
    fn step_gen(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (k, loss) = (self.classes, self.cfg.loss);
        let [b, _] = batch.x.dims();
        let device = batch.x.device();
        let y_fake = one_hot(&kit::random_labels(b, k, &mut ctx.rng), k, &device);
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = kit::noisy(
            &self.cfg,
            kit::generate_given(&self.gen, self.output, z, y_fake.clone()),
            ctx,
        );
        let disc = kit::frozen(&self.disc);
        let g_loss = generator_loss(loss, disc.forward(fake, Some(y_fake)));
        let g_value = g_loss.clone().into_scalar::<f32>() as f64;
        self.gen = ctx.update(GEN, self.gen.clone(), &g_loss);
        Ok(Losses::of(&[("g_loss", g_value)]))
    }

    fn noise_dim(&self) -> usize {
        self.cfg.latent_dim
    }

    fn generate(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let device = z.device();
        let y = one_hot(
            &kit::cycled_labels(z.dims()[0], self.classes),
            self.classes,
            &device,
        );
        let gen = genlab_core::device::module_for(&self.gen, &device);
        Ok(kit::generate_given(&gen, self.output, z, y))
    }

    /// D(x | y) averaged over the classes.
    fn critic(&self, x: Tensor<2>) -> Result<Vec<f32>> {
        let [b, _] = x.dims();
        let disc = kit::frozen(&self.disc);
        let mut sum = vec![0.0f32; b];
        for c in 0..self.classes as u32 {
            let y = one_hot(&vec![c; b], self.classes, &x.device());
            let v = kit::critic_values(self.cfg.loss, disc.forward(x.clone(), Some(y)));
            sum.iter_mut().zip(v).for_each(|(s, v)| *s += v);
        }
        Ok(sum.into_iter().map(|s| s / self.classes as f32).collect())
    }

    fn generator_gradient(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let device = z.device();
        let y = one_hot(
            &kit::cycled_labels(z.dims()[0], self.classes),
            self.classes,
            &device,
        );
        let disc = kit::frozen(&self.disc);
        kit::generator_gradient(self.cfg.loss, self.generate(z)?, |x| {
            disc.forward(x, Some(y))
        })
    }

    fn games(&self) -> Vec<&'static str> {
        kit::games(&self.cfg, false)
    }

    fn set_game(&mut self, game: &str) -> Result<()> {
        self.cfg.loss = kit::pick_game("cgan", &self.games(), game)?;
        Ok(())
    }
}

impl Sample for Cgan {
    /// Classes drawn uniformly.
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let labels = kit::random_labels(n, self.classes, rng);
        self.sample_given(&labels, rng, device)
    }
}

impl SampleGiven for Cgan {
    fn classes(&self) -> usize {
        self.classes
    }
    fn sample_given(
        &self,
        labels: &[u32],
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Tensor<2>> {
        kit::sample_given(
            &self.gen,
            self.output,
            (self.cfg.latent_dim, self.classes),
            labels,
            rng,
            device,
        )
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
    Ok(Box::new(Cgan::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "cgan",
    summary: "conditional GAN: the label joins G's and D's inputs; sample a chosen class",
    paper: "Mirza & Osindero 2014",
    groups: GROUPS,
    capabilities: &[Capability::Sample, Capability::SampleGivenLabel],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/cgan/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/cgan/fashion.toml"),
        ),
        (
            "shapes",
            include_str!("../../../../configs/cgan/shapes.toml"),
        ),
        ("tiny", include_str!("../../../../configs/cgan/tiny.toml")),
    ],
    default_model,
    build,
};
