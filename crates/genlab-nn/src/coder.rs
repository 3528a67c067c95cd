//! Encoder and decoder chosen by config (`arch = "mlp" | "conv"`), shared by the autoencoder,
//! VAE and IWAE families.

use crate::conv::{ConvDecoder, ConvEncoder};
use crate::mlp::{Activation, Mlp};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_data::Shape;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Mlp,
    Conv,
}

/// The network part of a family's `[model]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    pub arch: Arch,
    /// MLP hidden sizes, encoder order (the decoder mirrors them).
    pub hidden: Vec<usize>,
    /// Conv channels of the two stride-2 stages.
    pub channels: Vec<usize>,
    pub activation: Activation,
}

impl NetConfig {
    pub fn validate(&self, shape: Shape) -> Result<()> {
        if self.arch == Arch::Conv {
            if self.channels.len() != 2 || self.channels.contains(&0) {
                bail!(
                    "model.channels must hold two positive sizes for model.arch = \"conv\", found {:?}",
                    self.channels
                );
            }
            if !shape.h.is_multiple_of(4) || !shape.w.is_multiple_of(4) || shape.h < 4 {
                bail!("model.arch = \"conv\" halves the image twice, so its sides must divide by 4, found {}x{}; use model.arch = \"mlp\" or resize the images (data.image_size)", shape.h, shape.w);
            }
        }
        if self.hidden.contains(&0) {
            bail!(
                "model.hidden sizes must be positive, found {:?}",
                self.hidden
            );
        }
        Ok(())
    }
}

#[derive(Module, Debug)]
pub struct Encoder {
    pub mlp: Option<Mlp>,
    pub conv: Option<ConvEncoder>,
}

impl Encoder {
    pub fn new(cfg: &NetConfig, shape: Shape, out: usize, device: &Device) -> Self {
        match cfg.arch {
            Arch::Mlp => {
                let sizes: Vec<usize> = std::iter::once(shape.dim())
                    .chain(cfg.hidden.iter().copied())
                    .chain([out])
                    .collect();
                Self {
                    mlp: Some(Mlp::new(&sizes, cfg.activation, device)),
                    conv: None,
                }
            }
            Arch::Conv => Self {
                mlp: None,
                conv: Some(ConvEncoder::new(
                    shape,
                    [cfg.channels[0], cfg.channels[1]],
                    out,
                    cfg.activation,
                    device,
                )),
            },
        }
    }

    /// `[b, d] -> [b, out]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match (&self.mlp, &self.conv) {
            (Some(m), _) => m.forward(x),
            (_, Some(c)) => c.forward(x),
            _ => unreachable!("an encoder has one network"),
        }
    }

    /// Weight `[in, out]` of the last linear layer (the code layer).
    pub fn last_weight(&self) -> Tensor<2> {
        match (&self.mlp, &self.conv) {
            (Some(m), _) => m.layers.last().expect("an MLP has a layer").weight.val(),
            (_, Some(c)) => c.fc.weight.val(),
            _ => unreachable!("an encoder has one network"),
        }
    }
}

#[derive(Module, Debug)]
pub struct Decoder {
    pub mlp: Option<Mlp>,
    pub conv: Option<ConvDecoder>,
}

impl Decoder {
    /// Outputs `out_per_pixel` values per data dimension (1 for logits or means).
    pub fn new(
        cfg: &NetConfig,
        shape: Shape,
        input: usize,
        out_per_pixel: usize,
        device: &Device,
    ) -> Self {
        match cfg.arch {
            Arch::Mlp => {
                let sizes: Vec<usize> = std::iter::once(input)
                    .chain(cfg.hidden.iter().rev().copied())
                    .chain([shape.dim() * out_per_pixel])
                    .collect();
                Self {
                    mlp: Some(Mlp::new(&sizes, cfg.activation, device)),
                    conv: None,
                }
            }
            Arch::Conv => Self {
                mlp: None,
                conv: Some(ConvDecoder::new(
                    shape,
                    [cfg.channels[0], cfg.channels[1]],
                    input,
                    shape.c * out_per_pixel,
                    cfg.activation,
                    device,
                )),
            },
        }
    }

    /// `[b, in] -> [b, d * out_per_pixel]`
    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        match (&self.mlp, &self.conv) {
            (Some(m), _) => m.forward(z),
            (_, Some(c)) => c.forward(z),
            _ => unreachable!("a decoder has one network"),
        }
    }
}
