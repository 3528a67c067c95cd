//! Leaky ReLU as one pass forward and one pass backward on the flex CPU backend.
//!
//! burn 0.22's autodiff has no leaky-ReLU op: it differentiates the composite
//! `mask_where(x < 0, x · a, x)`, whose backward (two `mask_where` and a scale) was 9% of the
//! DCGAN step (W2, `perf`). Here the backward reads the output once: `dx = dy · (y >= 0 ? 1 : a)`
//! (with `a > 0`, y and x have the same sign). Off flex, burn's own `leaky_relu` runs.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::TensorMetadata;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, DispatchDevice};
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
}

fn contiguous_f32(t: &FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "fused_leaky_relu: only f32 tensors");
    t.to_contiguous()
}

const CHUNK: usize = 1 << 14;

impl FusedActivation for Flex {
    fn fused_leaky_relu(x: FlexTensor, slope: f32) -> FlexTensor {
        let x = contiguous_f32(&x);
        let xs: &[f32] = x.as_slice().expect("contiguous");
        let mut y = vec![0.0f32; xs.len()];
        y.par_chunks_mut(CHUNK)
            .zip(xs.par_chunks(CHUNK))
            .for_each(|(y, x)| {
                for (y, &x) in y.iter_mut().zip(x) {
                    *y = if x >= 0.0 { x } else { slope * x };
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
                    *dx = if y >= 0.0 { g } else { slope * g };
                }
            });
        FlexTensor::from_data(TensorData::new(dx, y.shape()))
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
}

/// burn's `leaky_relu(x, slope)` (slope > 0), one pass each way on flex.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    if matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_)) {
        let y = <Dispatch as FusedActivation>::fused_leaky_relu(x.into_dispatch(), slope as f32);
        return Tensor::from_dispatch(y);
    }
    burn::tensor::activation::leaky_relu(x, slope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

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
