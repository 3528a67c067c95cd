//! `fvsbn`: the fully visible sigmoid belief network (Frey 1998; the logistic autoregressive
//! baseline of Larochelle & Murray 2011 and of the CS236 notes):
//!
//!   p(x_d = 1 | x_<d) = sigmoid(b_d + sum_{j<d} W_dj x_j)
//!
//! one logistic regression per pixel on the pixels before it. That is a MADE with no hidden
//! layer (the output mask keeps exactly j before d), so this file only fixes `made`'s
//! architecture: training, exact likelihood, sampling and completion are made.rs.

use super::made::{Made, MadeConfig, Order};
use anyhow::Result;
use burn::tensor::Device;
use genlab_core::config::parse_section;
use genlab_core::Capability;
use genlab_core::{DataInfo, Family, Model};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FvsbnConfig {
    pub order: Order,
}

impl Default for FvsbnConfig {
    fn default() -> Self {
        Self {
            order: Order::Natural,
        }
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(FvsbnConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let cfg: FvsbnConfig = parse_section("model", model)?;
    let made = MadeConfig {
        hidden: vec![],
        order: cfg.order,
        ..MadeConfig::default()
    };
    Ok(Box::new(Made::new("fvsbn", made, info, device)?))
}

pub const FAMILY: Family = Family {
    name: "fvsbn",
    summary: "fully visible sigmoid belief net: logistic autoregressive, exact likelihood",
    paper: "Frey 1998; Larochelle & Murray 2011",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Likelihood,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/fvsbn/default.toml"),
        ),
        ("tiny", include_str!("../../../../configs/fvsbn/tiny.toml")),
    ],
    default_model,
    build,
};
