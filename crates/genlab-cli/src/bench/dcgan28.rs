//! W2: DCGAN for 28x28 (Radford et al. 2016 rules: strided convs, BN except G's output and D's
//! input, ReLU/tanh in G, LeakyReLU 0.2 in D), one D step and one G step, batch 64, Adam 2e-4
//! (0.5, 0.999). Lives here until the GAN family lands.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, relu, softplus, tanh};
use burn::tensor::{Device, Tensor};
use genlab_core::optim::{OptimConfig, Optimizers};
use genlab_core::rng::{rng_for, Stream};
use genlab_core::StepCtx;
use std::collections::BTreeMap;
use std::time::Instant;

const BATCH: usize = 64;
const Z: usize = 100;

#[derive(Module, Debug)]
struct Generator {
    fc: Linear,
    bn0: BatchNorm,
    up1: ConvTranspose2d,
    bn1: BatchNorm,
    up2: ConvTranspose2d,
}

impl Generator {
    fn new(device: &Device) -> Self {
        let up = |i, o| {
            ConvTranspose2dConfig::new([i, o], [4, 4])
                .with_stride([2, 2])
                .with_padding([1, 1])
                .init(device)
        };
        Self {
            fc: LinearConfig::new(Z, 128 * 7 * 7).init(device),
            bn0: BatchNormConfig::new(128).init(device),
            up1: up(128, 64),
            bn1: BatchNormConfig::new(64).init(device),
            up2: up(64, 1),
        }
    }
    /// `[b, z] -> [b, 1, 28, 28]`
    fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let b = z.dims()[0];
        let x = self.fc.forward(z).reshape([b, 128, 7, 7]); // [b, 128, 7, 7]
        let x = relu(self.bn0.forward(x));
        let x = relu(self.bn1.forward(self.up1.forward(x))); // [b, 64, 14, 14]
        tanh(self.up2.forward(x)) //                            [b, 1, 28, 28]
    }
}

#[derive(Module, Debug)]
struct Discriminator {
    conv1: Conv2d,
    conv2: Conv2d,
    bn2: BatchNorm,
    fc: Linear,
}

impl Discriminator {
    fn new(device: &Device) -> Self {
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [4, 4])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Self {
            conv1: conv(1, 64),
            conv2: conv(64, 128),
            bn2: BatchNormConfig::new(128).init(device),
            fc: LinearConfig::new(128 * 7 * 7, 1).init(device),
        }
    }
    /// `[b, 1, 28, 28] -> [b, 1]` logits
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = leaky_relu(self.conv1.forward(x), 0.2); //              [b, 64, 14, 14]
        let x = leaky_relu(self.bn2.forward(self.conv2.forward(x)), 0.2); // [b, 128, 7, 7]
        self.fc.forward(x.flatten(1, 3)) //                              [b, 1]
    }
}

pub fn run(steps: usize, warmup: usize) -> Vec<f64> {
    let device = genlab_core::device::training_device(0);
    let mut g = Generator::new(&device);
    let mut d = Discriminator::new(&device);
    let adam = OptimConfig {
        lr: 2e-4,
        beta1: 0.5,
        ..OptimConfig::default()
    };
    let mut optim = Optimizers::new(
        &BTreeMap::from([
            ("gen".to_string(), adam.clone()),
            ("disc".to_string(), adam),
        ]),
        1_000_000,
    );
    let real = genlab_core::tensor::uniform(
        [BATCH, 1, 28, 28],
        &mut rng_for(0, 0, Stream::Eval),
        &device,
    )
    .mul_scalar(2.0)
    .sub_scalar(1.0);
    let mut times = Vec::new();
    for step in 0..warmup + steps {
        let t = Instant::now();
        let mut ctx = StepCtx::new(step as u64, 1_000_000, 0, device.clone(), &mut optim);
        // D step: -log D(x) - log(1 - D(G(z))) = softplus(-l_real) + softplus(l_fake).
        let z = genlab_core::tensor::normal([BATCH, Z], &mut ctx.rng, &device);
        let fake = g.forward(z).detach();
        let d_loss = softplus(d.forward(real.clone()).neg(), 1.0).mean()
            + softplus(d.forward(fake), 1.0).mean();
        d = ctx.update("disc", d.clone(), &d_loss);
        // G step, non-saturating: -log D(G(z)) = softplus(-l_fake).
        let z = genlab_core::tensor::normal([BATCH, Z], &mut ctx.rng, &device);
        let g_loss = softplus(d.forward(g.forward(z)).neg(), 1.0).mean();
        g = ctx.update("gen", g.clone(), &g_loss);
        let _ = (d_loss.into_scalar::<f32>(), g_loss.into_scalar::<f32>());
        if step >= warmup {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times
}
