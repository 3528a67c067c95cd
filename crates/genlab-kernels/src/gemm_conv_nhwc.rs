//! Channels-last column matrices for [`crate::gemm_conv`], for deep layers on small maps.
//!
//! The planar im2col ([`crate::gemm_conv_kernels`]) copies one output row of one tap of one
//! channel at a time: runs of `ow` floats. On a DCGAN's 64 channels at 7x7 and 14x14 those
//! runs are 7 floats long and the per-run overhead made im2col and col2im 26% of the W2 step
//! (`perf`, after the GEMM moved to AVX-512). Channels-last copies every channel of one input
//! pixel at a time: runs of `c` floats, after transposing the image to `[h·w, c]` (and back, for
//! the input gradient):
//!
//! ```text
//! xt_b [h·w, c]                     the image, channels last
//! cols [n, t·c]                     row p: tap by tap, the c channels tap j reads at output p
//! forward        y_b  [o, n]     = W' [o, t·c] · colsᵀ
//! input grad     dcols [n, t·c]  = dy_bᵀ [n, o] · W'        then col2im, then back to [c, h·w]
//! weight grad    dW'  [o, t·c]   = Σ_b dy_b [o, n] · cols
//! ```
//!
//! `W'` is the weight with its columns reordered from channel-major `(c, t)` to tap-major
//! `(t, c)`; the weight gradient is reordered back.

use crate::par::par_fill;
use gemm::Parallelism;
use rayon::prelude::*;

use crate::gemm::{
    accumulator_share, group_size, images_to_columns, inner_parallelism, sgemm, with_scratch,
};
use crate::gemm_conv::Taps;

/// `w [o, c·t]` (channel-major columns) -> `[o, t·c]` (tap-major).
fn taps_major(w: &[f32], c: usize, t: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; w.len()];
    for (src, dst) in w.chunks_exact(c * t).zip(out.chunks_exact_mut(c * t)) {
        for ci in 0..c {
            for j in 0..t {
                dst[j * c + ci] = src[ci * t + j];
            }
        }
    }
    out
}

/// The inverse of [`taps_major`].
fn channel_major(w: &[f32], c: usize, t: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; w.len()];
    for (src, dst) in w.chunks_exact(c * t).zip(out.chunks_exact_mut(c * t)) {
        for ci in 0..c {
            for j in 0..t {
                dst[ci * t + j] = src[j * c + ci];
            }
        }
    }
    out
}

/// `x [c, hw]` -> `xt [hw, c]`
fn to_channels_last(x: &[f32], xt: &mut [f32], c: usize) {
    transpose::transpose(x, xt, x.len() / c, c);
}

/// `xt [hw, c]` -> `x [c, hw]`
fn from_channels_last(xt: &[f32], x: &mut [f32], c: usize) {
    transpose::transpose(xt, x, c, x.len() / c);
}

/// For output position `(oy, ox)` and tap `(ky, kx)`: the input pixel it reads, if inside.
fn source(taps: &Taps, (oy, ox): (usize, usize), (ky, kx): (usize, usize)) -> Option<usize> {
    let ([h, w], [sy, sx], [py, px]) = (taps.input, taps.stride, taps.pad);
    let (iy, ix) = (
        (oy * sy + ky).checked_sub(py)?,
        (ox * sx + kx).checked_sub(px)?,
    );
    (iy < h && ix < w).then_some(iy * w + ix)
}

/// `xt [hw, c]` (one image) -> rows `at..at + n` of `cols [.., t·c]`.
fn im2col(xt: &[f32], c: usize, taps: &Taps, cols: &mut [f32], at: usize) {
    let [oh, ow] = taps.output;
    let kc = taps.len() * c;
    let rows = cols[at * kc..(at + oh * ow) * kc].chunks_exact_mut(kc);
    for (p, row) in rows.enumerate() {
        let (oy, ox) = (p / ow, p % ow);
        for (dst, &tap) in row.chunks_exact_mut(c).zip(&taps.offsets) {
            match source(taps, (oy, ox), tap) {
                Some(q) => dst.copy_from_slice(&xt[q * c..(q + 1) * c]),
                None => dst.fill(0.0),
            }
        }
    }
}

/// The adjoint of [`im2col`]: `dxt [hw, c] += col2im(rows at..at + n of cols)`.
fn col2im(cols: &[f32], c: usize, taps: &Taps, dxt: &mut [f32], at: usize) {
    let [oh, ow] = taps.output;
    let kc = taps.len() * c;
    let rows = cols[at * kc..(at + oh * ow) * kc].chunks_exact(kc);
    for (p, row) in rows.enumerate() {
        let (oy, ox) = (p / ow, p % ow);
        for (src, &tap) in row.chunks_exact(c).zip(&taps.offsets) {
            if let Some(q) = source(taps, (oy, ox), tap) {
                let dst = &mut dxt[q * c..(q + 1) * c];
                dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
            }
        }
    }
}

/// A group of images `xg [gi, c, h, w]` -> `cols [gi·n, t·c]`, through `xt` (one image,
/// channels last).
fn columns(xg: &[f32], c: usize, taps: &Taps, cols: &mut [f32], xt: &mut [f32]) {
    let n = taps.output[0] * taps.output[1];
    for (i, xb) in xg.chunks_exact(xt.len()).enumerate() {
        to_channels_last(xb, xt, c);
        im2col(xt, c, taps, cols, i * n);
    }
}

/// A group's output gradient `gg [gi, o, n]` as `[o, gi·n]`: itself for one image, else
/// gathered into `scratch`.
fn gradient_columns<'a>(
    gg: &'a [f32],
    scratch: &'a mut [f32],
    (o, n): (usize, usize),
) -> &'a [f32] {
    if gg.len() == o * n {
        gg
    } else {
        images_to_columns(gg, scratch, (o, n));
        scratch
    }
}

/// The sizes every direction works with.
struct Plan {
    /// Taps, and columns per position (`t·c`).
    t: usize,
    kc: usize,
    /// Output positions per image, and floats per input image.
    n: usize,
    chw: usize,
    /// Images per GEMM, and the GEMM's own threading.
    g: usize,
    par: Parallelism,
}

impl Plan {
    fn new(b: usize, c: usize, taps: &Taps) -> Self {
        let (t, [h, w], [oh, ow]) = (taps.len(), taps.input, taps.output);
        let (n, g) = (oh * ow, group_size(b, oh * ow));
        Self {
            t,
            kc: t * c,
            n,
            chw: c * h * w,
            g,
            par: inner_parallelism(b.div_ceil(g)),
        }
    }
}

/// `x [b, c, h, w]`, `w [o, c·t]` -> `y [b, o, oh, ow]`
pub(crate) fn conv(
    xs: &[f32],
    ws: &[f32],
    (b, c, o): (usize, usize, usize),
    taps: &Taps,
) -> Vec<f32> {
    let Plan {
        t,
        kc,
        n,
        chw,
        g,
        par,
    } = Plan::new(b, c, taps);
    let wt = taps_major(ws, c, t);
    let y = par_fill(b * o * n, g * o * n, |k, yg| {
        let xg = &xs[k * g * chw..][..yg.len() / (o * n) * chw];
        let m = yg.len() / o; // gi·n positions
        with_scratch([m * kc, o * m, chw], |cols, out, xt| {
            columns(xg, c, taps, cols, xt);
            // out [m, o] = cols [m, kc] · W'ᵀ (this orientation keeps gemm from repacking
            // cols, the big operand), then each image's [n, o] block to [o, n].
            sgemm((m, kc, o), out, false, cols, (kc, 1), &wt, (1, kc), par);
            for (yb, ob) in yg.chunks_exact_mut(o * n).zip(out.chunks_exact(n * o)) {
                transpose::transpose(ob, yb, o, n);
            }
        })
    });
    y
}

/// `dy [b, o, oh, ow]`, `w [o, c·t]` -> `dx [b, c, h, w]`: the adjoint of [`conv`] in `x`.
pub(crate) fn conv_transpose(
    gs: &[f32],
    ws: &[f32],
    (b, c, o): (usize, usize, usize),
    taps: &Taps,
) -> Vec<f32> {
    let Plan {
        t,
        kc,
        n,
        chw,
        g,
        par,
    } = Plan::new(b, c, taps);
    let wt = taps_major(ws, c, t);
    let dx = par_fill(b * chw, g * chw, |k, dxg| {
        let gg = &gs[k * g * o * n..][..dxg.len() / chw * o * n];
        let m = gg.len() / o;
        with_scratch([m * kc, o * m, chw], |dcols, grad, dxt| {
            let lhs = gradient_columns(gg, grad, (o, n));
            sgemm((m, o, kc), dcols, false, lhs, (1, m), &wt, (kc, 1), par);
            for (i, dxb) in dxg.chunks_exact_mut(chw).enumerate() {
                dxt.fill(0.0);
                col2im(dcols, c, taps, dxt, i * n);
                from_channels_last(dxt, dxb, c);
            }
        })
    });
    dx
}

/// `x [b, c, h, w]`, `dy [b, o, oh, ow]` -> `dW [o, c·t]`
pub(crate) fn weight_grad(
    xs: &[f32],
    gs: &[f32],
    (b, c, o): (usize, usize, usize),
    taps: &Taps,
) -> Vec<f32> {
    let Plan {
        t,
        kc,
        n,
        chw,
        g,
        par,
    } = Plan::new(b, c, taps);
    let dwt = xs
        .par_chunks(g * chw)
        .zip(gs.par_chunks(g * o * n))
        .with_min_len(accumulator_share(b.div_ceil(g)))
        .fold(
            || vec![0.0f32; o * kc],
            |mut acc, (xg, gg)| {
                let m = gg.len() / o;
                with_scratch([m * kc, o * m, chw], |cols, grad, xt| {
                    columns(xg, c, taps, cols, xt);
                    let lhs = gradient_columns(gg, grad, (o, n));
                    sgemm((o, m, kc), &mut acc, true, lhs, (m, 1), cols, (kc, 1), par);
                });
                acc
            },
        )
        .reduce(
            || vec![0.0f32; o * kc],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        );
    channel_major(&dwt, c, t)
}
