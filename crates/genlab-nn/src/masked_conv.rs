//! Masked convolution of PixelCNN (van den Oord et al. 2016, https://arxiv.org/abs/1601.06759,
//! figure 1): the kernel sees only pixels above and to the left of its centre. Mask type A also
//! hides the centre (first layer: a pixel must not see itself), type B shows it.
//!
//! NOTE: single-channel masks (no R/G/B sub-pixel ordering); colour images get the channel
//! ordering in the PixelCNN issue.

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskType {
    A,
    B,
}

#[derive(Module, Debug)]
pub struct MaskedConv2d {
    pub weight: Param<Tensor<4>>,
    pub bias: Param<Tensor<1>>,
    /// `[1, 1, k, k]` of 0/1, broadcast over channels.
    #[module(skip)]
    pub mask: Tensor<4>,
    #[module(skip)]
    pub kernel: usize,
}

impl MaskedConv2d {
    /// `kernel` odd; "same" padding.
    pub fn new(channels: [usize; 2], kernel: usize, mask: MaskType, device: &Device) -> Self {
        let fan_in = channels[0] * kernel * kernel;
        // Kaiming-uniform as PyTorch's Conv2d default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        let bound = 1.0 / (fan_in as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        let weight = init.init([channels[1], channels[0], kernel, kernel], device);
        let bias = init.init([channels[1]], device);
        let c = kernel / 2;
        let m: Vec<f32> = (0..kernel * kernel)
            .map(|i| {
                let (r, col) = (i / kernel, i % kernel);
                let visible = r < c || (r == c && (col < c || (col == c && mask == MaskType::B)));
                visible as u8 as f32
            })
            .collect();
        let mask = Tensor::from_data(TensorData::new(m, [1, 1, kernel, kernel]), device);
        Self {
            weight,
            bias,
            mask,
            kernel,
        }
    }

    /// `[b, c_in, h, w] -> [b, c_out, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let w = self.weight.val() * self.mask.clone().to_device(&self.weight.val().device()); // [o, i, k, k]
        let p = self.kernel / 2;
        conv2d(
            x,
            w,
            Some(self.bias.val()),
            ConvOptions::new([1, 1], [p, p], [1, 1], 1),
        )
    }
}
