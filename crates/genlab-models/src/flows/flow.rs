//! What the image flows (`realnvp`, `glow`) share once their networks are built: one generic
//! [`Flow`] that trains by maximum likelihood and implements sampling at a temperature, exact
//! encoding and decoding, Langevin completion and exact likelihood, for any [`FlowNet`].
//!
//! `Flow<N>` is a local wrapper type rather than a blanket `impl<N: FlowNet> Sample for N`:
//! the orphan rule forbids implementing genlab-core's traits for every `N`.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::model::held_out_nll;
use genlab_core::tensor::{normal, scalar, to_vec};
use genlab_core::{
    Batch, Bound, Complete, LatentDecode, Likelihood, Losses, Model, NamedTensors, Sample, StepCtx,
};
use genlab_nn::flow::langevin_complete;
use genlab_nn::loss::standard_normal_log_prob;
use rand_chacha::ChaCha8Rng;

/// Langevin steps of `genlab complete`.
pub const COMPLETION_STEPS: usize = 300;

/// A bijection between data and a standard normal z, with its trainable network `Net` kept
/// apart so that the same code runs it on a training or an inference device.
pub trait FlowNet {
    /// Registry name, for messages.
    const FAMILY: &'static str;
    /// The trainable network: checkpointed as `model/...` (its module paths).
    type Net: Module;

    fn net(&self) -> &Self::Net;
    fn set_net(&mut self, net: Self::Net);
    /// f: `x [b, D] -> (z [b, D], log |det ∂z/∂x| [b])`, the logit transform included for images.
    fn forward(&self, net: &Self::Net, x: Tensor<2>) -> (Tensor<2>, Tensor<1>);
    /// The flow alone, on logit-space images or on points.
    fn flow(&self, net: &Self::Net, y: Tensor<2>) -> (Tensor<2>, Tensor<1>);
    /// f⁻¹: `z [b, D] -> x [b, D]` (pixels in [0, 1] for images).
    fn inverse(&self, net: &Self::Net, z: Tensor<2>) -> Tensor<2>;
    /// D, the dimension of x and z.
    fn dim(&self) -> usize;
    /// Trained on images (then it completes them), not points.
    fn images(&self) -> bool;
    /// The logit transform's α.
    fn alpha(&self) -> f64;
    /// Standard deviation of z when sampling.
    fn temperature(&self) -> f64;
    /// Anything a family does before a train step (Glow: actnorm's data-dependent init).
    fn before_step(&mut self, _batch: &Batch, _ctx: &StepCtx) {}

    /// log p(x) = log N(f(x); 0, I) + log |det ∂f/∂x|, per example.
    fn log_prob(&self, net: &Self::Net, x: Tensor<2>) -> Tensor<1> {
        let (z, logdet) = self.forward(net, x);
        standard_normal_log_prob(z) + logdet
    }
}

/// A flow family as a [`Model`]: one parameter group `model`, trained on the exact negative
/// log-likelihood.
pub struct Flow<N>(pub N);

impl<N: FlowNet> Model for Flow<N> {
    fn family(&self) -> &'static str {
        N::FAMILY
    }
    fn held_out(&self, batch: &Batch, rng: &mut ChaCha8Rng) -> Result<Losses> {
        held_out_nll(self, "nll", batch.x.clone(), 1, rng)
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }
    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        self.0.before_step(batch, ctx);
        let nll = self.0.log_prob(self.0.net(), batch.x.clone()).mean().neg();
        let value = scalar(nll.clone());
        let net = ctx.update("model", self.0.net().clone(), &nll);
        self.0.set_net(net);
        Ok(Losses::of(&[("nll", value)]))
    }
    fn save_params(&self) -> NamedTensors {
        NamedTensors::of("model", self.0.net())
    }
    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        let net = params.restore("model", self.0.net().clone())?;
        self.0.set_net(net);
        Ok(())
    }
    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_latent(&self) -> Option<&dyn LatentDecode> {
        Some(self)
    }
    fn as_complete(&self) -> Option<&dyn Complete> {
        Some(self)
    }
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        Some(self)
    }
}

impl<N: FlowNet> Sample for Flow<N> {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let z = self.prior_sample(n, rng, device)?;
        Ok(self
            .0
            .inverse(&genlab_core::device::module_for(self.0.net(), device), z))
    }
}

impl<N: FlowNet> LatentDecode for Flow<N> {
    fn latent_dim(&self) -> usize {
        self.0.dim()
    }
    /// z = f(x): a flow's latent is exact, so interpolation starts from real images.
    fn encode(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        let net = genlab_core::device::module_for(self.0.net(), &x.device());
        Ok(self.0.forward(&net, x).0)
    }
    fn decode(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let net = genlab_core::device::module_for(self.0.net(), &z.device());
        Ok(self.0.inverse(&net, z))
    }
    /// N(0, T² I) at the sampling temperature T (Glow's reduced-temperature samples).
    fn prior_sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        Ok(normal([n, self.0.dim()], rng, device).mul_scalar(self.0.temperature()))
    }
}

impl<N: FlowNet> Complete for Flow<N> {
    /// Langevin dynamics on the hidden pixels in logit space (`genlab_nn::flow::langevin_complete`).
    fn complete(&self, x: Tensor<2>, known: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        if !self.0.images() {
            bail!(
                "{} completes images; this model was trained on points",
                N::FAMILY
            );
        }
        let net = genlab_core::device::module_for(self.0.net(), &x.device().autodiff());
        Ok(langevin_complete(
            x,
            known,
            self.0.alpha(),
            COMPLETION_STEPS,
            rng,
            |y| {
                let (z, logdet) = self.0.flow(&net, y);
                standard_normal_log_prob(z) + logdet
            },
        ))
    }
}

impl<N: FlowNet> Likelihood for Flow<N> {
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let net = genlab_core::device::module_for(self.0.net(), &x.device());
        Ok(to_vec(self.0.log_prob(&net, x))
            .into_iter()
            .map(f64::from)
            .collect())
    }
    fn bound(&self, _k: usize) -> Bound {
        Bound::Exact
    }
}
