//! The shipped Fashion-MNIST judge: a `classifier` run's files (`judges/fashion-mnist/`), trained
//! by genlab itself and embedded in the binary so that no file has to be found at run time.
//! `judge.json` records its command, test accuracy and the SHA-256 of its weights, which every
//! load checks. `genlab eval` judges samples with it; `srgan` takes its content loss from its
//! convolutional features.

use super::classifier::{Classifier, ClassifierNet};
use anyhow::{bail, Result};
use burn::tensor::Device;
use genlab_core::config::RunConfig;
use genlab_core::run_dir::{params_from_bytes, Meta};
use genlab_core::{DataInfo, Model};
use sha2::{Digest, Sha256};

/// The name `--judge` gives the shipped judge.
pub const NAME: &str = "fashion-mnist";
pub const CONFIG: &str = include_str!("../../../../judges/fashion-mnist/config.toml");
pub const META: &str = include_str!("../../../../judges/fashion-mnist/meta.json");
pub const JUDGE: &str = include_str!("../../../../judges/fashion-mnist/judge.json");
const WEIGHTS: &[u8] = include_bytes!("../../../../judges/fashion-mnist/model.safetensors");

/// `judges/fashion-mnist/judge.json`.
#[derive(serde::Deserialize)]
struct Recorded {
    sha256: String,
    test_accuracy: f64,
}

/// SHA-256 of `bytes`, hex.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The judge as loaded: its model (a `classifier` on `info`), the hash of its weights and its
/// recorded test accuracy.
pub struct Shipped {
    pub model: Box<dyn Model>,
    pub info: DataInfo,
    pub sha256: String,
    pub test_accuracy: f64,
}

/// Load the judge on `device`, its weights checked against the hash judge.json records.
pub fn load(device: &Device) -> Result<Shipped> {
    let recorded: Recorded = serde_json::from_str(JUDGE)?;
    let sha = sha256(WEIGHTS);
    if sha != recorded.sha256 {
        bail!("the shipped judge's weights hash to {sha}, not {} as judges/fashion-mnist/judge.json records: this binary was built from altered weights", recorded.sha256);
    }
    let table: toml::Table = toml::from_str(CONFIG)?;
    let config = RunConfig::from_table(&table)?;
    let meta: Meta = serde_json::from_str(META)?;
    let info = meta.data_info(&config);
    let family = crate::find(&config.family)?;
    let mut model_cfg = (family.default_model)();
    genlab_core::config::merge(
        &mut model_cfg,
        &config.model,
        "judges/fashion-mnist/config.toml",
    )?;
    let mut model = (family.build)(&model_cfg, &info, device)?;
    model.load_params(&params_from_bytes(
        WEIGHTS,
        "judges/fashion-mnist/model.safetensors",
    )?)?;
    Ok(Shipped {
        model,
        info,
        sha256: sha,
        test_accuracy: recorded.test_accuracy,
    })
}

/// The judge's network on `device` (frozen on an autodiff device: gradients reach only its
/// inputs), for a loss computed on its features. Inputs are 28x28 grey images in [0, 1].
pub fn network(device: &Device) -> Result<ClassifierNet> {
    let loaded = load(&genlab_core::device::inference_device(device))?;
    let cfg: super::classifier::ClassifierConfig =
        genlab_core::config::parse_section("model", &model_table()?)?;
    let mut classifier = Classifier::new(cfg, &loaded.info, device)?;
    classifier.load_params(&loaded.model.save_params())?;
    Ok(genlab_core::device::module_for(&classifier.net, device))
}

fn model_table() -> Result<toml::Table> {
    let table: toml::Table = toml::from_str(CONFIG)?;
    Ok(match table.get("model") {
        Some(toml::Value::Table(t)) => t.clone(),
        _ => toml::Table::new(),
    })
}
