//! The speed workloads of bench/torch_workloads.py, step for step, timed the same way
//! (warm-up, then the median of single-step wall times).

use crate::{dcgan28, pixelcnn_lite};
use anyhow::Result;
use genlab_core::config::parse_section;
use genlab_core::optim::{OptimConfig, Optimizers};
use genlab_core::rng::{rng_for, Stream};
use genlab_core::{Batch, DataInfo, StepCtx};
use genlab_data::{Binarize, Kind, Preprocess, Scale, Shape};
use std::collections::BTreeMap;
use std::time::Instant;

/// Untimed steps before the timed ones.
pub const WARMUP: usize = 3;

/// The speed workloads, as `--workloads` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// MLP VAE 784-400-20, batch 128.
    W1,
    /// DCGAN for 28x28, batch 64: one D step and one G step.
    W2,
    /// PixelCNN-lite on 28x28, batch 32.
    W3,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::W1 => "w1",
            Workload::W2 => "w2",
            Workload::W3 => "w3",
        }
    }

    /// What the workload trains, for the table.
    pub fn describe(self) -> &'static str {
        match self {
            Workload::W1 => "MLP VAE 784-400-20, batch 128",
            Workload::W2 => "DCGAN 28x28, batch 64, D + G step",
            Workload::W3 => "PixelCNN-lite 28x28, batch 32",
        }
    }

    /// Median wall time of one training step in milliseconds, over `steps` timed steps after
    /// [`WARMUP`] untimed ones.
    pub fn median_ms(self, steps: usize) -> Result<f64> {
        let times = match self {
            Workload::W1 => w1_vae(steps)?,
            Workload::W2 => dcgan28::run(steps, WARMUP),
            Workload::W3 => pixelcnn_lite::run(steps, WARMUP),
        };
        Ok(median_ms(times))
    }
}

fn median_ms(mut t: Vec<f64>) -> f64 {
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    t[t.len() / 2] * 1e3
}

/// W1: MLP VAE 784-400-20, batch 128, the `vae` family's own train_step with Adam.
fn w1_vae(steps: usize) -> Result<Vec<f64>> {
    let family = genlab_models::find("vae")?;
    let mut model_cfg = (family.default_model)();
    model_cfg.insert("hidden".into(), toml::Value::Array(vec![400.into()]));
    model_cfg.insert("latent_dim".into(), 20.into());
    let _: genlab_models::autoencoders::vae::VaeConfig = parse_section("model", &model_cfg)?;
    let info = DataInfo {
        kind: Kind::Images,
        shape: Shape { c: 1, h: 28, w: 28 },
        classes: 0,
        preprocess: Preprocess {
            binarize: Binarize::Dynamic,
            scale: Scale::Unit,
            dequantize: false,
        },
        modes: None,
        standardization: None,
        input: None,
    };
    let device = genlab_core::device::training_device(0);
    let mut model = (family.build)(&model_cfg, &info, &device)?;
    let mut optim = Optimizers::new(
        &BTreeMap::from([("model".to_string(), OptimConfig::default())]),
        1_000_000,
    );
    let x = genlab_core::tensor::uniform([128, 784], &mut rng_for(0, 0, Stream::Eval), &device)
        .greater_elem(0.5)
        .float();
    let batch = Batch::of(x);
    let mut times = Vec::new();
    for step in 0..WARMUP + steps {
        let t = Instant::now();
        let mut ctx = StepCtx::new(step as u64, 1_000_000, 0, device.clone(), &mut optim);
        model.train_step(&batch, &mut ctx)?;
        if step >= WARMUP {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    Ok(times)
}
