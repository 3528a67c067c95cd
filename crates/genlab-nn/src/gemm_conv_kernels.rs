//! The flex kernels of [`crate::gemm_conv`]: im2col and col2im over a tap list, image groups,
//! and the three GEMMs (forward, input gradient, weight gradient). f32 only.

use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::TensorMetadata;
use burn::tensor::{DType, TensorData};
use gemm::Parallelism;
use genlab_core::par::par_fill;
use rayon::prelude::*;
use std::cell::RefCell;

use crate::gemm_conv::{GemmConv, Taps};
use crate::gemm_conv_nhwc::{self as nhwc, channels_last};

fn f32_slice(t: &FlexTensor) -> &[f32] {
    assert_eq!(t.dtype(), DType::F32, "gemm_conv: only f32 tensors");
    t.as_slice().expect("contiguous tensor")
}

fn flex_tensor(data: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape))
}

/// `dst[m, n] (+)= lhs[m, k] · rhs[k, n]`; strides are (row, column) in elements.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sgemm(
    (m, k, n): (usize, usize, usize),
    dst: &mut [f32],
    accumulate: bool,
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
    par: Parallelism,
) {
    assert!(dst.len() >= m * n);
    assert!(m == 0 || k == 0 || (m - 1) * lhs_rs + (k - 1) * lhs_cs < lhs.len());
    assert!(k == 0 || n == 0 || (k - 1) * rhs_rs + (n - 1) * rhs_cs < rhs.len());
    // SAFETY: the asserts bound every index the strides reach.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

/// For a row of output positions `ox in 0..ow` reading input column `ox·s + kx - pad`: the range
/// of `ox` that lands inside `0..w`.
fn valid_cols(ow: usize, w: usize, s: usize, kx: usize, pad: usize) -> (usize, usize) {
    let lo = pad.saturating_sub(kx).div_ceil(s).min(ow);
    let hi = if w + pad > kx {
        ((w + pad - kx - 1) / s + 1).min(ow)
    } else {
        0
    };
    (lo, hi.max(lo))
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
        let (lo, hi) = valid_cols(ow, w, sx, kx, px);
        for (oy, out) in dst.chunks_exact_mut(ow).enumerate() {
            let iy = oy * sy + ky;
            if iy < py || iy - py >= h {
                out.fill(0.0);
                continue;
            }
            let src = &plane[(iy - py) * w..(iy - py + 1) * w];
            out[..lo].fill(0.0);
            out[hi..].fill(0.0);
            if sx == 1 {
                let start = lo + kx - px;
                out[lo..hi].copy_from_slice(&src[start..start + hi - lo]);
            } else {
                let mut ix = lo * sx + kx - px;
                for v in &mut out[lo..hi] {
                    *v = src[ix];
                    ix += sx;
                }
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
        let (lo, hi) = valid_cols(ow, w, sx, kx, px);
        for (oy, g) in src.chunks_exact(ow).enumerate() {
            let iy = oy * sy + ky;
            if iy < py || iy - py >= h {
                continue;
            }
            let dst = &mut plane[(iy - py) * w..(iy - py + 1) * w];
            if sx == 1 {
                let start = lo + kx - px;
                let dst = &mut dst[start..start + hi - lo];
                dst.iter_mut().zip(&g[lo..hi]).for_each(|(d, g)| *d += g);
            } else {
                let mut ix = lo * sx + kx - px;
                for g in &g[lo..hi] {
                    dst[ix] += g;
                    ix += sx;
                }
            }
        }
    }
}

/// Images per GEMM: enough that the GEMM has at least [`MIN_COLUMNS`] columns (a 7x7 map alone
/// gives a 49-column GEMM, too thin for the microkernel), but keep images whole.
const MIN_COLUMNS: usize = 256;

thread_local! {
    /// Per-thread scratch for column matrices, kept across calls: no allocation, zeroing or page
    /// faults per step (they were ~8% of the DCGAN step).
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `f` on three scratch buffers of `sizes` floats whose contents are unspecified: every caller
/// writes a buffer in full before reading it.
pub(crate) fn with_scratch<R>(
    sizes: [usize; 3],
    f: impl FnOnce(&mut [f32], &mut [f32], &mut [f32]) -> R,
) -> R {
    let [a, b, c] = sizes;
    let split = |buf: &mut [f32]| {
        let (x, rest) = buf[..a + b + c].split_at_mut(a);
        let (y, z) = rest.split_at_mut(b);
        f(x, y, z)
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < a + b + c {
                buf.resize(a + b + c, 0.0);
            }
            split(&mut buf)
        }
        // Re-entered on this thread (rayon work stealing inside a parallel GEMM): fresh buffers.
        Err(_) => split(&mut vec![0.0f32; a + b + c]),
    })
}

/// Images per group: at least enough for [`MIN_COLUMNS`], then the size that balances the groups
/// over the threads best (64 images of 7x7: 8 groups of 8, not 10 of 6 and one of 4).
pub(crate) fn group_size(batch: usize, n: usize) -> usize {
    let batch = batch.max(1);
    let smallest = MIN_COLUMNS.div_ceil(n.max(1)).clamp(1, batch);
    let threads = rayon::current_num_threads().max(1);
    let makespan = |g: usize| batch.div_ceil(g).div_ceil(threads) * g; // images on the busiest thread
    (smallest..=batch.min(2 * smallest))
        .min_by_key(|&g| (makespan(g), g))
        .unwrap_or(smallest)
}

/// Groups per weight-gradient accumulator: one accumulator (a zeroed `[o, c·t]` buffer, then a
/// reduction) per thread rather than per rayon split.
pub(crate) fn accumulator_share(groups: usize) -> usize {
    groups.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// Spread image groups over the pool when there are enough of them; else let the GEMM use it.
pub(crate) fn inner_parallelism(groups: usize) -> Parallelism {
    if groups >= rayon::current_num_threads() {
        Parallelism::None
    } else {
        Parallelism::Rayon(0)
    }
}

/// `a [gi, o, n]` (images of a group) <-> `m [o, gi·n]` (the GEMM's layout).
pub(crate) fn images_to_columns(a: &[f32], m: &mut [f32], (o, n): (usize, usize)) {
    let ld = a.len() / o;
    for (i, img) in a.chunks_exact(o * n).enumerate() {
        for (r, row) in img.chunks_exact(n).enumerate() {
            m[r * ld + i * n..r * ld + (i + 1) * n].copy_from_slice(row);
        }
    }
}

fn columns_to_images(m: &[f32], a: &mut [f32], (o, n): (usize, usize)) {
    let ld = a.len() / o;
    for (i, img) in a.chunks_exact_mut(o * n).enumerate() {
        for (r, row) in img.chunks_exact_mut(n).enumerate() {
            row.copy_from_slice(&m[r * ld + i * n..r * ld + (i + 1) * n]);
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
    if channels_last(c, &taps) {
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
    if channels_last(c, &taps) {
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
    if channels_last(c, &taps) {
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
