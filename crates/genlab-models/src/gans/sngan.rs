//! `sngan`: spectrally normalized GAN (Miyato, Kataoka, Koyama & Yoshida 2018), the `gan`
//! family's loop with every discriminator weight divided by its largest singular value, estimated
//! by one power-iteration step per update (`genlab_nn::spectral_norm`), and the hinge loss:
//!   D: min E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]      G: min -E[D(G(z))]
//! Spectral normalization bounds D's Lipschitz constant by 1 per layer without weight clipping
//! and without the cost of a gradient penalty.

use super::gan::Gan;
use super::kit::{GanConfig, GROUPS};
use anyhow::{bail, Result};
use burn::tensor::Device;
use genlab_core::config::parse_section;
use genlab_core::Capability;
use genlab_core::{DataInfo, Family, Model};
use genlab_nn::gan_loss::GanLoss;

fn default_model() -> toml::Table {
    toml::Table::try_from(GanConfig {
        arch: crate::gans::kit::Arch::Auto,
        loss: GanLoss::Hinge,
        spectral_norm: true,
        ..GanConfig::default()
    })
    .expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let cfg: GanConfig = parse_section("model", model)?;
    if !cfg.spectral_norm {
        bail!("sngan: model.spectral_norm is true by definition; without it use `genlab train gan --set model.loss=hinge`");
    }
    Ok(Box::new(Gan::new("sngan", cfg, info, device)?))
}

pub const FAMILY: Family = Family {
    name: "sngan",
    summary: "spectrally normalized discriminator (power iteration) with the hinge loss",
    paper: "Miyato et al. 2018",
    groups: GROUPS,
    capabilities: &[Capability::Sample, Capability::Interpolate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/sngan/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/sngan/fashion.toml"),
        ),
        ("tiny", include_str!("../../../../configs/sngan/tiny.toml")),
    ],
    default_model,
    build,
};
