//! Building blocks of normalizing flows: the logit pre-transform of image data, squeezing, and
//! the affine coupling layer of RealNVP (Dinh, Sohl-Dickstein & Bengio, ICLR 2017,
//! https://arxiv.org/abs/1605.08803), each with its exact log-determinant and inverse.
//!
//! Convention: `forward` maps data towards the Gaussian (the density direction) and returns
//! the per-example log |det ∂y/∂x|; `inverse` maps back (the sampling direction).

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor, TensorData};

/// Per-example sum over every axis but the first: `[b, ...] -> [b]`.
pub fn sum_per_example<const D: usize>(x: Tensor<D>) -> Tensor<1> {
    let b = x.dims()[0];
    x.reshape([b as i64, -1]).sum_dim(1).reshape([b])
}

/// RealNVP section 4.1: y = logit(α + (1 - 2α) x) for x in [0, 1], so that a density on R^d
/// models dequantized pixels. `[b, d] -> (y [b, d], log |det| [b])`.
pub fn logit_forward(x: Tensor<2>, alpha: f64) -> (Tensor<2>, Tensor<1>) {
    let p = x.mul_scalar(1.0 - 2.0 * alpha).add_scalar(alpha); // in (α, 1 - α)
    let log_p = p.clone().log();
    let log_q = p.neg().add_scalar(1.0).log();
    let y = log_p.clone() - log_q.clone();
    // dy/dx = (1 - 2α) / (p (1 - p))
    let d = y.dims()[1] as f64;
    let logdet = (log_p + log_q)
        .neg()
        .sum_dim(1)
        .reshape([y.dims()[0]])
        .add_scalar(d * (1.0 - 2.0 * alpha).ln());
    (y, logdet)
}

/// The inverse of [`logit_forward`], clamped to [0, 1] for pictures.
pub fn logit_inverse(y: Tensor<2>, alpha: f64) -> Tensor<2> {
    sigmoid(y)
        .sub_scalar(alpha)
        .div_scalar(1.0 - 2.0 * alpha)
        .clamp(0.0, 1.0)
}

/// Space-to-depth: `[b, c, h, w] -> [b, 4c, h/2, w/2]` (section 3.6); volume-preserving.
pub fn squeeze(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h / 2, 2, w / 2, 2])
        .permute([0, 1, 3, 5, 2, 4])
        .reshape([b, 4 * c, h / 2, w / 2])
}

/// Depth-to-space, the inverse of [`squeeze`].
pub fn unsqueeze(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c / 4, 2, 2, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([b, c / 4, 2 * h, 2 * w])
}

/// Which half a coupling keeps (the mask b of eq. 9 is 1 on the kept half).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskKind {
    /// Spatial checkerboard; `parity` picks which squares are kept.
    Checkerboard { parity: bool },
    /// First (or, with `parity`, second) half of the channels.
    Channel { parity: bool },
}

impl MaskKind {
    /// The 0/1 mask `[1, c, h, w]`.
    pub fn tensor(self, [c, h, w]: [usize; 3], device: &Device) -> Tensor<4> {
        let v: Vec<f32> = (0..c * h * w)
            .map(|i| {
                let (ch, y, x) = (i / (h * w), (i / w) % h, i % w);
                let keep = match self {
                    MaskKind::Checkerboard { parity } => ((y + x) % 2 == 0) != parity,
                    MaskKind::Channel { parity } => (ch < c / 2) != parity,
                };
                keep as u8 as f32
            })
            .collect();
        Tensor::from_data(TensorData::new(v, [1, c, h, w]), device)
    }
}

/// Size of the s and t networks: `width` channels, `blocks` residual layers, `kernel` 3 or 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CouplingSpec {
    pub width: usize,
    pub blocks: usize,
    pub kernel: usize,
    pub zero_init: bool,
}

/// The s and t networks of one coupling: a small residual convnet (section 4.1), kernel 3 for
/// images, kernel 1 (an MLP per position) for points stored as `[b, d, 1, 1]`. With
/// `zero_init` the last layer starts at zero, so the coupling starts as the identity (as in
/// Glow); tests start it random.
#[derive(Module, Debug)]
pub struct CouplingNet {
    pub input: Conv2d,
    pub hidden: Vec<Conv2d>,
    pub output: Conv2d,
}

fn conv(i: usize, o: usize, k: usize, init: Option<Initializer>, device: &Device) -> Conv2d {
    let cfg = Conv2dConfig::new([i, o], [k, k]).with_padding(PaddingConfig2d::Explicit(
        k / 2,
        k / 2,
        k / 2,
        k / 2,
    ));
    match init {
        Some(init) => cfg.with_initializer(init).init(device),
        None => cfg.init(device),
    }
}

impl CouplingNet {
    pub fn new(c: usize, spec: CouplingSpec, device: &Device) -> Self {
        let k = spec.kernel;
        let last = spec.zero_init.then_some(Initializer::Zeros);
        Self {
            input: conv(c, spec.width, k, None, device),
            hidden: (0..spec.blocks)
                .map(|_| conv(spec.width, spec.width, k, None, device))
                .collect(),
            output: conv(spec.width, 2 * c, k, last, device),
        }
    }

    /// `[b, c, h, w] -> (s_raw, t)`, each `[b, c, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let mut h = relu(self.input.forward(x));
        for layer in &self.hidden {
            h = h.clone() + relu(layer.forward(h));
        }
        let out = self.output.forward(h);
        let c = out.dims()[1] / 2;
        (out.clone().narrow(1, 0, c), out.narrow(1, c, c))
    }
}

/// Affine coupling (eqs. 7-9): with b the mask,
///   y = b ⊙ x + (1 - b) ⊙ (x ⊙ exp(s(b ⊙ x)) + t(b ⊙ x)),   log |det| = sum (1 - b) ⊙ s
/// where s = scale ⊙ tanh(s_raw) (section 4.1's learned scale keeps s bounded).
#[derive(Module, Debug)]
pub struct AffineCoupling {
    pub net: CouplingNet,
    /// `[c]`
    pub scale: Param<Tensor<1>>,
}

impl AffineCoupling {
    pub fn new(c: usize, spec: CouplingSpec, device: &Device) -> Self {
        Self {
            net: CouplingNet::new(c, spec, device),
            scale: Initializer::Ones.init([c], device),
        }
    }

    /// `s` and `t` on the free half, from the kept half `xb = b ⊙ x`.
    fn s_t(&self, xb: Tensor<4>, free: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let (s_raw, t) = self.net.forward(xb);
        let scale = self.scale.val().reshape([1, -1, 1, 1]);
        (tanh(s_raw) * scale * free.clone(), t * free)
    }

    /// `x [b, c, h, w] -> (y, log |det| [b])`; `mask` `[1, c, h, w]`.
    pub fn forward(&self, x: Tensor<4>, mask: Tensor<4>) -> (Tensor<4>, Tensor<1>) {
        let xb = x.clone() * mask.clone();
        let free = mask.neg().add_scalar(1.0);
        let (s, t) = self.s_t(xb.clone(), free.clone());
        let y = xb + free * (x * s.clone().exp() + t);
        (y, sum_per_example(s))
    }

    /// `y -> x`, the exact inverse.
    pub fn inverse(&self, y: Tensor<4>, mask: Tensor<4>) -> Tensor<4> {
        let yb = y.clone() * mask.clone();
        let free = mask.neg().add_scalar(1.0);
        let (s, t) = self.s_t(yb.clone(), free.clone());
        yb + free * ((y - t) * s.neg().exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn squeeze_and_unsqueeze_are_inverse_and_squeeze_groups_2x2_blocks() {
        let device = Device::default();
        let x = Tensor::<4>::random([2, 3, 4, 6], Distribution::Normal(0.0, 1.0), &device);
        let s = squeeze(x.clone());
        assert_eq!(s.dims(), [2, 12, 2, 3]);
        let back = unsqueeze(s.clone());
        assert_eq!(crate::flow::tests::max_diff(back, x.clone()), 0.0);
        // Channel 4c' + 2i + j of the output holds pixel (2y + i, 2x + j) of channel c'.
        let v = |t: Tensor<4>, idx: [usize; 4]| {
            t.slice([
                idx[0]..idx[0] + 1,
                idx[1]..idx[1] + 1,
                idx[2]..idx[2] + 1,
                idx[3]..idx[3] + 1,
            ])
            .into_scalar::<f32>()
        };
        assert_eq!(v(s, [1, 4 + 2 + 1, 1, 2]), v(x, [1, 1, 3, 5]));
    }

    pub(crate) fn max_diff(a: Tensor<4>, b: Tensor<4>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn logit_transform_inverts_and_its_logdet_matches_the_derivative() {
        let device = Device::default();
        let x = Tensor::<2>::random([3, 5], Distribution::Uniform(0.01, 0.99), &device);
        let (y, logdet) = logit_forward(x.clone(), 0.05);
        let back = logit_inverse(y.clone(), 0.05);
        let diff = (back - x.clone()).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "{diff}");
        // Central differences of the elementwise map, summed in log space.
        let h = 1e-3;
        let (yp, _) = logit_forward(x.clone().add_scalar(h), 0.05);
        let (ym, _) = logit_forward(x.sub_scalar(h), 0.05);
        let fd = sum_per_example((yp - ym).div_scalar(2.0 * h).log());
        let diff = (fd - logdet).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-2, "{diff}");
    }
}
