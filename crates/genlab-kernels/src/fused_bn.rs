//! Training-mode batch norm in few passes on the flex CPU backend.
//!
//! burn's batch norm swaps the batch and channel axes (a copy) for each statistic, forward and
//! backward; with batch norm the W2 step took ~45 ms more than without. Here the statistics are
//! per-channel sums over `[b, c, s]` in place, and the backward is the closed form
//! (Ioffe & Szegedy 2015, section 3):
//!
//! ```text
//! x̂ = (x - μ) / σ        dβ = Σ dy        dγ = Σ dy · x̂        dx = γ/(σ N) · (N dy - dβ - x̂ dγ)
//! ```
//!
//! Off flex, and in evaluation, burn's own forward runs.

use crate::par::par_fill;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::TensorMetadata;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch};
use burn::nn::BatchNorm;
use burn::tensor::{Slice, Tensor};
use rayon::prelude::*;

use crate::fused::{bcs, contiguous_f32, f32s, flex_vec, on_flex};

#[backend_extension(Flex, Autodiff)]
pub trait FusedBatchNorm: Backend {
    /// Batch statistics of `x [b, c, ...]`: `[2, c]`, mean then biased variance.
    fn bn_stats(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `γ (x - μ) / sqrt(var + eps) + β` with `stats` from [`FusedActivation::bn_stats`] of the
    /// same `x`; differentiated as batch norm (the statistics' dependence on x included).
    fn bn_normalize(
        x: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self>;
    /// `[2, c]`: dγ then dβ.
    fn bn_param_grads(
        x: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self>;
    /// dx, given dγ and dβ from [`FusedActivation::bn_param_grads`].
    fn bn_input_grad(
        x: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        param_grads: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self>;
}

/// Per-channel sums of `f(i, value...)` over a `[b, c, s]` layout: parallel over batch rows.
fn channel_sums(b: usize, c: usize, s: usize, f: impl Fn(usize, usize) -> f64 + Sync) -> Vec<f64> {
    (0..b)
        .into_par_iter()
        .fold(
            || vec![0.0f64; c],
            |mut acc, bi| {
                for (ch, a) in acc.iter_mut().enumerate() {
                    let base = (bi * c + ch) * s;
                    *a += (base..base + s).map(|i| f(i, ch)).sum::<f64>();
                }
                acc
            },
        )
        .reduce(
            || vec![0.0f64; c],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        )
}

/// Mean and 1/sqrt(var + eps) per channel from `[2, c]` stats.
fn mean_inv_std(stats: &[f32], c: usize, eps: f64) -> (Vec<f32>, Vec<f32>) {
    let mean = stats[..c].to_vec();
    let inv = stats[c..]
        .iter()
        .map(|v| (1.0 / (*v as f64 + eps).sqrt()) as f32)
        .collect();
    (mean, inv)
}

impl FusedBatchNorm for Flex {
    fn bn_stats(x: FlexTensor) -> FlexTensor {
        let x = contiguous_f32(&x);
        let ((b, c, s), xs) = (bcs(&x), f32s(&x));
        let n = (b * s) as f64;
        let mean: Vec<f64> = channel_sums(b, c, s, |i, _| xs[i] as f64)
            .into_iter()
            .map(|v| v / n)
            .collect();
        let var = channel_sums(b, c, s, |i, ch| (xs[i] as f64 - mean[ch]).powi(2));
        let stats = mean
            .iter()
            .chain(&var.iter().map(|v| v / n).collect::<Vec<_>>())
            .map(|v| *v as f32)
            .collect();
        flex_vec(stats, [2, c])
    }
    fn bn_normalize(
        x: FlexTensor,
        stats: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        eps: f64,
    ) -> FlexTensor {
        let (x, stats) = (contiguous_f32(&x), contiguous_f32(&stats));
        let (gamma, beta) = (contiguous_f32(&gamma), contiguous_f32(&beta));
        let ((_, c, s), xs) = (bcs(&x), f32s(&x));
        let (mean, inv) = mean_inv_std(f32s(&stats), c, eps);
        let (g, be) = (f32s(&gamma), f32s(&beta));
        let y = par_fill(xs.len(), c * s, |i, y| {
            let x = &xs[i * c * s..(i + 1) * c * s];
            for ch in 0..c {
                let (scale, shift) = (g[ch] * inv[ch], be[ch] - g[ch] * inv[ch] * mean[ch]);
                let range = ch * s..(ch + 1) * s;
                for (y, x) in y[range.clone()].iter_mut().zip(&x[range]) {
                    *y = x * scale + shift;
                }
            }
        });
        flex_vec(y, x.shape())
    }
    fn bn_param_grads(x: FlexTensor, stats: FlexTensor, dy: FlexTensor, eps: f64) -> FlexTensor {
        let (x, stats, dy) = (
            contiguous_f32(&x),
            contiguous_f32(&stats),
            contiguous_f32(&dy),
        );
        let ((b, c, s), xs, gs) = (bcs(&x), f32s(&x), f32s(&dy));
        let (mean, inv) = mean_inv_std(f32s(&stats), c, eps);
        let dgamma = channel_sums(b, c, s, |i, ch| {
            (gs[i] * (xs[i] - mean[ch]) * inv[ch]) as f64
        });
        let dbeta = channel_sums(b, c, s, |i, _| gs[i] as f64);
        flex_vec(
            dgamma.iter().chain(&dbeta).map(|v| *v as f32).collect(),
            [2, c],
        )
    }
    fn bn_input_grad(
        x: FlexTensor,
        stats: FlexTensor,
        gamma: FlexTensor,
        dy: FlexTensor,
        param_grads: FlexTensor,
        eps: f64,
    ) -> FlexTensor {
        let (x, stats, dy) = (
            contiguous_f32(&x),
            contiguous_f32(&stats),
            contiguous_f32(&dy),
        );
        let (gamma, pg) = (contiguous_f32(&gamma), contiguous_f32(&param_grads));
        let ((b, c, s), xs, gs) = (bcs(&x), f32s(&x), f32s(&dy));
        let (mean, inv) = mean_inv_std(f32s(&stats), c, eps);
        let (g, pg) = (f32s(&gamma), f32s(&pg));
        let n = (b * s) as f32;
        let dx = par_fill(xs.len(), c * s, |i, dx| {
            let image = i * c * s..(i + 1) * c * s;
            let (x, dy) = (&xs[image.clone()], &gs[image]);
            for ch in 0..c {
                let (k, dgamma, dbeta) = (g[ch] * inv[ch] / n, pg[ch], pg[c + ch]);
                let range = ch * s..(ch + 1) * s;
                let rows = dx[range.clone()]
                    .iter_mut()
                    .zip(&x[range.clone()])
                    .zip(&dy[range]);
                for ((dx, x), dy) in rows {
                    let xhat = (x - mean[ch]) * inv[ch];
                    *dx = k * (n * dy - dbeta - xhat * dgamma);
                }
            }
        });
        flex_vec(dx, x.shape())
    }
}

#[derive(Debug)]
struct BatchNormBackward;

impl<B: FusedBatchNorm> Backward<B, 3> for BatchNormBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, stats, gamma, eps) = ops.state;
        let pg = B::bn_param_grads(x.clone(), stats.clone(), dy.clone(), eps);
        let c = pg.shape()[1];
        let rows = |r: usize| {
            let row = B::float_slice(pg.clone(), &[Slice::from(r..r + 1), Slice::from(0..c)]);
            B::float_reshape(row, [c].into())
        };
        if let Some(node) = node_gamma {
            grads.register::<B>(node.id, rows(0));
        }
        if let Some(node) = node_beta {
            grads.register::<B>(node.id, rows(1));
        }
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::bn_input_grad(x, stats, gamma, dy, pg, eps));
        }
    }
}

impl<B: FusedBatchNorm, C: CheckpointStrategy> FusedBatchNorm for Autodiff<B, C> {
    /// A constant of the graph: [`FusedActivation::bn_normalize`]'s backward accounts for it.
    fn bn_stats(x: FloatTensor<Self>) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::bn_stats(x.into_primitive()))
    }
    fn bn_normalize(
        x: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self> {
        let stats = stats.into_primitive();
        match BatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let state = (
                    x.primitive().clone(),
                    stats.clone(),
                    gamma.primitive().clone(),
                    eps,
                );
                let y = B::bn_normalize(
                    x.into_primitive(),
                    stats,
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    eps,
                );
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::bn_normalize(
                x.into_primitive(),
                stats,
                gamma.into_primitive(),
                beta.into_primitive(),
                eps,
            )),
        }
    }
    fn bn_param_grads(
        x: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self> {
        let (x, stats, dy) = (
            x.into_primitive(),
            stats.into_primitive(),
            dy.into_primitive(),
        );
        FloatTensor::<Self>::new(B::bn_param_grads(x, stats, dy, eps))
    }
    fn bn_input_grad(
        x: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        param_grads: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::bn_input_grad(
            x.into_primitive(),
            stats.into_primitive(),
            gamma.into_primitive(),
            dy.into_primitive(),
            param_grads.into_primitive(),
            eps,
        ))
    }
}

/// Whether [`batch_norm`] takes the fused path: training on flex.
fn fused_batch_norm(bn: &BatchNorm, device: &burn::tensor::Device) -> bool {
    let flex = on_flex(device);
    flex && device.is_autodiff() && bn.training.is_enabled()
}

/// `bn.forward(x)` for `x [b, c, ...]`: in training (autodiff device, layer not frozen) the
/// fused batch statistics and normalisation on flex, with the running statistics updated as
/// burn does (momentum, biased variance); otherwise burn's own forward.
pub fn batch_norm<const D: usize>(bn: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !fused_batch_norm(bn, &device) {
        return bn.forward(x);
    }
    let c = x.dims()[1];
    let stats = <Dispatch as FusedBatchNorm>::bn_stats(x.clone().into_dispatch());
    let stats = Tensor::<2>::from_dispatch(stats); // [2, c]
    let y = <Dispatch as FusedBatchNorm>::bn_normalize(
        x.into_dispatch(),
        stats.clone().into_dispatch(),
        bn.gamma.val().into_dispatch(),
        bn.beta.val().into_dispatch(),
        bn.epsilon,
    );
    let momentum = bn.momentum;
    let stats = stats.detach();
    let mean = stats.clone().slice([0..1, 0..c]).reshape([c]);
    let var = stats.slice([1..2, 0..c]).reshape([c]);
    let running = |state: &burn::module::RunningState<Tensor<1>>, batch: Tensor<1>| {
        let old = state.value_sync().to_device(&device);
        state.update(
            old.mul_scalar(1.0 - momentum)
                .add(batch.mul_scalar(momentum))
                .detach(),
        );
    };
    running(&bn.running_mean, mean);
    running(&bn.running_var, var);
    Tensor::from_dispatch(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::tests::max_diff;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn batch_norm_equals_burns_with_gradients_and_running_stats() {
        use burn::nn::BatchNormConfig;
        let device = Device::default().autodiff();
        for shape in [[6, 4, 3, 5], [9, 7, 1, 1]] {
            let [b, c, h, w] = shape;
            // Two layers with the same gamma (a clone would share the running statistics).
            let gamma = Tensor::<1>::random([c], Distribution::Normal(1.0, 0.3), &device);
            let layer = |gamma: Tensor<1>| BatchNorm {
                gamma: burn::module::Param::from_tensor(gamma),
                ..BatchNormConfig::new(c).init(&device)
            };
            let (fast_bn, slow_bn) = (layer(gamma.clone()), layer(gamma));
            assert!(
                fused_batch_norm(&fast_bn, &device),
                "the test must take the fused path"
            );
            let x = Tensor::<4>::random([b, c, h, w], Distribution::Normal(0.5, 2.0), &device)
                .require_grad();
            let probe = Tensor::<4>::random([b, c, h, w], Distribution::Normal(0.0, 1.0), &device);
            let fast = batch_norm(&fast_bn, x.clone());
            let slow = slow_bn.forward(x.clone());
            let diff = max_diff(fast.clone(), slow.clone());
            assert!(diff < 1e-4, "{shape:?}: forward differs by {diff}");
            let (gf, gs) = (
                (fast * probe.clone()).sum().backward(),
                (slow * probe).sum().backward(),
            );
            let dx = max_diff(x.grad(&gf).unwrap(), x.grad(&gs).unwrap());
            assert!(dx < 1e-4, "{shape:?}: input gradient differs by {dx}");
            let dg = max_diff(
                fast_bn.gamma.grad(&gf).unwrap(),
                slow_bn.gamma.grad(&gs).unwrap(),
            );
            let db = max_diff(
                fast_bn.beta.grad(&gf).unwrap(),
                slow_bn.beta.grad(&gs).unwrap(),
            );
            assert!(dg < 1e-3 && db < 1e-3, "{shape:?}: dgamma {dg}, dbeta {db}");
            let rm = max_diff(fast_bn.running_mean.value(), slow_bn.running_mean.value());
            let rv = max_diff(fast_bn.running_var.value(), slow_bn.running_var.value());
            assert!(
                rm < 1e-5 && rv < 1e-4,
                "{shape:?}: running mean {rm}, var {rv}"
            );
        }
    }
}
