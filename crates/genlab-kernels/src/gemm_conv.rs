//! Convolution as im2col + GEMM with its own backward pass, on burn's `flex` CPU backend.
//!
//! Why by hand: burn 0.22 differentiates a convolution generically. The weight gradient is a
//! convolution whose kernel is the output gradient (a 28x28 "kernel"), which maps onto very thin
//! GEMMs, and the input gradient is a transposed convolution; a masked PixelCNN layer built from
//! burn ops (pad, one slice per tap, stack, matmul, permute) spends more time copying than
//! multiplying (`perf` on W3: `copy_2d_tiled` + memmove 21% of a step, the thin-GEMM kernel 9%).
//! Here every direction is one well-shaped GEMM per image:
//!
//! ```text
//! forward        y_b  [o, n]   = W [o, K] · cols(x_b) [K, n]        K = c·t, n = oh·ow
//! input grad     dx_b          = col2im(Wᵀ [K, o] · dy_b [o, n])
//! weight grad    dW   [o, K]   = Σ_b dy_b [o, n] · cols(x_b)ᵀ [n, K]
//! ```
//!
//! `cols` is built straight from the image in one pass and never kept (it is rebuilt in the
//! backward pass: a copy is cheap beside the GEMM it feeds). Images are spread over the rayon
//! pool, each GEMM single-threaded. A *tap list* generalises the kernel: a masked PixelCNN
//! convolution lists only its visible taps, so masked-out weights cost nothing.
//!
//! The same three kernels give the transposed convolution (its forward is the input gradient
//! above), used by the DCGAN generators and the conv decoders.
//!
//! The fast path is a burn *backend extension* (`#[backend_extension]`) for `Flex` and
//! `Autodiff<Flex>`; on any other device (a GPU build) [`conv_taps`] and the layer helpers fall
//! back to burn's own convolution, so model code never changes.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions, PadMode};
use burn::tensor::{IndexingUpdateOp, Int, Tensor, TensorData};

use crate::fused::on_flex;

/// Which kernel offsets carry weights, and how they slide over the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taps {
    /// Kernel offsets `(row, col)` in the order of the weight matrix's columns within a channel.
    pub offsets: Vec<(usize, usize)>,
    /// Kernel size (for the fallback path, which builds a full `k x k` kernel).
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// Zero padding above and to the left; below and to the right it follows from `output`.
    pub pad: [usize; 2],
    /// `[h, w]` of the image the taps read.
    pub input: [usize; 2],
    /// `[oh, ow]` of the result.
    pub output: [usize; 2],
}

impl Taps {
    /// Every offset of a `k x k` kernel, raster order (an ordinary convolution).
    pub fn dense(
        kernel: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 4],
        input: [usize; 2],
    ) -> Self {
        let [kh, kw] = kernel;
        let [top, left, bottom, right] = pad;
        assert!(
            input[0] + top + bottom >= kh && input[1] + left + right >= kw,
            "Taps::dense: a {kh}x{kw} kernel is larger than the padded {}x{} image",
            input[0] + top + bottom,
            input[1] + left + right
        );
        let output = [
            (input[0] + top + bottom - kh) / stride[0] + 1,
            (input[1] + left + right - kw) / stride[1] + 1,
        ];
        Self {
            offsets: (0..kh * kw).map(|i| (i / kw, i % kw)).collect(),
            kernel,
            stride,
            pad: [top, left],
            input,
            output,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.offsets.len()
    }
}

#[backend_extension(Flex, Autodiff)]
pub trait GemmConv: Backend {
    /// `x [b, c, h, w]`, `weight [o, c·t]` -> `[b, o, oh, ow]`
    fn gemm_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, taps: Taps) -> FloatTensor<Self>;
    /// The adjoint of [`GemmConv::gemm_conv`] in `x`: `y [b, o, oh, ow]` -> `[b, c, h, w]`
    fn gemm_conv_transpose(
        y: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        taps: Taps,
    ) -> FloatTensor<Self>;
    /// The weight gradient of [`GemmConv::gemm_conv`]: `x [b, c, h, w]`, `dy [b, o, oh, ow]`
    /// -> `[o, c·t]`
    fn gemm_conv_weight_grad(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        taps: Taps,
    ) -> FloatTensor<Self>;
}

// ---------------------------------------------------------------------------------------------
// Autodiff: the two differentiable ops are each other's input gradient.

#[derive(Debug)]
struct ConvBackward;

impl<B: GemmConv> Backward<B, 2> for ConvBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, Taps);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, w, taps) = ops.state;
        if let Some(node) = node_w {
            let dw = B::gemm_conv_weight_grad(x, dy.clone(), taps.clone());
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::gemm_conv_transpose(dy, w, taps));
        }
    }
}

#[derive(Debug)]
struct ConvTransposeBackward;

impl<B: GemmConv> Backward<B, 2> for ConvTransposeBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, Taps);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_y, node_w] = ops.parents;
        let dx = grads.consume::<B>(&ops.node);
        let (y, w, taps) = ops.state;
        if let Some(node) = node_w {
            let dw = B::gemm_conv_weight_grad(dx.clone(), y, taps.clone());
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_y {
            grads.register::<B>(node.id, B::gemm_conv(dx, w, taps));
        }
    }
}

impl<B: GemmConv, C: CheckpointStrategy> GemmConv for Autodiff<B, C> {
    fn gemm_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, taps: Taps) -> FloatTensor<Self> {
        match ConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let state = (
                    x.primitive().clone(),
                    weight.primitive().clone(),
                    taps.clone(),
                );
                let y = B::gemm_conv(x.into_primitive(), weight.into_primitive(), taps);
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::gemm_conv(
                x.into_primitive(),
                weight.into_primitive(),
                taps,
            )),
        }
    }

    fn gemm_conv_transpose(
        y: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        taps: Taps,
    ) -> FloatTensor<Self> {
        match ConvTransposeBackward
            .prepare::<C>([y.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let state = (
                    y.primitive().clone(),
                    weight.primitive().clone(),
                    taps.clone(),
                );
                let x = B::gemm_conv_transpose(y.into_primitive(), weight.into_primitive(), taps);
                prep.finish(state, x)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::gemm_conv_transpose(
                y.into_primitive(),
                weight.into_primitive(),
                taps,
            )),
        }
    }

    /// Not differentiated further (no gradient of a gradient in burn 0.22).
    fn gemm_conv_weight_grad(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        taps: Taps,
    ) -> FloatTensor<Self> {
        let dw = B::gemm_conv_weight_grad(x.into_primitive(), dy.into_primitive(), taps);
        FloatTensor::<Self>::new(dw)
    }
}

// ---------------------------------------------------------------------------------------------
// Tensor-level API

/// `x [b, c, h, w]`, `weight [o, c·t]` (one column per channel and listed tap) -> `[b, o, oh, ow]`
pub fn conv_taps(x: Tensor<4>, weight: Tensor<2>, taps: &Taps) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    assert_eq!([h, w], taps.input, "conv_taps: image size");
    if on_flex(&x.device()) {
        let y = <Dispatch as GemmConv>::gemm_conv(
            x.into_dispatch(),
            weight.into_dispatch(),
            taps.clone(),
        );
        return Tensor::from_dispatch(y);
    }
    conv_taps_reference(x, weight, taps)
}

/// `y [b, o, oh, ow]`, `weight [o, c·t]` -> `[b, c, h, w]`: the transpose of [`conv_taps`].
pub fn conv_taps_transpose(y: Tensor<4>, weight: Tensor<2>, taps: &Taps) -> Tensor<4> {
    let [_, _, oh, ow] = y.dims();
    assert_eq!([oh, ow], taps.output, "conv_taps_transpose: image size");
    if on_flex(&y.device()) {
        let x = <Dispatch as GemmConv>::gemm_conv_transpose(
            y.into_dispatch(),
            weight.into_dispatch(),
            taps.clone(),
        );
        return Tensor::from_dispatch(x);
    }
    conv_taps_transpose_reference(y, weight, taps)
}

/// `[o, c·t]` -> the full kernel `[o, c, kh, kw]`, zero at unlisted taps.
fn full_kernel(weight: Tensor<2>, taps: &Taps) -> Tensor<4> {
    let [o, kdim] = weight.dims();
    let (c, [kh, kw]) = (kdim / taps.len(), taps.kernel);
    let index: Vec<i64> = taps
        .offsets
        .iter()
        .map(|&(r, q)| (r * kw + q) as i64)
        .collect();
    let index = Tensor::<1, Int>::from_data(TensorData::new(index, [taps.len()]), &weight.device());
    Tensor::<3>::zeros([o, c, kh * kw], &weight.device())
        .select_assign(
            2,
            index,
            weight.reshape([o, c, taps.len()]),
            IndexingUpdateOp::Add,
        )
        .reshape([o, c, kh, kw])
}

/// [`conv_taps_transpose`] from burn's `conv_transpose2d`: the fallback and the tests' reference.
pub fn conv_taps_transpose_reference(y: Tensor<4>, weight: Tensor<2>, taps: &Taps) -> Tensor<4> {
    let ([h, w], [py, px]) = (taps.input, taps.pad);
    let options = ConvTransposeOptions::new(taps.stride, [0, 0], [0, 0], [1, 1], 1);
    let x = burn::tensor::module::conv_transpose2d(y, full_kernel(weight, taps), None, options); // padded
    let [b, c, hp, wp] = x.dims();
    // Rows and columns no tap reaches are zero; cut the padding off.
    let x = x.pad(
        (
            0,
            (w + px).saturating_sub(wp),
            0,
            (h + py).saturating_sub(hp),
        ),
        PadMode::Constant(0.0),
    );
    x.slice([0..b, 0..c, py..py + h, px..px + w])
}

/// The same convolution from burn ops (pad, full kernel with zeros at unlisted taps, conv2d):
/// the fallback off flex and the reference the tests compare against.
pub fn conv_taps_reference(x: Tensor<4>, weight: Tensor<2>, taps: &Taps) -> Tensor<4> {
    let [b, _, h, w] = x.dims();
    let [o, _] = weight.dims();
    let ([kh, kw], [oh, ow], [sy, sx], [py, px]) =
        (taps.kernel, taps.output, taps.stride, taps.pad);
    let full = full_kernel(weight, taps);
    let bottom = ((oh - 1) * sy + kh).saturating_sub(h + py);
    let right = ((ow - 1) * sx + kw).saturating_sub(w + px);
    let xp = x.pad((px, right, py, bottom), PadMode::Constant(0.0));
    let y = conv2d(
        xp,
        full,
        None,
        ConvOptions::new([sy, sx], [0, 0], [1, 1], 1),
    );
    y.slice([0..b, 0..o, 0..oh, 0..ow])
}

fn bias_add(y: Tensor<4>, bias: Option<Tensor<1>>) -> Tensor<4> {
    match bias {
        Some(bias) => y + bias.reshape([1, -1, 1, 1]),
        None => y,
    }
}

/// burn's [`burn::tensor::module::conv2d`], through the GEMM path on flex (same arguments, same
/// result up to float rounding).
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    if options.groups != 1 || options.dilation != [1, 1] || !on_flex(&x.device()) {
        return burn::tensor::module::conv2d(x, weight, bias, options);
    }
    let [_, _, h, w] = x.dims();
    let [o, c, kh, kw] = weight.dims();
    let [(top, bottom), (left, right)] = options.padding;
    let taps = Taps::dense([kh, kw], options.stride, [top, left, bottom, right], [h, w]);
    bias_add(conv_taps(x, weight.reshape([o, c * kh * kw]), &taps), bias)
}

/// burn's [`burn::tensor::module::conv_transpose2d`], through the GEMM path on flex.
pub fn conv_transpose2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvTransposeOptions<2>,
) -> Tensor<4> {
    if options.groups != 1 || options.dilation != [1, 1] || !on_flex(&x.device()) {
        return burn::tensor::module::conv_transpose2d(x, weight, bias, options);
    }
    let [_, _, ih, iw] = x.dims();
    // weight [c_in, c_out, kh, kw] is the weight [o, c, kh, kw] of the convolution it transposes.
    let [i, o, kh, kw] = weight.dims();
    let ([sy, sx], [py, px], [qy, qx]) = (options.stride, options.padding, options.padding_out);
    let out = [
        (ih - 1) * sy + kh + qy - 2 * py,
        (iw - 1) * sx + kw + qx - 2 * px,
    ];
    let mut taps = Taps::dense([kh, kw], options.stride, [py, px, 0, 0], out);
    taps.output = [ih, iw];
    let y = conv_taps_transpose(x, weight.reshape([i, o * kh * kw]), &taps);
    bias_add(y, bias)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    fn close(a: Tensor<4>, b: Tensor<4>, what: &str) {
        let scale = b.clone().abs().max().into_scalar::<f32>().max(1.0);
        let diff = (a - b).abs().max().into_scalar::<f32>();
        assert!(
            diff < 1e-4 * scale,
            "{what}: max difference {diff} (scale {scale})"
        );
    }

    #[test]
    fn conv_and_its_gradients_equal_burns_conv2d() {
        // Strided, padded, asymmetric and masked cases; values and both gradients. The last
        // three are images smaller than the kernel's reach, whose outer taps read only padding
        // (a PixelCNN's 7x7 first layer on 1x1 and 2x2 images).
        let device = Device::default().autodiff();
        let cases = [
            ([3, 3], [1, 1], [1, 1, 1, 1], [9, 8]),
            ([4, 4], [2, 2], [1, 1, 1, 1], [14, 14]),
            ([2, 3], [1, 1], [1, 2, 0, 0], [7, 6]),
            ([5, 5], [2, 1], [0, 0, 0, 0], [11, 9]),
            ([7, 7], [1, 1], [3, 3, 3, 3], [1, 1]),
            ([7, 7], [1, 1], [3, 3, 3, 3], [2, 2]),
            ([5, 5], [2, 2], [4, 4, 4, 4], [1, 2]),
        ];
        // 2 channels take the planar column matrices, 24 the channels-last ones.
        let mut layouts = std::collections::BTreeSet::new();
        for ((kernel, stride, pad, input), c) in cases.into_iter().flat_map(|k| [(k, 2), (k, 24)]) {
            let mut taps = Taps::dense(kernel, stride, pad, input);
            taps.offsets.retain(|&(r, q)| (r + q) % 3 != 1); // a sparse tap set
            layouts.insert(crate::gemm::channels_last(c, taps.output[1]));
            // Batch 5: images are grouped into GEMMs of >= 256 columns, the last group smaller.
            let x = Tensor::<4>::random(
                [5, c, input[0], input[1]],
                Distribution::Normal(0.0, 1.0),
                &device,
            )
            .require_grad();
            let w =
                Tensor::<2>::random([4, c * taps.len()], Distribution::Normal(0.0, 1.0), &device)
                    .require_grad();
            assert!(on_flex(&x.device()), "the test must exercise the fast path");
            let [oh, ow] = taps.output;
            let probe =
                Tensor::<4>::random([5, 4, oh, ow], Distribution::Normal(0.0, 1.0), &device);
            let fast = conv_taps(x.clone(), w.clone(), &taps);
            let slow = conv_taps_reference(x.clone(), w.clone(), &taps);
            close(fast.clone(), slow.clone(), "forward");
            let g_fast = (fast * probe.clone()).sum().backward();
            let g_slow = (slow * probe).sum().backward();
            close(
                x.grad(&g_fast).unwrap(),
                x.grad(&g_slow).unwrap(),
                "input gradient",
            );
            let (wf, ws) = (w.grad(&g_fast).unwrap(), w.grad(&g_slow).unwrap());
            close(wf.unsqueeze::<4>(), ws.unsqueeze::<4>(), "weight gradient");
        }
        assert_eq!(layouts.len(), 2, "both column layouts exercised");
    }

    #[test]
    fn transpose_equals_its_reference_and_is_the_adjoint() {
        // <conv(x), y> == <x, convᵀ(y)>; the fast transpose equals burn's conv_transpose2d path.
        let device = Device::default();
        let mut taps = Taps::dense([3, 3], [2, 2], [1, 1, 1, 1], [7, 7]);
        taps.offsets.truncate(5);
        let x = Tensor::<4>::random([2, 2, 7, 7], Distribution::Normal(0.0, 1.0), &device);
        let w = Tensor::<2>::random([3, 10], Distribution::Normal(0.0, 1.0), &device);
        let y = Tensor::<4>::random([2, 3, 4, 4], Distribution::Normal(0.0, 1.0), &device);
        let fast = conv_taps_transpose(y.clone(), w.clone(), &taps);
        close(
            fast.clone(),
            conv_taps_transpose_reference(y.clone(), w.clone(), &taps),
            "transpose",
        );
        let lhs = (conv_taps(x.clone(), w, &taps) * y)
            .sum()
            .into_scalar::<f32>();
        let rhs = (x * fast).sum().into_scalar::<f32>();
        assert!(
            (lhs - rhs).abs() < 1e-3 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
    }
}
