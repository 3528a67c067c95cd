//! The categorical log-probability `log softmax(logits)[target]` along dim 1, fused.
//!
//! PixelCNN's 256-way softmax over `[b, 256, 784]` logits: burn's log-softmax + gather made
//! about ten passes and a `[b, 256, 784]` log-probability tensor. Here the forward is two passes
//! (maxima, then sums of exponentials) and the backward one:
//! `dlogits = dy · (onehot(target) - softmax(logits))`, with the log-sum-exp recovered from the
//! forward's output. Off flex, burn's own ops run.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::TensorMetadata;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch};
use burn::tensor::Tensor;
use rayon::prelude::*;

use crate::fused::{bcs, contiguous_f32, f32s, flex_vec, on_flex};
use crate::vexp::exp_in_place;

#[backend_extension(Flex, Autodiff)]
pub trait FusedCategorical: Backend {
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
}

impl FusedCategorical for Flex {
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
                let (mut sum, mut e) = (vec![0.0f32; s], vec![0.0f32; s]);
                for row in l.chunks_exact(s) {
                    e.iter_mut()
                        .zip(row)
                        .zip(&max)
                        .for_each(|((e, &v), &m)| *e = v - m);
                    exp_in_place(&mut e);
                    sum.iter_mut().zip(&e).for_each(|(acc, &e)| *acc += e);
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
                    drow.iter_mut()
                        .zip(row)
                        .zip(&lse)
                        .for_each(|((d, &v), &lse)| *d = v - lse);
                    exp_in_place(drow);
                    drow.iter_mut().zip(g).for_each(|(d, &g)| *d *= -g);
                }
                for j in 0..s {
                    dl[(t[j] as usize).min(k - 1) * s + j] += g[j];
                }
            });
        flex_vec(dl, logits.shape())
    }
}

#[derive(Debug)]
struct CategoricalBackward;

impl<B: FusedCategorical> Backward<B, 1> for CategoricalBackward {
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

impl<B: FusedCategorical, C: CheckpointStrategy> FusedCategorical for Autodiff<B, C> {
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
}

/// `log softmax(logits, dim 1)` at `target`: `logits [b, K, s]`, `target [b, s]` (class indices
/// 0..K as floats) -> `[b, s]`. One pass for the maxima and one for the sums, one backward pass,
/// with no `[b, K, s]` log-probability tensor (burn's log-softmax + gather made ~10 passes).
pub fn categorical_log_prob(logits: Tensor<3>, target: Tensor<2>) -> Tensor<2> {
    if on_flex(&logits.device()) {
        let out = <Dispatch as FusedCategorical>::fused_categorical_log_prob(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::tests::max_diff;
    use burn::tensor::{Device, Distribution};

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
        let diff = max_diff(fast.clone(), slow.clone());
        assert!(diff < 1e-4, "forward differs by {diff}");
        let (gf, gs) = (
            (fast * probe.clone()).sum().backward(),
            (slow * probe).sum().backward(),
        );
        let (a, b) = (logits.grad(&gf).unwrap(), logits.grad(&gs).unwrap());
        let diff = max_diff(a, b);
        assert!(diff < 1e-5, "gradient differs by {diff}");
    }
}
