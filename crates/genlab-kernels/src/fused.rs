//! Leaky ReLU, softplus, ELU, tanh and the gated units (tanh ⊙ σ, GLU) as one pass forward and
//! one backward on the flex CPU backend, their exponentials vectorised ([`crate::vexp`]).
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
use crate::vexp;
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
    /// `[a, b] -> f(a) · σ(b)` with `[a, b]` the two halves of dim 1, `[n, 2p, ..] -> [n, p, ..]`;
    /// `f` is tanh when `tanh`, else the identity (GLU).
    fn fused_gate(x: FloatTensor<Self>, tanh: bool) -> FloatTensor<Self>;
    /// `dx [n, 2p, ..]` of [`FusedActivation::fused_gate`] from its input `x` and `dy [n, p, ..]`.
    fn fused_gate_backward(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        tanh: bool,
    ) -> FloatTensor<Self>;
    /// `x [n, c, h, w]` moved `rows` down and `cols` right (negative: up, left), zeros where
    /// nothing moves in. Its backward is the opposite shift.
    fn fused_shift(x: FloatTensor<Self>, rows: isize, cols: isize) -> FloatTensor<Self>;
    /// `elu([x, -x])` over dim 1: `[n, c, ..] -> [n, 2c, ..]`.
    fn fused_concat_elu(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `dx [n, c, ..]` of [`FusedActivation::fused_concat_elu`] from its input `x` and
    /// `dy [n, 2c, ..]`.
    fn fused_concat_elu_backward(x: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self>;
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
        vexp::wide(|| y.iter_mut().zip(x).for_each(|(y, &x)| *y = f(x)));
    });
    flex_vec(y, x.shape())
}

/// The runs of the flat indices `start..start + len` that stay in one block of `block`
/// indices: `(offset from start, block, offset in the block, length)`, so that a loop over a
/// run reads contiguous slices (and vectorises).
fn runs(start: usize, len: usize, block: usize) -> impl Iterator<Item = [usize; 4]> {
    let (mut j, end) = (start, start + len);
    std::iter::from_fn(move || {
        (j < end).then(|| {
            let (i, o) = (j / block, j % block);
            let n = (block - o).min(end - j);
            j += n;
            [j - n - start, i, o, n]
        })
    })
}

/// The gate's forward on one run: `out = f(a) · σ(b)`.
#[inline(always)]
fn gate_run(a: &[f32], b: &[f32], out: &mut [f32], tanh: bool) {
    let it = out.iter_mut().zip(a).zip(b);
    if tanh {
        it.for_each(|((o, &a), &b)| *o = vexp::tanh(a) * vexp::sigmoid(b));
    } else {
        it.for_each(|((o, &a), &b)| *o = a * vexp::sigmoid(b));
    }
}

/// The gate's backward on one run of its `a` half (`da = dy · σ(b) · f'(a)`) or of its `b`
/// half (`db = dy · f(a) · σ(b)(1 - σ(b))`).
#[inline(always)]
fn gate_backward_run(a: &[f32], b: &[f32], dy: &[f32], out: &mut [f32], tanh: bool, of_a: bool) {
    let it = out.iter_mut().zip(a).zip(b).zip(dy);
    match (tanh, of_a) {
        (true, true) => it.for_each(|(((o, &a), &b), &g)| {
            let t = vexp::tanh(a);
            *o = g * vexp::sigmoid(b) * (1.0 - t * t)
        }),
        (false, true) => it.for_each(|(((o, _), &b), &g)| *o = g * vexp::sigmoid(b)),
        (true, false) => it.for_each(|(((o, &a), &b), &g)| {
            let s = vexp::sigmoid(b);
            *o = g * vexp::tanh(a) * s * (1.0 - s)
        }),
        (false, false) => it.for_each(|(((o, &a), &b), &g)| {
            let s = vexp::sigmoid(b);
            *o = g * a * s * (1.0 - s)
        }),
    }
}

/// `out [h, w]` = the plane `x [h, w]` moved `rows` down and `cols` right; `out` is zeroed.
fn shift_plane(x: &[f32], out: &mut [f32], [h, w]: [usize; 2], rows: isize, cols: isize) {
    let (h, w) = (h as isize, w as isize);
    if cols.abs() >= w {
        return;
    }
    // Columns `to` of an output row come from the columns `from` of its source row.
    let (to, from) = if cols >= 0 {
        (cols..w, 0..w - cols)
    } else {
        (0..w + cols, -cols..w)
    };
    for r in (0..h).filter(|r| (0..h).contains(&(r - rows))) {
        let (o, i) = ((r * w) as usize, ((r - rows) * w) as usize);
        out[o + to.start as usize..o + to.end as usize]
            .copy_from_slice(&x[i + from.start as usize..i + from.end as usize]);
    }
}

/// `f(a, b)` element by element (a backward pass: `a` the saved tensor, `b` the gradient).
fn map2(a: &FlexTensor, b: &FlexTensor, f: impl Fn(f32, f32) -> f32 + Sync) -> FlexTensor {
    let (a, b) = (contiguous_f32(a), contiguous_f32(b));
    let (xs, gs) = (f32s(&a), f32s(&b));
    let out = par_fill(xs.len(), CHUNK, |k, out| {
        let r = k * CHUNK..k * CHUNK + out.len();
        let (x, g) = (&xs[r.clone()], &gs[r]);
        vexp::wide(|| {
            for ((o, &x), &g) in out.iter_mut().zip(x).zip(g) {
                *o = f(x, g);
            }
        })
    });
    flex_vec(out, a.shape())
}

impl FusedActivation for Flex {
    fn fused_leaky_relu(x: FlexTensor, slope: f32) -> FlexTensor {
        // A select, which vectorises, and NaN stays NaN (`x.max(0.0) + slope * x.min(0.0)` made
        // it 0 and hid a diverged discriminator).
        map(&x, |x| if x > 0.0 { x } else { slope * x })
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
        // x above zero, e^x - 1 below (vexp's, which vectorises; libm's expm1f was 21% of a
        // PixelCNN++ step), as a select of both, and NaN stays NaN (`x.max(0.0)` would drop it).
        map(&x, |x| if x > 0.0 { x } else { vexp::expm1(x) })
    }
    fn fused_elu_backward(y: FlexTensor, dy: FlexTensor) -> FlexTensor {
        // Branch-free: the slope is 1 above zero and e^x = y + 1 below.
        map2(&y, &dy, |y, g| g * (y.min(0.0) + 1.0))
    }
    fn fused_tanh(x: FlexTensor) -> FlexTensor {
        // libm's, as softplus's exp: vexp's would change DCGAN's and the VAE's numbers in the
        // last bits, which the house fixture (tests/house_fixture.rs) pins.
        map(&x, f32::tanh)
    }
    fn fused_tanh_backward(y: FlexTensor, dy: FlexTensor) -> FlexTensor {
        map2(&y, &dy, |y, g| g * (1.0 - y * y))
    }
    fn fused_gate(x: FlexTensor, tanh: bool) -> FlexTensor {
        let x = contiguous_f32(&x);
        let (n, c, s) = bcs(&x);
        assert!(c % 2 == 0, "gate: {c} channels do not split in two halves");
        let half = c / 2 * s;
        let xs = f32s(&x);
        let y = par_fill(n * half, CHUNK, |k, out| {
            for [at, i, o, len] in runs(k * CHUNK, out.len(), half) {
                let a = &xs[2 * i * half + o..][..len];
                let b = &xs[(2 * i + 1) * half + o..][..len];
                vexp::wide(|| gate_run(a, b, &mut out[at..at + len], tanh));
            }
        });
        let mut shape = x.shape();
        shape[1] = c / 2;
        flex_vec(y, shape)
    }
    fn fused_gate_backward(x: FlexTensor, dy: FlexTensor, tanh: bool) -> FlexTensor {
        let (x, dy) = (contiguous_f32(&x), contiguous_f32(&dy));
        let (n, c, s) = bcs(&x);
        let half = c / 2 * s;
        let (xs, gs) = (f32s(&x), f32s(&dy));
        let dx = par_fill(n * 2 * half, CHUNK, |k, out| {
            // Blocks of `half`: image i's `a` half is block 2i, its `b` half block 2i + 1.
            for [at, block, o, len] in runs(k * CHUNK, out.len(), half) {
                let i = block / 2;
                let a = &xs[2 * i * half + o..][..len];
                let b = &xs[(2 * i + 1) * half + o..][..len];
                let g = &gs[i * half + o..][..len];
                let of_a = block % 2 == 0;
                vexp::wide(|| gate_backward_run(a, b, g, &mut out[at..at + len], tanh, of_a));
            }
        });
        flex_vec(dx, x.shape())
    }
    fn fused_shift(x: FlexTensor, rows: isize, cols: isize) -> FlexTensor {
        let x = contiguous_f32(&x);
        let shape = x.shape();
        assert_eq!(shape.len(), 4, "shift: a [n, c, h, w] tensor");
        let (h, w) = (shape[2], shape[3]);
        let plane = (h * w).max(1);
        let planes = (CHUNK / plane).max(1); // per parallel chunk
        let xs = f32s(&x);
        let y = par_fill(shape.num_elements(), planes * plane, |k, out| {
            for (j, out) in out.chunks_mut(plane).enumerate() {
                let at = (k * planes + j) * plane;
                shift_plane(&xs[at..at + plane], out, [h, w], rows, cols);
            }
        });
        flex_vec(y, shape)
    }
    fn fused_concat_elu(x: FlexTensor) -> FlexTensor {
        let x = contiguous_f32(&x);
        let (n, c, s) = bcs(&x);
        let block = c * s; // one image's values
        let xs = f32s(&x);
        let elu = |v: f32| if v > 0.0 { v } else { vexp::expm1(v) };
        let y = par_fill(n * 2 * block, CHUNK, |k, out| {
            // Block 2i is image i's elu(x), block 2i + 1 its elu(-x).
            for [at, j, o, len] in runs(k * CHUNK, out.len(), block) {
                let (x, out) = (&xs[j / 2 * block + o..][..len], &mut out[at..at + len]);
                let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
                vexp::wide(|| out.iter_mut().zip(x).for_each(|(y, &x)| *y = elu(sign * x)));
            }
        });
        let mut shape = x.shape();
        shape[1] = 2 * c;
        flex_vec(y, shape)
    }
    fn fused_concat_elu_backward(x: FlexTensor, dy: FlexTensor) -> FlexTensor {
        let (x, dy) = (contiguous_f32(&x), contiguous_f32(&dy));
        let (n, c, s) = bcs(&x);
        let block = c * s;
        let (xs, gs) = (f32s(&x), f32s(&dy));
        // elu'(v) = 1 above zero, e^v below: e^min(v, 0).
        let dx = par_fill(n * block, CHUNK, |k, out| {
            for [at, i, o, len] in runs(k * CHUNK, out.len(), block) {
                let x = &xs[i * block + o..][..len];
                let (g, h) = (
                    &gs[2 * i * block + o..][..len],
                    &gs[(2 * i + 1) * block + o..][..len],
                );
                vexp::wide(|| {
                    for (((d, &x), &g), &h) in out[at..at + len].iter_mut().zip(x).zip(g).zip(h) {
                        *d = g * vexp::exp(x.min(0.0)) - h * vexp::exp((-x).min(0.0));
                    }
                })
            }
        });
        flex_vec(dx, x.shape())
    }
}

/// The backward of a one-input fused op: `dx = grad(state, dy)`, with the state its forward
/// kept. burn's `Backward` wants a type per op; one type with the op's gradient function stands
/// for all of them.
struct Unary<B: Backend, S>(fn(S, FloatTensor<B>) -> FloatTensor<B>);

impl<B: Backend, S> std::fmt::Debug for Unary<B, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unary")
    }
}

impl<B: Backend, S: Clone + Send + std::fmt::Debug + 'static> Backward<B, 1> for Unary<B, S> {
    type State = S;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        if let Some(node) = node {
            grads.register::<B>(node.id, (self.0)(ops.state, dy));
        }
    }
}

/// `forward(x)` on the autodiff backend: when `x` is tracked, the state `keep(x, y)` is kept
/// for `grad` (the input, the output, or a constant, as the op's derivative needs).
fn unary<B, C, S>(
    x: FloatTensor<Autodiff<B, C>>,
    forward: impl FnOnce(FloatTensor<B>) -> FloatTensor<B>,
    keep: impl FnOnce(FloatTensor<B>, &FloatTensor<B>) -> S,
    grad: fn(S, FloatTensor<B>) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>>
where
    B: Backend,
    C: CheckpointStrategy,
    S: Clone + Send + std::fmt::Debug + 'static,
{
    match Unary(grad)
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let x = x.into_primitive();
            let y = forward(x.clone());
            prep.finish(keep(x, &y), y)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive())),
    }
}

impl<B: FusedActivation, C: CheckpointStrategy> FusedActivation for Autodiff<B, C> {
    fn fused_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        unary::<B, C, _>(
            x,
            |x| B::fused_leaky_relu(x, slope),
            |_, y| (y.clone(), slope),
            |(y, slope), dy| B::fused_leaky_relu_backward(y, dy, slope),
        )
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
        unary::<B, C, _>(x, B::fused_softplus, |x, _| x, B::fused_softplus_backward)
    }
    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_softplus_backward(x: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self> {
        let dx = B::fused_softplus_backward(x.into_primitive(), dy.into_primitive());
        FloatTensor::<Self>::new(dx)
    }
    fn fused_elu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        unary::<B, C, _>(x, B::fused_elu, |_, y| y.clone(), B::fused_elu_backward)
    }
    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_elu_backward(y: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self> {
        let dx = B::fused_elu_backward(y.into_primitive(), dy.into_primitive());
        FloatTensor::<Self>::new(dx)
    }
    fn fused_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        unary::<B, C, _>(x, B::fused_tanh, |_, y| y.clone(), B::fused_tanh_backward)
    }
    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_tanh_backward(y: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self> {
        let dx = B::fused_tanh_backward(y.into_primitive(), dy.into_primitive());
        FloatTensor::<Self>::new(dx)
    }
    fn fused_gate(x: FloatTensor<Self>, tanh: bool) -> FloatTensor<Self> {
        unary::<B, C, _>(
            x,
            |x| B::fused_gate(x, tanh),
            |x, _| (x, tanh),
            |(x, tanh), dy| B::fused_gate_backward(x, dy, tanh),
        )
    }
    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_gate_backward(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        tanh: bool,
    ) -> FloatTensor<Self> {
        let dx = B::fused_gate_backward(x.into_primitive(), dy.into_primitive(), tanh);
        FloatTensor::<Self>::new(dx)
    }
    fn fused_shift(x: FloatTensor<Self>, rows: isize, cols: isize) -> FloatTensor<Self> {
        // Its adjoint is the opposite shift.
        unary::<B, C, _>(
            x,
            |x| B::fused_shift(x, rows, cols),
            |_, _| (rows, cols),
            |(rows, cols), dy| B::fused_shift(dy, -rows, -cols),
        )
    }
    fn fused_concat_elu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        unary::<B, C, _>(
            x,
            B::fused_concat_elu,
            |x, _| x,
            B::fused_concat_elu_backward,
        )
    }
    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn fused_concat_elu_backward(x: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self> {
        let dx = B::fused_concat_elu_backward(x.into_primitive(), dy.into_primitive());
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

/// The gated activation unit `tanh(a) ⊙ σ(b)` of the halves `[a, b]` of dim 1 (van den Oord et
/// al. 2016, "Conditional Image Generation with PixelCNN Decoders", eq. 2):
/// `[n, 2p, ..] -> [n, p, ..]`. One pass each way on flex, against two narrows, tanh, sigmoid
/// and a product (and their five backward passes) in burn. Panics on an odd channel count.
pub fn gated_tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    gate(x, true)
}

/// The gated linear unit `a ⊙ σ(b)` of the halves `[a, b]` of dim 1 (Dauphin et al. 2017;
/// PixelCNN++'s gated ResNet, Salimans et al. 2017): `[n, 2p, ..] -> [n, p, ..]`, fused as
/// [`gated_tanh`].
pub fn glu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    gate(x, false)
}

fn gate<const D: usize>(x: Tensor<D>, tanh: bool) -> Tensor<D> {
    if on_flex(&x.device()) {
        let y = <Dispatch as FusedActivation>::fused_gate(x.into_dispatch(), tanh);
        return Tensor::from_dispatch(y);
    }
    let p = x.dims()[1] / 2;
    let (a, b) = (x.clone().narrow(1, 0, p), x.narrow(1, p, p));
    let a = if tanh {
        burn::tensor::activation::tanh(a)
    } else {
        a
    };
    a * burn::tensor::activation::sigmoid(b)
}

/// `x [n, c, h, w]` moved down one row, zeros on top (the vertical stack's view of the rows
/// above, PixelCNN++'s down-shift). One copy each way on flex; burn's slice and concatenation
/// copied the strided slice one value at a time (11% of a Gated PixelCNN step).
pub fn shift_down(x: Tensor<4>) -> Tensor<4> {
    shift(x, 1, 0)
}

/// `x [n, c, h, w]` moved right one column, zeros on the left; see [`shift_down`].
pub fn shift_right(x: Tensor<4>) -> Tensor<4> {
    shift(x, 0, 1)
}

fn shift(x: Tensor<4>, rows: usize, cols: usize) -> Tensor<4> {
    if on_flex(&x.device()) {
        let y = <Dispatch as FusedActivation>::fused_shift(
            x.into_dispatch(),
            rows as isize,
            cols as isize,
        );
        return Tensor::from_dispatch(y);
    }
    let [n, c, h, w] = x.dims();
    x.slice([0..n, 0..c, 0..h - rows, 0..w - cols]).pad(
        (cols, 0, rows, 0),
        burn::tensor::ops::PadMode::Constant(0.0),
    )
}

/// `elu([x, -x])` over dim 1 (PixelCNN++'s concat_elu, Salimans et al. 2017):
/// `[n, c, ..] -> [n, 2c, ..]`, one pass each way on flex instead of a negation, a
/// concatenation and an ELU.
pub fn concat_elu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if on_flex(&x.device()) {
        let y = <Dispatch as FusedActivation>::fused_concat_elu(x.into_dispatch());
        return Tensor::from_dispatch(y);
    }
    burn::tensor::activation::elu(Tensor::cat(vec![x.clone(), x.neg()], 1), 1.0)
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
    /// a random probe (of the output's shape, which may differ from the input's).
    fn same_as_burn(
        fast: impl Fn(Tensor<2>) -> Tensor<2>,
        slow: impl Fn(Tensor<2>) -> Tensor<2>,
        scale: f64,
        tolerance: f32,
    ) {
        let device = Device::default().autodiff();
        let x =
            Tensor::<2>::random([40, 50], Distribution::Normal(0.0, scale), &device).require_grad();
        let probe = Tensor::<2>::zeros(slow(x.clone()).dims(), &device)
            .random_like(Distribution::Normal(0.0, 1.0));
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
        // A NaN (a diverged network) stays NaN, in both ELUs.
        let x = Tensor::<2>::from_floats([[f32::NAN, -1.0, 2.0]], &Device::default());
        for y in [elu(x.clone()), concat_elu(x)] {
            let y = y.into_data().try_to_vec::<f32>().unwrap();
            assert!(
                y[0].is_nan() && y[1..3].iter().all(|v| v.is_finite()),
                "{y:?}"
            );
        }
    }

    #[test]
    fn tanh_equals_burns_with_gradient() {
        same_as_burn(tanh, burn::tensor::activation::tanh, 2.0, 1e-5);
    }

    /// A gate against burn's ops on `[n, 2p, h, w]` inputs, with gradients through a probe:
    /// one chunk of many small half-images; half-images that tile chunks of 2^14 exactly; and
    /// 3·33·33 = 3,267 values per half-image, so that the chunk edge at 2^14 falls inside one.
    fn gate_same_as_burn(fast: impl Fn(Tensor<4>) -> Tensor<4>, tanh: bool) {
        let device = Device::default().autodiff();
        for [n, c, h, w] in [[3, 10, 5, 7], [64, 8, 16, 16], [8, 6, 33, 33]] {
            let dist = Distribution::Normal(0.0, 2.0);
            let x = Tensor::<4>::random([n, c, h, w], dist, &device).require_grad();
            let probe = Tensor::<4>::random([n, c / 2, h, w], dist, &device);
            let (a, b) = (
                x.clone().narrow(1, 0, c / 2),
                x.clone().narrow(1, c / 2, c / 2),
            );
            let a = if tanh {
                burn::tensor::activation::tanh(a)
            } else {
                a
            };
            let slow = a * burn::tensor::activation::sigmoid(b);
            let quick = fast(x.clone());
            assert_eq!(quick.dims(), [n, c / 2, h, w]);
            let diff = max_diff(quick.clone(), slow.clone());
            assert!(diff < 1e-5, "forward differs by {diff}");
            let gf = (quick * probe.clone()).sum().backward();
            let gs = (slow * probe).sum().backward();
            let diff = max_diff(x.grad(&gf).unwrap(), x.grad(&gs).unwrap());
            assert!(diff < 1e-5, "gradient differs by {diff}");
        }
    }

    #[test]
    fn gated_tanh_equals_burns_with_gradient() {
        gate_same_as_burn(gated_tanh, true);
    }

    #[test]
    fn glu_equals_burns_with_gradient() {
        gate_same_as_burn(glu, false);
    }

    #[test]
    fn shifts_equal_slice_and_pad_with_gradient() {
        let device = Device::default().autodiff();
        let dist = Distribution::Normal(0.0, 1.0);
        // Planes of 4x5 and 1x1; 40x30 planes: more than one plane per chunk and less.
        for [n, c, h, w] in [[2, 3, 4, 5], [2, 2, 1, 1], [3, 20, 40, 30]] {
            let x = Tensor::<4>::random([n, c, h, w], dist, &device).require_grad();
            let probe = Tensor::<4>::random([n, c, h, w], dist, &device);
            for (rows, cols) in [(1, 0), (0, 1)] {
                let quick = shift(x.clone(), rows, cols);
                if h == rows || w == cols {
                    // Everything shifts out: burn's empty slice is not tracked, so compare with
                    // zeros, and the gradient with zeros too.
                    let zero = Tensor::<4>::zeros([n, c, h, w], &device);
                    assert_eq!(max_diff(quick.clone(), zero.clone()), 0.0);
                    let g = (quick * probe.clone()).sum().backward();
                    assert_eq!(max_diff(x.grad(&g).unwrap(), zero), 0.0);
                    continue;
                }
                let slow = x.clone().slice([0..n, 0..c, 0..h - rows, 0..w - cols]).pad(
                    (cols, 0, rows, 0),
                    burn::tensor::ops::PadMode::Constant(0.0),
                );
                assert_eq!(max_diff(quick.clone(), slow.clone()), 0.0);
                let gf = (quick * probe.clone()).sum().backward();
                let gs = (slow * probe.clone()).sum().backward();
                assert_eq!(max_diff(x.grad(&gf).unwrap(), x.grad(&gs).unwrap()), 0.0);
            }
        }
    }

    #[test]
    fn concat_elu_equals_burns_with_gradient() {
        let slow = |x: Tensor<2>| {
            burn::tensor::activation::elu(Tensor::cat(vec![x.clone(), x.neg()], 1), 1.0)
        };
        same_as_burn(concat_elu, slow, 3.0, 1e-5);
        // On images, as PixelCNN++ calls it: one chunk of small images, images that tile
        // chunks of 2^14 exactly, and 3·33·33 values per image so that a chunk edge falls
        // inside one (the output's blocks, twice the input's, cross it elsewhere).
        let device = Device::default().autodiff();
        let dist = Distribution::Normal(0.0, 2.0);
        for [n, c, h, w] in [[3, 5, 5, 7], [64, 4, 16, 16], [8, 3, 33, 33]] {
            let x = Tensor::<4>::random([n, c, h, w], dist, &device).require_grad();
            let probe = Tensor::<4>::random([n, 2 * c, h, w], dist, &device);
            let slow = burn::tensor::activation::elu(
                Tensor::cat(vec![x.clone(), x.clone().neg()], 1),
                1.0,
            );
            let quick = concat_elu(x.clone());
            assert_eq!(quick.dims(), [n, 2 * c, h, w]);
            let diff = max_diff(quick.clone(), slow.clone());
            assert!(
                diff < 1e-5,
                "forward differs by {diff} on {:?}",
                [n, c, h, w]
            );
            let gf = (quick * probe.clone()).sum().backward();
            let gs = (slow * probe).sum().backward();
            let diff = max_diff(x.grad(&gf).unwrap(), x.grad(&gs).unwrap());
            assert!(
                diff < 1e-5,
                "gradient differs by {diff} on {:?}",
                [n, c, h, w]
            );
        }
    }

    #[test]
    fn runs_split_at_block_edges() {
        let got: Vec<_> = runs(5, 9, 4).collect();
        assert_eq!(got, [[0, 1, 1, 3], [3, 2, 0, 4], [7, 3, 0, 2]]);
        assert_eq!(runs(8, 0, 4).count(), 0);
    }

    #[test]
    fn leaky_relu_equals_burns_with_gradient() {
        let slow = |x| burn::tensor::activation::leaky_relu(x, 0.2);
        same_as_burn(|x| leaky_relu(x, 0.2), slow, 1.0, 1e-6);
        let x = Tensor::<2>::from_floats([[f32::NAN, -1.0, 2.0]], &Device::default());
        let y = leaky_relu(x, 0.2).into_data().try_to_vec::<f32>().unwrap();
        assert!(y[0].is_nan() && y[1] == -0.2 && y[2] == 2.0, "{y:?}");
    }
}
