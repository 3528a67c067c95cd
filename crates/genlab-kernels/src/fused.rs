//! Leaky ReLU, softplus and ELU as one pass forward and one backward on the flex CPU backend.
//!
//! burn 0.22's autodiff has no leaky-ReLU op: it differentiates the composite
//! `mask_where(x < 0, x · a, x)`, whose backward (two `mask_where` and a scale) was 9% of the
//! DCGAN step (W2, `perf`). Here the backward reads the output once: `dx = dy · (y >= 0 ? 1 : a)`
//! (with `a > 0`, y and x have the same sign). burn's softplus is seven ops (scale, compare,
//! fill, exp, log1p, divide, select), each a pass and a graph node; here it is
//! `max(x, 0) + ln(1 + e^-|x|)` forward and `dy · σ(x)` backward.
//!
//! The shared helpers of the fused ops (`fused_bn`, `fused_categorical`) live here too. Off
//! flex, burn's own ops run.

use crate::par::par_fill;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch};
use burn::backend::{DispatchDevice, TensorMetadata};
use burn::tensor::{DType, Tensor, TensorData};

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
    /// `x > 0 ? x : e^x - 1`, elementwise (ELU with alpha 1).
    fn fused_elu(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `dy · (y > 0 ? 1 : y + 1)` from the output `y`.
    fn fused_elu_backward(y: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self>;
    fn fused_tanh(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `dy · (1 - y²)` from the output `y`.
    fn fused_tanh_backward(y: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self>;
}

pub(crate) fn contiguous_f32(t: &FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "fused ops: only f32 tensors");
    t.to_contiguous()
}

pub(crate) const CHUNK: usize = 1 << 14;

/// `(b, c, s)` of `[b, c, ...]`.
pub(crate) fn bcs(t: &FlexTensor) -> (usize, usize, usize) {
    let shape = t.shape();
    let (b, c) = (shape[0], shape[1]);
    (b, c, shape.num_elements() / (b * c).max(1))
}

pub(crate) fn f32s(t: &FlexTensor) -> &[f32] {
    t.as_slice().expect("contiguous")
}

pub(crate) fn flex_vec(v: Vec<f32>, shape: impl Into<burn::tensor::Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape.into()))
}

/// Whether `x` lives on the flex CPU backend (with or without autodiff).
pub(crate) fn on_flex(device: &burn::tensor::Device) -> bool {
    matches!(
        device.clone().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    )
}

/// `f(x)` element by element, in parallel chunks. Generic in `f`, so each op's loop is
/// compiled (and vectorised where branch-free) on its own.
fn map(x: &FlexTensor, f: impl Fn(f32) -> f32 + Sync) -> FlexTensor {
    let x = contiguous_f32(x);
    let xs = f32s(&x);
    let y = par_fill(xs.len(), CHUNK, |k, y| {
        let x = &xs[k * CHUNK..k * CHUNK + y.len()];
        y.iter_mut().zip(x).for_each(|(y, &x)| *y = f(x));
    });
    flex_vec(y, x.shape())
}

/// `f(a, b)` element by element (a backward pass: `a` the saved tensor, `b` the gradient).
fn map2(a: &FlexTensor, b: &FlexTensor, f: impl Fn(f32, f32) -> f32 + Sync) -> FlexTensor {
    let (a, b) = (contiguous_f32(a), contiguous_f32(b));
    let (xs, gs) = (f32s(&a), f32s(&b));
    let out = par_fill(xs.len(), CHUNK, |k, out| {
        let r = k * CHUNK..k * CHUNK + out.len();
        let (x, g) = (&xs[r.clone()], &gs[r]);
        for ((o, &x), &g) in out.iter_mut().zip(x).zip(g) {
            *o = f(x, g);
        }
    });
    flex_vec(out, a.shape())
}

impl FusedActivation for Flex {
    fn fused_leaky_relu(x: FlexTensor, slope: f32) -> FlexTensor {
        // Branch-free so that the loop vectorises.
        map(&x, |x| x.max(0.0) + slope * x.min(0.0))
    }
    fn fused_leaky_relu_backward(y: FlexTensor, dy: FlexTensor, slope: f32) -> FlexTensor {
        map2(&y, &dy, |y, g| {
            let positive = (y >= 0.0) as u32 as f32; // branch-free
            g * (slope + (1.0 - slope) * positive)
        })
    }
    fn fused_softplus(x: FlexTensor) -> FlexTensor {
        // ln(1 + e) rather than ln_1p(e): libm's log1pf is twice the cost of logf, and where
        // they differ (e < 6e-8) the absolute error is below 6e-8.
        map(&x, |x| x.max(0.0) + (1.0 + (-x.abs()).exp()).ln())
    }
    fn fused_softplus_backward(x: FlexTensor, dy: FlexTensor) -> FlexTensor {
        map2(&x, &dy, |x, g| g / (1.0 + (-x).exp()))
    }
    fn fused_elu(x: FlexTensor) -> FlexTensor {
        map(&x, |x| if x > 0.0 { x } else { x.exp_m1() })
    }
    fn fused_elu_backward(y: FlexTensor, dy: FlexTensor) -> FlexTensor {
        // Branch-free: the slope is 1 above zero and e^x = y + 1 below.
        map2(&y, &dy, |y, g| g * (y.min(0.0) + 1.0))
    }
    fn fused_tanh(x: FlexTensor) -> FlexTensor {
        map(&x, f32::tanh)
    }
    fn fused_tanh_backward(y: FlexTensor, dy: FlexTensor) -> FlexTensor {
        map2(&y, &dy, |y, g| g * (1.0 - y * y))
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
struct EluBackward;

impl<B: FusedActivation> Backward<B, 1> for EluBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        if let Some(node) = node {
            grads.register::<B>(node.id, B::fused_elu_backward(ops.state, dy));
        }
    }
}

#[derive(Debug)]
struct TanhBackward;

impl<B: FusedActivation> Backward<B, 1> for TanhBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        if let Some(node) = node {
            grads.register::<B>(node.id, B::fused_tanh_backward(ops.state, dy));
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
    fn fused_elu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match EluBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = B::fused_elu(x.into_primitive());
                prep.finish(y.clone(), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_elu(x.into_primitive())),
        }
    }
    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_elu_backward(y: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self> {
        let dx = B::fused_elu_backward(y.into_primitive(), dy.into_primitive());
        FloatTensor::<Self>::new(dx)
    }
    fn fused_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match TanhBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = B::fused_tanh(x.into_primitive());
                prep.finish(y.clone(), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_tanh(x.into_primitive())),
        }
    }
    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_tanh_backward(y: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self> {
        let dx = B::fused_tanh_backward(y.into_primitive(), dy.into_primitive());
        FloatTensor::<Self>::new(dx)
    }
}

/// burn's `leaky_relu(x, slope)` (slope > 0), one pass each way on flex.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    if on_flex(&x.device()) {
        let y = <Dispatch as FusedActivation>::fused_leaky_relu(x.into_dispatch(), slope as f32);
        return Tensor::from_dispatch(y);
    }
    burn::tensor::activation::leaky_relu(x, slope)
}

/// burn's `elu(x, 1.0)`, one pass each way on flex (burn's is a compare, an exp, a select and
/// their backward passes).
pub fn elu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if on_flex(&x.device()) {
        let y = <Dispatch as FusedActivation>::fused_elu(x.into_dispatch());
        return Tensor::from_dispatch(y);
    }
    burn::tensor::activation::elu(x, 1.0)
}

/// burn's `tanh(x)`, one parallel pass each way on flex (burn's runs on the calling thread,
/// and its backward is three ops).
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if on_flex(&x.device()) {
        let y = <Dispatch as FusedActivation>::fused_tanh(x.into_dispatch());
        return Tensor::from_dispatch(y);
    }
    burn::tensor::activation::tanh(x)
}

/// `ln(1 + e^x)` (burn's `softplus(x, 1.0)`): one pass each way on flex instead of seven.
pub fn softplus<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if on_flex(&x.device()) {
        let y = <Dispatch as FusedActivation>::fused_softplus(x.into_dispatch());
        return Tensor::from_dispatch(y);
    }
    burn::tensor::activation::softplus(x, 1.0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    /// `max |a - b|`, for the fused ops' tests.
    pub(crate) fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    /// The fused op against burn's on `N(0, scale²)` inputs: values, and input gradients through
    /// a random probe.
    fn same_as_burn(
        fast: impl Fn(Tensor<2>) -> Tensor<2>,
        slow: impl Fn(Tensor<2>) -> Tensor<2>,
        scale: f64,
        tolerance: f32,
    ) {
        let device = Device::default().autodiff();
        let x =
            Tensor::<2>::random([40, 50], Distribution::Normal(0.0, scale), &device).require_grad();
        let probe = Tensor::<2>::random([40, 50], Distribution::Normal(0.0, 1.0), &device);
        let (yf, ys) = (fast(x.clone()), slow(x.clone()));
        let diff = max_diff(yf.clone(), ys.clone());
        assert!(diff < tolerance, "forward differs by {diff}");
        let (gf, gs) = (
            (yf * probe.clone()).sum().backward(),
            (ys * probe).sum().backward(),
        );
        let diff = max_diff(x.grad(&gf).unwrap(), x.grad(&gs).unwrap());
        assert!(diff < tolerance, "gradient differs by {diff}");
    }

    #[test]
    fn softplus_equals_burns_with_gradient() {
        let slow = |x| burn::tensor::activation::softplus(x, 1.0);
        same_as_burn(softplus, slow, 8.0, 1e-5);
    }

    #[test]
    fn elu_equals_burns_with_gradient() {
        let slow = |x| burn::tensor::activation::elu(x, 1.0);
        same_as_burn(elu, slow, 3.0, 1e-5);
    }

    #[test]
    fn tanh_equals_burns_with_gradient() {
        same_as_burn(tanh, burn::tensor::activation::tanh, 2.0, 1e-5);
    }

    #[test]
    fn leaky_relu_equals_burns_with_gradient() {
        let slow = |x| burn::tensor::activation::leaky_relu(x, 0.2);
        same_as_burn(|x| leaky_relu(x, 0.2), slow, 1.0, 1e-6);
    }
}
