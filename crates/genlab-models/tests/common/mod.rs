//! Helpers shared by the integration tests that run every family of `FAMILIES`.

use genlab_core::config::{self, RunConfig};
use genlab_core::Family;

/// The family's defaults with its `tiny` preset merged over them: the smallest nets it ships.
pub fn tiny_config(family: &Family) -> RunConfig {
    let mut t = RunConfig::defaults(family.name, family.groups, (family.default_model)());
    let preset: toml::Table = toml::from_str(
        family
            .preset("tiny")
            .expect("every family has a tiny preset"),
    )
    .unwrap();
    config::merge(&mut t, &preset, "tiny").unwrap();
    RunConfig::from_table(&t).unwrap()
}
