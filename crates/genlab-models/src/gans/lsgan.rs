//! `lsgan`: least-squares GAN (Mao et al. 2017, "Least Squares Generative Adversarial
//! Networks"), the `gan` family's networks and loop with the least-squares game (a = 0,
//! b = c = 1, eq. 2):
//!   D: min ½ E[(D(x) - 1)²] + ½ E[D(G(z))²]      G: min ½ E[(D(G(z)) - 1)²]
//! with D's raw output (no sigmoid). Its gradients do not vanish for samples on the right side
//! of the decision boundary but far from the data, the paper's argument against saturation.

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
        loss: GanLoss::LeastSquares,
        ..GanConfig::default()
    })
    .expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let cfg: GanConfig = parse_section("model", model)?;
    if cfg.loss != GanLoss::LeastSquares {
        bail!("lsgan: model.loss is least_squares by definition; for other games use `genlab train gan --set model.loss=...`");
    }
    Ok(Box::new(Gan::new("lsgan", cfg, info, device)?))
}

pub const FAMILY: Family = Family {
    name: "lsgan",
    summary: "least-squares GAN: the gan family's MLPs with the least-squares game",
    paper: "Mao et al. 2017",
    groups: GROUPS,
    capabilities: &[Capability::Sample, Capability::Interpolate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/lsgan/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/lsgan/fashion.toml"),
        ),
        ("tiny", include_str!("../../../../configs/lsgan/tiny.toml")),
    ],
    default_model,
    build,
};
