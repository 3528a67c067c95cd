//! genlab's 2-D convolution layers: `forward` *is* the fast path (im2col + GEMM,
//! [`genlab_kernels::gemm_conv`]) on the CPU backend, and burn's convolution elsewhere. Built from
//! burn's configs with [`Build::build`]; their parameters (`weight`, `bias`) are named and
//! initialised exactly as burn's `Conv2d` / `ConvTranspose2d` name and initialise theirs, so
//! checkpoints do not change.

use burn::module::{Module, Param};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Tensor};
use genlab_kernels::gemm_conv::{conv2d, conv_transpose2d};

pub use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
pub use burn::nn::PaddingConfig2d;

/// `config.build(device)`: genlab's layer for a burn conv config (burn's `init`, so the same
/// random initial weights).
pub trait Build {
    type Layer;
    fn build(&self, device: &Device) -> Self::Layer;
}

/// Convolution `[b, c, h, w] -> [b, o, h', w']`; `weight [o, c / groups, kh, kw]`, `bias [o]`.
#[derive(Module, Debug)]
pub struct Conv2d {
    pub weight: Param<Tensor<4>>,
    pub bias: Option<Param<Tensor<1>>>,
    pub stride: [usize; 2],
    pub kernel_size: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
    /// `[(top, bottom), (left, right)]`.
    pub padding: [[usize; 2]; 2],
}

impl Build for Conv2dConfig {
    type Layer = Conv2d;
    fn build(&self, device: &Device) -> Conv2d {
        Conv2d::from(self.init(device))
    }
}

impl From<burn::nn::conv::Conv2d> for Conv2d {
    /// Panics on `PaddingConfig2d::Same`, which no genlab network uses: give the padding.
    fn from(layer: burn::nn::conv::Conv2d) -> Self {
        let padding = match layer.padding {
            PaddingConfig2d::Valid => [[0, 0], [0, 0]],
            PaddingConfig2d::Explicit(top, left, bottom, right) => [[top, bottom], [left, right]],
            PaddingConfig2d::Same => panic!("genlab's Conv2d takes explicit padding, not Same"),
        };
        Conv2d {
            weight: layer.weight,
            bias: layer.bias,
            stride: layer.stride,
            kernel_size: layer.kernel_size,
            dilation: layer.dilation,
            groups: layer.groups,
            padding,
        }
    }
}

impl Conv2d {
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [[top, bottom], [left, right]] = self.padding;
        let options = ConvOptions {
            stride: self.stride,
            padding: [(top, bottom), (left, right)],
            dilation: self.dilation,
            groups: self.groups,
        };
        // The weight before the bias: burn initialises a parameter when it is first read, so
        // this order keeps a fresh layer's random draws (and checkpoints) as burn's layer had them.
        let weight = self.weight.val();
        let bias = self.bias.as_ref().map(|b| b.val());
        conv2d(x, weight, bias, options)
    }
}

/// Transposed convolution `[b, c, h, w] -> [b, o, h', w']`; `weight [c, o / groups, kh, kw]`,
/// `bias [o]`.
#[derive(Module, Debug)]
pub struct ConvTranspose2d {
    pub weight: Param<Tensor<4>>,
    pub bias: Option<Param<Tensor<1>>>,
    pub stride: [usize; 2],
    pub kernel_size: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
    pub padding: [usize; 2],
    pub padding_out: [usize; 2],
}

impl Build for ConvTranspose2dConfig {
    type Layer = ConvTranspose2d;
    fn build(&self, device: &Device) -> ConvTranspose2d {
        ConvTranspose2d::from(self.init(device))
    }
}

impl From<burn::nn::conv::ConvTranspose2d> for ConvTranspose2d {
    fn from(layer: burn::nn::conv::ConvTranspose2d) -> Self {
        ConvTranspose2d {
            weight: layer.weight,
            bias: layer.bias,
            stride: layer.stride,
            kernel_size: layer.kernel_size,
            dilation: layer.dilation,
            groups: layer.groups,
            padding: layer.padding,
            padding_out: layer.padding_out,
        }
    }
}

impl ConvTranspose2d {
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let options = ConvTransposeOptions::new(
            self.stride,
            self.padding,
            self.padding_out,
            self.dilation,
            self.groups,
        );
        // The weight before the bias, as in `Conv2d::forward`.
        let weight = self.weight.val();
        let bias = self.bias.as_ref().map(|b| b.val());
        conv_transpose2d(x, weight, bias, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use genlab_core::NamedTensors;

    fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn layers_equal_burns_with_gradients_and_keep_its_parameter_names() {
        let device = Device::default().autodiff();
        let conv = Conv2dConfig::new([3, 5], [4, 4])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1));
        let deconv = ConvTranspose2dConfig::new([5, 3], [4, 4])
            .with_stride([2, 2])
            .with_padding([1, 1]);
        let (burn_c, burn_d) = (conv.init(&device), deconv.init(&device));
        let ours_c = Conv2d::from(burn_c.clone());
        let ours_d = ConvTranspose2d::from(burn_d.clone());
        assert_eq!(
            NamedTensors::of("m", &ours_c),
            NamedTensors::of("m", &burn_c)
        );
        assert_eq!(
            NamedTensors::of("m", &ours_d),
            NamedTensors::of("m", &burn_d)
        );
        let x = Tensor::<4>::random([2, 3, 14, 14], Distribution::Normal(0.0, 1.0), &device)
            .require_grad();
        let fast = ours_d.forward(ours_c.forward(x.clone()));
        let slow = burn_d.forward(burn_c.forward(x.clone()));
        assert!(max_diff(fast.clone(), slow.clone()) < 1e-4);
        let (gf, gs) = (fast.sum().backward(), slow.sum().backward());
        let dx = max_diff(x.grad(&gf).unwrap(), x.grad(&gs).unwrap());
        assert!(dx < 1e-4, "input gradient {dx}");
        let dw = max_diff(
            ours_c.weight.grad(&gf).unwrap(),
            burn_c.weight.grad(&gs).unwrap(),
        );
        assert!(dw < 1e-3, "conv weight gradient {dw}");
        let dw = max_diff(
            ours_d.weight.grad(&gf).unwrap(),
            burn_d.weight.grad(&gs).unwrap(),
        );
        assert!(dw < 1e-3, "transposed conv weight gradient {dw}");
    }
}
