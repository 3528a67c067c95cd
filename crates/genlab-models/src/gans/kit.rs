//! The GAN kit: what the GAN families share. [`GanConfig`] (the options of the game and of the
//! networks), [`check`] (options and data -> which networks), the network builders, instance
//! noise, the frozen D of the generator step, D's report for the log, the `gen`/`disc`
//! checkpoints (with spectral-norm state), and the label plumbing of the conditional families.
//! The families themselves (gan.rs's Algorithm 1 and its variants) live beside it.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use genlab_core::tensor::{normal, one_hot};
use genlab_core::{Adversarial, Batch, DataInfo, Losses, NamedTensors, StepCtx};
use genlab_data::Kind;
use genlab_nn::gan_loss::{generator_loss, GanLoss};
use genlab_nn::gan_nets::{
    dcgan_stages, Body, DiscSpec, Discriminator, GenSpec, Generator, Output,
};
use genlab_nn::Activation;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The generator's parameter group (optimizer `optim.gen`, checkpoint `gen.safetensors`).
pub const GEN: &str = "gen";
/// The discriminator's (or critic's) parameter group (`optim.disc`, `disc.safetensors`).
pub const DISC: &str = "disc";
/// Both groups, generator first, as every GAN family declares them.
pub const GROUPS: &[&str] = &[GEN, DISC];

/// The families that pack (for the error message of [`check`]).
const PACKING: &str = "gan, dcgan, lsgan, wgan, sngan";

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
    /// Batch norm in G's hidden layers, and in D's convolutions but the first (DCGAN); never in
    /// a spectrally normalized D, where the normalization takes its place (SN-GAN's D has none,
    /// Miyato et al. 2018, appendix B.4).
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

/// How a family uses the kit, for [`check`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Uses {
    /// The family keeps its critic Lipschitz by a gradient penalty (WGAN-GP), so the
    /// Wasserstein loss needs neither clipping nor spectral normalization.
    pub penalty: bool,
    /// The family packs D's inputs (`model.pack`, PacGAN): the families built on gan.rs's
    /// [`Gan`](super::gan::Gan); the others reject `model.pack > 1`.
    pub packing: bool,
}

/// Check the options and choose the networks' body for this data.
pub(crate) fn check(name: &str, cfg: &GanConfig, info: &DataInfo, uses: Uses) -> Result<Body> {
    let Uses { penalty, packing } = uses;
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
    if cfg.pack == 0 || (cfg.pack > 1 && !packing) {
        bail!(
            "{name}: model.pack = {}: packing (PacGAN) is for {PACKING} and must be at least 1",
            cfg.pack
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
                    "{name}: the DCGAN nets need an image side that halves at least once to 4 or more (28, 32, 64), found {}x{}; resize the images (data.image_size) or use model.arch = \"mlp\"",
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
    Output::for_data(info.kind, info.preprocess.scale)
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
            batch_norm: cfg.batch_norm && !cfg.spectral_norm,
            spectral_norm: cfg.spectral_norm,
            minibatch_std: cfg.minibatch_std,
            extra: d_extra,
            extra_planes: planes,
            out,
        },
        device,
    )
}

/// D as the generator step uses it: the same weights and the same (shared) batch-norm running
/// statistics, but without gradients of its own, so that backward skips D's weight gradients,
/// which the G update never reads (a quarter of the DCGAN G step's arithmetic).
pub(crate) fn frozen(disc: &Discriminator) -> Discriminator {
    disc.clone().no_grad()
}

/// A D input with instance noise: std `instance_noise` at the first step, falling linearly to
/// 0 at the last (Sønderby et al. 2017; Arjovsky & Bottou 2017).
pub(crate) fn noisy(cfg: &GanConfig, x: Tensor<2>, ctx: &mut StepCtx) -> Tensor<2> {
    if cfg.instance_noise == 0.0 {
        return x;
    }
    let last = ctx.total_steps.saturating_sub(1).max(1) as f64;
    let std = cfg.instance_noise * (1.0 - ctx.step as f64 / last);
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

/// What D says of points for the GAN Lab ([`genlab_core::Adversarial::critic`]), from its
/// logits `[b, 1]`: D(x) = sigmoid(logit) for the logistic games, the raw output for the
/// others, `[b]`.
pub(crate) fn critic_values(loss: GanLoss, logit: Tensor<2>) -> Vec<f32> {
    let t = if loss.is_logistic() {
        sigmoid(logit)
    } else {
        logit
    };
    genlab_core::tensor::to_vec(t)
}

/// -dL_G/dx at points `x [b, d]` through a fixed D (`logits`: x -> D's logits `[b, 1]`), per
/// point (the batch mean's gradient times b), `[b, d]`: where the generator's adversarial loss
/// pushes each point. `x` must live on an autodiff device (the training device).
pub(crate) fn generator_gradient(
    loss: GanLoss,
    x: Tensor<2>,
    logits: impl FnOnce(Tensor<2>) -> Tensor<2>,
) -> Result<Tensor<2>> {
    push(x, |x| generator_loss(loss, logits(x)))
}

/// -dL/dx per point of a mean loss `loss_of(x)` `[1]` at points `x [b, d]` (the mean's
/// gradient times b), `[b, d]`; `x` on an autodiff device.
pub(crate) fn push(
    x: Tensor<2>,
    loss_of: impl FnOnce(Tensor<2>) -> Tensor<1>,
) -> Result<Tensor<2>> {
    let [b, _] = x.dims();
    let x = x.detach().require_grad();
    let g_loss = loss_of(x.clone());
    let grads = g_loss.backward();
    let g = x
        .grad(&grads)
        .ok_or_else(|| anyhow::anyhow!("the generator's loss does not reach its points"))?;
    Ok(g.mul_scalar(-(b as f64)))
}

/// One train step of a GAN family: D, then G every `d_steps`-th step (the paper's k) through
/// the updated D. The logged `g_loss` (second term) is G's update's, or on steps without one
/// G's loss on D's samples.
pub(crate) fn schedule(
    adv: &mut dyn Adversarial,
    d_steps: u64,
    batch: &Batch,
    ctx: &mut StepCtx,
) -> Result<Losses> {
    let mut losses = adv.step_disc(batch, ctx)?;
    if (ctx.step + 1).is_multiple_of(d_steps) {
        let g = adv.step_gen(batch, ctx)?;
        losses.0[1].1 = g.main();
    }
    Ok(losses)
}

/// Labels 0, 1, .., k-1, 0, 1, .. for `n` rows: the classes of the GAN Lab's shown points.
pub(crate) fn cycled_labels(n: usize, k: usize) -> Vec<u32> {
    (0..n).map(|i| (i % k.max(1)) as u32).collect()
}

/// The games a GAN family may switch to between steps ([`genlab_core::Adversarial::games`]):
/// the current one first; the Wasserstein game only with a Lipschitz critic (clipping or
/// spectral normalization), and nothing else for a critic kept Lipschitz by a `penalty`.
pub(crate) fn games(cfg: &GanConfig, penalty: bool) -> Vec<&'static str> {
    let current = cfg.loss;
    let mut out = vec![current.name()];
    if penalty {
        return out;
    }
    let lipschitz = cfg.clip > 0.0 || cfg.spectral_norm;
    for g in GanLoss::ALL {
        if g != current && (g != GanLoss::Wasserstein || lipschitz) {
            out.push(g.name());
        }
    }
    out
}

/// The game `name` if [`games`] allows it, else an error that lists them.
pub(crate) fn pick_game(family: &str, allowed: &[&'static str], name: &str) -> Result<GanLoss> {
    match GanLoss::parse(name) {
        Some(g) if allowed.contains(&name) => Ok(g),
        _ => bail!(
            "{family} cannot play the game `{name}` here; it can play: {}",
            allowed.join(", ")
        ),
    }
}

/// The checkpoint of a generator (or G and E) and a discriminator: `gen/...`, `disc/...`
/// and D's spectral-norm vectors.
pub(crate) fn save_pair<G: Module>(gen: &G, disc: &Discriminator) -> NamedTensors {
    let mut out = NamedTensors::of(GEN, gen);
    out.collect(DISC, disc);
    save_sn(disc, DISC, &mut out);
    out
}

/// Restore what [`save_pair`] saved.
pub(crate) fn load_pair<G: Module>(
    gen: &mut G,
    disc: &mut Discriminator,
    params: &NamedTensors,
) -> Result<()> {
    *gen = params.restore(GEN, gen.clone())?;
    *disc = params.restore(DISC, disc.clone())?;
    load_sn(disc, DISC, params)
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
