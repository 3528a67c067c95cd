//! `iwae`: the importance-weighted autoencoder of Burda, Grosse & Salakhutdinov (ICLR 2016,
//! https://arxiv.org/abs/1509.00519). Same networks as the VAE (vae.rs); training maximises
//!
//!   L_k(x) = E_{z_1..z_k ~ q(z|x)} [ log (1/k) sum_i p(x, z_i) / q(z_i|x) ]   (eq. 8)
//!
//! which is tighter than the ELBO for k > 1 and equals it for k = 1. The bound is computed in
//! `VaeNet::log_weights` + `log_mean_exp`, shared with the VAE's importance-sampled evaluation.
//!
//! NOTE: the paper trains with k = 5 or 50 for 3^8 passes; the default here is k = 5.

use super::vae::{Vae, VaeConfig};
use anyhow::{bail, Result};
use burn::tensor::Device;
use genlab_core::config::parse_section;
use genlab_core::Capability;
use genlab_core::{DataInfo, Family, Model};

fn default_model() -> toml::Table {
    // k = 5: the paper's smaller setting, a good speed/tightness trade-off on a CPU.
    toml::Table::try_from(VaeConfig {
        k: 5,
        ..VaeConfig::default()
    })
    .expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let config: VaeConfig = parse_section("model", model)?;
    if config.k < 2 {
        bail!("iwae needs model.k >= 2 importance samples (k = 1 is the plain VAE: use `genlab train vae`)");
    }
    if config.beta != 1.0 || config.free_bits != 0.0 || config.kl_warmup_steps != 0 {
        bail!("iwae trains the importance-weighted bound itself; model.beta, model.free_bits and model.kl_warmup_steps apply only to `vae`");
    }
    Ok(Box::new(Vae::new(config, info, device, "iwae")?))
}

pub const FAMILY: Family = Family {
    name: "iwae",
    summary: "importance-weighted autoencoder (k-sample bound)",
    paper: "Burda, Grosse & Salakhutdinov 2016, arXiv:1509.00519",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Reconstruct,
        Capability::Interpolate,
        Capability::Likelihood,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/iwae/default.toml"),
        ),
        ("tiny", include_str!("../../../../configs/iwae/tiny.toml")),
    ],
    default_model,
    build,
};
