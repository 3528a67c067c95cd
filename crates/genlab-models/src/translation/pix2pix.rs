//! `pix2pix`: image-to-image translation with a conditional GAN (Isola, Zhu, Zhou & Efros 2017,
//! "Image-to-Image Translation with Conditional Adversarial Networks"), on paired data: an
//! image-to-image task such as `edges:fashion-mnist` (genlab-data's tasks) whose batches carry
//! each target `y` (`batch.x`) with its input `x` (`batch.input`).
//!
//! Objective (eq. 4): G* = arg min_G max_D L_cGAN(G, D) + λ L_L1(G), λ = 100, with
//!   L_cGAN = E[log D(x, y)] + E[log(1 - D(x, G(x, z)))],  L_L1 = E[|y - G(x, z)|₁].
//! One minibatch per train step:
//!   1. update D by descending ½ (-log D(x, y) - log(1 - D(x, G(x)))) (the paper halves D's
//!      objective to slow it against G)                                      (group `disc`)
//!   2. update G by descending -log D(x, G(x)) + λ |y - G(x)|₁ (the non-saturating form the
//!      paper trains with)                                                     (group `gen`)
//!
//! G is a U-Net and D a PatchGAN that sees input and output together (genlab-nn's
//! `translation_nets`). The only noise z is dropout in G's decoder, kept on when translating,
//! as in the paper ("we provide noise only in the form of dropout ... at both training and
//! test time"); here its masks come from the seeded RNG, so `--seed` repeats a translation.
//! `model.gan_weight = 0` trains the paper's L1-only ablation (table 1), D untouched.
//!
//! NOTE: the paper normalises with the test batch's statistics at test time (batch size 1,
//! i.e. instance normalisation); genlab trains with batches of 64 and translates with batch
//! norm's running statistics, so an output does not depend on what else is in the batch.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::device::module_for;
use genlab_core::{
    Batch, Capability, DataInfo, Family, Losses, Model, NamedTensors, Selection, StepCtx, Translate,
};
use genlab_data::{Kind, Shape};
use genlab_nn::gan_loss::{discriminator_loss, generator_loss, GanLoss};
use genlab_nn::gan_nets::Output;
use genlab_nn::translation_nets::{PatchGan, UNet};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const GEN: &str = "gen";
const DISC: &str = "disc";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pix2PixConfig {
    /// U-Net channels of the outermost level (64 in the paper), doubling to at most 8x.
    pub g_width: usize,
    /// PatchGAN channels of its first layer (64).
    pub d_width: usize,
    /// PatchGAN depth: 1 gives 16x16 patches, 3 the paper's 70x70.
    pub d_layers: usize,
    /// Decoder layers with dropout 0.5, from the innermost (the paper: 3 of 8; here 2 of 4).
    pub dropout_layers: usize,
    /// λ, the weight of the L1 term (100).
    pub l1_weight: f64,
    /// Weight of the adversarial term (1; 0 = the L1-only ablation).
    pub gan_weight: f64,
    /// The GAN game: `non_saturating` (the paper's) or `least_squares` (the reference code's
    /// `lsgan`: D ½ MSE on each side, G the full MSE).
    pub loss: GanLoss,
}

impl Default for Pix2PixConfig {
    fn default() -> Self {
        Self {
            g_width: 64,
            d_width: 64,
            d_layers: 1,
            dropout_layers: 2,
            l1_weight: 100.0,
            gan_weight: 1.0,
            loss: GanLoss::NonSaturating,
        }
    }
}

pub struct Pix2Pix {
    cfg: Pix2PixConfig,
    gen: UNet,
    disc: PatchGan,
    input: Shape,
    output: Output,
}

impl Pix2Pix {
    pub fn new(cfg: Pix2PixConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let Some(genlab_data::InputKind {
            shape: input,
            paired: true,
            ..
        }) = info.input
        else {
            bail!("pix2pix needs paired images (an unpaired task needs cycle consistency: `genlab train cyclegan`): train it on an image-to-image task such as `--data edges:fashion-mnist`, `downscale(2):SPEC`, `hole:SPEC`, `noisy:SPEC` or `grey:SPEC` (`genlab data info edges:fashion-mnist` shows the pairs)");
        };
        let s = info.shape;
        if info.kind != Kind::Images || !s.h.is_multiple_of(input.h) || !s.w.is_multiple_of(input.w)
        {
            bail!(
                "pix2pix: inputs of {}x{} cannot be scaled up to the {}x{} targets by a whole factor",
                input.h, input.w, s.h, s.w
            );
        }
        if s.h.min(s.w) < 8 {
            bail!(
                "pix2pix: {}x{} images are too small for the PatchGAN's strided convolutions; use images of at least 8x8 (data.image_size = 32 resizes a folder)",
                s.h, s.w
            );
        }
        if !matches!(cfg.loss, GanLoss::NonSaturating | GanLoss::LeastSquares) {
            bail!("pix2pix: model.loss is non_saturating (the paper's) or least_squares (the reference code's lsgan); the other games are not implemented for it");
        }
        if cfg.g_width == 0 || cfg.d_width == 0 || cfg.d_layers == 0 {
            bail!("pix2pix: model.g_width, model.d_width and model.d_layers must be at least 1");
        }
        if !(cfg.l1_weight >= 0.0 && cfg.gan_weight >= 0.0) || cfg.l1_weight + cfg.gan_weight == 0.0
        {
            bail!("pix2pix: model.l1_weight and model.gan_weight are weights >= 0, not both 0");
        }
        let depth = genlab_nn::translation_nets::unet_depth(s);
        if cfg.dropout_layers >= depth {
            bail!(
                "pix2pix: model.dropout_layers = {} but the U-Net for {}x{} images has {} decoder layers before its output; use at most {}",
                cfg.dropout_layers, s.h, s.w, depth, depth - 1
            );
        }
        Ok(Self {
            gen: UNet::new(input, s, cfg.g_width, cfg.dropout_layers, device),
            disc: PatchGan::new(input, s, cfg.d_width, cfg.d_layers, device),
            input,
            output: Output::for_data(info.kind, info.preprocess.scale),
            cfg,
        })
    }

    /// G(x) in model space, with dropout masks from `rng`.
    fn generate(&self, gen: &UNet, input: Tensor<2>, rng: &mut ChaCha8Rng) -> Tensor<2> {
        self.output.apply(gen.forward(input, Some(rng)))
    }
}

fn paired(batch: &Batch) -> Result<Tensor<2>> {
    batch.input.clone().ok_or_else(|| {
        anyhow::anyhow!("pix2pix got a batch without inputs: train it on an image-to-image task (`--data edges:fashion-mnist`)")
    })
}

impl Model for Pix2Pix {
    fn family(&self) -> &'static str {
        "pix2pix"
    }
    fn groups(&self) -> Vec<&'static str> {
        vec![GEN, DISC]
    }
    fn selection(&self) -> Selection {
        if self.cfg.gan_weight == 0.0 {
            Selection::FirstLoss
        } else {
            // A lower L1 is no better picture once the adversarial term pulls away from the mean.
            Selection::None
        }
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let input = paired(batch)?; // [b, c_in*h_in*w_in]
        let target = batch.x.clone(); // [b, c*h*w]
        let fake = self.generate(&self.gen, input.clone(), &mut ctx.rng);
        let mut losses = Losses::default();
        let l1 = (fake.clone() - target.clone()).abs().mean().reshape([1]);
        losses.push("l1", l1.clone().into_scalar::<f32>() as f64);
        if self.cfg.gan_weight == 0.0 {
            let g_loss = l1 * self.cfg.l1_weight;
            self.gen = ctx.update(GEN, self.gen.clone(), &g_loss);
            return Ok(losses);
        }
        // 1. D on real pairs and on detached translations, its objective halved.
        let real_logit = self.disc.forward(Some(input.clone()), target);
        let fake_logit = self
            .disc
            .forward(Some(input.clone()), fake.clone().detach());
        let loss = self.cfg.loss;
        let (d_real, d_fake) = (
            d_output(loss, real_logit.clone()),
            d_output(loss, fake_logit.clone()),
        );
        // The reference code's scale for each game: logistic D losses halved; the least-squares
        // one (½ MSE real + ½ MSE fake) is that already, and its G term is the full MSE.
        let (d_scale, g_scale) = match self.cfg.loss {
            GanLoss::LeastSquares => (1.0, 2.0),
            _ => (0.5, 1.0),
        };
        let d_loss = discriminator_loss(self.cfg.loss, real_logit, fake_logit, 0.0) * d_scale;
        let d_value = d_loss.clone().into_scalar::<f32>() as f64;
        self.disc = ctx.update(DISC, self.disc.clone(), &d_loss);
        // 2. G through the updated D (frozen: no gradients of D's weights) plus λ L1.
        let frozen = self.disc.clone().no_grad();
        let g_gan = generator_loss(self.cfg.loss, frozen.forward(Some(input), fake)) * g_scale;
        losses.push("g_gan", g_gan.clone().into_scalar::<f32>() as f64);
        let g_loss = g_gan * self.cfg.gan_weight + l1 * self.cfg.l1_weight;
        self.gen = ctx.update(GEN, self.gen.clone(), &g_loss);
        losses.push("d_loss", d_value);
        losses.push("d_real", d_real);
        losses.push("d_fake", d_fake);
        Ok(losses)
    }

    /// L1 between held-out targets and their translations (fixed dropout masks), in model
    /// units, as `l1` is logged.
    fn held_out(&self, batch: &Batch, _rng: &mut ChaCha8Rng) -> Result<Losses> {
        let input = paired(batch)?;
        let out = self.translate(input, &mut ChaCha8Rng::seed_from_u64(0))?;
        let l1 = (out - batch.x.clone()).abs().mean().into_scalar::<f32>() as f64;
        Ok(Losses::of(&[("l1", l1)]))
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::of(GEN, &self.gen);
        out.collect(DISC, &self.disc);
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.gen = params.restore(GEN, self.gen.clone())?;
        self.disc = params.restore(DISC, self.disc.clone())?;
        Ok(())
    }

    fn as_translate(&self) -> Option<&dyn Translate> {
        Some(self)
    }
}

/// D's mean output over the patches as `d_real` / `d_fake` report it: a probability D(x) for
/// the logistic game, the raw score for least squares.
fn d_output(loss: GanLoss, logits: Tensor<2>) -> f64 {
    let t = match loss {
        GanLoss::LeastSquares => logits,
        _ => burn::tensor::activation::sigmoid(logits),
    };
    t.mean().into_scalar::<f32>() as f64
}

impl Translate for Pix2Pix {
    fn input_shape(&self) -> Shape {
        self.input
    }
    /// G(x) with batch norm's running statistics and dropout on (masks from `rng`).
    fn translate(&self, input: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let gen = module_for(&self.gen, &input.device());
        Ok(self.generate(&gen, input, rng))
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(Pix2PixConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Pix2Pix::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "pix2pix",
    summary: "paired image-to-image translation: U-Net G, PatchGAN D on (input, output), L1 x 100",
    paper: "Isola et al. 2017",
    groups: &[GEN, DISC],
    capabilities: &[Capability::Translate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/pix2pix/default.toml"),
        ),
        ("l1", include_str!("../../../../configs/pix2pix/l1.toml")),
        (
            "tiny",
            include_str!("../../../../configs/pix2pix/tiny.toml"),
        ),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::info;
    use genlab_core::optim::Optimizers;

    fn small(gan_weight: f64) -> (Pix2Pix, Device) {
        let device = genlab_core::device::training_device(1);
        let s = Shape { c: 1, h: 8, w: 8 };
        let mut info = info(Kind::Images, s);
        info.input = Some(genlab_data::InputKind {
            shape: Shape { c: 1, h: 4, w: 4 },
            paired: true,
            hole: None,
        });
        let cfg = Pix2PixConfig {
            g_width: 2,
            d_width: 2,
            dropout_layers: 1,
            gan_weight,
            ..Pix2PixConfig::default()
        };
        (Pix2Pix::new(cfg, &info, &device).unwrap(), device)
    }

    #[test]
    fn a_step_updates_both_nets_and_l1_only_leaves_d_alone() {
        for gan_weight in [1.0, 0.0] {
            let (mut model, device) = small(gan_weight);
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let mut batch = Batch::of(genlab_core::tensor::uniform([4, 64], &mut rng, &device));
            batch.input = Some(genlab_core::tensor::uniform([4, 16], &mut rng, &device));
            let groups = [GEN, DISC]
                .iter()
                .map(|g| (g.to_string(), Default::default()));
            let mut optim = Optimizers::new(&groups.collect(), 1);
            let (g0, d0) = (
                NamedTensors::of(GEN, &model.gen),
                NamedTensors::of(DISC, &model.disc),
            );
            let mut ctx = StepCtx::new(0, 1, 0, device.clone(), &mut optim);
            let losses = model.train_step(&batch, &mut ctx).unwrap();
            assert_ne!(g0, NamedTensors::of(GEN, &model.gen));
            assert_eq!(d0 == NamedTensors::of(DISC, &model.disc), gan_weight == 0.0);
            assert_eq!(losses.0.len(), if gan_weight == 0.0 { 1 } else { 5 });
            // Translation is seeded (dropout) and in the data's range (tanh).
            let x = batch.input.clone().unwrap();
            let y1 = model
                .translate(x.clone(), &mut ChaCha8Rng::seed_from_u64(3))
                .unwrap();
            let y2 = model
                .translate(x, &mut ChaCha8Rng::seed_from_u64(3))
                .unwrap();
            assert!(y1.clone().equal(y2).all().into_scalar::<bool>());
            assert_eq!(y1.dims(), [4, 64]);
        }
    }

    #[test]
    fn unpaired_data_is_refused_with_the_fix() {
        let device = Device::default();
        let info = info(Kind::Images, Shape { c: 1, h: 28, w: 28 });
        let err = Pix2Pix::new(Pix2PixConfig::default(), &info, &device)
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("--data edges:fashion-mnist"),
            "{err}"
        );
    }
}
