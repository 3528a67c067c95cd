//! Building blocks of normalizing flows: the logit pre-transform of image data, squeezing, and
//! the affine coupling layer of RealNVP (Dinh, Sohl-Dickstein & Bengio, ICLR 2017,
//! https://arxiv.org/abs/1605.08803), each with its exact log-determinant and inverse.
//!
//! Convention: `forward` maps data towards the Gaussian (the density direction) and returns
//! the per-example log |det ∂y/∂x|; `inverse` maps back (the sampling direction).

use crate::conv2d::{Build, Conv2d, Conv2dConfig};
use burn::module::{Module, Param};
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

/// Completion with a flow (`genlab complete`): unadjusted Langevin dynamics on the hidden pixels
/// in logit space, y_h <- y_h + (ε/2) ∇_y log p(y) + sqrt(ε) ξ, the known pixels held fixed,
/// with ε annealed geometrically from 5e-2 to 5e-4 over `steps`. An approximate sampler of
/// p(hidden | known) (no Metropolis correction). `log_p(y)` is the density of logit-space
/// images `[n, d] -> [n]`, evaluated on an autodiff device.
pub fn langevin_complete(
    x: Tensor<2>,
    known: Tensor<2>,
    alpha: f64,
    steps: usize,
    rng: &mut impl rand::Rng,
    log_p: impl Fn(Tensor<2>) -> Tensor<1>,
) -> Tensor<2> {
    use rand_distr::{Distribution, StandardNormal};
    let device = x.device();
    let grad_device = device.clone().autodiff();
    let [n, d] = x.dims();
    let known: Vec<f32> = known
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32");
    let (y, _) = logit_forward(x, alpha);
    let mut y: Vec<f32> = y
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32");
    // Hidden pixels start at grey plus noise.
    for (v, k) in y.iter_mut().zip(&known) {
        if *k < 0.5 {
            *v = StandardNormal.sample(rng);
        }
    }
    let (hi, lo) = (5e-2f64, 5e-4f64);
    for t in 0..steps {
        let eps = hi * (lo / hi).powf(t as f64 / (steps.max(2) - 1) as f64);
        let yt =
            Tensor::<2>::from_data(TensorData::new(y.clone(), [n, d]), &grad_device).require_grad();
        let grads = log_p(yt.clone()).sum().backward();
        let g: Vec<f32> = yt
            .grad(&grads)
            .expect("y requires grad")
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32");
        for i in 0..n * d {
            if known[i] < 0.5 {
                let noise: f64 = StandardNormal.sample(rng);
                y[i] += (0.5 * eps * g[i] as f64 + eps.sqrt() * noise) as f32;
            }
        }
    }
    logit_inverse(
        Tensor::from_data(TensorData::new(y, [n, d]), &device),
        alpha,
    )
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

/// One step of a multi-scale flow (RealNVP section 3.6, Glow figure 2b).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The family's invertible layer number `i`, shape-preserving.
    Layer(usize),
    Squeeze,
    /// Factor out the second half of the channels: they go straight to the Gaussian.
    Split,
}

/// Run `plan` in the density direction on `x [b, c, h, w]`: `layer(i, t)` returns the layer's
/// output and log-determinant. Returns z `[b, D]` (factored-out parts first, in the order they
/// leave, then the rest) and the summed log-determinant `[b]`.
pub fn walk_forward(
    plan: &[Op],
    x: Tensor<4>,
    mut layer: impl FnMut(usize, Tensor<4>) -> (Tensor<4>, Tensor<1>),
) -> (Tensor<2>, Tensor<1>) {
    let b = x.dims()[0];
    let mut logdet = Tensor::<1>::zeros([b], &x.device());
    let mut t = x;
    let mut zs = Vec::new();
    for op in plan {
        match *op {
            Op::Layer(i) => {
                let (y, ld) = layer(i, t);
                t = y;
                logdet = logdet + ld;
            }
            Op::Squeeze => t = squeeze(t),
            Op::Split => {
                let c = t.dims()[1];
                zs.push(
                    t.clone()
                        .narrow(1, c / 2, c - c / 2)
                        .reshape([b as i64, -1]),
                );
                t = t.narrow(1, 0, c / 2);
            }
        }
    }
    zs.push(t.reshape([b as i64, -1]));
    (Tensor::cat(zs, 1), logdet)
}

/// Run `plan` backwards from z `[b, D]` (as [`walk_forward`] lays it out) for data of `shape`
/// `[c, h, w]`; `inverse(i, t)` inverts layer `i`.
pub fn walk_inverse(
    plan: &[Op],
    shape: [usize; 3],
    z: Tensor<2>,
    mut inverse: impl FnMut(usize, Tensor<4>) -> Tensor<4>,
) -> Tensor<4> {
    let b = z.dims()[0];
    // Shapes on the way down, to cut z into its parts.
    let mut shape = shape;
    let mut parts = Vec::new();
    for op in plan {
        match op {
            Op::Squeeze => shape = [shape[0] * 4, shape[1] / 2, shape[2] / 2],
            Op::Split => {
                parts.push([shape[0] - shape[0] / 2, shape[1], shape[2]]);
                shape[0] /= 2;
            }
            Op::Layer(_) => {}
        }
    }
    let mut offset = 0;
    let mut pieces: Vec<Tensor<4>> = parts
        .iter()
        .map(|&[c, h, w]| {
            let p = z.clone().narrow(1, offset, c * h * w).reshape([b, c, h, w]);
            offset += c * h * w;
            p
        })
        .collect();
    let [c, h, w] = shape;
    let mut t = z.narrow(1, offset, c * h * w).reshape([b, c, h, w]);
    for op in plan.iter().rev() {
        match *op {
            Op::Layer(i) => t = inverse(i, t),
            Op::Squeeze => t = unsqueeze(t),
            Op::Split => t = Tensor::cat(vec![t, pieces.pop().expect("one part per split")], 1),
        }
    }
    t
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
        Some(init) => cfg.with_initializer(init).build(device),
        None => cfg.build(device),
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

/// Glow's activation normalisation (section 3.1): per channel, y = (x + bias) ⊙ exp(log_scale),
/// log |det| = h w sum log_scale. `init` sets bias and scale from a batch so that the output
/// has zero mean and unit variance per channel (data-dependent initialisation).
#[derive(Module, Debug)]
pub struct ActNorm {
    /// `[c]`
    pub bias: Param<Tensor<1>>,
    /// `[c]`
    pub log_scale: Param<Tensor<1>>,
}

impl ActNorm {
    pub fn new(c: usize, device: &Device) -> Self {
        Self {
            bias: Initializer::Zeros.init([c], device),
            log_scale: Initializer::Zeros.init([c], device),
        }
    }

    /// Set bias = -mean and log_scale = -log(std + 1e-6) of `x [b, c, h, w]` per channel.
    pub fn init(self, x: Tensor<4>) -> Self {
        let [b, c, h, w] = x.dims();
        let flat = x.permute([1, 0, 2, 3]).reshape([c, b * h * w]).detach(); // [c, n]
        let mean = flat.clone().mean_dim(1).reshape([c]);
        let std = flat.var(1).reshape([c]).sqrt().add_scalar(1e-6);
        let device = self.bias.device();
        // New parameters (initialisation happens before the first optimizer step).
        let param = |t: Tensor<1>| Param::from_tensor(Tensor::from_data(t.into_data(), &device));
        Self {
            bias: param(mean.neg()),
            log_scale: param(std.log().neg()),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<1>) {
        let [b, _, h, w] = x.dims();
        let y = (x + self.bias.val().reshape([1, -1, 1, 1]))
            * self.log_scale.val().exp().reshape([1, -1, 1, 1]);
        let logdet = self
            .log_scale
            .val()
            .sum()
            .mul_scalar((h * w) as f64)
            .expand([b]);
        (y, logdet)
    }

    pub fn inverse(&self, y: Tensor<4>) -> Tensor<4> {
        y * self.log_scale.val().neg().exp().reshape([1, -1, 1, 1])
            - self.bias.val().reshape([1, -1, 1, 1])
    }
}

/// Glow's invertible 1x1 convolution in LU form (section 3.2): W = P L (U + diag(sign ⊙
/// exp(log_s))), with P and the signs fixed at initialisation from a random rotation;
/// log |det| = h w sum log_s, linear in the number of channels.
#[derive(Module, Debug)]
pub struct InvConv1x1 {
    /// `[c, c]`, strictly lower part used.
    pub lower: Param<Tensor<2>>,
    /// `[c, c]`, strictly upper part used.
    pub upper: Param<Tensor<2>>,
    /// `[c]`
    pub log_s: Param<Tensor<1>>,
    /// Row-major permutation matrix P, `[c * c]`.
    #[module(skip)]
    pub perm: Vec<f32>,
    #[module(skip)]
    pub sign: Vec<f32>,
}

impl InvConv1x1 {
    /// A random rotation drawn from `seed`, factorised.
    pub fn new(c: usize, seed: u64, device: &Device) -> Self {
        use rand::SeedableRng;
        let q =
            crate::linalg::random_orthogonal(c, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let (rows, l, u) = crate::linalg::lu(&q, c).expect("a rotation is invertible");
        // q[rows[i], :] = (L U)[i, :], so q = P L U with P[rows[i], i] = 1.
        let mut perm = vec![0f32; c * c];
        rows.iter()
            .enumerate()
            .for_each(|(i, &r)| perm[r * c + i] = 1.0);
        let diag: Vec<f64> = (0..c).map(|i| u[i * c + i]).collect();
        let f32s = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
        let tensor = |v: Vec<f32>, shape: [usize; 2]| {
            Param::from_tensor(Tensor::from_data(TensorData::new(v, shape), device))
        };
        Self {
            lower: tensor(f32s(l), [c, c]),
            upper: tensor(f32s(u), [c, c]),
            log_s: Param::from_tensor(Tensor::from_data(
                TensorData::new(
                    diag.iter()
                        .map(|d| d.abs().ln() as f32)
                        .collect::<Vec<f32>>(),
                    [c],
                ),
                device,
            )),
            perm: perm.clone(),
            sign: diag.iter().map(|d| d.signum() as f32).collect(),
        }
    }

    /// W `[c, c]` from its factors, differentiable in L, U and log_s.
    pub fn weight(&self) -> Tensor<2> {
        let c = self.sign.len();
        let device = self.log_s.device();
        let eye = Tensor::<2>::eye(c, &device);
        let l = self.lower.val().tril(-1) + eye.clone();
        let sign = Tensor::<1>::from_data(TensorData::new(self.sign.clone(), [c]), &device);
        let diag = eye * (sign * self.log_s.val().exp()).reshape([1, c]);
        let u = self.upper.val().triu(1) + diag;
        let p = Tensor::<2>::from_data(TensorData::new(self.perm.clone(), [c, c]), &device);
        p.matmul(l).matmul(u)
    }

    /// Apply `m [c, c]` at every pixel: `[b, c, h, w] -> [b, c, h, w]`.
    fn apply(x: Tensor<4>, m: Tensor<2>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let flat = x.permute([0, 2, 3, 1]).reshape([b * h * w, c]); // [bhw, c]
        flat.matmul(m.transpose())
            .reshape([b, h, w, c])
            .permute([0, 3, 1, 2])
    }

    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<1>) {
        let [b, _, h, w] = x.dims();
        let logdet = self
            .log_s
            .val()
            .sum()
            .mul_scalar((h * w) as f64)
            .expand([b]);
        (Self::apply(x, self.weight()), logdet)
    }

    /// W⁻¹ from the current weights (on the host, in f64), then applied.
    pub fn inverse(&self, y: Tensor<4>) -> Tensor<4> {
        let c = self.sign.len();
        let w: Vec<f64> = self
            .weight()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32")
            .into_iter()
            .map(f64::from)
            .collect();
        let inv =
            crate::linalg::inverse(&w, c).expect("W = P L U with exp(log_s) > 0 is invertible");
        let inv: Vec<f32> = inv.into_iter().map(|v| v as f32).collect();
        let m = Tensor::<2>::from_data(TensorData::new(inv, [c, c]), &y.device());
        Self::apply(y, m)
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

    #[test]
    fn actnorm_and_1x1_convolution_invert_and_report_their_logdet() {
        let device = Device::default();
        let x = Tensor::<4>::random([4, 3, 5, 6], Distribution::Normal(1.0, 3.0), &device);
        let norm = ActNorm::new(3, &device).init(x.clone());
        let (y, logdet) = norm.forward(x.clone());
        // After data-dependent init: zero mean, unit variance per channel.
        let flat = y.clone().permute([1, 0, 2, 3]).reshape([3, 120]);
        let mean = flat.clone().mean_dim(1).abs().max().into_scalar::<f32>();
        let var = flat.var(1).sub_scalar(1.0).abs().max().into_scalar::<f32>();
        assert!(mean < 1e-4 && var < 1e-3, "mean {mean}, var - 1 {var}");
        assert!(max_diff(norm.inverse(y), x.clone()) < 1e-4);
        let want = norm.log_scale.val().sum().into_scalar::<f32>() * 30.0;
        assert!((logdet.slice(0..1).into_scalar::<f32>() - want).abs() < 1e-4);

        let conv = InvConv1x1::new(3, 7, &device);
        let (y, logdet) = conv.forward(x.clone());
        assert!(max_diff(conv.inverse(y), x) < 1e-4);
        // log |det W| from the factors equals an LU of W itself.
        let w: Vec<f64> = conv
            .weight()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        let want = crate::linalg::log_abs_det(&w, 3) * 30.0;
        let got = logdet.slice(0..1).into_scalar::<f32>() as f64;
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    }

    #[test]
    fn langevin_completion_samples_the_hidden_pixels_and_keeps_the_known_ones() {
        // Target in logit space: independent N(2, 0.3²) per pixel. The known half keeps its
        // values; the hidden half ends with mean ~2 and sd ~0.3.
        use rand::SeedableRng;
        let device = Device::default();
        let (n, d) = (50, 40);
        let x = Tensor::<2>::random([n, d], Distribution::Uniform(0.1, 0.9), &device);
        let known: Vec<f32> = (0..n * d).map(|i| (i % d < d / 2) as u8 as f32).collect();
        let known = Tensor::<2>::from_data(TensorData::new(known, [n, d]), &device);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let out = langevin_complete(x.clone(), known, 0.05, 300, &mut rng, |y| {
            y.sub_scalar(2.0)
                .div_scalar(0.3)
                .powi_scalar(2)
                .mul_scalar(-0.5)
                .sum_dim(1)
                .reshape([-1])
        });
        let kept = out.clone().slice([0..n, 0..d / 2]) - x.slice([0..n, 0..d / 2]);
        assert!(kept.abs().max().into_scalar::<f32>() < 1e-5);
        let (y, _) = logit_forward(out.slice([0..n, d / 2..d]), 0.05);
        let v: Vec<f32> = y.into_data().try_to_vec().unwrap();
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let sd = (v.iter().map(|a| (a - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt();
        assert!((mean - 2.0).abs() < 0.05, "mean {mean}");
        assert!((sd - 0.3).abs() < 0.1, "sd {sd}");
    }
}
