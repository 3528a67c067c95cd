//! `srgan`: photo-realistic super-resolution with a GAN (Ledig et al. 2017, "Photo-Realistic
//! Single Image Super-Resolution Using a Generative Adversarial Network", §2.2-2.3). The
//! generator is SRResNet (`srresnet`'s network); the paper first trains it on the pixel-wise MSE
//! and then starts SRGAN from it. Here both stages are one run: for the first
//! `model.pretrain_steps` steps G descends the MSE alone (the SRResNet stage, D untouched), then
//!   l^SR = l^SR_X + 10⁻³ l^SR_Gen                                           (eq. 3)
//! with the content loss l^SR_X the squared distance of feature maps φ of the real and the
//! super-resolved image (eq. 5) and l^SR_Gen = -log D(G(x)) (eq. 6). One step of the GAN stage:
//!   1. update D by descending -log D(y) - log(1 - D(G(x)))                   (group `disc`)
//!   2. update G by descending mean (φ(y) - φ(G(x)))² - 10⁻³ log D(G(x))      (group `gen`)
//!
//! NOTE: the paper's φ is VGG19's 5.4 feature map (ImageNet features); genlab ships no VGG and
//! downloads nothing, so φ is the last convolution of the shipped Fashion-MNIST judge
//! (`judges::shipped`, 28x28 grey images): a domain network in VGG's place, as the judge
//! stands in for Inception in FID. Its dense features, which FID uses, are not in the loss, but
//! the two share layers, so read this model's FID with that in mind. `model.content = "mse"`
//! uses the pixel-wise MSE instead (any image size). D is genlab's DCGAN discriminator (stride-2
//! 4x4 convolutions, batch norm, leaky ReLU), shallower than the paper's eight 3x3 layers.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::device::module_for;
use genlab_core::tensor::scalar;
use genlab_core::{
    Batch, Capability, DataInfo, Family, Losses, Model, NamedTensors, Selection, StepCtx, Translate,
};
use genlab_data::{InputKind, Kind, Scale, Shape};
use genlab_nn::gan_loss::{discriminator_loss, generator_loss, GanLoss};
use genlab_nn::gan_nets::{dcgan_stages, DiscSpec, Discriminator, Output};
use genlab_nn::translation_nets::SrResNet;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::judges::classifier::ClassifierNet;

const GEN: &str = "gen";
const DISC: &str = "disc";
const GAME: GanLoss = GanLoss::NonSaturating;

/// The content loss l^SR_X.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// Squared distance of the shipped judge's last convolutional feature maps (VGG's place).
    Judge,
    /// Pixel-wise MSE (SRGAN-MSE in the paper's table 1).
    Mse,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrGanConfig {
    /// G's channels (64 in the paper).
    pub width: usize,
    /// G's residual blocks (16).
    pub blocks: usize,
    /// D's first stage channels (64).
    pub d_width: usize,
    /// Weight of l^SR_Gen (10⁻³).
    pub adv_weight: f64,
    pub content: Content,
    /// Steps of the SRResNet stage (MSE only) before the GAN stage.
    pub pretrain_steps: u64,
}

impl Default for SrGanConfig {
    fn default() -> Self {
        Self {
            width: 64,
            blocks: 16,
            d_width: 64,
            adv_weight: 1e-3,
            content: Content::Judge,
            pretrain_steps: 0,
        }
    }
}

pub struct SrGan {
    cfg: SrGanConfig,
    gen: SrResNet,
    disc: Discriminator,
    /// φ, frozen (None for the pixel-wise content loss).
    phi: Option<ClassifierNet>,
    input: Shape,
    output: Output,
    /// Model-space pixels are in [-1, 1] (φ takes [0, 1]).
    symmetric: bool,
}

impl SrGan {
    pub fn new(cfg: SrGanConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let Some(InputKind {
            shape: input,
            paired: true,
            ..
        }) = info.input
        else {
            bail!("srgan needs low- and high-resolution pairs: train it on `--data downscale(2):fashion-mnist` (or downscale(4):SPEC)");
        };
        let s = info.shape;
        let f = s.h / input.h.max(1);
        if info.kind != Kind::Images
            || input.c != s.c
            || !matches!(f, 2 | 4)
            || s.h != f * input.h
            || s.w != f * input.w
        {
            bail!(
                "srgan upsamples by 2 or 4 within one channel count, but the inputs are {}x{}x{} and the targets {}x{}x{}: use downscale(2):SPEC or downscale(4):SPEC on images whose side the factor divides (data.image_size resizes a folder)",
                input.c, input.h, input.w, s.c, s.h, s.w
            );
        }
        if dcgan_stages(s).is_none() {
            bail!(
                "srgan: its discriminator needs an even image side of at least 8, not {}x{} (data.image_size = 32 resizes a folder)",
                s.h, s.w
            );
        }
        if cfg.width == 0 || cfg.d_width == 0 {
            bail!("srgan: model.width and model.d_width must be at least 1");
        }
        if cfg.adv_weight.is_nan() || cfg.adv_weight < 0.0 {
            bail!("srgan: model.adv_weight is a weight >= 0 (10⁻³ in the paper)");
        }
        let phi = match cfg.content {
            Content::Mse => None,
            Content::Judge => {
                if (s.c, s.h, s.w) != (1, 28, 28) {
                    bail!(
                        "srgan: model.content = \"judge\" takes features of the shipped Fashion-MNIST judge, which sees 28x28 grey images, not {}x{}x{}; set model.content = \"mse\"",
                        s.c, s.h, s.w
                    );
                }
                Some(crate::judges::shipped::network(device)?)
            }
        };
        Ok(Self {
            gen: SrResNet::new(input, s, cfg.width, cfg.blocks, device),
            disc: Discriminator::new(&DiscSpec::dcgan(s, cfg.d_width, 1), device),
            phi,
            input,
            output: Output::for_data(info.kind, info.preprocess.scale),
            symmetric: info.preprocess.scale == Scale::Symmetric,
            cfg,
        })
    }

    fn upscale(&self, gen: &SrResNet, x: Tensor<2>) -> Tensor<2> {
        self.output.apply(gen.forward(x))
    }

    /// l^SR_X of super-resolved `sr` against real `hr`, both `[b, d]` in model space.
    fn content(&self, sr: Tensor<2>, hr: Tensor<2>) -> Tensor<1> {
        match &self.phi {
            None => (sr - hr).powi_scalar(2).mean().reshape([1]),
            Some(phi) => {
                let unit = |x: Tensor<2>| if self.symmetric { (x + 1.0) / 2.0 } else { x };
                let (a, b) = (phi.conv_features(unit(sr)), phi.conv_features(unit(hr)));
                (a - b.detach()).powi_scalar(2).mean().reshape([1])
            }
        }
    }
}

fn paired(batch: &Batch) -> Result<Tensor<2>> {
    batch.input.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "srgan got a batch without low-resolution inputs: train it on `downscale(2):SPEC`"
        )
    })
}

impl Model for SrGan {
    fn family(&self) -> &'static str {
        "srgan"
    }
    fn groups(&self) -> Vec<&'static str> {
        vec![GEN, DISC]
    }
    fn selection(&self) -> Selection {
        // A lower MSE is no better picture once the GAN stage pulls away from the mean.
        Selection::None
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let lr = paired(batch)?;
        let hr = batch.x.clone();
        let sr = self.upscale(&self.gen, lr);
        let mse = (sr.clone() - hr.clone()).powi_scalar(2).mean().reshape([1]);
        let mut losses = Losses::of(&[("mse", scalar(mse.clone()))]);
        if ctx.step < self.cfg.pretrain_steps {
            // The SRResNet stage.
            self.gen = ctx.update(GEN, self.gen.clone(), &mse);
            return Ok(losses);
        }
        // 1. D on real images and detached super-resolved ones.
        let d_loss = discriminator_loss(
            GAME,
            self.disc.forward(hr.clone(), None),
            self.disc.forward(sr.clone().detach(), None),
            0.0,
        );
        losses.push("d_loss", scalar(d_loss.clone()));
        self.disc = ctx.update(DISC, self.disc.clone(), &d_loss);
        // 2. G on the content loss and the updated D (frozen).
        let adv = generator_loss(GAME, self.disc.clone().no_grad().forward(sr.clone(), None));
        let content = self.content(sr, hr);
        losses.push("content", scalar(content.clone()));
        losses.push("adv", scalar(adv.clone()));
        let g_loss = content + adv * self.cfg.adv_weight;
        self.gen = ctx.update(GEN, self.gen.clone(), &g_loss);
        Ok(losses)
    }

    /// The MSE of the held-out pairs, batch norm from its running statistics.
    fn held_out(&self, batch: &Batch, _rng: &mut ChaCha8Rng) -> Result<Losses> {
        let gen = module_for(&self.gen, &batch.x.device());
        let sr = self.upscale(&gen, paired(batch)?);
        let mse = (sr - batch.x.clone()).powi_scalar(2).mean();
        Ok(Losses::of(&[("mse", mse.into_scalar::<f32>() as f64)]))
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

impl Translate for SrGan {
    fn input_shape(&self) -> Shape {
        self.input
    }
    fn translate(&self, input: Tensor<2>, _rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let gen = module_for(&self.gen, &input.device());
        Ok(self.upscale(&gen, input))
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(SrGanConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(SrGan::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "srgan",
    summary:
        "super-resolution GAN: SRResNet, then content loss on judge features + 1e-3 adversarial",
    paper: "Ledig et al. 2017",
    groups: &[GEN, DISC],
    capabilities: &[Capability::Translate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/srgan/default.toml"),
        ),
        ("tiny", include_str!("../../../../configs/srgan/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::info;
    use genlab_core::optim::Optimizers;
    use rand::SeedableRng;

    #[test]
    fn the_srresnet_stage_leaves_d_alone_and_the_gan_stage_trains_both() {
        let device = genlab_core::device::training_device(1);
        let s = Shape { c: 1, h: 28, w: 28 };
        let mut info = info(Kind::Images, s);
        info.input = Some(InputKind {
            shape: Shape { c: 1, h: 14, w: 14 },
            paired: true,
            hole: None,
        });
        let cfg = SrGanConfig {
            width: 2,
            blocks: 1,
            d_width: 2,
            pretrain_steps: 1,
            ..SrGanConfig::default()
        };
        let mut model = SrGan::new(cfg, &info, &device).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut batch = Batch::of(genlab_core::tensor::uniform([2, 784], &mut rng, &device));
        batch.input = Some(genlab_core::tensor::uniform([2, 196], &mut rng, &device));
        let groups = [GEN, DISC]
            .iter()
            .map(|g| (g.to_string(), Default::default()));
        let mut optim = Optimizers::new(&groups.collect(), 2);
        for step in 0..2u64 {
            let (g0, d0) = (
                NamedTensors::of(GEN, &model.gen),
                NamedTensors::of(DISC, &model.disc),
            );
            let mut ctx = StepCtx::new(step, 2, 0, device.clone(), &mut optim);
            let losses = model.train_step(&batch, &mut ctx).unwrap();
            assert_ne!(g0, NamedTensors::of(GEN, &model.gen), "step {step}");
            assert_eq!(d0 == NamedTensors::of(DISC, &model.disc), step == 0);
            assert_eq!(losses.0.len(), if step == 0 { 1 } else { 4 });
        }
        // The content loss alone moves G (no adversarial term), and φ never learns.
        let phi0 = NamedTensors::of("phi", model.phi.as_ref().unwrap());
        model.cfg.adv_weight = 0.0;
        let g0 = NamedTensors::of(GEN, &model.gen);
        // A fresh optimizer: no momentum left to move G without a gradient.
        let groups = [GEN, DISC]
            .iter()
            .map(|g| (g.to_string(), Default::default()));
        let mut fresh = Optimizers::new(&groups.collect(), 6);
        let mut ctx = StepCtx::new(5, 6, 0, device.clone(), &mut fresh);
        model.train_step(&batch, &mut ctx).unwrap();
        assert_ne!(
            g0,
            NamedTensors::of(GEN, &model.gen),
            "the content loss moves G"
        );
        assert_eq!(phi0, NamedTensors::of("phi", model.phi.as_ref().unwrap()));
        // The judge's features take 28x28 grey images only.
        info.shape = Shape { c: 3, h: 32, w: 32 };
        info.input = Some(InputKind {
            shape: Shape { c: 3, h: 16, w: 16 },
            paired: true,
            hole: None,
        });
        let err = SrGan::new(SrGanConfig::default(), &info, &device)
            .err()
            .unwrap();
        assert!(err.to_string().contains("model.content = \"mse\""), "{err}");
    }
}
