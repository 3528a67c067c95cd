//! `wgan`: Wasserstein GAN with weight clipping (Arjovsky, Chintala & Bottou 2017, Algorithm 1),
//! the `gan` family's networks and loop with the Wasserstein game:
//!   critic, `d_steps` (n_critic = 5) times per generator update:
//!       max E[f(x)] - E[f(G(z))], then clip every critic weight to [-c, c] (c = 0.01)
//!   generator: max E[f(G(z))]
//! with RMSprop (lr 5e-5) for both, as the paper recommends (momentum-based optimisers were
//! unstable for it). `genlab_nn::gan_loss::clip_weights` does the clipping.
//!
//! NOTE: WGAN-GP (gradient penalty instead of clipping) is not this family; it needs the
//! critic's input gradient inside the loss, which burn's first-order autodiff cannot give.

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
        loss: GanLoss::Wasserstein,
        clip: 0.01,
        d_steps: 5,
        ..GanConfig::default()
    })
    .expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let cfg: GanConfig = parse_section("model", model)?;
    if cfg.loss != GanLoss::Wasserstein {
        bail!("wgan: model.loss is wasserstein by definition; for other games use `genlab train gan --set model.loss=...`");
    }
    Ok(Box::new(Gan::new("wgan", cfg, info, device)?))
}

pub const FAMILY: Family = Family {
    name: "wgan",
    summary: "Wasserstein GAN with weight clipping: the gan family's MLPs, critic steps, RMSprop",
    paper: "Arjovsky, Chintala & Bottou 2017",
    groups: GROUPS,
    capabilities: &[Capability::Sample, Capability::Interpolate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/wgan/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/wgan/fashion.toml"),
        ),
        ("tiny", include_str!("../../../../configs/wgan/tiny.toml")),
    ],
    default_model,
    build,
};
