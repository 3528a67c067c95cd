//! The raster-order machinery of the one-channel autoregressive image models (`pixelcnn`,
//! `gated-pixelcnn`, `pixelcnn++`): the log-likelihood of per-pixel logits, and [`Raster`], which
//! draws (or completes) images pixel by pixel, feeding each network only the band of rows its
//! output can see.

use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::Tensor;
use genlab_core::tensor::to_vec;
use genlab_core::Draw;
use genlab_data::Shape;
use genlab_kernels::fused_categorical::categorical_log_prob;
use genlab_nn::loss::bernoulli_log_prob;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

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

/// Pixel-by-pixel sampling of a one-channel raster-order model (PixelCNN, Gated PixelCNN).
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
                        let k = draw_index(&p[r * LEVELS..(r + 1) * LEVELS], rng);
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
}

/// An index drawn from the probabilities `p`.
fn draw_index(p: &[f32], rng: &mut impl Rng) -> usize {
    let u = rng.random::<f32>() * p.iter().sum::<f32>();
    let mut acc = 0.0;
    for (k, v) in p.iter().enumerate() {
        acc += v;
        if u < acc {
            return k;
        }
    }
    p.len() - 1
}
