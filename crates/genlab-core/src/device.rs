//! The one place that chooses where tensors live. The default build has burn's pure-Rust `flex`
//! CPU backend; GPU builds select theirs through burn's `BURN_DEVICE` without touching models.

use burn::tensor::Device;

/// The device training runs on (with autodiff) and the seed of its parameter initialisation.
pub fn training_device(seed: u64) -> Device {
    let device = Device::default();
    device.seed(seed);
    device.autodiff()
}

/// The same device without autodiff, for sampling and evaluation.
pub fn inference_device(device: &Device) -> Device {
    device.clone().inner()
}
