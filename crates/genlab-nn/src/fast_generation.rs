//! Fast generation for convolutional autoregressive models (Ramachandran, Le Paine, Khorrami,
//! Babaeizadeh, Chang, Zhang, Hasegawa-Johnson, Campbell & Huang, "Fast Generation for
//! Convolutional Autoregressive Models", ICLR 2017 workshop, https://arxiv.org/abs/1704.06001).
//!
//! A raster-order network's activation at position p depends on pixels before p only, so once p
//! is drawn its activations in every layer are final. Drawing pixel p then needs each layer at
//! position p alone, reading the positions above and to the left from caches of what earlier
//! steps computed: one small GEMM per layer and pixel instead of a pass over the image.
//!
//! - [`RowCache`] keeps a layer's activations for the last few image rows (as many as the next
//!   layer's kernel reaches up, plus the current one), channels-last.
//! - [`PointConv`] is a convolution evaluated at one position (or along one row) from a cache:
//!   the gathered taps times the weight as `[taps * c_in, c_out]`.
//!
//! Results equal the layers' full-image forward passes up to f32 summation order.

use crate::conv2d::{Conv2d, ConvTranspose2d};
use crate::masked_conv::MaskedConv2d;
use crate::mlp::Activation;
use burn::tensor::Tensor;
use genlab_core::tensor::to_vec;
use genlab_kernels::vexp;

/// Activations of `n` images at their last `rows` image rows (a ring over rows), channels-last:
/// `[n, rows, w, c]`. Row `i` lives in slot `i mod rows`; reading a row that has left the ring
/// is a caller error (the cache must keep every row a kernel reaches).
#[derive(Clone, Debug)]
pub struct RowCache {
    pub n: usize,
    pub rows: usize,
    pub w: usize,
    pub c: usize,
    data: Vec<f32>,
}

impl RowCache {
    /// Zeros, `[n, rows, w, c]`.
    pub fn new(n: usize, rows: usize, w: usize, c: usize) -> Self {
        Self {
            n,
            rows,
            w,
            c,
            data: vec![0.0; n * rows * w * c],
        }
    }

    /// Whole images `[n, h * w]` of one channel, every row kept (the pixels being drawn).
    pub fn image(pixels: Vec<f32>, n: usize, h: usize, w: usize) -> Self {
        assert_eq!(pixels.len(), n * h * w, "pixels must be [n, h * w]");
        Self {
            n,
            rows: h,
            w,
            c: 1,
            data: pixels,
        }
    }

    /// The stored values, `[n, rows, w, c]` (for [`RowCache::image`]: the images `[n, h * w]`).
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    fn offset(&self, s: usize, row: usize, col: usize) -> usize {
        ((s * self.rows + row % self.rows) * self.w + col) * self.c
    }

    /// The `c` values of image `s` at (row, col).
    pub fn at(&self, s: usize, row: usize, col: usize) -> &[f32] {
        let o = self.offset(s, row, col);
        &self.data[o..o + self.c]
    }

    /// Set image `s` at (row, col) to `v [c]`.
    pub fn set(&mut self, s: usize, row: usize, col: usize, v: &[f32]) {
        let o = self.offset(s, row, col);
        self.data[o..o + self.c].copy_from_slice(v);
    }

    /// Set every image at (row, col) from `v [n, c]`.
    pub fn put(&mut self, row: usize, col: usize, v: &[f32]) {
        assert_eq!(v.len(), self.n * self.c);
        for s in 0..self.n {
            self.set(s, row, col, &v[s * self.c..(s + 1) * self.c]);
        }
    }

    /// Set a whole row of every image from `v [n, w, c]`.
    pub fn put_row(&mut self, row: usize, v: &[f32]) {
        let run = self.w * self.c;
        assert_eq!(v.len(), self.n * run);
        for s in 0..self.n {
            let o = self.offset(s, row, 0);
            self.data[o..o + run].copy_from_slice(&v[s * run..(s + 1) * run]);
        }
    }
}

/// A convolution evaluated at chosen output positions. Tap `t` of output (row, col) reads
/// input (stride * row + dy_t, stride * col + dx_t), zero outside the image; `dy <= 0` always
/// (a raster-order layer never reads rows below its output).
#[derive(Clone, Debug)]
pub struct PointConv {
    /// `(dy, dx)` of each tap.
    pub offsets: Vec<(isize, isize)>,
    pub stride: usize,
    pub c_in: usize,
    pub c_out: usize,
    /// `[taps * c_in, c_out]`: row `t * c_in + i` holds tap t, input channel i.
    weight: Vec<f32>,
    /// `[c_out]`
    bias: Vec<f32>,
}

impl PointConv {
    /// From a weight `[c_out, c_in, kh, kw]` and the taps `(ky, kx)` to keep, tap (ky, kx)
    /// reading offset `(ky - top, kx - left)`.
    fn from_weight(
        weight: Tensor<4>,
        bias: Option<Tensor<1>>,
        taps: &[(usize, usize)],
        (top, left): (usize, usize),
    ) -> Self {
        let [c_out, c_in, kh, kw] = weight.dims();
        let w = to_vec(weight);
        let mut packed = vec![0.0; taps.len() * c_in * c_out];
        for (t, &(ky, kx)) in taps.iter().enumerate() {
            for i in 0..c_in {
                for o in 0..c_out {
                    packed[(t * c_in + i) * c_out + o] = w[((o * c_in + i) * kh + ky) * kw + kx];
                }
            }
        }
        let offsets = taps
            .iter()
            .map(|&(ky, kx)| (ky as isize - top as isize, kx as isize - left as isize))
            .collect::<Vec<_>>();
        assert!(
            offsets.iter().all(|&(dy, _)| dy <= 0),
            "a raster-order layer reads no row below its output"
        );
        Self {
            offsets,
            stride: 1,
            c_in,
            c_out,
            weight: packed,
            bias: bias.map(to_vec).unwrap_or_else(|| vec![0.0; c_out]),
        }
    }

    /// A masked convolution's visible taps ("same" padding).
    pub fn masked(layer: &MaskedConv2d) -> Self {
        let p = layer.kernel / 2;
        Self::from_weight(
            layer.weight.val(),
            Some(layer.bias.val()),
            &layer.taps,
            (p, p),
        )
    }

    /// An ordinary stride-1 convolution with its padding (every tap).
    pub fn conv(layer: &Conv2d) -> Self {
        assert!(
            layer.stride == [1, 1] && layer.dilation == [1, 1] && layer.groups == 1,
            "PointConv takes stride-1, undilated, ungrouped convolutions"
        );
        let [kh, kw] = layer.kernel_size;
        let taps: Vec<(usize, usize)> = (0..kh * kw).map(|t| (t / kw, t % kw)).collect();
        Self::from_weight(
            layer.weight.val(),
            layer.bias.as_ref().map(|b| b.val()),
            &taps,
            (layer.padding[0][0], layer.padding[1][0]),
        )
    }

    /// A convolution of any equal stride with the given top and left zero padding (the padding
    /// `layer` itself records is ignored: shifted convolutions pad outside the layer).
    pub fn padded(layer: &Conv2d, top: usize, left: usize) -> Self {
        assert!(
            layer.stride[0] == layer.stride[1] && layer.dilation == [1, 1] && layer.groups == 1,
            "PointConv takes equal strides, undilated, ungrouped convolutions"
        );
        let [kh, kw] = layer.kernel_size;
        let taps: Vec<(usize, usize)> = (0..kh * kw).map(|t| (t / kw, t % kw)).collect();
        let mut conv = Self::from_weight(
            layer.weight.val(),
            layer.bias.as_ref().map(|b| b.val()),
            &taps,
            (top, left),
        );
        conv.stride = layer.stride[0];
        conv
    }

    /// A stride-2 transposed convolution (no padding; outputs cropped to start at row 0 and
    /// column `crop_left`) as four convolutions on its input, one per output parity: output
    /// (i, j) is `parities[i % 2][j % 2].at(input, i / 2, j / 2)`.
    pub fn transposed(layer: &ConvTranspose2d, crop_left: usize) -> [[PointConv; 2]; 2] {
        assert!(
            layer.stride == [2, 2] && layer.padding == [0, 0] && layer.groups == 1,
            "transposed() takes stride-2 unpadded ungrouped layers"
        );
        let w = layer.weight.val(); // [c_in, c_out, kh, kw]
        let [c_in, c_out, kh, kw] = w.dims();
        let values = to_vec(w);
        let bias = layer
            .bias
            .as_ref()
            .map(|b| to_vec(b.val()))
            .unwrap_or_else(|| vec![0.0; c_out]);
        let one = |pi: usize, pj: usize| {
            // Output (2a + pi, 2b + pj) is uncropped column 2b + pj + crop_left = 2 ix + kx.
            let taps: Vec<(usize, usize, isize, isize)> = (0..kh * kw)
                .map(|t| (t / kw, t % kw))
                .filter(|&(ky, kx)| {
                    (pi + 2 * kh - ky).is_multiple_of(2)
                        && (pj + crop_left + 2 * kw - kx).is_multiple_of(2)
                })
                .map(|(ky, kx)| {
                    let dy = (pi as isize - ky as isize).div_euclid(2);
                    let dx = (pj as isize + crop_left as isize - kx as isize).div_euclid(2);
                    (ky, kx, dy, dx)
                })
                .collect();
            let mut weight = vec![0.0; taps.len() * c_in * c_out];
            for (t, &(ky, kx, _, _)) in taps.iter().enumerate() {
                for i in 0..c_in {
                    for o in 0..c_out {
                        weight[(t * c_in + i) * c_out + o] =
                            values[((i * c_out + o) * kh + ky) * kw + kx];
                    }
                }
            }
            let offsets: Vec<(isize, isize)> = taps.iter().map(|t| (t.2, t.3)).collect();
            assert!(offsets.iter().all(|&(dy, _)| dy <= 0));
            PointConv {
                offsets,
                stride: 1,
                c_in,
                c_out,
                weight,
                bias: bias.clone(),
            }
        };
        [[one(0, 0), one(0, 1)], [one(1, 0), one(1, 1)]]
    }

    /// The same layer reading its input shifted right by `cols` (the input at column j is the
    /// source's column j - cols).
    pub fn shifted_right(mut self, cols: usize) -> Self {
        for o in &mut self.offsets {
            o.1 -= cols as isize;
        }
        self
    }

    /// Rows above the output that the taps read.
    pub fn rows_above(&self) -> usize {
        self.offsets
            .iter()
            .map(|&(dy, _)| (-dy) as usize)
            .max()
            .unwrap_or(0)
    }

    /// The output at (row, col) of every image in `input`: `[n, c_out]`.
    pub fn at(&self, input: &RowCache, row: usize, col: usize) -> Vec<f32> {
        let n = input.n;
        let cols = self.gather(input, row, col..col + 1);
        self.dense_taps(&cols, n)
    }

    /// The outputs along row `row` of every image: `[n, w / stride, c_out]`.
    pub fn row(&self, input: &RowCache, row: usize) -> Vec<f32> {
        let width = input.w / self.stride;
        let cols = self.gather(input, row, 0..width);
        self.dense_taps(&cols, input.n * width)
    }

    /// A 1x1 convolution on `x [m, c_in]` -> `[m, c_out]`.
    pub fn dense(&self, x: &[f32]) -> Vec<f32> {
        assert_eq!(self.offsets, [(0, 0)], "dense() is for 1x1 layers");
        self.dense_taps(x, x.len() / self.c_in)
    }

    /// im2col of the given output columns of `row`: `[n, cols, taps * c_in]`.
    fn gather(&self, input: &RowCache, row: usize, cols: std::ops::Range<usize>) -> Vec<f32> {
        assert_eq!(input.c, self.c_in, "input channels");
        // A ring holds every row a tap reaches, or the rows have not wrapped yet (a whole
        // image of fewer rows than the kernel reaches).
        assert!(
            self.rows_above() < input.rows || self.stride * row < input.rows,
            "the cache keeps too few rows"
        );
        let k = self.offsets.len() * self.c_in;
        let width = cols.len();
        let mut out = vec![0.0; input.n * width * k];
        for s in 0..input.n {
            for (j, col) in cols.clone().enumerate() {
                let dst = &mut out[(s * width + j) * k..(s * width + j + 1) * k];
                for (t, &(dy, dx)) in self.offsets.iter().enumerate() {
                    let (r, c) = (
                        (self.stride * row) as isize + dy,
                        (self.stride * col) as isize + dx,
                    );
                    if r < 0 || c < 0 || c >= input.w as isize {
                        continue;
                    }
                    dst[t * self.c_in..(t + 1) * self.c_in]
                        .copy_from_slice(input.at(s, r as usize, c as usize));
                }
            }
        }
        out
    }

    /// `x [m, taps * c_in] · weight + bias -> [m, c_out]`.
    fn dense_taps(&self, x: &[f32], m: usize) -> Vec<f32> {
        let k = self.weight.len() / self.c_out;
        assert_eq!(x.len(), m * k);
        let mut out: Vec<f32> = (0..m).flat_map(|_| self.bias.iter().copied()).collect();
        sgemm(&mut out, x, &self.weight, (m, k, self.c_out));
        out
    }
}

/// `c[m, n] += a[m, k] · b[k, n]`, row-major, on the calling thread (callers parallelise over
/// images).
fn sgemm(c: &mut [f32], a: &[f32], b: &[f32], (m, k, n): (usize, usize, usize)) {
    assert!(c.len() == m * n && a.len() == m * k && b.len() == k * n);
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    genlab_kernels::sgemm(
        (m, k, n),
        c,
        true,
        a,
        (k, 1),
        b,
        (n, 1),
        genlab_kernels::Parallelism::None,
    );
}

/// elu([x, -x]) of each row of `x [m, c]` -> `[m, 2c]` (PixelCNN++'s concat_elu).
pub fn concat_elu(x: &[f32], c: usize) -> Vec<f32> {
    // The training pass's ELU (genlab_kernels::fused), so that cached and plain draws agree.
    let elu = |v: f32| if v > 0.0 { v } else { vexp::expm1(v) };
    x.chunks(c)
        .flat_map(|r| {
            r.iter()
                .map(move |&v| elu(v))
                .chain(r.iter().map(move |&v| elu(-v)))
        })
        .collect()
}

/// In place: `max(x, 0)`, with [`Activation::apply_scalar`]'s rule that NaN stays NaN as in
/// burn's relu (`v.max(0.0)` would make it 0 and hide a diverged network from the
/// sample-quality check).
pub fn relu(x: &mut [f32]) {
    x.iter_mut()
        .for_each(|v| *v = Activation::Relu.apply_scalar(*v));
}

/// tanh(first half) ⊙ sigmoid(second half) of each row of `x [m, 2p]` -> `[m, p]` (the gated
/// activation of Gated PixelCNN, eq. 2).
pub fn gate(x: &[f32], p: usize) -> Vec<f32> {
    x.chunks(2 * p)
        .flat_map(|r| (0..p).map(move |i| vexp::tanh(r[i]) * vexp::sigmoid(r[p + i])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masked_conv::MaskType;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn scalar_activations_equal_burns_and_keep_nan() {
        // The cached samplers' in-place activations against the tensors' (plain samplers and
        // training): the same values, and a NaN of a diverged network stays NaN in all of them.
        let v = [f32::NAN, -2.0, -0.0, 0.0, 0.5, 3.0];
        let device = Device::default();
        let t = Tensor::<1>::from_floats(v, &device);
        let mut fast = v.to_vec();
        relu(&mut fast);
        let slow = to_vec(burn::tensor::activation::relu(t.clone()));
        let scalar: Vec<f32> = v
            .iter()
            .map(|&x| crate::mlp::Activation::Relu.apply_scalar(x))
            .collect();
        let leaky: Vec<f32> = v
            .iter()
            .map(|&x| crate::mlp::Activation::LeakyRelu.apply_scalar(x))
            .collect();
        let leaky_slow = to_vec(crate::mlp::Activation::LeakyRelu.apply(t));
        for (i, x) in v.iter().enumerate() {
            if x.is_nan() {
                assert!(fast[i].is_nan() && slow[i].is_nan() && scalar[i].is_nan());
                assert!(leaky[i].is_nan() && leaky_slow[i].is_nan());
            } else {
                assert_eq!((fast[i], scalar[i]), (slow[i], slow[i]), "relu({x})");
                assert_eq!(leaky[i], leaky_slow[i], "leaky_relu({x})");
            }
        }
    }

    #[test]
    fn point_outputs_equal_the_full_image_convolution() {
        // A masked 5x5 type-B layer evaluated position by position from a ring of 3 rows
        // equals its forward pass on the whole image; so does a row at a time.
        let device = Device::default();
        let layer = MaskedConv2d::new([3, 4], 5, MaskType::B, &device);
        let (n, h, w) = (2, 6, 5);
        let x = Tensor::<4>::random([n, 3, h, w], Distribution::Normal(0.0, 1.0), &device);
        let full = to_vec(layer.forward(x.clone())); // [n, 4, h, w]
        let xs = to_vec(x); //                          [n, 3, h, w]
        let conv = PointConv::masked(&layer);
        assert_eq!(conv.rows_above(), 2);
        let mut cache = RowCache::new(n, 3, w, 3);
        for row in 0..h {
            for col in 0..w {
                for s in 0..n {
                    let v: Vec<f32> = (0..3)
                        .map(|c| xs[((s * 3 + c) * h + row) * w + col])
                        .collect();
                    cache.set(s, row, col, &v);
                }
                let got = conv.at(&cache, row, col);
                for s in 0..n {
                    for o in 0..4 {
                        let want = full[((s * 4 + o) * h + row) * w + col];
                        assert!((got[s * 4 + o] - want).abs() < 1e-5, "({row},{col})");
                    }
                }
            }
            let got = conv.row(&cache, row);
            for s in 0..n {
                for col in 0..w {
                    let want = full[((s * 4 + 1) * h + row) * w + col];
                    assert!((got[(s * w + col) * 4 + 1] - want).abs() < 1e-5);
                }
            }
        }
    }
}
