//! W3: PixelCNN-lite, batch 32 on 28x28: masked 7x7 type A (1 -> 64), five masked 3x3 type B
//! (64 -> 64) with ReLU, a 1x1 conv to 256 logits per pixel, cross-entropy, Adam 1e-3.

use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor};
use genlab_core::optim::{OptimConfig, Optimizers};
use genlab_core::rng::{rng_for, Stream};
use genlab_core::StepCtx;
use genlab_kernels::fused_categorical::categorical_log_prob;
use genlab_nn::conv2d::{Build, Conv2d, Conv2dConfig};
use genlab_nn::{MaskType, MaskedConv2d};
use std::collections::BTreeMap;
use std::time::Instant;

const BATCH: usize = 32;
const LEVELS: usize = 256;

#[derive(Module, Debug)]
struct PixelCnnLite {
    first: MaskedConv2d,
    blocks: Vec<MaskedConv2d>,
    out: Conv2d,
}

impl PixelCnnLite {
    fn new(device: &Device) -> Self {
        Self {
            first: MaskedConv2d::new([1, 64], 7, MaskType::A, device),
            blocks: (0..5)
                .map(|_| MaskedConv2d::new([64, 64], 3, MaskType::B, device))
                .collect(),
            out: Conv2dConfig::new([64, LEVELS], [1, 1]).build(device),
        }
    }
    /// `[b, 1, 28, 28] -> [b, 256, 28, 28]` logits
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut h = relu(self.first.forward(x)); // [b, 64, 28, 28]
        for block in &self.blocks {
            h = relu(block.forward(h)); //         [b, 64, 28, 28]
        }
        self.out.forward(h) //                      [b, 256, 28, 28]
    }
}

pub fn run(steps: usize, warmup: usize) -> Vec<f64> {
    let device = genlab_core::device::training_device(0);
    let mut net = PixelCnnLite::new(&device);
    let mut optim = Optimizers::new(
        &BTreeMap::from([("model".to_string(), OptimConfig::default())]),
        1_000_000,
    );
    let u = genlab_core::tensor::uniform(
        [BATCH, 1, 28, 28],
        &mut rng_for(0, 0, Stream::Eval),
        &device,
    );
    let levels: Tensor<4, Int> = u.clone().mul_scalar(255.0).int(); //          [b, 1, 28, 28]
    let x = levels.clone().float().div_scalar(255.0);
    let target = levels.float().reshape([BATCH, 784]); //                         [b, 784]
    let mut times = Vec::new();
    for step in 0..warmup + steps {
        let t = Instant::now();
        let mut ctx = StepCtx::new(step as u64, 1_000_000, 0, device.clone(), &mut optim);
        // log-softmax over the 256 levels in place along dim 1, as the pixelcnn family does: no
        // permute of the [b, 256, 28, 28] logits.
        let logits = net.forward(x.clone()).reshape([BATCH, LEVELS, 784]); // [b, 256, 784]
        let loss = categorical_log_prob(logits, target.clone()).mean().neg();
        net = ctx.update("model", net.clone(), &loss);
        let _ = loss.into_scalar::<f32>();
        if step >= warmup {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times
}
