//! The flex kernels of [`crate::gemm_conv`]: im2col and col2im over a tap list, image groups,
//! and the three GEMMs (forward, input gradient, weight gradient). f32 only.

use crate::par::par_fill;
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::TensorMetadata;
use burn::tensor::{DType, TensorData};
use rayon::prelude::*;
use std::ops::Range;

use crate::gemm::{
    accumulator_share, channels_last, columns_to_images, group_size, images_to_columns,
    inner_parallelism, sgemm, with_scratch,
};
use crate::gemm_conv::{GemmConv, Taps};
use crate::gemm_conv_nhwc as nhwc;

fn f32_slice(t: &FlexTensor) -> &[f32] {
    assert_eq!(t.dtype(), DType::F32, "gemm_conv: only f32 tensors");
    t.as_slice().expect("contiguous tensor")
}

fn flex_tensor(data: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape))
}

/// For a row of output positions `ox in 0..ow` reading input column `ox·s + kx - pad`: the range
/// of `ox` that lands inside `0..w` and the input column its first reads, or `None` when every
/// `ox` reads padding (the outer taps of a 7x7 kernel on a 1x1 or 2x2 image).
fn valid_cols(
    ow: usize,
    w: usize,
    s: usize,
    kx: usize,
    pad: usize,
) -> Option<(Range<usize>, usize)> {
    let lo = pad.saturating_sub(kx).div_ceil(s);
    // The last `ox` with `ox·s + kx - pad <= w - 1`, plus one.
    let hi = ((w + pad).checked_sub(kx + 1)? / s + 1).min(ow);
    (lo < hi).then(|| (lo..hi, lo * s + kx - pad))
}

/// `x_b [c, h, w]` -> the column block `[.., at..at + oh·ow]` of `cols [c·t, ld]`
fn im2col(x: &[f32], taps: &Taps, cols: &mut [f32], (ld, at): (usize, usize)) {
    let ([h, w], [oh, ow], [sy, sx], [py, px]) = (taps.input, taps.output, taps.stride, taps.pad);
    let n = oh * ow;
    let rows = x.len() / (h * w) * taps.len(); // c·t (the buffer may hold more)
    for (row, dst) in cols.chunks_exact_mut(ld).take(rows).enumerate() {
        let dst = &mut dst[at..at + n];
        let (ci, (ky, kx)) = (row / taps.len(), taps.offsets[row % taps.len()]);
        let plane = &x[ci * h * w..(ci + 1) * h * w];
        let valid = valid_cols(ow, w, sx, kx, px);
        for (oy, out) in dst.chunks_exact_mut(ow).enumerate() {
            let iy = (oy * sy + ky).checked_sub(py).filter(|&iy| iy < h);
            let (Some(iy), Some((cols, start))) = (iy, valid.clone()) else {
                out.fill(0.0);
                continue;
            };
            let src = &plane[iy * w..(iy + 1) * w];
            out[..cols.start].fill(0.0);
            out[cols.end..].fill(0.0);
            if sx == 1 {
                out[cols.clone()].copy_from_slice(&src[start..start + cols.len()]);
            } else {
                let src = src[start..].iter().step_by(sx);
                out[cols].iter_mut().zip(src).for_each(|(v, s)| *v = *s);
            }
        }
    }
}

/// The adjoint of [`im2col`]: `dx_b [c, h, w] += col2im(block at..at + oh·ow of cols [c·t, ld])`
fn col2im(cols: &[f32], taps: &Taps, x: &mut [f32], (ld, at): (usize, usize)) {
    let ([h, w], [oh, ow], [sy, sx], [py, px]) = (taps.input, taps.output, taps.stride, taps.pad);
    let n = oh * ow;
    let rows = x.len() / (h * w) * taps.len(); // c·t (the buffer may hold more)
    for (row, src) in cols.chunks_exact(ld).take(rows).enumerate() {
        let src = &src[at..at + n];
        let (ci, (ky, kx)) = (row / taps.len(), taps.offsets[row % taps.len()]);
        let plane = &mut x[ci * h * w..(ci + 1) * h * w];
        let Some((cols, start)) = valid_cols(ow, w, sx, kx, px) else {
            continue; // this tap reads only padding
        };
        for (oy, g) in src.chunks_exact(ow).enumerate() {
            let Some(iy) = (oy * sy + ky).checked_sub(py).filter(|&iy| iy < h) else {
                continue;
            };
            let dst = &mut plane[iy * w..(iy + 1) * w];
            if sx == 1 {
                let dst = &mut dst[start..start + cols.len()];
                dst.iter_mut()
                    .zip(&g[cols.clone()])
                    .for_each(|(d, g)| *d += g);
            } else {
                let dst = dst[start..].iter_mut().step_by(sx);
                dst.zip(&g[cols.clone()]).for_each(|(d, g)| *d += g);
            }
        }
    }
}

fn flex_conv(x: FlexTensor, weight: FlexTensor, taps: Taps) -> FlexTensor {
    let [b, c] = [x.shape()[0], x.shape()[1]];
    let (x, weight) = (x.to_contiguous(), weight.to_contiguous());
    let (xs, ws) = (f32_slice(&x), f32_slice(&weight));
    let [oh, ow] = taps.output;
    let (o, kdim, n) = (weight.shape()[0], c * taps.len(), oh * ow);
    assert_eq!(
        weight.shape()[1],
        kdim,
        "gemm_conv: weight columns != c * taps"
    );
    if channels_last(c, taps.output[1]) {
        return flex_tensor(nhwc::conv(xs, ws, (b, c, o), &taps), [b, o, oh, ow]);
    }
    let chw = xs.len() / b.max(1);
    let g = group_size(b, n);
    let par = inner_parallelism(b.div_ceil(g));
    let y = par_fill(b * o * n, g * o * n, |k, yg| {
        let xg = &xs[k * g * chw..][..yg.len() / (o * n) * chw];
        let m = yg.len() / o; // gi·n columns
        with_scratch([kdim * m, o * m, 0], |cols, out, _| {
            for (i, xb) in xg.chunks_exact(chw).enumerate() {
                im2col(xb, &taps, cols, (m, i * n));
            }
            if m == n {
                sgemm((o, kdim, n), yg, false, ws, (kdim, 1), cols, (n, 1), par);
            } else {
                sgemm((o, kdim, m), out, false, ws, (kdim, 1), cols, (m, 1), par);
                columns_to_images(out, yg, (o, n));
            }
        })
    });
    flex_tensor(y, [b, o, oh, ow])
}

fn flex_conv_transpose(dy: FlexTensor, weight: FlexTensor, taps: Taps) -> FlexTensor {
    let b = dy.shape()[0];
    let (dy, weight) = (dy.to_contiguous(), weight.to_contiguous());
    let (gs, ws) = (f32_slice(&dy), f32_slice(&weight));
    let ([h, w], [oh, ow]) = (taps.input, taps.output);
    let (o, kdim, n) = (weight.shape()[0], weight.shape()[1], oh * ow);
    let c = kdim / taps.len();
    if channels_last(c, taps.output[1]) {
        return flex_tensor(nhwc::conv_transpose(gs, ws, (b, c, o), &taps), [b, c, h, w]);
    }
    let chw = c * h * w;
    let g = group_size(b, n);
    let par = inner_parallelism(b.div_ceil(g));
    let dx = par_fill(b * chw, g * chw, |k, dxg| {
        let gg = &gs[k * g * o * n..][..dxg.len() / chw * o * n];
        let m = gg.len() / o;
        with_scratch([kdim * m, o * m, 0], |dcols, grad, _| {
            let rhs = if m == n {
                gg
            } else {
                images_to_columns(gg, grad, (o, n));
                grad
            };
            sgemm((kdim, o, m), dcols, false, ws, (1, kdim), rhs, (m, 1), par);
            for (i, dxb) in dxg.chunks_exact_mut(chw).enumerate() {
                col2im(dcols, &taps, dxb, (m, i * n));
            }
        })
    });
    flex_tensor(dx, [b, chw / (h * w), h, w])
}

fn flex_conv_weight_grad(x: FlexTensor, dy: FlexTensor, taps: Taps) -> FlexTensor {
    let [b, c] = [x.shape()[0], x.shape()[1]];
    let (x, dy) = (x.to_contiguous(), dy.to_contiguous());
    let (xs, gs) = (f32_slice(&x), f32_slice(&dy));
    let [oh, ow] = taps.output;
    let (o, kdim, n) = (dy.shape()[1], c * taps.len(), oh * ow);
    if channels_last(c, taps.output[1]) {
        let dw = nhwc::weight_grad(xs, gs, (b, c, o), &taps);
        return FlexTensor::from_data(TensorData::new(dw, [o, kdim]));
    }
    let chw = xs.len() / b.max(1);
    let g = group_size(b, n);
    let par = inner_parallelism(b.div_ceil(g));
    let dw = xs
        .par_chunks(g * chw)
        .zip(gs.par_chunks(g * o * n))
        .with_min_len(accumulator_share(b.div_ceil(g)))
        .fold(
            || vec![0.0f32; o * kdim],
            |mut acc, (xg, gg)| {
                let m = gg.len() / o;
                with_scratch([kdim * m, o * m, 0], |cols, grad, _| {
                    for (i, xb) in xg.chunks_exact(chw).enumerate() {
                        im2col(xb, &taps, cols, (m, i * n));
                    }
                    let lhs = if m == n {
                        gg
                    } else {
                        images_to_columns(gg, grad, (o, n));
                        grad
                    };
                    sgemm((o, m, kdim), &mut acc, true, lhs, (m, 1), cols, (1, m), par);
                });
                acc
            },
        )
        .reduce(
            || vec![0.0f32; o * kdim],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        );
    FlexTensor::from_data(TensorData::new(dw, [o, kdim]))
}

impl GemmConv for Flex {
    fn gemm_conv(x: FlexTensor, weight: FlexTensor, taps: Taps) -> FlexTensor {
        flex_conv(x, weight, taps)
    }

    fn gemm_conv_transpose(y: FlexTensor, weight: FlexTensor, taps: Taps) -> FlexTensor {
        flex_conv_transpose(y, weight, taps)
    }

    fn gemm_conv_weight_grad(x: FlexTensor, dy: FlexTensor, taps: Taps) -> FlexTensor {
        flex_conv_weight_grad(x, dy, taps)
    }
}
