//! Opening a trained run for sampling and evaluation: genlab-core's [`RunDir`] rebuilds the
//! model from the run's own config (never the current flags) with the averaged weights.

use anyhow::Result;
use burn::tensor::Device;
use genlab_core::config::RunConfig;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::{Meta, RunDir, Weights};
use genlab_core::{Batch, DataInfo, Model};
use genlab_data::Split;
use std::path::{Path, PathBuf};

pub struct OpenRun {
    pub dir: RunDir,
    pub config: RunConfig,
    pub meta: Meta,
    pub info: DataInfo,
    pub model: Box<dyn Model>,
    /// Inference device (no autodiff).
    pub device: Device,
    pub checkpoint: PathBuf,
    /// The training step of the loaded weights.
    pub step: u64,
    /// Whether these are the run's EMA weights (`train.ema_decay > 0`, unless `Weights::Live`).
    pub averaged: bool,
}

impl OpenRun {
    /// The start of the title band of this run's pictures: "vae · runs/vae · step 3000".
    pub fn about(&self) -> genlab_eval::pictures::About {
        genlab_eval::pictures::About::new(&self.config.family, self.dir.path(), self.step)
    }

    /// Name of class `i`: the data's own ("Dress"), else its number.
    pub fn class_name(&self, i: usize) -> String {
        self.meta
            .classes
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("class {i}"))
    }

    /// One split of the run's data as its model sees it (z-scores of tabular points with the
    /// run's own statistics).
    pub fn load_data(&self, split: Split) -> Result<genlab_data::Dataset> {
        self.config
            .data
            .load_as_seen(split, self.info.standardization.as_ref())
    }

    /// Test examples `idx` (train when the data has no test split), preprocessed for
    /// evaluation, on the inference device.
    pub fn held_out_batch(&self, idx_of: impl Fn(usize) -> Vec<usize>) -> Result<Batch> {
        let data = self
            .load_data(Split::Test)
            .or_else(|_| self.load_data(Split::Train))?;
        let idx = idx_of(data.len());
        let pre = self.info.preprocess.for_evaluation();
        Ok(Batch::gather(
            &data,
            &idx,
            &pre,
            &mut rng_for(0, 0, Stream::Eval),
            &self.device,
        ))
    }
}

/// Rebuild the model of a run from its config and load its newest checkpoint, with the
/// averaged weights where the run keeps them (what sampling and evaluation use).
pub fn open(dir: &Path) -> Result<OpenRun> {
    open_with(dir, Weights::Averaged)
}

/// [`open`] with the chosen weights: `Weights::Live` measures what the average buys.
pub fn open_with(dir: &Path, weights: Weights) -> Result<OpenRun> {
    let (run, config, meta) = RunDir::open(dir)?;
    let family = genlab_models::find(&config.family)?;
    let info = meta.data_info(&config);
    let device = genlab_core::device::inference_device(&Device::default());
    let loaded = run.load_model(family, &config, &info, &device, weights)?;
    Ok(OpenRun {
        dir: run,
        config,
        meta,
        info,
        model: loaded.model,
        device,
        step: loaded.checkpoint.state.step,
        averaged: loaded.averaged,
        checkpoint: loaded.checkpoint.dir,
    })
}
