//! A stack of linear layers with one activation between them (none after the last).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
}

impl Activation {
    pub fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => relu(x),
            Activation::LeakyRelu => genlab_kernels::fused::leaky_relu(x, 0.2),
            Activation::Tanh => tanh(x),
            Activation::Sigmoid => sigmoid(x),
        }
    }

    /// The activation of one value (incremental MADE sampling).
    pub fn apply_scalar(self, x: f32) -> f32 {
        match self {
            // As burn's relu, NaN stays NaN (`x.max(0.0)` would make it 0).
            Activation::Relu => {
                if x <= 0.0 {
                    0.0
                } else {
                    x
                }
            }
            Activation::LeakyRelu => {
                if x > 0.0 {
                    x
                } else {
                    0.2 * x
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        }
    }

    /// The derivative at the pre-activation `pre`, from forward ops only, so that a backward
    /// pass written with it can itself be differentiated (WGAN-GP's gradient penalty).
    pub fn derivative<const D: usize>(self, pre: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => pre.greater_elem(0.0).float(),
            Activation::LeakyRelu => pre
                .greater_elem(0.0)
                .float()
                .mul_scalar(0.8)
                .add_scalar(0.2),
            Activation::Tanh => tanh(pre).powi_scalar(2).neg().add_scalar(1.0),
            Activation::Sigmoid => {
                let s = sigmoid(pre);
                s.clone() * s.neg().add_scalar(1.0)
            }
        }
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    pub layers: Vec<Linear>,
    #[module(skip)]
    pub activation: Activation,
}

impl Mlp {
    /// Sizes `[in, hidden..., out]`.
    pub fn new(sizes: &[usize], activation: Activation, device: &Device) -> Self {
        let layers = sizes
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Self { layers, activation }
    }

    /// `[b, in] -> [b, out]`; the activation follows every layer but the last.
    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.activation.apply(x);
            }
        }
        x
    }
}
