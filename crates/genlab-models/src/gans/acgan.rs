//! `acgan`: auxiliary-classifier GAN (Odena, Olah & Shlens 2017, "Conditional Image Synthesis
//! with Auxiliary Classifier GANs"). G(z, c) gets the class c; D sees only the image and has
//! two heads: the source logit and k class logits. With the source loss L_S (the `gan` game) and
//! the class log-likelihood L_C (eq. 2, 3):
//!   D maximises L_S + L_C:  min  disc_loss(real, fake) + w * [CE(D_c(x), y) + CE(D_c(G(z, c)), c)]
//!   G maximises L_C - L_S:  min  gen_loss(fake) + w * CE(D_c(G(z, c)), c)
//! with `w = model.aux_weight` (1 in the paper).

use super::kit::{self, GanConfig, DISC, GEN, GROUPS};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_split;
use genlab_core::tensor::{normal, one_hot};
use genlab_core::Capability;
use genlab_core::{
    Adversarial, Batch, Classify, DataInfo, Family, Losses, Model, NamedTensors, Sample,
    SampleGiven, Selection, StepCtx,
};
use genlab_nn::gan_loss::{discriminator_loss, generator_loss};
use genlab_nn::gan_nets::{Discriminator, Generator, Output};
use genlab_nn::loss::softmax_cross_entropy;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcganConfig {
    /// Weight of the class log-likelihood against the source loss.
    pub aux_weight: f64,
}

impl Default for AcganConfig {
    fn default() -> Self {
        Self { aux_weight: 1.0 }
    }
}

pub struct Acgan {
    cfg: GanConfig,
    aux_weight: f64,
    classes: usize,
    gen: Generator,
    /// Outputs `[source logit, class logits (k)]`.
    disc: Discriminator,
    output: Output,
}

impl Acgan {
    pub fn new(own: AcganConfig, cfg: GanConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let body = kit::check("acgan", &cfg, info, kit::Uses::default())?;
        let k = kit::classes("acgan", info)?;
        if !(own.aux_weight > 0.0 && own.aux_weight.is_finite()) {
            bail!(
                "acgan: model.aux_weight = {} must be positive (1 in the paper)",
                own.aux_weight
            );
        }
        if cfg.clip > 0.0 {
            bail!("acgan: weight clipping is not supported; use model.loss = \"hinge\" with model.spectral_norm = true for a Lipschitz D");
        }
        Ok(Self {
            gen: kit::generator(&cfg, body, info, k, device),
            disc: kit::discriminator(&cfg, body, info, (0, false), 1 + k, device),
            output: kit::output(info),
            aux_weight: own.aux_weight,
            classes: k,
            cfg,
        })
    }

    /// D's two heads: `[b, 1]` source logits and `[b, k]` class logits.
    fn heads(&self, disc: &Discriminator, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let out = disc.forward(x, None);
        (out.clone().narrow(1, 0, 1), out.narrow(1, 1, self.classes))
    }
}

impl Model for Acgan {
    fn family(&self) -> &'static str {
        "acgan"
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
    fn as_classify(&self) -> Option<&dyn Classify> {
        Some(self)
    }
    fn as_adversarial(&mut self) -> Option<&mut dyn Adversarial> {
        Some(self)
    }
}

impl Adversarial for Acgan {
    /// Step 1: D's source loss plus the class likelihood of real and generated images.
    fn step_disc(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (x, k, loss, w) = (
            batch.x.clone(),
            self.classes,
            self.cfg.loss,
            self.aux_weight,
        );
        let [b, _] = x.dims();
        let device = x.device();
        let y = one_hot(&kit::batch_labels("acgan", batch)?, k, &device); // [b, k]
        self.disc.power_iteration();
        let c = one_hot(&kit::random_labels(b, k, &mut ctx.rng), k, &device);
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = kit::generate_given(&self.gen, self.output, z, c.clone()).detach();
        let (real_src, real_cls) = self.heads(&self.disc, kit::noisy(&self.cfg, x, ctx));
        let (fake_src, fake_cls) = self.heads(&self.disc, kit::noisy(&self.cfg, fake, ctx));
        let (d_real, d_fake) = (
            kit::report(loss, real_src.clone()),
            kit::report(loss, fake_src.clone()),
        );
        let real_ce = softmax_cross_entropy(real_cls, y);
        let class_loss = real_ce.clone() + softmax_cross_entropy(fake_cls, c);
        let d_loss = discriminator_loss(loss, real_src, fake_src.clone(), self.cfg.label_smoothing)
            + class_loss.mul_scalar(w);
        let d_value = d_loss.clone().into_scalar::<f32>() as f64;
        let real_ce = real_ce.into_scalar::<f32>() as f64;
        let g_value = generator_loss(loss, fake_src).into_scalar::<f32>() as f64;
        self.disc = ctx.update(DISC, self.disc.clone(), &d_loss);
        Ok(Losses::of(&[
            ("d_loss", d_value),
            ("g_loss", g_value),
            ("d_real", d_real),
            ("d_fake", d_fake),
            ("real_class_ce", real_ce),
        ]))
    }

    /// Step 2: G fools the source head and makes the class head see class c.
    fn step_gen(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (k, loss, w) = (self.classes, self.cfg.loss, self.aux_weight);
        let [b, _] = batch.x.dims();
        let device = batch.x.device();
        let c = one_hot(&kit::random_labels(b, k, &mut ctx.rng), k, &device);
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = kit::noisy(
            &self.cfg,
            kit::generate_given(&self.gen, self.output, z, c.clone()),
            ctx,
        );
        let (src, cls) = self.heads(&kit::frozen(&self.disc), fake);
        let g_loss = generator_loss(loss, src) + softmax_cross_entropy(cls, c).mul_scalar(w);
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

    /// The source head: real or generated, whatever the class.
    fn critic(&self, x: Tensor<2>) -> Result<Vec<f32>> {
        let (src, _) = self.heads(&kit::frozen(&self.disc), x);
        Ok(kit::critic_values(self.cfg.loss, src))
    }

    fn generator_gradient(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let disc = kit::frozen(&self.disc);
        kit::generator_gradient(self.cfg.loss, self.generate(z)?, |x| self.heads(&disc, x).0)
    }

    fn games(&self) -> Vec<&'static str> {
        kit::games(&self.cfg, false)
    }

    fn set_game(&mut self, game: &str) -> Result<()> {
        self.cfg.loss = kit::pick_game("acgan", &self.games(), game)?;
        Ok(())
    }
}

// Adapted from cgan.rs: the same label-conditioned sampling, through `kit::sample_given`.
impl Sample for Acgan {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let labels = kit::random_labels(n, self.classes, rng);
        self.sample_given(&labels, rng, device)
    }
}

impl SampleGiven for Acgan {
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

/// The auxiliary classifier's argmax: the class D's second head sees.
impl Classify for Acgan {
    fn classify(&self, x: Tensor<2>) -> Result<Vec<u32>> {
        let disc = self.disc.valid().to_device(&x.device());
        let cls = disc.forward(x, None).narrow(1, 1, self.classes);
        Ok(genlab_core::tensor::labels(cls.argmax(1).squeeze_dim(1)))
    }
}

fn default_model() -> toml::Table {
    let mut t = toml::Table::try_from(GanConfig {
        arch: kit::Arch::Auto,
        ..GanConfig::default()
    })
    .expect("config serialises");
    t.extend(toml::Table::try_from(AcganConfig::default()).expect("config serialises"));
    t
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let (own, cfg) = parse_split::<AcganConfig, GanConfig>("model", model)?;
    Ok(Box::new(Acgan::new(own, cfg, info, device)?))
}

pub const FAMILY: Family = Family {
    name: "acgan",
    summary: "auxiliary-classifier GAN: D also predicts the class G was asked for",
    paper: "Odena, Olah & Shlens 2017",
    groups: GROUPS,
    capabilities: &[
        Capability::Sample,
        Capability::SampleGivenLabel,
        Capability::Classify,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/acgan/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/acgan/fashion.toml"),
        ),
        (
            "shapes",
            include_str!("../../../../configs/acgan/shapes.toml"),
        ),
        ("tiny", include_str!("../../../../configs/acgan/tiny.toml")),
    ],
    default_model,
    build,
};
