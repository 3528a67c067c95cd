//! `dcgan`: deep convolutional GAN (Radford, Metz & Chintala 2016), the `gan` family's loop
//! with the paper's architecture rules (§3), which `genlab_nn::gan_nets` implements:
//!   - strided convolutions in D and fractionally-strided ones in G, no pooling;
//!   - batch norm in both nets, except G's output layer and D's input layer;
//!   - no hidden fully connected layers (G's first layer projects z and reshapes; D's last
//!     flattens into one output);
//!   - ReLU in G with tanh at the output; LeakyReLU (slope 0.2) in D;
//!   - Adam with lr 2e-4 and beta1 0.5 (the presets), the non-saturating loss.
//!
//! Sized by the image: 28x28 (7 -> 14 -> 28), 32x32 (4 -> 8 -> 16 -> 32), 64x64 (four stages).

use super::gan::Gan;
use super::kit::{Arch, GanConfig, GROUPS};
use anyhow::{bail, Result};
use burn::tensor::Device;
use genlab_core::config::parse_section;
use genlab_core::Capability;
use genlab_core::{DataInfo, Family, Model};

fn default_model() -> toml::Table {
    toml::Table::try_from(GanConfig::dcgan()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let cfg: GanConfig = parse_section("model", model)?;
    if cfg.arch != Arch::Dcgan {
        bail!("dcgan: model.arch is dcgan by definition; for MLPs use `genlab train gan`");
    }
    Ok(Box::new(Gan::new("dcgan", cfg, info, device)?))
}

pub const FAMILY: Family = Family {
    name: "dcgan",
    summary: "deep convolutional GAN: strided convs, batch norm, ReLU/tanh G, LeakyReLU D",
    paper: "Radford, Metz & Chintala 2016",
    groups: GROUPS,
    capabilities: &[Capability::Sample, Capability::Interpolate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/dcgan/default.toml"),
        ),
        ("tiny", include_str!("../../../../configs/dcgan/tiny.toml")),
    ],
    default_model,
    build,
};
