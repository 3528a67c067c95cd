//! `discogan`: unpaired translation that discovers cross-domain relations (Kim, Cha, Kim, Lee &
//! Kim 2017, "Learning to Discover Cross-Domain Relations with Generative Adversarial
//! Networks"). Two generators G_AB (`g_ab`) and G_BA (`g_ba`), two discriminators D_B (`d_b`)
//! and D_A (`d_a`), on two domains as `unpaired(7,9):fashion-mnist` gives them (a paired task's
//! inputs are shuffled first, as in `cyclegan`).
//!
//! Objective (§3.2, eq. 5-6), with the paper's squared-error reconstruction d:
//!   L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B,    L_D = L_D_A + L_D_B,
//!   L_CONST_A = |G_BA(G_AB(a)) - a|² (mean),  L_GAN_B = -log D_B(G_AB(a)) (non-saturating),
//!   L_D_B = -log D_B(b) - log(1 - D_B(G_AB(a))).
//! `model.reconstruction` trains the paper's figure 3 ablations: `none`, a standard GAN from A to
//! B (G_AB and D_B only); `one_sided`, a GAN with the reconstruction loss of A only (G_AB, G_BA
//! through L_CONST_A, D_B); `both`, DiscoGAN. One minibatch per train step:
//!   1. D_B (and D_A) on real images and detached translations     (groups `d_b`, `d_a`)
//!   2. G_AB and G_BA together on L_G                                (groups `g_ab`, `g_ba`)
//!
//! Networks (§4.1): encoder-decoder generators (stride-2 4x4 convolutions with batch norm and
//! leaky ReLU down, transposed convolutions with batch norm and ReLU up; here through a dense
//! bottleneck, genlab-nn's `EncoderDecoder`) and DCGAN discriminators. NOTE: the authors' code
//! (SKTBrain/DiscoGAN) also adds a feature-matching term and ramps the reconstruction weight from
//! 0.01 to 0.5 over 10,000 steps, and updates D every third step; genlab trains the paper's
//! equation with `recon_weight` on both L_CONST terms, D and G once a step.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::device::module_for;
use genlab_core::tensor::scalar;
use genlab_core::{
    Batch, Capability, DataInfo, Family, Losses, Model, NamedTensors, Selection, StepCtx, Translate,
};
use genlab_data::{InputKind, Kind, Shape};
use genlab_nn::gan_loss::{discriminator_loss, generator_loss, GanLoss};
use genlab_nn::gan_nets::{dcgan_stages, DiscSpec, Discriminator, Output};
use genlab_nn::translation_nets::EncoderDecoder;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const G_AB: &str = "g_ab";
const G_BA: &str = "g_ba";
const D_A: &str = "d_a";
const D_B: &str = "d_b";
const GROUPS: &[&str] = &[G_AB, G_BA, D_A, D_B];
const GAME: GanLoss = GanLoss::NonSaturating;

/// Which reconstruction terms the generators train on (the paper's figure 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reconstruction {
    /// A standard GAN from A to B: no way back.
    None,
    /// A GAN with the reconstruction loss of A (A -> B -> A).
    OneSided,
    /// DiscoGAN: both GANs and both reconstruction losses.
    Both,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoGanConfig {
    /// Generator channels of the first and last stage (64 in the paper).
    pub g_width: usize,
    /// Generator bottleneck size.
    pub bottleneck: usize,
    /// Discriminator channels of the first stage (64).
    pub d_width: usize,
    /// Weight of each L_CONST term (1 in the paper's equation).
    pub recon_weight: f64,
    pub reconstruction: Reconstruction,
}

impl Default for DiscoGanConfig {
    fn default() -> Self {
        Self {
            g_width: 64,
            bottleneck: 256,
            d_width: 64,
            recon_weight: 1.0,
            reconstruction: Reconstruction::Both,
        }
    }
}

pub struct DiscoGan {
    cfg: DiscoGanConfig,
    g_ab: EncoderDecoder,
    g_ba: EncoderDecoder,
    d_a: Discriminator,
    d_b: Discriminator,
    a: Shape,
    paired: bool,
    /// Both generators' output map (tanh for images in [-1, 1]).
    output: Output,
}

impl DiscoGan {
    pub fn new(cfg: DiscoGanConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let Some(InputKind {
            shape: a, paired, ..
        }) = info.input
        else {
            bail!("discogan needs two domains: train it on `--data unpaired(7,9):fashion-mnist` (sneakers -> ankle boots), or on a paired task such as `edges:fashion-mnist` (its pairs are not used)");
        };
        let b = info.shape;
        if info.kind != Kind::Images || (a.h, a.w) != (b.h, b.w) {
            bail!(
                "discogan: domain A has {}x{} images and domain B {}x{}; both domains need one size (resize one with data.image_size)",
                a.h, a.w, b.h, b.w
            );
        }
        if dcgan_stages(b).is_none() {
            bail!(
                "discogan: {}x{} images are too small or odd-sized for its stride-2 networks; use an even side of at least 8 (data.image_size = 32 resizes a folder)",
                b.h, b.w
            );
        }
        if cfg.g_width == 0 || cfg.d_width == 0 || cfg.bottleneck == 0 {
            bail!("discogan: model.g_width, model.d_width and model.bottleneck must be at least 1");
        }
        if cfg.recon_weight.is_nan() || cfg.recon_weight < 0.0 {
            bail!("discogan: model.recon_weight is a weight >= 0");
        }
        Ok(Self {
            g_ab: EncoderDecoder::new(a, b, cfg.g_width, cfg.bottleneck, device),
            g_ba: EncoderDecoder::new(b, a, cfg.g_width, cfg.bottleneck, device),
            d_a: Discriminator::new(&DiscSpec::dcgan(a, cfg.d_width, 1), device),
            d_b: Discriminator::new(&DiscSpec::dcgan(b, cfg.d_width, 1), device),
            a,
            paired,
            output: Output::for_data(info.kind, info.preprocess.scale),
            cfg,
        })
    }

    fn gen(&self, g: &EncoderDecoder, x: Tensor<2>) -> Tensor<2> {
        self.output.apply(g.forward(x))
    }
}

fn mse(x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    (x - y).powi_scalar(2).mean().reshape([1])
}

impl Model for DiscoGan {
    fn family(&self) -> &'static str {
        "discogan"
    }
    fn groups(&self) -> Vec<&'static str> {
        GROUPS.to_vec()
    }
    fn selection(&self) -> Selection {
        Selection::None
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let Some(mut a) = batch.input.clone() else {
            bail!("discogan got a batch without domain A: train it on `unpaired(A,B):SPEC` or an image-to-image task");
        };
        let b = batch.x.clone();
        if self.paired {
            a = super::unpair(a, &mut ctx.rng);
        }
        let mode = self.cfg.reconstruction;
        let both = mode == Reconstruction::Both;
        let mut losses = Losses::default();
        let fake_b = self.gen(&self.g_ab, a.clone());
        let fake_a = both.then(|| self.gen(&self.g_ba, b.clone()));
        // 1. The discriminators on real images and detached translations.
        let d_b_loss = discriminator_loss(
            GAME,
            self.d_b.forward(b.clone(), None),
            self.d_b.forward(fake_b.clone().detach(), None),
            0.0,
        );
        losses.push("d_b_loss", scalar(d_b_loss.clone()));
        self.d_b = ctx.update(D_B, self.d_b.clone(), &d_b_loss);
        if let Some(fake_a) = &fake_a {
            let d_a_loss = discriminator_loss(
                GAME,
                self.d_a.forward(a.clone(), None),
                self.d_a.forward(fake_a.clone().detach(), None),
                0.0,
            );
            losses.push("d_a_loss", scalar(d_a_loss.clone()));
            self.d_a = ctx.update(D_A, self.d_a.clone(), &d_a_loss);
        }
        // 2. The generators through the updated discriminators (frozen).
        let w = self.cfg.recon_weight;
        let adv_b = generator_loss(
            GAME,
            self.d_b.clone().no_grad().forward(fake_b.clone(), None),
        );
        losses.push("g_ab_adv", scalar(adv_b.clone()));
        if mode == Reconstruction::None {
            self.g_ab = ctx.update(G_AB, self.g_ab.clone(), &adv_b);
            return Ok(losses);
        }
        let const_a = mse(self.gen(&self.g_ba, fake_b), a);
        losses.push("recon_a", scalar(const_a.clone()));
        let mut g_loss = adv_b + const_a * w;
        if let Some(fake_a) = fake_a {
            let adv_a = generator_loss(
                GAME,
                self.d_a.clone().no_grad().forward(fake_a.clone(), None),
            );
            let const_b = mse(self.gen(&self.g_ab, fake_a), b);
            losses.push("g_ba_adv", scalar(adv_a.clone()));
            losses.push("recon_b", scalar(const_b.clone()));
            g_loss = g_loss + adv_a + const_b * w;
        }
        losses.push("g_loss", scalar(g_loss.clone()));
        (self.g_ab, self.g_ba) = ctx.update_both(
            (G_AB, self.g_ab.clone()),
            (G_BA, self.g_ba.clone()),
            &g_loss,
        );
        Ok(losses)
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::of(G_AB, &self.g_ab);
        out.collect(G_BA, &self.g_ba);
        out.collect(D_A, &self.d_a);
        out.collect(D_B, &self.d_b);
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.g_ab = params.restore(G_AB, self.g_ab.clone())?;
        self.g_ba = params.restore(G_BA, self.g_ba.clone())?;
        self.d_a = params.restore(D_A, self.d_a.clone())?;
        self.d_b = params.restore(D_B, self.d_b.clone())?;
        Ok(())
    }

    fn as_translate(&self) -> Option<&dyn Translate> {
        Some(self)
    }
}

impl Translate for DiscoGan {
    fn input_shape(&self) -> Shape {
        self.a
    }
    /// G_AB(a).
    fn translate(&self, input: Tensor<2>, _rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let g = module_for(&self.g_ab, &input.device());
        Ok(self.gen(&g, input))
    }
    /// G_BA(b), for the ablations that train it (not `reconstruction = "none"`).
    fn translate_back(
        &self,
        output: Tensor<2>,
        _rng: &mut ChaCha8Rng,
    ) -> Option<Result<Tensor<2>>> {
        if self.cfg.reconstruction == Reconstruction::None {
            return None;
        }
        let g = module_for(&self.g_ba, &output.device());
        Some(Ok(self.gen(&g, output)))
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(DiscoGanConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(DiscoGan::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "discogan",
    summary: "unpaired translation: two encoder-decoder generators, two DCGAN critics, reconstruction both ways",
    paper: "Kim et al. 2017",
    groups: GROUPS,
    capabilities: &[Capability::Translate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/discogan/default.toml"),
        ),
        (
            "gan",
            include_str!("../../../../configs/discogan/gan.toml"),
        ),
        (
            "one-sided",
            include_str!("../../../../configs/discogan/one-sided.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/discogan/tiny.toml"),
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
    use rand::SeedableRng;

    #[test]
    fn each_ablation_trains_only_its_networks() {
        let device = genlab_core::device::training_device(1);
        let s = Shape { c: 1, h: 8, w: 8 };
        let mut info = info(Kind::Images, s);
        info.input = Some(InputKind {
            shape: s,
            paired: false,
            hole: None,
        });
        // (mode, which of g_ab, g_ba, d_a, d_b change, losses logged)
        let cases = [
            (Reconstruction::None, [true, false, false, true], 2),
            (Reconstruction::OneSided, [true, true, false, true], 4),
            (Reconstruction::Both, [true, true, true, true], 7),
        ];
        for (mode, changes, logged) in cases {
            let cfg = DiscoGanConfig {
                g_width: 2,
                bottleneck: 4,
                d_width: 2,
                reconstruction: mode,
                ..DiscoGanConfig::default()
            };
            let mut model = DiscoGan::new(cfg, &info, &device).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let mut batch = Batch::of(genlab_core::tensor::uniform([4, 64], &mut rng, &device));
            batch.input = Some(genlab_core::tensor::uniform([4, 64], &mut rng, &device));
            let groups = GROUPS.iter().map(|g| (g.to_string(), Default::default()));
            let mut optim = Optimizers::new(&groups.collect(), 1);
            let before = model.save_params();
            let mut ctx = StepCtx::new(0, 1, 0, device.clone(), &mut optim);
            let losses = model.train_step(&batch, &mut ctx).unwrap();
            let after = model.save_params();
            for (group, changed) in GROUPS.iter().zip(changes) {
                let differs = before
                    .0
                    .iter()
                    .filter(|(k, _)| k.starts_with(&format!("{group}/")))
                    .any(|(k, v)| after.0[k] != *v);
                assert_eq!(differs, changed, "{mode:?}: {group}");
            }
            assert_eq!(losses.0.len(), logged, "{mode:?}: {:?}", losses.0);
            let x = batch.input.clone().unwrap();
            let back = model.translate_back(x, &mut rng);
            assert_eq!(back.is_some(), mode != Reconstruction::None);
        }
    }
}
