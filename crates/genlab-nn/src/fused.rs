//! Leaky ReLU, softplus, categorical log-probability and training-mode batch norm as few passes
//! on the flex CPU backend.
//!
//! burn 0.22's autodiff has no leaky-ReLU op: it differentiates the composite
//! `mask_where(x < 0, x · a, x)`, whose backward (two `mask_where` and a scale) was 9% of the
//! DCGAN step (W2, `perf`). Here the backward reads the output once: `dx = dy · (y >= 0 ? 1 : a)`
//! (with `a > 0`, y and x have the same sign).
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
//! Off flex, burn's own ops run.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::TensorMetadata;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, DispatchDevice};
use burn::nn::BatchNorm;
use burn::tensor::Slice;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

#[backend_extension(Flex, Autodiff)]
pub trait FusedActivation: Backend {
    /// `x >= 0 ? x : slope · x`, elementwise.
    fn fused_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self>;
    /// `dy · (y >= 0 ? 1 : slope)` from the output `y`.
    fn fused_leaky_relu_backward(
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        slope: f32,
    ) -> FloatTensor<Self>;
    /// `ln(1 + e^x)`, elementwise, stable for any x.
    fn fused_softplus(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `dy · σ(x)`.
    fn fused_softplus_backward(x: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `log softmax(logits)[target]` along dim 1: `logits [b, K, s]`, `target [b, s]` (class
    /// indices as floats) -> `[b, s]`.
    fn fused_categorical_log_prob(
        logits: FloatTensor<Self>,
        target: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
    /// `dlogits = dy · (onehot(target) - softmax(logits))`, with `log_prob` from the forward.
    fn fused_categorical_log_prob_backward(
        logits: FloatTensor<Self>,
        target: FloatTensor<Self>,
        log_prob: FloatTensor<Self>,
        dy: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
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

fn contiguous_f32(t: &FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "fused_leaky_relu: only f32 tensors");
    t.to_contiguous()
}

const CHUNK: usize = 1 << 14;

/// `(b, c, s)` of `[b, c, ...]`.
fn bcs(t: &FlexTensor) -> (usize, usize, usize) {
    let shape = t.shape();
    let (b, c) = (shape[0], shape[1]);
    (b, c, shape.num_elements() / (b * c).max(1))
}

fn f32s(t: &FlexTensor) -> &[f32] {
    t.as_slice().expect("contiguous")
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

fn flex_vec(v: Vec<f32>, shape: impl Into<burn::tensor::Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape.into()))
}

impl FusedActivation for Flex {
    fn fused_leaky_relu(x: FlexTensor, slope: f32) -> FlexTensor {
        let x = contiguous_f32(&x);
        let xs: &[f32] = x.as_slice().expect("contiguous");
        let mut y = vec![0.0f32; xs.len()];
        y.par_chunks_mut(CHUNK)
            .zip(xs.par_chunks(CHUNK))
            .for_each(|(y, x)| {
                for (y, &x) in y.iter_mut().zip(x) {
                    // Branch-free so that the loop vectorises.
                    *y = x.max(0.0) + slope * x.min(0.0);
                }
            });
        FlexTensor::from_data(TensorData::new(y, x.shape()))
    }

    fn fused_leaky_relu_backward(y: FlexTensor, dy: FlexTensor, slope: f32) -> FlexTensor {
        let (y, dy) = (contiguous_f32(&y), contiguous_f32(&dy));
        let (ys, gs): (&[f32], &[f32]) = (y.as_slice().unwrap(), dy.as_slice().unwrap());
        let mut dx = vec![0.0f32; ys.len()];
        dx.par_chunks_mut(CHUNK)
            .zip(ys.par_chunks(CHUNK).zip(gs.par_chunks(CHUNK)))
            .for_each(|(dx, (y, g))| {
                for ((dx, &y), &g) in dx.iter_mut().zip(y).zip(g) {
                    let positive = (y >= 0.0) as u32 as f32; // branch-free
                    *dx = g * (slope + (1.0 - slope) * positive);
                }
            });
        FlexTensor::from_data(TensorData::new(dx, y.shape()))
    }

    fn fused_softplus(x: FlexTensor) -> FlexTensor {
        let x = contiguous_f32(&x);
        let xs = f32s(&x);
        let mut y = vec![0.0f32; xs.len()];
        y.par_chunks_mut(CHUNK)
            .zip(xs.par_chunks(CHUNK))
            .for_each(|(y, x)| {
                for (y, &x) in y.iter_mut().zip(x) {
                    // ln(1 + e) rather than ln_1p(e): libm's log1pf is twice the cost of logf, and
                    // where they differ (e < 6e-8) the absolute error is below 6e-8.
                    *y = x.max(0.0) + (1.0 + (-x.abs()).exp()).ln();
                }
            });
        flex_vec(y, x.shape())
    }

    fn fused_softplus_backward(x: FlexTensor, dy: FlexTensor) -> FlexTensor {
        let (x, dy) = (contiguous_f32(&x), contiguous_f32(&dy));
        let (xs, gs) = (f32s(&x), f32s(&dy));
        let mut dx = vec![0.0f32; xs.len()];
        dx.par_chunks_mut(CHUNK)
            .zip(xs.par_chunks(CHUNK).zip(gs.par_chunks(CHUNK)))
            .for_each(|(dx, (x, g))| {
                for ((dx, &x), &g) in dx.iter_mut().zip(x).zip(g) {
                    *dx = g / (1.0 + (-x).exp());
                }
            });
        flex_vec(dx, x.shape())
    }

    fn fused_categorical_log_prob(logits: FlexTensor, target: FlexTensor) -> FlexTensor {
        let (logits, target) = (contiguous_f32(&logits), contiguous_f32(&target));
        let ((b, k, s), ls, ts) = (bcs(&logits), f32s(&logits), f32s(&target));
        let mut out = vec![0.0f32; b * s];
        out.par_chunks_mut(s)
            .zip(ls.par_chunks(k * s).zip(ts.par_chunks(s)))
            .for_each(|(out, (l, t))| {
                // Rows of l are the K classes, each `s` positions long: two vectorisable passes.
                let mut max = l[..s].to_vec();
                for row in l.chunks_exact(s).skip(1) {
                    max.iter_mut().zip(row).for_each(|(m, &v)| *m = m.max(v));
                }
                let mut sum = vec![0.0f32; s];
                for row in l.chunks_exact(s) {
                    let terms = sum.iter_mut().zip(row).zip(&max);
                    terms.for_each(|((acc, &v), &m)| *acc += (v - m).exp());
                }
                for (j, o) in out.iter_mut().enumerate() {
                    let class = (t[j] as usize).min(k - 1);
                    *o = l[class * s + j] - max[j] - sum[j].ln();
                }
            });
        flex_vec(out, [b, s])
    }

    fn fused_categorical_log_prob_backward(
        logits: FlexTensor,
        target: FlexTensor,
        log_prob: FlexTensor,
        dy: FlexTensor,
    ) -> FlexTensor {
        let (logits, target) = (contiguous_f32(&logits), contiguous_f32(&target));
        let (log_prob, dy) = (contiguous_f32(&log_prob), contiguous_f32(&dy));
        let ((_, k, s), ls, ts) = (bcs(&logits), f32s(&logits), f32s(&target));
        let (lp, gs) = (f32s(&log_prob), f32s(&dy));
        let mut dl = vec![0.0f32; ls.len()];
        dl.par_chunks_mut(k * s)
            .zip(ls.par_chunks(k * s))
            .zip(ts.par_chunks(s).zip(lp.par_chunks(s).zip(gs.par_chunks(s))))
            .for_each(|((dl, l), (t, (lp, g)))| {
                // log-sum-exp per position from the forward: lse = l[target] - log p.
                let lse: Vec<f32> = (0..s)
                    .map(|j| l[(t[j] as usize).min(k - 1) * s + j] - lp[j])
                    .collect();
                for (drow, row) in dl.chunks_exact_mut(s).zip(l.chunks_exact(s)) {
                    let terms = drow.iter_mut().zip(row).zip(lse.iter().zip(g));
                    terms.for_each(|((d, &v), (&lse, &g))| *d = -g * (v - lse).exp());
                }
                for j in 0..s {
                    dl[(t[j] as usize).min(k - 1) * s + j] += g[j];
                }
            });
        flex_vec(dl, logits.shape())
    }

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
        let mut y = vec![0.0f32; xs.len()];
        y.par_chunks_mut(c * s)
            .zip(xs.par_chunks(c * s))
            .for_each(|(y, x)| {
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
        let mut dx = vec![0.0f32; xs.len()];
        dx.par_chunks_mut(c * s)
            .zip(xs.par_chunks(c * s).zip(gs.par_chunks(c * s)))
            .for_each(|(dx, (x, dy))| {
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
struct LeakyReluBackward;

impl<B: FusedActivation> Backward<B, 1> for LeakyReluBackward {
    type State = (FloatTensor<B>, f32);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (y, slope) = ops.state;
        if let Some(node) = node {
            grads.register::<B>(node.id, B::fused_leaky_relu_backward(y, dy, slope));
        }
    }
}

#[derive(Debug)]
struct SoftplusBackward;

impl<B: FusedActivation> Backward<B, 1> for SoftplusBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        if let Some(node) = node {
            grads.register::<B>(node.id, B::fused_softplus_backward(ops.state, dy));
        }
    }
}

#[derive(Debug)]
struct CategoricalBackward;

impl<B: FusedActivation> Backward<B, 1> for CategoricalBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (logits, target, log_prob) = ops.state;
        if let Some(node) = node {
            let dl = B::fused_categorical_log_prob_backward(logits, target, log_prob, dy);
            grads.register::<B>(node.id, dl);
        }
    }
}

#[derive(Debug)]
struct BatchNormBackward;

impl<B: FusedActivation> Backward<B, 3> for BatchNormBackward {
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

impl<B: FusedActivation, C: CheckpointStrategy> FusedActivation for Autodiff<B, C> {
    fn fused_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        match LeakyReluBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = B::fused_leaky_relu(x.into_primitive(), slope);
                prep.finish((y.clone(), slope), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_leaky_relu(x.into_primitive(), slope)),
        }
    }

    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_leaky_relu_backward(
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        slope: f32,
    ) -> FloatTensor<Self> {
        let dx = B::fused_leaky_relu_backward(y.into_primitive(), dy.into_primitive(), slope);
        FloatTensor::<Self>::new(dx)
    }

    fn fused_softplus(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match SoftplusBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let state = x.primitive().clone();
                prep.finish(state, B::fused_softplus(x.into_primitive()))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_softplus(x.into_primitive())),
        }
    }

    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_softplus_backward(x: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self> {
        let dx = B::fused_softplus_backward(x.into_primitive(), dy.into_primitive());
        FloatTensor::<Self>::new(dx)
    }

    /// Differentiated in `logits`; `target` is a constant.
    fn fused_categorical_log_prob(
        logits: FloatTensor<Self>,
        target: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let target = target.into_primitive();
        match CategoricalBackward
            .prepare::<C>([logits.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let logits = logits.into_primitive();
                let out = B::fused_categorical_log_prob(logits.clone(), target.clone());
                prep.finish((logits, target, out.clone()), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_categorical_log_prob(
                logits.into_primitive(),
                target,
            )),
        }
    }

    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_categorical_log_prob_backward(
        logits: FloatTensor<Self>,
        target: FloatTensor<Self>,
        log_prob: FloatTensor<Self>,
        dy: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::fused_categorical_log_prob_backward(
            logits.into_primitive(),
            target.into_primitive(),
            log_prob.into_primitive(),
            dy.into_primitive(),
        ))
    }

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

/// burn's `leaky_relu(x, slope)` (slope > 0), one pass each way on flex.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    if matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_)) {
        let y = <Dispatch as FusedActivation>::fused_leaky_relu(x.into_dispatch(), slope as f32);
        return Tensor::from_dispatch(y);
    }
    burn::tensor::activation::leaky_relu(x, slope)
}

/// `ln(1 + e^x)` (burn's `softplus(x, 1.0)`): one pass each way on flex instead of seven.
pub fn softplus<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_)) {
        let y = <Dispatch as FusedActivation>::fused_softplus(x.into_dispatch());
        return Tensor::from_dispatch(y);
    }
    burn::tensor::activation::softplus(x, 1.0)
}

/// `log softmax(logits, dim 1)` at `target`: `logits [b, K, s]`, `target [b, s]` (class indices
/// 0..K as floats) -> `[b, s]`. One pass for the maxima and one for the sums, one backward pass,
/// with no `[b, K, s]` log-probability tensor (burn's log-softmax + gather made ~10 passes).
pub fn categorical_log_prob(logits: Tensor<3>, target: Tensor<2>) -> Tensor<2> {
    if matches!(
        logits.device().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    ) {
        let out = <Dispatch as FusedActivation>::fused_categorical_log_prob(
            logits.into_dispatch(),
            target.into_dispatch(),
        );
        return Tensor::from_dispatch(out);
    }
    let [b, _, s] = logits.dims();
    let index = target.int().reshape([b, 1, s]);
    burn::tensor::activation::log_softmax(logits, 1)
        .gather(1, index)
        .reshape([b, s])
}

/// Whether [`batch_norm`] takes the fused path: training on flex.
fn fused_batch_norm(bn: &BatchNorm, device: &burn::tensor::Device) -> bool {
    let flex = matches!(
        device.clone().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    );
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
    let stats = <Dispatch as FusedActivation>::bn_stats(x.clone().into_dispatch());
    let stats = Tensor::<2>::from_dispatch(stats); // [2, c]
    let y = <Dispatch as FusedActivation>::bn_normalize(
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
            let diff = (fast.clone() - slow.clone())
                .abs()
                .max()
                .into_scalar::<f32>();
            assert!(diff < 1e-4, "{shape:?}: forward differs by {diff}");
            let (gf, gs) = (
                (fast * probe.clone()).sum().backward(),
                (slow * probe).sum().backward(),
            );
            let max_diff = |a: Tensor<1>, b: Tensor<1>| (a - b).abs().max().into_scalar::<f32>();
            let dx = (x.grad(&gf).unwrap() - x.grad(&gs).unwrap())
                .abs()
                .max()
                .into_scalar::<f32>();
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

    #[test]
    fn categorical_log_prob_equals_log_softmax_gather_with_gradient() {
        let device = Device::default().autodiff();
        let (b, k, s) = (3, 7, 11);
        let logits =
            Tensor::<3>::random([b, k, s], Distribution::Normal(0.0, 5.0), &device).require_grad();
        let target =
            Tensor::<2>::random([b, s], Distribution::Uniform(0.0, k as f64), &device).floor();
        let probe = Tensor::<2>::random([b, s], Distribution::Normal(0.0, 1.0), &device);
        let fast = categorical_log_prob(logits.clone(), target.clone());
        let index = target.int().reshape([b, 1, s]);
        let slow = burn::tensor::activation::log_softmax(logits.clone(), 1)
            .gather(1, index)
            .reshape([b, s]);
        let diff = (fast.clone() - slow.clone())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-4, "forward differs by {diff}");
        let (gf, gs) = (
            (fast * probe.clone()).sum().backward(),
            (slow * probe).sum().backward(),
        );
        let (a, b) = (logits.grad(&gf).unwrap(), logits.grad(&gs).unwrap());
        let diff = (a - b).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "gradient differs by {diff}");
    }

    #[test]
    fn softplus_equals_burns_with_gradient() {
        let device = Device::default().autodiff();
        let x =
            Tensor::<2>::random([40, 50], Distribution::Normal(0.0, 8.0), &device).require_grad();
        let probe = Tensor::<2>::random([40, 50], Distribution::Normal(0.0, 1.0), &device);
        let fast = softplus(x.clone());
        let slow = burn::tensor::activation::softplus(x.clone(), 1.0);
        let diff = (fast.clone() - slow.clone())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-5, "forward differs by {diff}");
        let (gf, gs) = (
            (fast * probe.clone()).sum().backward(),
            (slow * probe).sum().backward(),
        );
        let diff = (x.grad(&gf).unwrap() - x.grad(&gs).unwrap())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-5, "gradient differs by {diff}");
    }

    #[test]
    fn equals_burns_leaky_relu_with_gradient() {
        let device = Device::default().autodiff();
        let x =
            Tensor::<3>::random([3, 5, 7], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let probe = Tensor::<3>::random([3, 5, 7], Distribution::Normal(0.0, 1.0), &device);
        let fast = leaky_relu(x.clone(), 0.2);
        let slow = burn::tensor::activation::leaky_relu(x.clone(), 0.2);
        let diff = (fast.clone() - slow.clone())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-6, "forward differs by {diff}");
        let (gf, gs) = (
            (fast * probe.clone()).sum().backward(),
            (slow * probe).sum().backward(),
        );
        let diff = (x.grad(&gf).unwrap() - x.grad(&gs).unwrap())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-6, "gradient differs by {diff}");
    }
}
