//! The raster-order machinery of the one-channel autoregressive image models (`pixelcnn`,
//! `gated-pixelcnn`, `pixelcnn++`): the log-likelihood of per-pixel logits, and [`Raster`], which
//! draws (or completes) images pixel by pixel in two ways that draw the same images:
//!   - [`Raster::fill_cached`], the default: the model computes one position per pixel from the
//!     caches of fast generation (Ramachandran et al. 2017, `genlab_nn::fast_generation`);
//!   - [`Raster::fill`], the plain sampler: each pixel runs the network on the band of rows its
//!     output can see. Kept as the reference the cached samplers are tested against, and for
//!     the benchmark (`GENLAB_PLAIN_SAMPLER=1`).

use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::Tensor;
use genlab_core::tensor::to_vec;
use genlab_core::Draw;
use genlab_data::Shape;
use genlab_kernels::fused_categorical::categorical_log_prob;
use genlab_nn::fast_generation::RowCache;
use genlab_nn::loss::bernoulli_log_prob;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::ops::Range;

/// Intensity levels of 8-bit data.
pub(crate) const LEVELS: usize = 256;

/// log p(x) per image from per-pixel logits `[b, K, h, w]`: Bernoulli for K = 1, a softmax over
/// 256 intensities otherwise. `x [b, h*w] -> [b]`.
pub(crate) fn pixel_log_prob(logits: Tensor<4>, x: Tensor<2>) -> Tensor<1> {
    let [b, d] = x.dims();
    if logits.dims()[1] == 1 {
        return bernoulli_log_prob(logits.reshape([b, d]), x);
    }
    let target = x.mul_scalar(255.0).round(); // [b, d] levels
    categorical_log_prob(logits.reshape([b, LEVELS, d]), target) // [b, d]
        .sum_dim(1)
        .reshape([b])
}

/// Whether `GENLAB_PLAIN_SAMPLER=1` asks for the plain sampler (the benchmark's "before").
pub(crate) fn plain_sampling() -> bool {
    std::env::var_os("GENLAB_PLAIN_SAMPLER").is_some_and(|v| v == "1")
}

/// A model's side of cached sampling for one group of images: its caches and the network at
/// one position.
pub(crate) trait PixelStep: Send {
    /// `[m, K]` logits of pixel (row, col) of the `m` images of `image` (`[m, h, w, 1]`; every
    /// pixel before (row, col) in raster order is final). Called for every pixel in raster
    /// order, so that the caches see every position.
    fn logits(&mut self, image: &RowCache, row: usize, col: usize) -> Vec<f32>;
}

/// Pixel-by-pixel sampling of a one-channel raster-order model (PixelCNN, Gated PixelCNN,
/// PixelCNN++).
pub(crate) struct Raster {
    pub shape: Shape,
    /// 1 (Bernoulli logits) or 256 (softmax logits).
    pub levels: usize,
    /// Rows above a pixel that the network's output can see.
    pub rows_above: usize,
}

impl Raster {
    /// Draw the pixels not `known` in raster order. `logits(band [n, 1, r, w], row, col)` gives
    /// the `[n, K]` logits of pixel (row, col) of the band (K = 1 Bernoulli, else 256 levels);
    /// image row i is computed from rows i - rows_above ..= i only.
    /// Returns the drawn bits for [`Draw::Bits`]; otherwise a picture of p(x_i = 1 | x_<i)
    /// for binary data, the drawn intensity for 8-bit data. Known pixels are kept.
    pub fn fill(
        &self,
        x: Tensor<2>,
        known: Option<Vec<f32>>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
        logits: impl Fn(Tensor<4>, usize, usize) -> Tensor<2>,
    ) -> Tensor<2> {
        let device = x.device();
        let [n, d] = x.dims();
        let (h, w) = (self.shape.h, self.shape.w);
        let mut img = x.reshape([n, 1, h, w]); // [n, 1, h, w]
        let mut picture = to_vec(img.clone());
        let is_known = |i: usize| known.as_ref().is_some_and(|k| k[i] > 0.5);
        let mut progress = genlab_core::progress::Progress::new("drawing pixels", (h * w) as u64);
        for row in 0..h {
            let top = row.saturating_sub(self.rows_above);
            for col in 0..w {
                progress.inc(1);
                let rows: Vec<usize> = (0..n)
                    .filter(|&r| !is_known(r * d + row * w + col))
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                let band = img.clone().slice([0..n, 0..1, top..row + 1, 0..w]); // [n, 1, r, w]
                let logits = logits(band, row - top, col); // [n, K]
                let mut values =
                    to_vec(img.clone().slice([0..n, 0..1, row..row + 1, col..col + 1]));
                if self.levels == 1 {
                    let p = to_vec(sigmoid(logits));
                    for &r in &rows {
                        values[r] = (rng.random::<f32>() < p[r]) as u8 as f32;
                        picture[r * d + row * w + col] = p[r];
                    }
                } else {
                    let p = to_vec(softmax(logits, 1));
                    for &r in &rows {
                        let k = draw_index(&p[r * LEVELS..(r + 1) * LEVELS], rng.random());
                        values[r] = k as f32 / 255.0;
                        picture[r * d + row * w + col] = values[r];
                    }
                }
                let column =
                    Tensor::<1>::from_floats(values.as_slice(), &device).reshape([n, 1, 1, 1]);
                img = img.slice_assign([0..n, 0..1, row..row + 1, col..col + 1], column);
            }
        }
        match draw {
            Draw::Bits => img.reshape([n, d]),
            _ => genlab_core::tensor::matrix(picture, n, d, &device),
        }
    }

    /// [`Raster::fill`] by fast generation: the same draws (one uniform per pixel drawn, in the
    /// same order), each pixel computed by `make(images)`'s [`PixelStep`] from its caches.
    /// Groups of images run in parallel.
    pub fn fill_cached<S: PixelStep>(
        &self,
        x: Tensor<2>,
        known: Option<Vec<f32>>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
        make: impl Fn(Range<usize>) -> S,
    ) -> Tensor<2> {
        struct Group<S> {
            start: usize,
            image: RowCache,
            picture: Vec<f32>,
            step: S,
        }
        let device = x.device();
        let [n, d] = x.dims();
        let (h, w) = (self.shape.h, self.shape.w);
        let pixels = to_vec(x);
        let per = n.div_ceil(rayon::current_num_threads()).clamp(1, 256);
        let mut groups: Vec<Group<S>> = (0..n)
            .step_by(per)
            .map(|start| {
                let end = (start + per).min(n);
                let mine = pixels[start * d..end * d].to_vec();
                Group {
                    start,
                    image: RowCache::image(mine.clone(), end - start, h, w),
                    picture: mine,
                    step: make(start..end),
                }
            })
            .collect();
        let is_known = |i: usize| known.as_ref().is_some_and(|k| k[i] > 0.5);
        let mut progress = genlab_core::progress::Progress::new("drawing pixels", d as u64);
        let mut u = vec![f32::NAN; n]; // the uniform of each image's draw; NaN where known
        for row in 0..h {
            for col in 0..w {
                progress.inc(1);
                let pos = row * w + col;
                for (r, u) in u.iter_mut().enumerate() {
                    *u = if is_known(r * d + pos) {
                        f32::NAN
                    } else {
                        rng.random()
                    };
                }
                groups.par_iter_mut().for_each(|g| {
                    let logits = g.step.logits(&g.image, row, col);
                    for s in 0..g.image.n {
                        let u = u[g.start + s];
                        if u.is_nan() {
                            continue;
                        }
                        let (value, shown) = if self.levels == 1 {
                            let p = 1.0 / (1.0 + (-logits[s]).exp());
                            ((u < p) as u8 as f32, p)
                        } else {
                            let p = softmax_row(&logits[s * LEVELS..(s + 1) * LEVELS]);
                            let v = draw_index(&p, u) as f32 / 255.0;
                            (v, v)
                        };
                        g.image.set(s, row, col, &[value]);
                        g.picture[s * d + pos] = shown;
                    }
                });
            }
        }
        let out: Vec<f32> = groups
            .into_iter()
            .flat_map(|g| match draw {
                Draw::Bits => g.image.into_vec(),
                _ => g.picture,
            })
            .collect();
        genlab_core::tensor::matrix(out, n, d, &device)
    }
}

/// Softmax of one row of logits.
fn softmax_row(logits: &[f32]) -> Vec<f32> {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = logits.iter().map(|l| (l - m).exp()).collect();
    let z: f32 = e.iter().sum();
    e.into_iter().map(|v| v / z).collect()
}

/// The index that the uniform `u` in [0, 1) picks from the probabilities `p` (inverse CDF).
fn draw_index(p: &[f32], u: f32) -> usize {
    let u = u * p.iter().sum::<f32>();
    let mut acc = 0.0;
    for (k, v) in p.iter().enumerate() {
        acc += v;
        if u < acc {
            return k;
        }
    }
    p.len() - 1
}
