//! Layers and losses used the same way by several families.

pub mod autoregressive;
pub mod coder;
pub mod conv;
pub mod conv2d;
pub mod fast_generation;
pub mod flow;
pub mod gan_loss;
pub mod gan_nets;
pub mod linalg;
pub mod loss;
pub mod made;
pub mod masked_conv;
pub mod mlp;
pub mod special;
pub mod spectral_norm;
pub mod translation_nets;

pub use coder::{Arch, Decoder, Encoder, NetConfig};
pub use conv::{ConvDecoder, ConvEncoder};
pub use masked_conv::{MaskType, MaskedConv2d};
pub use mlp::{Activation, Mlp};
