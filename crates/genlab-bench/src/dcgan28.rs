//! W2: DCGAN for 28x28 (Radford et al. 2016 rules: strided convs, BN except G's output and D's
//! input, ReLU/tanh in G, LeakyReLU 0.2 in D), one D step and one G step, batch 64, Adam 2e-4
//! (0.5, 0.999), with the `dcgan` family's networks (`genlab_nn::gan_nets`).

use burn::module::Module;
use genlab_core::optim::{OptimConfig, Optimizers};
use genlab_core::rng::{rng_for, Stream};
use genlab_core::StepCtx;
use genlab_data::Shape;
use genlab_kernels::fused::softplus;
use genlab_nn::gan_nets::{Body, DiscSpec, Discriminator, GenSpec, Generator, Output};
use genlab_nn::Activation;
use std::collections::BTreeMap;
use std::time::Instant;

const BATCH: usize = 64;
const Z: usize = 100;
const SHAPE: Shape = Shape { c: 1, h: 28, w: 28 };

/// The `dcgan` family's networks at the paper's width (64): G 100 -> 128x7x7 -> 64x14x14 ->
/// 1x28x28, D 1x28x28 -> 64x14x14 -> 128x7x7 (batch norm) -> 1.
fn nets(device: &burn::tensor::Device) -> (Generator, Discriminator) {
    let g = Generator::new(
        &GenSpec {
            body: Body::Dcgan,
            input: Z,
            shape: SHAPE,
            hidden: vec![],
            width: 64,
            activation: Activation::Relu,
            batch_norm: true,
        },
        device,
    );
    let d = Discriminator::new(&DiscSpec::dcgan(SHAPE, 64, 1), device);
    (g, d)
}

pub fn run(steps: usize, warmup: usize) -> Vec<f64> {
    let device = genlab_core::device::training_device(0);
    let (mut g, mut d) = nets(&device);
    let gen = |g: &Generator, z| Output::Tanh.apply(g.forward(z));
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
        [BATCH, SHAPE.dim()],
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
        let fake = gen(&g, z).detach();
        let d_loss = softplus(d.forward(real.clone(), None).neg()).mean()
            + softplus(d.forward(fake, None)).mean();
        d = ctx.update("disc", d.clone(), &d_loss);
        // G step, non-saturating: -log D(G(z)) = softplus(-l_fake), through D without gradients
        // of its own (as the gan families do; the PyTorch reference does the same).
        let z = genlab_core::tensor::normal([BATCH, Z], &mut ctx.rng, &device);
        let frozen = d.clone().no_grad();
        let g_loss = softplus(frozen.forward(gen(&g, z), None).neg()).mean();
        g = ctx.update("gen", g.clone(), &g_loss);
        let _ = (d_loss.into_scalar::<f32>(), g_loss.into_scalar::<f32>());
        if step >= warmup {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times
}
