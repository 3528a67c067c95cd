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
//! papers' choices; the other GAN families reuse its [`GanConfig`] and network builder.
//!
//! Options of later practice, all off by default: one-sided label smoothing (Salimans et al.
//! 2016), instance noise annealed to 0 (Sønderby et al. 2017), minibatch standard deviation
//! (Karras et al. 2018), spectral normalization (Miyato et al. 2018), packing (PacGAN, Lin et
//! al. 2018: D judges `pack` samples at once, which penalises a generator that repeats itself). The EMA generator and TTUR
//! are the trainer's `train.ema_decay` and per-group `optim.gen.lr` / `optim.disc.lr`.
//!
//! NOTE: the paper draws k fresh minibatches for the k D updates; here consecutive train steps
//! supply them (step t updates D, and G too when (t + 1) % d_steps == 0).

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use genlab_core::config::parse_section;
use genlab_core::tensor::{normal, one_hot};
use genlab_core::{
    Batch, DataInfo, Family, LatentDecode, Losses, Model, NamedTensors, Sample, StepCtx,
};
use genlab_data::{Kind, Scale};
use genlab_nn::gan_loss::{clip_weights, discriminator_loss, generator_loss, GanLoss};
use genlab_nn::gan_nets::{
    dcgan_stages, Body, DiscSpec, Discriminator, GenSpec, Generator, Output,
};
use genlab_nn::Activation;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which networks: MLPs, the DCGAN convnets, or `auto` (MLPs for points, DCGAN for images).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    Auto,
    Mlp,
    Dcgan,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GanConfig {
    pub latent_dim: usize,
    pub arch: Arch,
    /// MLP generator hidden sizes (z side first).
    pub g_hidden: Vec<usize>,
    /// MLP discriminator hidden sizes (data side first).
    pub d_hidden: Vec<usize>,
    /// DCGAN channels of G's last hidden stage and of D's first (64 in the paper).
    pub g_width: usize,
    pub d_width: usize,
    pub g_activation: Activation,
    pub d_activation: Activation,
    /// Batch norm in G's hidden layers, and in D's convolutions but the first (DCGAN).
    pub batch_norm: bool,
    /// Spectral normalization of every discriminator weight.
    pub spectral_norm: bool,
    /// A minibatch standard-deviation feature before D's last layer.
    pub minibatch_std: bool,
    pub loss: GanLoss,
    /// Discriminator updates per generator update (the paper's k).
    pub d_steps: u64,
    /// One-sided label smoothing of the real target (0 = off).
    pub label_smoothing: f64,
    /// WGAN weight clipping of the critic to [-clip, clip] after each update (0 = off).
    pub clip: f64,
    /// Standard deviation of Gaussian noise added to every D input, annealed linearly to 0
    /// over the run (0 = off).
    pub instance_noise: f64,
    /// PacGAN (Lin et al. 2018): D judges `pack` samples at once, all real or all generated,
    /// concatenated (channel-stacked for images); 1 = off.
    pub pack: usize,
}

impl Default for GanConfig {
    fn default() -> Self {
        Self {
            latent_dim: 16,
            arch: Arch::Mlp,
            g_hidden: vec![128, 128],
            d_hidden: vec![128, 128],
            g_width: 64,
            d_width: 64,
            g_activation: Activation::Relu,
            d_activation: Activation::LeakyRelu,
            batch_norm: false,
            spectral_norm: false,
            minibatch_std: false,
            loss: GanLoss::NonSaturating,
            d_steps: 1,
            label_smoothing: 0.0,
            clip: 0.0,
            instance_noise: 0.0,
            pack: 1,
        }
    }
}

/// The families that are the `gan` file (the others reject `model.pack`).
const PACKING_FAMILIES: [&str; 5] = ["gan", "dcgan", "lsgan", "wgan", "sngan"];

impl GanConfig {
    /// The DCGAN paper's choices: convnets with batch norm, the non-saturating loss.
    pub fn dcgan() -> Self {
        Self {
            latent_dim: 100,
            arch: Arch::Dcgan,
            batch_norm: true,
            ..Self::default()
        }
    }
}

/// Check the options and choose the networks' body for this data. `penalty`: the family keeps
/// its critic Lipschitz by a gradient penalty (WGAN-GP), so the Wasserstein loss needs neither
/// clipping nor spectral normalization.
pub(crate) fn check(name: &str, cfg: &GanConfig, info: &DataInfo, penalty: bool) -> Result<Body> {
    if cfg.loss == GanLoss::Wasserstein && cfg.clip == 0.0 && !cfg.spectral_norm && !penalty {
        bail!("{name}: the wasserstein loss needs a Lipschitz critic: set model.clip (0.01 in the WGAN paper) or model.spectral_norm = true, or train `wgan-gp`");
    }
    if cfg.latent_dim == 0 || cfg.d_steps == 0 {
        bail!("{name}: model.latent_dim and model.d_steps must be at least 1");
    }
    if cfg.g_hidden.contains(&0)
        || cfg.d_hidden.contains(&0)
        || cfg.g_width == 0
        || cfg.d_width == 0
    {
        bail!("{name}: model.g_hidden, model.d_hidden, model.g_width and model.d_width must be positive");
    }
    if cfg.clip < 0.0 || (cfg.clip > 0.0 && cfg.loss != GanLoss::Wasserstein) {
        bail!(
            "{name}: model.clip = {} with model.loss = {:?}: weight clipping (e.g. 0.01) goes with the wasserstein loss, and only with it",
            cfg.clip,
            cfg.loss
        );
    }
    if !(0.0..0.5).contains(&cfg.label_smoothing) {
        bail!(
            "{name}: model.label_smoothing = {} must be in [0, 0.5) (0.1 is common)",
            cfg.label_smoothing
        );
    }
    if !(cfg.instance_noise >= 0.0 && cfg.instance_noise.is_finite()) {
        bail!(
            "{name}: model.instance_noise = {} must be a standard deviation >= 0 (0.1 is common)",
            cfg.instance_noise
        );
    }
    if cfg.pack == 0 || (cfg.pack > 1 && !PACKING_FAMILIES.contains(&name)) {
        bail!(
            "{name}: model.pack = {}: packing (PacGAN) is for {} and must be at least 1",
            cfg.pack,
            PACKING_FAMILIES.join(", ")
        );
    }
    let images = info.kind == Kind::Images;
    match (cfg.arch, images) {
        (Arch::Dcgan, false) => bail!(
            "{name}: model.arch = \"dcgan\" needs images, but the data holds points; use model.arch = \"mlp\" (or the `gan` family)"
        ),
        (Arch::Mlp, _) | (Arch::Auto, false) => Ok(Body::Mlp),
        (Arch::Dcgan | Arch::Auto, true) => {
            if dcgan_stages(info.shape).is_none() {
                bail!(
                    "{name}: the DCGAN nets need an image side that halves at least once to 4 or more (28, 32, 64), found {}x{}; resize the images (data.size) or use model.arch = \"mlp\"",
                    info.shape.h,
                    info.shape.w
                );
            }
            Ok(Body::Dcgan)
        }
    }
}

/// G's output layer for this data.
pub(crate) fn output(info: &DataInfo) -> Output {
    match (info.kind, info.preprocess.scale) {
        (Kind::Points, _) => Output::Linear,
        (Kind::Images, Scale::Symmetric) => Output::Tanh,
        (Kind::Images, Scale::Unit) => Output::Sigmoid,
    }
}

/// The generator, taking `latent_dim + g_extra` inputs (codes, labels).
pub(crate) fn generator(
    cfg: &GanConfig,
    body: Body,
    info: &DataInfo,
    g_extra: usize,
    device: &Device,
) -> Generator {
    Generator::new(
        &GenSpec {
            body,
            input: cfg.latent_dim + g_extra,
            shape: info.shape,
            hidden: cfg.g_hidden.clone(),
            width: cfg.g_width,
            activation: cfg.g_activation,
            batch_norm: cfg.batch_norm,
        },
        device,
    )
}

/// The discriminator with `d_extra` joined inputs (as planes beside the image when `planes`)
/// and `out` outputs.
pub(crate) fn discriminator(
    cfg: &GanConfig,
    body: Body,
    info: &DataInfo,
    (d_extra, planes): (usize, bool),
    out: usize,
    device: &Device,
) -> Discriminator {
    Discriminator::new(
        &DiscSpec {
            body,
            shape: info.shape,
            hidden: cfg.d_hidden.clone(),
            width: cfg.d_width,
            activation: cfg.d_activation,
            batch_norm: cfg.batch_norm,
            spectral_norm: cfg.spectral_norm,
            minibatch_std: cfg.minibatch_std,
            extra: d_extra,
            extra_planes: planes,
            out,
        },
        device,
    )
}

/// A D input with instance noise: std `instance_noise` at step 0, falling linearly to 0.
/// D as the generator step uses it: the same weights and the same (shared) batch-norm running
/// statistics, but without gradients of its own, so that backward skips D's weight gradients,
/// which the G update never reads (a quarter of the DCGAN G step's arithmetic).
pub(crate) fn frozen(disc: &Discriminator) -> Discriminator {
    disc.clone().no_grad()
}

pub(crate) fn noisy(cfg: &GanConfig, x: Tensor<2>, ctx: &mut StepCtx) -> Tensor<2> {
    if cfg.instance_noise == 0.0 {
        return x;
    }
    let std = cfg.instance_noise * (1.0 - ctx.step as f64 / ctx.total_steps.max(1) as f64);
    let noise = normal(x.dims(), &mut ctx.rng, &x.device());
    x + noise.mul_scalar(std.max(0.0))
}

/// D's mean probability (logistic losses) or mean raw output (the others), for the log.
pub(crate) fn report(loss: GanLoss, logit: Tensor<2>) -> f64 {
    let t = if loss.is_logistic() {
        sigmoid(logit)
    } else {
        logit
    };
    t.mean().into_scalar::<f32>() as f64
}

/// The checkpoint of a generator (or G and E) and a discriminator: `gen/...`, `disc/...`
/// and D's spectral-norm vectors.
pub(crate) fn save_pair<G: Module>(gen: &G, disc: &Discriminator) -> NamedTensors {
    let mut out = NamedTensors::of("gen", gen);
    out.collect("disc", disc);
    save_sn(disc, "disc", &mut out);
    out
}

/// Restore what [`save_pair`] saved.
pub(crate) fn load_pair<G: Module>(
    gen: &mut G,
    disc: &mut Discriminator,
    params: &NamedTensors,
) -> Result<()> {
    *gen = params.restore("gen", gen.clone())?;
    *disc = params.restore("disc", disc.clone())?;
    load_sn(disc, "disc", params)
}

/// Save the spectral-norm vectors of `disc` as `prefix/sn_u.i`.
fn save_sn(disc: &Discriminator, prefix: &str, out: &mut NamedTensors) {
    for (i, u) in disc.sn_state().iter().enumerate() {
        out.insert(
            format!("{prefix}/sn_u.{i}"),
            u.dims().to_vec(),
            genlab_core::tensor::to_vec(u.clone()),
        );
    }
}

/// Restore what [`save_sn`] saved.
fn load_sn(disc: &mut Discriminator, prefix: &str, params: &NamedTensors) -> Result<()> {
    let mut us = Vec::new();
    for (i, u) in disc.sn_state().iter().enumerate() {
        let name = format!("{prefix}/sn_u.{i}");
        match params.0.get(&name) {
            Some((shape, v)) if shape == &u.dims().to_vec() => us.push(Tensor::from_data(
                TensorData::new(v.clone(), shape.clone()),
                &u.device(),
            )),
            _ => bail!("checkpoint does not fit this model: missing or misshapen {name} (spectral normalization)"),
        }
    }
    if !us.is_empty() {
        disc.set_sn_state(us);
    }
    Ok(())
}

/// The batch's labels, for the families that condition on them.
pub(crate) fn batch_labels(name: &str, batch: &Batch) -> Result<Vec<u32>> {
    let Some(y) = &batch.y else {
        bail!("{name} needs labelled data (shapes, fashion-mnist, toy:ring8, a folder with one subfolder per class)");
    };
    Ok(genlab_core::tensor::labels(y.clone()))
}

/// `n` labels drawn uniformly from `0..k`.
pub(crate) fn random_labels(n: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    use rand::Rng;
    (0..n).map(|_| rng.random_range(0..k as u32)).collect()
}

/// G(z | y) of the label-conditioned families (cgan, acgan): the one-hot label joins z,
/// `[b, latent], [b, k] -> [b, d]`.
pub(crate) fn generate_given(
    gen: &Generator,
    output: Output,
    z: Tensor<2>,
    y: Tensor<2>,
) -> Tensor<2> {
    output.apply(gen.forward(Tensor::cat(vec![z, y], 1)))
}

/// One sample per label from a label-conditioned generator, in inference mode.
pub(crate) fn sample_given(
    gen: &Generator,
    output: Output,
    (latent_dim, classes): (usize, usize),
    labels: &[u32],
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<Tensor<2>> {
    genlab_core::model::check_labels(labels, classes)?;
    let z = normal([labels.len(), latent_dim], rng, device);
    let y = one_hot(labels, classes, device);
    Ok(generate_given(&gen.valid().to_device(device), output, z, y))
}

/// A labelled family needs classes in its data.
pub(crate) fn classes(name: &str, info: &DataInfo) -> Result<usize> {
    if info.classes < 2 {
        bail!("{name} needs labelled data with at least 2 classes (shapes, fashion-mnist, toy:ring8, a folder with one subfolder per class)");
    }
    Ok(info.classes)
}

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
        let body = check(name, &cfg, info, false)?;
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
    fn groups(&self) -> Vec<&'static str> {
        vec!["gen", "disc"]
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
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
        // 1. Discriminator on real data and on detached samples.
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
        // Reported on steps without a G update: G's loss on this step's samples.
        let mut g_value = generator_loss(loss, fake_logit.clone()).into_scalar::<f32>() as f64;
        let d_loss = discriminator_loss(loss, real_logit, fake_logit, self.cfg.label_smoothing);
        let d_value = d_loss.clone().into_scalar::<f32>() as f64;
        self.disc = ctx.update("disc", self.disc.clone(), &d_loss);
        if self.cfg.clip > 0.0 {
            self.disc = clip_weights(self.disc.clone(), self.cfg.clip);
        }
        // 2. Generator, every d_steps-th step, through the updated discriminator.
        if (ctx.step + 1).is_multiple_of(self.cfg.d_steps) {
            let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
            let fake = self.pack(noisy(&self.cfg, self.generate(z), ctx));
            let g_loss = generator_loss(loss, frozen(&self.disc).forward(fake, None));
            g_value = g_loss.clone().into_scalar::<f32>() as f64;
            self.gen = ctx.update("gen", self.gen.clone(), &g_loss);
        }
        Ok(Losses::of(&[
            ("d_loss", d_value),
            ("g_loss", g_value),
            ("d_real", d_real),
            ("d_fake", d_fake),
        ]))
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
}

impl Sample for Gan {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let z = normal([n, self.cfg.latent_dim], rng, device);
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
    groups: &["gen", "disc"],
    capabilities: &["sample", "interpolate"],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/gan/default.toml"),
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
