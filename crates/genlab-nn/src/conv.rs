//! Convolutional encoder and decoder for small images whose side is divisible by 4 (28, 32, 64):
//! two stride-2 4x4 convolutions down, a linear layer to the code, and the mirror image up.

use crate::conv2d::{Build, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use crate::mlp::Activation;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};
use genlab_data::Shape;

#[derive(Module, Debug)]
pub struct ConvEncoder {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub fc: Linear,
    #[module(skip)]
    pub shape: [usize; 3],
    #[module(skip)]
    pub activation: Activation,
}

impl ConvEncoder {
    /// `channels = [c1, c2]`; output has `out` features.
    pub fn new(
        shape: Shape,
        channels: [usize; 2],
        out: usize,
        activation: Activation,
        device: &Device,
    ) -> Self {
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [4, 4])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .build(device)
        };
        let flat = channels[1] * (shape.h / 4) * (shape.w / 4);
        Self {
            conv1: conv(shape.c, channels[0]),
            conv2: conv(channels[0], channels[1]),
            fc: LinearConfig::new(flat, out).init(device),
            shape: [shape.c, shape.h, shape.w],
            activation,
        }
    }

    /// `[b, c*h*w] -> [b, out]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [c, h, w] = self.shape;
        let b = x.dims()[0];
        let x = x.reshape([b, c, h, w]); //              [b, c, h, w]
        let x = self.activation.apply(self.conv1.forward(x)); // [b, c1, h/2, w/2]
        let x = self.activation.apply(self.conv2.forward(x)); // [b, c2, h/4, w/4]
        self.fc.forward(x.flatten(1, 3)) //               [b, out]
    }
}

#[derive(Module, Debug)]
pub struct ConvDecoder {
    pub fc: Linear,
    pub deconv1: ConvTranspose2d,
    pub deconv2: ConvTranspose2d,
    #[module(skip)]
    pub shape: [usize; 3],
    #[module(skip)]
    pub channels: [usize; 2],
    #[module(skip)]
    pub activation: Activation,
}

impl ConvDecoder {
    /// Mirror of [`ConvEncoder`]: `in` features to `out_channels` maps of the data's size.
    pub fn new(
        shape: Shape,
        channels: [usize; 2],
        input: usize,
        out_channels: usize,
        activation: Activation,
        device: &Device,
    ) -> Self {
        let deconv = |i, o| {
            ConvTranspose2dConfig::new([i, o], [4, 4])
                .with_stride([2, 2])
                .with_padding([1, 1])
                .build(device)
        };
        Self {
            fc: LinearConfig::new(input, channels[1] * (shape.h / 4) * (shape.w / 4)).init(device),
            deconv1: deconv(channels[1], channels[0]),
            deconv2: deconv(channels[0], out_channels),
            shape: [shape.c, shape.h, shape.w],
            channels,
            activation,
        }
    }

    /// `[b, in] -> [b, out_channels*h*w]` (pre-activation outputs, e.g. logits)
    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        let [_, h, w] = self.shape;
        let b = z.dims()[0];
        let x = self.activation.apply(self.fc.forward(z)); //     [b, c2*h/4*w/4]
        let x = x.reshape([b, self.channels[1], h / 4, w / 4]); // [b, c2, h/4, w/4]
        let x = self.activation.apply(self.deconv1.forward(x)); // [b, c1, h/2, w/2]
        self.deconv2.forward(x).flatten(1, 3) //                  [b, out*h*w]
    }
}
