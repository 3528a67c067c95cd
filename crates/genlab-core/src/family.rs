//! A registry entry: how a family is named, documented, configured and built.

use crate::model::Model;
use anyhow::Result;
use burn::tensor::Device;
use genlab_data::{Kind, Preprocess, Shape};
use toml::Table;

/// What a family needs to know about its data to build itself.
#[derive(Clone, Debug, PartialEq)]
pub struct DataInfo {
    pub kind: Kind,
    pub shape: Shape,
    pub classes: usize,
    pub preprocess: Preprocess,
}

pub struct Family {
    /// CLI name == file name == configs/ folder.
    pub name: &'static str,
    pub summary: &'static str,
    pub paper: &'static str,
    /// Parameter groups, each with its own `[optim.<group>]`.
    pub groups: &'static [&'static str],
    /// What a trained model can do (`sample`, `reconstruct`, ...), for `genlab models`.
    pub capabilities: &'static [&'static str],
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
}
