//! Opening a run directory: its resolved config rebuilds the model, never the current flags.

use anyhow::{anyhow, Context, Result};
use burn::tensor::Device;
use genlab_core::config::RunConfig;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::{self, Meta};
use genlab_core::{DataInfo, Family, Model};
use genlab_data::Split;
use genlab_train::batches::make_batch;
use std::path::{Path, PathBuf};

pub struct OpenRun {
    pub dir: PathBuf,
    pub config: RunConfig,
    pub info: DataInfo,
    pub model: Box<dyn Model>,
    /// Inference device (no autodiff).
    pub device: Device,
    pub checkpoint: PathBuf,
}

impl OpenRun {
    /// Test examples `idx` (train when the data has no test split), preprocessed for
    /// evaluation, on the inference device.
    pub fn held_out_batch(
        &self,
        idx_of: impl Fn(usize) -> Vec<usize>,
    ) -> Result<genlab_core::Batch> {
        let data = self
            .config
            .data
            .load(Split::Test)
            .or_else(|_| self.config.data.load(Split::Train))?;
        let idx = idx_of(data.len());
        let pre = self.info.preprocess.for_evaluation();
        Ok(make_batch(
            &data,
            &idx,
            &pre,
            &mut rng_for(0, 0, Stream::Eval),
            &self.device,
        ))
    }
}

pub fn read_config(dir: &Path) -> Result<RunConfig> {
    let path = dir.join(run_dir::CONFIG);
    if !dir.is_dir() {
        return Err(anyhow!("{} is not a run directory (no such folder); train one with `genlab train FAMILY --out {}`", dir.display(), dir.display()));
    }
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is not a run directory: cannot read {}",
            dir.display(),
            path.display()
        )
    })?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| anyhow!("{} is corrupt: {}", path.display(), e.message()))?;
    RunConfig::from_table(&table).with_context(|| format!("in {}", path.display()))
}

pub fn read_meta(dir: &Path) -> Result<Meta> {
    let path = dir.join(run_dir::META);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is corrupt", path.display()))
}

pub fn data_info(config: &RunConfig, meta: &Meta) -> DataInfo {
    DataInfo {
        kind: meta.data_kind,
        shape: meta.data_shape,
        classes: meta.classes.len(),
        preprocess: config.data.preprocess(),
    }
}

/// Rebuild the model of a run from its config and load its newest checkpoint.
pub fn open(dir: &Path) -> Result<OpenRun> {
    let config = read_config(dir)?;
    let meta = read_meta(dir)?;
    let family: &Family = genlab_models::find(&config.family)?;
    let info = data_info(&config, &meta);
    let device = genlab_core::device::inference_device(&Device::default());
    // Keys added to the family since the run was trained take their defaults.
    let mut model_cfg = (family.default_model)();
    genlab_core::config::merge(
        &mut model_cfg,
        &config.model,
        &dir.join(run_dir::CONFIG).display().to_string(),
    )?;
    let mut model = (family.build)(&model_cfg, &info, &device)?;
    let checkpoint = run_dir::latest_checkpoint(dir)?;
    let ckpt = run_dir::load_checkpoint(&checkpoint, &model.groups()).with_context(|| {
        let earlier = run_dir::checkpoints(dir)
            .into_iter()
            .rev()
            .nth(1)
            .map(|(_, p)| {
                format!(
                    "; the one before it is {}: delete the broken folder to use it",
                    p.display()
                )
            })
            .unwrap_or_default();
        format!("cannot load checkpoint {}{earlier}", checkpoint.display())
    })?;
    model.load_params(&ckpt.params)?;
    // Runs trained with train.ema_decay > 0 sample and evaluate with the averaged weights.
    if let Some(ema) = run_dir::load_ema(&checkpoint, &model.groups())? {
        // Weights without an average (batch-norm statistics) keep their saved values.
        let mut averaged = model.save_params();
        averaged.extend(ema);
        model.load_params(&averaged)?;
    }
    Ok(OpenRun {
        dir: dir.to_path_buf(),
        config,
        info,
        model,
        device,
        checkpoint,
    })
}
