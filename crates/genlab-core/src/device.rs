//! The one place that chooses where tensors live. The default build has burn's pure-Rust `flex`
//! CPU backend; GPU builds select theirs through burn's `BURN_DEVICE` without touching models.

use burn::module::Module;
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

/// A copy of `module` to run on `device` without training it: on an autodiff device frozen (no
/// parameter gradients, batch norm from its running statistics), so that gradients reach only
/// the inputs (`genlab invert`); elsewhere the plain inference copy.
pub fn module_for<M: Module>(module: &M, device: &Device) -> M {
    if device.is_autodiff() {
        module.clone().to_device(device).freeze()
    } else {
        module.valid().to_device(device)
    }
}

/// The backend `device` computes on, for meta.json: burn's own name of the device without the
/// autodiff wrapper, e.g. `burn Flex(Cpu)` (a CUDA build: `burn Cuda(0)`).
pub fn describe(device: &Device) -> String {
    let inner = format!("{:?}", inference_device(device));
    let name = inner
        .strip_prefix("Device<")
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(&inner);
    format!("burn {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_the_device_training_runs_on_not_its_autodiff_wrapper() {
        let name = describe(&training_device(0));
        assert!(name.starts_with("burn "), "{name}");
        assert!(!name.contains("Autodiff"), "{name}");
        assert_eq!(name, describe(&Device::default()));
    }
}
