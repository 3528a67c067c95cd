//! Masked convolution of PixelCNN (van den Oord et al. 2016, https://arxiv.org/abs/1601.06759,
//! figure 1): the kernel sees only pixels above and to the left of its centre. Mask type A also
//! hides the centre (first layer: a pixel must not see itself), type B shows it.
//!
//! Computed as im2col over the *visible* taps only, then one GEMM per image
//! ([`genlab_kernels::gemm_conv`]): a masked tap contributes nothing, so skipping it saves 4/9 of a 3x3
//! type-B layer's work in both directions.
//!
//! NOTE: single-channel masks (no R/G/B sub-pixel ordering); colour images get the channel
//! ordering in the PixelCNN issue.

use burn::module::{Module, Param};
use burn::nn::Initializer;

use burn::tensor::{Device, Int, Tensor, TensorData};
use genlab_kernels::gemm_conv::{conv_taps, Taps};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskType {
    A,
    B,
}

/// Kernel offsets `(row, col)` a mask leaves visible, in raster order.
pub fn visible_taps(kernel: usize, mask: MaskType) -> Vec<(usize, usize)> {
    let c = kernel / 2;
    (0..kernel * kernel)
        .map(|i| (i / kernel, i % kernel))
        .filter(|&(r, col)| r < c || (r == c && (col < c || (col == c && mask == MaskType::B))))
        .collect()
}

#[derive(Module, Debug)]
pub struct MaskedConv2d {
    /// `[c_out, c_in, k, k]`, as an ordinary conv weight; masked taps are never read.
    pub weight: Param<Tensor<4>>,
    pub bias: Param<Tensor<1>>,
    #[module(skip)]
    pub kernel: usize,
    #[module(skip)]
    pub taps: Vec<(usize, usize)>,
}

impl MaskedConv2d {
    /// `kernel` odd; "same" padding.
    pub fn new(channels: [usize; 2], kernel: usize, mask: MaskType, device: &Device) -> Self {
        let taps = visible_taps(kernel, mask);
        // PyTorch's Conv2d default U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in over visible taps.
        let bound = 1.0 / ((channels[0] * taps.len()) as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        Self {
            weight: init.init([channels[1], channels[0], kernel, kernel], device),
            bias: init.init([channels[1]], device),
            kernel,
            taps,
        }
    }

    /// `[b, c_in, h, w] -> [b, c_out, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, c, h, w] = x.dims();
        let [o, _, k, _] = self.weight.dims();
        let p = k / 2;
        let mut taps = Taps::dense([k, k], [1, 1], [p, p, p, p], [h, w]);
        taps.offsets.clone_from(&self.taps);
        let index: Vec<i64> = self
            .taps
            .iter()
            .map(|&(r, col)| (r * k + col) as i64)
            .collect();
        let index =
            Tensor::<1, Int>::from_data(TensorData::new(index, [self.taps.len()]), &x.device());
        let w_vis = self
            .weight
            .val()
            .reshape([o, c, k * k])
            .select(2, index)
            .reshape([o, c * self.taps.len()]); // [o, c*t]
        conv_taps(x, w_vis, &taps) + self.bias.val().reshape([1, -1, 1, 1]) // [b, o, h, w]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::module::conv2d;
    use burn::tensor::ops::ConvOptions;
    use burn::tensor::Distribution;

    #[test]
    fn equals_a_convolution_with_masked_weights() {
        // Reference: an ordinary conv2d whose weight is multiplied by the 0/1 mask.
        let device = Device::default();
        for (kernel, mask) in [
            (3, MaskType::B),
            (7, MaskType::A),
            (5, MaskType::A),
            (1, MaskType::B),
        ] {
            let layer = MaskedConv2d::new([3, 4], kernel, mask, &device);
            let x = Tensor::<4>::random([2, 3, 9, 8], Distribution::Normal(0.0, 1.0), &device);
            let m: Vec<f32> = (0..kernel * kernel)
                .map(|i| {
                    visible_taps(kernel, mask).contains(&(i / kernel, i % kernel)) as u8 as f32
                })
                .collect();
            let m = Tensor::<4>::from_data(TensorData::new(m, [1, 1, kernel, kernel]), &device);
            let p = kernel / 2;
            let want = conv2d(
                x.clone(),
                layer.weight.val() * m,
                Some(layer.bias.val()),
                ConvOptions::new([1, 1], [p, p], [1, 1], 1),
            );
            let got = layer.forward(x);
            let diff = (got - want).abs().max().into_scalar::<f32>();
            assert!(
                diff < 1e-4,
                "kernel {kernel} {mask:?}: max difference {diff}"
            );
        }
    }

    #[test]
    fn output_depends_only_on_earlier_pixels() {
        // Causality golden: d out[i] / d x[j] == 0 exactly for every j at or after i in raster
        // order (type A), and nonzero for the pixel just before i.
        let device = Device::default().autodiff();
        let layer = MaskedConv2d::new([1, 1], 3, MaskType::A, &device);
        let (h, w) = (5, 5);
        let x = Tensor::<4>::random([1, 1, h, w], Distribution::Normal(0.0, 1.0), &device)
            .require_grad();
        let (i, j) = (2, 2);
        let y = layer
            .forward(x.clone())
            .slice([0..1, 0..1, i..i + 1, j..j + 1])
            .sum();
        let g: Vec<f32> = x
            .grad(&y.backward())
            .unwrap()
            .into_data()
            .try_to_vec()
            .unwrap();
        for (pos, v) in g.iter().enumerate() {
            if pos >= i * w + j {
                assert_eq!(*v, 0.0, "output ({i},{j}) sees input {pos}");
            }
        }
        assert_ne!(g[i * w + j - 1], 0.0, "the left neighbour must be visible");
    }
}
