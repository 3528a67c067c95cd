//! A registry entry: how a family is named, documented, configured and built.

use crate::config::DataConfig;
use crate::model::{Capability, Model};
use anyhow::Result;
use burn::tensor::Device;
use genlab_data::{Kind, Modes, Preprocess, Shape};
use toml::Table;

/// What a family needs to know about its data to build itself, and the facts of the data that
/// pictures and metrics read.
#[derive(Clone, Debug, PartialEq)]
pub struct DataInfo {
    pub kind: Kind,
    pub shape: Shape,
    pub classes: usize,
    pub preprocess: Preprocess,
    /// The true modes of a toy mixture (mode coverage, scatter plots, density maps).
    pub modes: Option<Modes>,
    /// Tabular points reach the model as z-scores with these statistics.
    pub standardization: Option<genlab_data::Standardization>,
    /// The inputs of an image-to-image task (`edges:SPEC`, ...), None for other data.
    pub input: Option<genlab_data::InputKind>,
}

impl DataInfo {
    /// What `data`, loaded per `config`, tells a family.
    pub fn new(data: &genlab_data::Dataset, config: &DataConfig) -> Self {
        DataInfo {
            kind: data.kind,
            shape: data.shape,
            classes: data.classes.len(),
            preprocess: config.preprocess(),
            modes: config.modes(),
            standardization: data.standardization.clone(),
            input: data.input.as_ref().map(|i| i.kind()),
        }
    }
}

pub struct Family {
    /// CLI name == file name == configs/ folder.
    pub name: &'static str,
    pub summary: &'static str,
    pub paper: &'static str,
    /// Parameter groups, each with its own `[optim.<group>]`.
    pub groups: &'static [&'static str],
    /// What a trained model can do (`sample`, `reconstruct`, ...), for `genlab models`.
    pub capabilities: &'static [Capability],
    /// `(name, TOML)`; the first is the default. A preset may set any section.
    pub presets: &'static [(&'static str, &'static str)],
    /// The `[model]` table with every key at its default.
    pub default_model: fn() -> Table,
    pub build: fn(&Table, &DataInfo, &Device) -> Result<Box<dyn Model>>,
}

impl Family {
    pub fn preset(&self, name: &str) -> Option<&'static str> {
        self.presets
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    /// The config tree of a new run of preset `name`: the family's defaults with the preset
    /// merged in. An error lists the valid presets, or names an invalid preset's TOML.
    pub fn preset_config(&self, name: &str) -> Result<Table> {
        let mut table =
            crate::config::RunConfig::defaults(self.name, self.groups, (self.default_model)());
        let preset = self.preset(name).ok_or_else(|| {
            let names: Vec<&str> = self.presets.iter().map(|p| p.0).collect();
            anyhow::anyhow!(
                "{} has no preset `{name}`; valid presets: {}",
                self.name,
                names.join(", ")
            )
        })?;
        let preset: Table = toml::from_str(preset).map_err(|e| {
            anyhow::anyhow!(
                "preset {}/{name} is invalid TOML: {}",
                self.name,
                e.message()
            )
        })?;
        crate::config::merge(&mut table, &preset, &format!("preset {}/{name}", self.name))?;
        Ok(table)
    }
}
