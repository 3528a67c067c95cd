//! `context-encoder`: inpainting with an encoder-decoder trained on a masked reconstruction and a
//! small adversarial term (Pathak, Krähenbühl, Donahue, Darrell & Efros 2016, "Context Encoders:
//! Feature Learning by Inpainting"), on `hole:SPEC` (genlab-data's task: a centred square of
//! every input set to grey, the original image as the target).
//!
//! F is a DCGAN-style encoder (stride-2 4x4 convolutions, batch norm, leaky ReLU) down to a
//! bottleneck vector, and a DCGAN decoder back to the image (§3.1; the paper's channel-wise
//! fully-connected layer is here the dense layers on both sides of the bottleneck). F predicts the
//! hole and a band of `overlap` known pixels around it: the region. Objective (eq. 1-3):
//!   L = λ_rec L_rec + λ_adv L_adv,   λ_rec = 0.999, λ_adv = 0.001,
//!   L_rec = mean over the region of w ⊙ (y - F(x))², w = 1 in the hole, 10 in the band
//!           (the official code's `overlapL2Weight`),
//!   L_adv = max_D E[log D(y_region)] + E[log(1 - D(F(x)_region))].
//! D sees the region alone, not the context (§3.2: a D conditioned on the context was easy to
//! fool). One minibatch per train step:
//!   1. update D by descending -log D(y_region) - log(1 - D(F(x)_region))        (group `disc`)
//!   2. update F by descending λ_rec L_rec - λ_adv log D(F(x)_region)            (group `gen`)
//!
//! Translating pastes F's prediction into the hole and keeps every known pixel.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::device::module_for;
use genlab_core::{
    Batch, Capability, DataInfo, Family, Losses, Model, NamedTensors, StepCtx, Translate,
};
use genlab_data::{Hole, InputKind, Kind, Shape};
use genlab_nn::gan_loss::{discriminator_loss, generator_loss, GanLoss};
use genlab_nn::gan_nets::{dcgan_stages, DiscSpec, Discriminator, Output};
use genlab_nn::translation_nets::EncoderDecoder;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const GEN: &str = "gen";
const DISC: &str = "disc";
/// Weight of the band of known pixels around the hole relative to the hole's own (official code).
const OVERLAP_WEIGHT: f32 = 10.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextEncoderConfig {
    /// Channels of the encoder's first and the decoder's last convolution stage (64).
    pub width: usize,
    /// Size of the bottleneck vector (4000 in the paper, for 128x128 images).
    pub bottleneck: usize,
    /// D's first stage channels (64).
    pub d_width: usize,
    /// Known pixels around the hole that F also predicts (4 of 128 in the paper).
    pub overlap: usize,
    /// λ_rec (0.999); λ_adv = 1 - λ_rec. 1 trains the paper's L2-only ablation, D untouched.
    pub rec_weight: f64,
}

impl Default for ContextEncoderConfig {
    fn default() -> Self {
        Self {
            width: 64,
            bottleneck: 4000,
            d_width: 64,
            overlap: 4,
            rec_weight: 0.999,
        }
    }
}

pub struct ContextEncoder {
    cfg: ContextEncoderConfig,
    net: EncoderDecoder,
    disc: Discriminator,
    shape: Shape,
    hole: Hole,
    /// The hole and its band: rows `region.0..region.0 + region.2`, columns
    /// `region.1..region.1 + region.3`.
    region: (usize, usize, usize, usize),
    /// L_rec's weights over the whole image `[1, d]` (0 outside the region).
    weights: Vec<f32>,
    output: Output,
}

impl ContextEncoder {
    pub fn new(cfg: ContextEncoderConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let Some(InputKind {
            paired: true,
            hole: Some(hole),
            shape: input,
        }) = info.input
        else {
            bail!("context-encoder fills a hole: train it on `--data hole:fashion-mnist` (or hole(S):SPEC, a centred S x S square; `genlab data info hole:fashion-mnist` shows the pairs)");
        };
        let s = info.shape;
        if info.kind != Kind::Images || input != s {
            bail!("context-encoder: the inputs must be the targets' images with a hole");
        }
        if dcgan_stages(s).is_none() {
            bail!(
                "context-encoder: {}x{} images are too small or odd-sized for its stride-2 encoder; use an even side of at least 8 (data.image_size = 32 resizes a folder)",
                s.h, s.w
            );
        }
        let top = hole.top.saturating_sub(cfg.overlap);
        let left = hole.left.saturating_sub(cfg.overlap);
        let bottom = (hole.top + hole.side + cfg.overlap).min(s.h);
        let right = (hole.left + hole.side + cfg.overlap).min(s.w);
        let region = (top, left, bottom - top, right - left);
        let region_shape = Shape {
            c: s.c,
            h: region.2,
            w: region.3,
        };
        if cfg.rec_weight < 1.0 && dcgan_stages(region_shape).is_none() {
            bail!(
                "context-encoder: its discriminator sees the {}x{} hole and band, too small or odd-sized for a stride-2 convolution; use a hole whose side plus 2 x model.overlap is even and at least 8 (hole(S):SPEC)",
                region.2, region.3
            );
        }
        if cfg.width == 0 || cfg.d_width == 0 || cfg.bottleneck == 0 {
            bail!("context-encoder: model.width, model.d_width and model.bottleneck must be at least 1");
        }
        if !(0.0..=1.0).contains(&cfg.rec_weight) || cfg.rec_weight == 0.0 {
            bail!("context-encoder: model.rec_weight is λ_rec in (0, 1] (0.999 in the paper)");
        }
        let mut weights = vec![0.0f32; s.dim()];
        for c in 0..s.c {
            for r in top..top + region.2 {
                for col in left..left + region.3 {
                    weights[(c * s.h + r) * s.w + col] = if hole.contains(r, col) {
                        1.0
                    } else {
                        OVERLAP_WEIGHT
                    };
                }
            }
        }
        let net = EncoderDecoder::new(s, s, cfg.width, cfg.bottleneck, device);
        // With rec_weight = 1 D is never used; any valid shape keeps the checkpoint's layout.
        let d_shape = if dcgan_stages(region_shape).is_some() {
            region_shape
        } else {
            s
        };
        Ok(Self {
            disc: Discriminator::new(&DiscSpec::dcgan(d_shape, cfg.d_width, 1), device),
            net,
            shape: s,
            hole,
            region,
            weights,
            output: Output::for_data(info.kind, info.preprocess.scale),
            cfg,
        })
    }

    /// F(x) over the whole image, in model space.
    fn predict(&self, net: &EncoderDecoder, x: Tensor<2>) -> Tensor<2> {
        self.output.apply(net.forward(x))
    }

    /// The region (hole and band) of `[b, d]` images, `[b, c*rh*rw]`.
    fn crop(&self, x: Tensor<2>) -> Tensor<2> {
        let b = x.dims()[0];
        let Shape { c, h, w } = self.shape;
        let (top, left, rh, rw) = self.region;
        x.reshape([b, c, h, w])
            .slice([0..b, 0..c, top..top + rh, left..left + rw])
            .reshape([b, c * rh * rw])
    }

    /// L_rec of predictions against targets, both `[b, d]`.
    fn reconstruction(&self, pred: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
        let b = pred.dims()[0];
        let (_, _, rh, rw) = self.region;
        let w =
            genlab_core::tensor::matrix(self.weights.clone(), 1, self.shape.dim(), &pred.device());
        ((pred - target).powi_scalar(2) * w)
            .sum()
            .div_scalar((b * self.shape.c * rh * rw) as f64)
            .reshape([1])
    }

    /// The input with the hole filled from `pred`.
    fn paste(&self, input: Tensor<2>, pred: Tensor<2>) -> Tensor<2> {
        let Shape { c, h, w } = self.shape;
        let inside: Vec<f32> = (0..c)
            .flat_map(|_| (0..h).flat_map(move |r| (0..w).map(move |col| (r, col))))
            .map(|(r, col)| f32::from(self.hole.contains(r, col)))
            .collect();
        let m = genlab_core::tensor::matrix(inside, 1, self.shape.dim(), &input.device());
        input * (m.clone().neg() + 1.0) + pred * m
    }
}

fn paired(batch: &Batch) -> Result<Tensor<2>> {
    batch.input.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "context-encoder got a batch without inputs: train it on `--data hole:fashion-mnist`"
        )
    })
}

impl Model for ContextEncoder {
    fn family(&self) -> &'static str {
        "context-encoder"
    }
    fn groups(&self) -> Vec<&'static str> {
        vec![GEN, DISC]
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let input = paired(batch)?; // [b, d], the hole grey
        let target = batch.x.clone(); // [b, d]
        let pred = self.predict(&self.net, input);
        let rec = self.reconstruction(pred.clone(), target.clone());
        let mut losses = Losses::of(&[("rec", rec.clone().into_scalar::<f32>() as f64)]);
        let lambda_rec = self.cfg.rec_weight;
        if lambda_rec == 1.0 {
            self.net = ctx.update(GEN, self.net.clone(), &rec);
            return Ok(losses);
        }
        // 1. D on real regions and on detached predictions.
        let real_logit = self.disc.forward(self.crop(target), None);
        let fake_logit = self.disc.forward(self.crop(pred.clone().detach()), None);
        let d_loss = discriminator_loss(GanLoss::NonSaturating, real_logit, fake_logit, 0.0);
        let d_value = d_loss.clone().into_scalar::<f32>() as f64;
        self.disc = ctx.update(DISC, self.disc.clone(), &d_loss);
        // 2. F through the updated D (frozen).
        let frozen = self.disc.clone().no_grad();
        let adv = generator_loss(
            GanLoss::NonSaturating,
            frozen.forward(self.crop(pred), None),
        );
        losses.push("adv", adv.clone().into_scalar::<f32>() as f64);
        let g_loss = rec * lambda_rec + adv * (1.0 - lambda_rec);
        self.net = ctx.update(GEN, self.net.clone(), &g_loss);
        losses.push("d_loss", d_value);
        Ok(losses)
    }

    /// L_rec on the held-out pairs, batch norm from its running statistics.
    fn held_out(&self, batch: &Batch, _rng: &mut ChaCha8Rng) -> Result<Losses> {
        let net = module_for(&self.net, &batch.x.device());
        let pred = self.predict(&net, paired(batch)?);
        let rec = self.reconstruction(pred, batch.x.clone());
        Ok(Losses::of(&[("rec", rec.into_scalar::<f32>() as f64)]))
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::of(GEN, &self.net);
        out.collect(DISC, &self.disc);
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.net = params.restore(GEN, self.net.clone())?;
        self.disc = params.restore(DISC, self.disc.clone())?;
        Ok(())
    }

    fn as_translate(&self) -> Option<&dyn Translate> {
        Some(self)
    }
}

impl Translate for ContextEncoder {
    fn input_shape(&self) -> Shape {
        self.shape
    }
    /// The input with F's prediction pasted into the hole.
    fn translate(&self, input: Tensor<2>, _rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let net = module_for(&self.net, &input.device());
        let pred = self.predict(&net, input.clone());
        Ok(self.paste(input, pred))
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(ContextEncoderConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(ContextEncoder::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "context-encoder",
    summary: "inpainting: encoder-decoder on the hole, masked L2 x 0.999 + adversarial x 0.001",
    paper: "Pathak et al. 2016",
    groups: &[GEN, DISC],
    capabilities: &[Capability::Translate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/context-encoder/default.toml"),
        ),
        (
            "l2",
            include_str!("../../../../configs/context-encoder/l2.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/context-encoder/tiny.toml"),
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

    fn small(rec_weight: f64) -> (ContextEncoder, Device) {
        let device = genlab_core::device::training_device(1);
        let s = Shape { c: 1, h: 16, w: 16 };
        let mut info = info(Kind::Images, s);
        info.input = Some(InputKind {
            shape: s,
            paired: true,
            hole: Some(Hole::centred(Some(6), s)),
        });
        let cfg = ContextEncoderConfig {
            width: 2,
            bottleneck: 8,
            d_width: 2,
            overlap: 1,
            rec_weight,
        };
        (ContextEncoder::new(cfg, &info, &device).unwrap(), device)
    }

    #[test]
    fn a_step_updates_f_and_d_and_translation_keeps_the_known_pixels() {
        for rec_weight in [0.999, 1.0] {
            let (mut model, device) = small(rec_weight);
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let target = genlab_core::tensor::uniform([4, 256], &mut rng, &device);
            let mut batch = Batch::of(target.clone());
            batch.input = Some(target.clone());
            let groups = [GEN, DISC]
                .iter()
                .map(|g| (g.to_string(), Default::default()));
            let mut optim = Optimizers::new(&groups.collect(), 1);
            let (f0, d0) = (
                NamedTensors::of(GEN, &model.net),
                NamedTensors::of(DISC, &model.disc),
            );
            let mut ctx = StepCtx::new(0, 1, 0, device.clone(), &mut optim);
            let losses = model.train_step(&batch, &mut ctx).unwrap();
            assert_ne!(f0, NamedTensors::of(GEN, &model.net));
            assert_eq!(d0 == NamedTensors::of(DISC, &model.disc), rec_weight == 1.0);
            assert_eq!(losses.0.len(), if rec_weight == 1.0 { 1 } else { 3 });
            // The 8x8 region (hole 6 + band 1) is what D sees; only the hole is replaced.
            assert_eq!(model.region, (4, 4, 8, 8));
            let out = genlab_core::tensor::to_vec(
                model
                    .translate(target.clone(), &mut ChaCha8Rng::seed_from_u64(0))
                    .unwrap(),
            );
            let x = genlab_core::tensor::to_vec(target);
            for i in 0..4 {
                for r in 0..16 {
                    for c in 0..16 {
                        let j = i * 256 + r * 16 + c;
                        let inside = (5..11).contains(&r) && (5..11).contains(&c);
                        assert_eq!(out[j] == x[j], !inside, "pixel ({r}, {c}) of {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn data_without_a_hole_is_refused_with_the_fix() {
        let device = Device::default();
        let s = Shape { c: 1, h: 28, w: 28 };
        let mut info = info(Kind::Images, s);
        info.input = Some(InputKind {
            shape: s,
            paired: true,
            hole: None,
        });
        let err = ContextEncoder::new(ContextEncoderConfig::default(), &info, &device)
            .err()
            .unwrap();
        assert!(err.to_string().contains("hole:fashion-mnist"), "{err}");
    }
}
