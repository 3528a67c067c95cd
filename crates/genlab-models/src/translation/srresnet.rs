//! `srresnet`: single-image super-resolution with a deep residual network and sub-pixel
//! upsampling (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a
//! Generative Adversarial Network", §2.2 and figure 4: SRResNet, the generator of SRGAN
//! trained alone on the pixel-wise MSE). Trained on `downscale(2):SPEC` or `downscale(4):SPEC`
//! (area-averaged inputs, the originals as targets); one step descends
//!   MSE = mean (y - G(x))²                                   (group `model`)
//! in model units. Scored by `genlab eval` beside bicubic upsampling (`psnr_bicubic`), the
//! baseline the paper reports.

use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::device::module_for;
use genlab_core::{
    Batch, Capability, DataInfo, Family, Losses, Model, NamedTensors, StepCtx, Translate,
};
use genlab_data::{InputKind, Shape};
use genlab_nn::gan_nets::Output;
use genlab_nn::translation_nets::SrResNet as Net;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const MODEL: &str = "model";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrResNetConfig {
    /// Channels of every layer (64 in the paper).
    pub width: usize,
    /// Residual blocks (16 in the paper).
    pub blocks: usize,
}

impl Default for SrResNetConfig {
    fn default() -> Self {
        Self {
            width: 64,
            blocks: 16,
        }
    }
}

pub struct SrResNet {
    net: Net,
    input: Shape,
    output: Output,
}

impl SrResNet {
    pub fn new(cfg: SrResNetConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let Some(InputKind {
            shape: input,
            paired: true,
            ..
        }) = info.input
        else {
            bail!("srresnet needs low- and high-resolution pairs: train it on `--data downscale(2):fashion-mnist` (or downscale(4):SPEC)");
        };
        let s = info.shape;
        let f = s.h / input.h.max(1);
        if input.c != s.c || !matches!(f, 2 | 4) || s.h != f * input.h || s.w != f * input.w {
            bail!(
                "srresnet upsamples by 2 or 4 within one channel count, but the inputs are {}x{}x{} and the targets {}x{}x{}: use downscale(2):SPEC or downscale(4):SPEC on images whose side the factor divides (data.image_size resizes a folder)",
                input.c, input.h, input.w, s.c, s.h, s.w
            );
        }
        if cfg.width == 0 {
            bail!("srresnet: model.width must be at least 1");
        }
        Ok(Self {
            net: Net::new(input, s, cfg.width, cfg.blocks, device),
            input,
            output: Output::for_data(info.kind, info.preprocess.scale),
        })
    }

    fn mse(&self, net: &Net, batch: &Batch) -> Result<Tensor<1>> {
        let Some(x) = batch.input.clone() else {
            bail!("srresnet got a batch without low-resolution inputs: train it on `downscale(2):SPEC`");
        };
        let y = self.output.apply(net.forward(x));
        Ok((y - batch.x.clone()).powi_scalar(2).mean().reshape([1]))
    }
}

impl Model for SrResNet {
    fn family(&self) -> &'static str {
        "srresnet"
    }
    fn groups(&self) -> Vec<&'static str> {
        vec![MODEL]
    }
    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let loss = self.mse(&self.net, batch)?;
        let value = loss.clone().into_scalar::<f32>() as f64;
        self.net = ctx.update(MODEL, self.net.clone(), &loss);
        Ok(Losses::of(&[("mse", value)]))
    }
    /// The MSE of the fixed held-out pairs, batch norm from its running statistics.
    fn held_out(&self, batch: &Batch, _rng: &mut ChaCha8Rng) -> Result<Losses> {
        let net = module_for(&self.net, &batch.x.device());
        let value = self.mse(&net, batch)?.into_scalar::<f32>() as f64;
        Ok(Losses::of(&[("mse", value)]))
    }
    fn save_params(&self) -> NamedTensors {
        NamedTensors::of(MODEL, &self.net)
    }
    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.net = params.restore(MODEL, self.net.clone())?;
        Ok(())
    }
    fn as_translate(&self) -> Option<&dyn Translate> {
        Some(self)
    }
}

impl Translate for SrResNet {
    fn input_shape(&self) -> Shape {
        self.input
    }
    fn translate(&self, input: Tensor<2>, _rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let net = module_for(&self.net, &input.device());
        Ok(self.output.apply(net.forward(input)))
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(SrResNetConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(SrResNet::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "srresnet",
    summary: "super-resolution: residual network with sub-pixel upsampling, pixel-wise MSE",
    paper: "Ledig et al. 2017",
    groups: &[MODEL],
    capabilities: &[Capability::Translate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/srresnet/default.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/srresnet/tiny.toml"),
        ),
    ],
    default_model,
    build,
};
