//! The generator and discriminator every GAN family builds from: MLPs for points, and for
//! images the DCGAN pair (Radford et al. 2016): stride-2 4x4 (transposed) convolutions instead of
//! pooling, batch norm in both nets except G's output and D's input, no hidden fully connected
//! layers, ReLU in G, LeakyReLU in D.
//!
//! The discriminator carries the options later papers added: spectral normalization of every
//! weight (Miyato et al. 2018), a minibatch standard-deviation feature (Karras et al. 2018), an
//! extra input (a label as planes beside the image for cgan, a code joined after the body for
//! BiGAN), and more outputs than
//! one (an auxiliary classifier for AC-GAN, the Q head of InfoGAN). Its input gradient can be
//! written from forward ops ([`Discriminator::input_gradient`]) for WGAN-GP's penalty.
//!
//! DCGAN sizing: an image side s is halved n times while it stays even and at least 4 (28 -> 14
//! -> 7: n = 2; 32 -> 4: n = 3; 64 -> 4: n = 4). Channel widths double on the way down in D
//! (`width`, 2 `width`, ...) and halve on the way up in G.

use crate::conv2d::{Build, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use crate::mlp::Activation;
use crate::spectral_norm;
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::sigmoid;
use burn::tensor::module::linear;

use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Tensor};
use genlab_data::Shape;
use genlab_kernels::gemm_conv::{conv2d, conv_transpose2d};

/// Width of the joint layer after a DCGAN discriminator's body when an extra input (label,
/// code) joins there, so that the two can interact before the output.
pub const JOINT_WIDTH: usize = 512;

/// Which pair of networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    Mlp,
    Dcgan,
}

/// How G's last layer maps to data space: linear for points, tanh for images scaled to
/// [-1, 1], sigmoid for [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Linear,
    Tanh,
    Sigmoid,
}

impl Output {
    /// The output layer for data of `kind` scaled by `scale`: linear for points, tanh for
    /// images in [-1, 1], sigmoid for [0, 1].
    pub fn for_data(kind: genlab_data::Kind, scale: genlab_data::Scale) -> Self {
        match (kind, scale) {
            (genlab_data::Kind::Points, _) => Output::Linear,
            (genlab_data::Kind::Images, genlab_data::Scale::Symmetric) => Output::Tanh,
            (genlab_data::Kind::Images, genlab_data::Scale::Unit) => Output::Sigmoid,
        }
    }

    pub fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Output::Linear => x,
            Output::Tanh => genlab_kernels::fused::tanh(x),
            Output::Sigmoid => sigmoid(x),
        }
    }
}

/// How many stride-2 stages a DCGAN uses for an image side (see the module docs), or None.
pub fn dcgan_stages(shape: Shape) -> Option<usize> {
    let mut n = 0;
    let (mut h, mut w) = (shape.h, shape.w);
    while n < 4 && h % 2 == 0 && w % 2 == 0 && h / 2 >= 4 && w / 2 >= 4 {
        (h, w) = (h / 2, w / 2);
        n += 1;
    }
    (n > 0).then_some(n)
}

fn up_conv(i: usize, o: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([i, o], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .build(device)
}

fn down_conv(i: usize, o: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([i, o], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .build(device)
}

fn down_options() -> ConvOptions<2> {
    ConvOptions::new([2, 2], [1, 1], [1, 1], 1)
}

/// What a generator is made of.
#[derive(Clone, Debug)]
pub struct GenSpec {
    pub body: Body,
    /// Input size: latent plus any code or label.
    pub input: usize,
    pub shape: Shape,
    /// MLP hidden sizes.
    pub hidden: Vec<usize>,
    /// DCGAN width of the last hidden stage (64 in the paper).
    pub width: usize,
    pub activation: Activation,
    pub batch_norm: bool,
}

#[derive(Module, Debug)]
pub struct Generator {
    /// MLP: every layer. DCGAN: the projection z -> [C, h0, w0].
    dense: Vec<Linear>,
    /// After each hidden dense layer (DCGAN: after the projection); empty without batch norm.
    dense_norms: Vec<BatchNorm>,
    /// DCGAN: stride-2 4x4 transposed convolutions, the last to the data's channels.
    ups: Vec<ConvTranspose2d>,
    /// After each up-convolution but the last; empty without batch norm.
    up_norms: Vec<BatchNorm>,
    /// DCGAN projection shape `[C, h0, w0]`.
    #[module(skip)]
    top: [usize; 3],
    #[module(skip)]
    activation: Activation,
}

impl Generator {
    pub fn new(spec: &GenSpec, device: &Device) -> Self {
        let d = spec.shape.dim();
        let norm = |n: usize| BatchNormConfig::new(n).init(device);
        match spec.body {
            Body::Mlp => {
                let sizes: Vec<usize> = std::iter::once(spec.input)
                    .chain(spec.hidden.iter().copied())
                    .chain([d])
                    .collect();
                let dense = sizes
                    .windows(2)
                    .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                    .collect();
                let dense_norms = if spec.batch_norm {
                    spec.hidden.iter().map(|&n| norm(n)).collect()
                } else {
                    Vec::new()
                };
                Self {
                    dense,
                    dense_norms,
                    ups: Vec::new(),
                    up_norms: Vec::new(),
                    top: [0; 3],
                    activation: spec.activation,
                }
            }
            Body::Dcgan => {
                let n = dcgan_stages(spec.shape).expect("image size checked by the family");
                let top = [spec.width << (n - 1), spec.shape.h >> n, spec.shape.w >> n];
                // Channels top, top/2, ..., width, then the data's channels.
                let chans: Vec<usize> = (0..n)
                    .map(|i| spec.width << (n - 1 - i))
                    .chain([spec.shape.c])
                    .collect();
                let (dense_norms, up_norms) = if spec.batch_norm {
                    (
                        vec![norm(top[0])],
                        chans[1..n].iter().map(|&c| norm(c)).collect(),
                    )
                } else {
                    (Vec::new(), Vec::new())
                };
                Self {
                    dense: vec![LinearConfig::new(spec.input, top.iter().product()).init(device)],
                    dense_norms,
                    ups: chans
                        .windows(2)
                        .map(|w| up_conv(w[0], w[1], device))
                        .collect(),
                    up_norms,
                    top,
                    activation: spec.activation,
                }
            }
        }
    }

    /// `[b, input] -> [b, d]` before the output activation.
    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        let b = z.dims()[0];
        let act = self.activation;
        if self.ups.is_empty() {
            let last = self.dense.len() - 1;
            let mut x = z;
            for (i, layer) in self.dense.iter().enumerate() {
                x = layer.forward(x);
                if i < last {
                    if let Some(bn) = self.dense_norms.get(i) {
                        x = genlab_kernels::fused_bn::batch_norm(bn, x);
                    }
                    x = act.apply(x);
                }
            }
            return x;
        }
        let [c, h, w] = self.top;
        let mut x = self.dense[0].forward(z).reshape([b, c, h, w]); // [b, C, h0, w0]
        if let Some(bn) = self.dense_norms.first() {
            x = genlab_kernels::fused_bn::batch_norm(bn, x);
        }
        x = act.apply(x);
        let last = self.ups.len() - 1;
        for (i, up) in self.ups.iter().enumerate() {
            x = up.forward(x); // [b, C / 2^(i+1) or c, 2h, 2w]
            if i < last {
                if let Some(bn) = self.up_norms.get(i) {
                    x = genlab_kernels::fused_bn::batch_norm(bn, x);
                }
                x = act.apply(x);
            }
        }
        x.flatten(1, 3) // [b, c*h*w]
    }
}

/// What a discriminator (critic, encoder) is made of.
#[derive(Clone, Debug)]
pub struct DiscSpec {
    pub body: Body,
    pub shape: Shape,
    /// MLP hidden sizes.
    pub hidden: Vec<usize>,
    /// DCGAN width of the first stage (64 in the paper).
    pub width: usize,
    pub activation: Activation,
    pub batch_norm: bool,
    pub spectral_norm: bool,
    pub minibatch_std: bool,
    /// Size of an extra input (label one-hot, latent code); 0 for none.
    pub extra: usize,
    /// DCGAN: join the extra input as constant planes beside the image channels (a label, as in
    /// conditional image GANs), rather than after the body through a joint layer (BiGAN's code).
    pub extra_planes: bool,
    /// Outputs: 1 for a plain D, more for auxiliary heads, the latent size for an encoder.
    pub out: usize,
}

impl DiscSpec {
    /// The DCGAN discriminator of Radford et al. 2015 on `shape`: stride-2 4x4 convolutions from
    /// `width` channels, batch norm, LeakyReLU 0.2, a dense head to `out` numbers (1 for a
    /// critic, a bottleneck for an encoder).
    pub fn dcgan(shape: Shape, width: usize, out: usize) -> Self {
        Self {
            body: Body::Dcgan,
            shape,
            hidden: Vec::new(),
            width,
            activation: Activation::LeakyRelu,
            batch_norm: true,
            spectral_norm: false,
            minibatch_std: false,
            extra: 0,
            extra_planes: false,
            out,
        }
    }
}

#[derive(Module, Debug)]
pub struct Discriminator {
    /// DCGAN body: stride-2 4x4 convolutions; empty for an MLP.
    convs: Vec<Conv2d>,
    /// After each convolution but the first; empty without batch norm.
    conv_norms: Vec<BatchNorm>,
    /// MLP: every layer. DCGAN: the head after the body.
    dense: Vec<Linear>,
    /// Power-iteration vectors, one per convolution then per dense layer; empty without
    /// spectral normalization.
    #[module(skip)]
    sn_u: Vec<Tensor<1>>,
    #[module(skip)]
    shape: [usize; 3],
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    minibatch_std: bool,
    #[module(skip)]
    extra_planes: bool,
}

/// What [`Discriminator::input_gradient`] needs from a forward pass: the pre-activations.
struct Trace {
    conv_pre: Vec<Tensor<4>>,
    dense_pre: Vec<Tensor<2>>,
}

impl Discriminator {
    pub fn new(spec: &DiscSpec, device: &Device) -> Self {
        let mb = usize::from(spec.minibatch_std);
        let planes = spec.body == Body::Dcgan && spec.extra_planes;
        let (convs, conv_norms, head_in) = match spec.body {
            Body::Mlp => (Vec::new(), Vec::new(), spec.shape.dim()),
            Body::Dcgan => {
                let n = dcgan_stages(spec.shape).expect("image size checked by the family");
                let input = spec.shape.c + if planes { spec.extra } else { 0 };
                let chans: Vec<usize> = std::iter::once(input)
                    .chain((0..n).map(|i| spec.width << i))
                    .collect();
                let norms = if spec.batch_norm {
                    chans[2..]
                        .iter()
                        .map(|&c| BatchNormConfig::new(c).init(device))
                        .collect()
                } else {
                    Vec::new()
                };
                let convs = chans
                    .windows(2)
                    .map(|w| down_conv(w[0], w[1], device))
                    .collect();
                let flat = chans[n] * (spec.shape.h >> n) * (spec.shape.w >> n);
                (convs, norms, flat)
            }
        };
        let joined = if planes { 0 } else { spec.extra }; // joined after the body
        let hidden: Vec<usize> = match spec.body {
            Body::Mlp => spec.hidden.clone(),
            Body::Dcgan if joined > 0 => vec![JOINT_WIDTH],
            Body::Dcgan => Vec::new(),
        };
        let mut sizes: Vec<usize> = std::iter::once(head_in + joined)
            .chain(hidden)
            .chain([spec.out])
            .collect();
        let k = sizes.len() - 2;
        sizes[k] += mb; // the minibatch-std feature joins before the last layer
        let dense: Vec<Linear> = sizes
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        let mut net = Self {
            convs,
            conv_norms,
            dense,
            sn_u: Vec::new(),
            shape: [spec.shape.c, spec.shape.h, spec.shape.w],
            activation: spec.activation,
            minibatch_std: spec.minibatch_std,
            extra_planes: planes,
        };
        if spec.spectral_norm {
            net.sn_u = net
                .weight_matrices()
                .iter()
                .map(|w| spectral_norm::init_u(w.dims()[0], device))
                .collect();
        }
        net
    }

    /// Weight `i` (convolutions first) as a matrix: a convolution `[out, in*kh*kw]`, a linear
    /// layer `[out, in]`.
    fn weight_matrix(&self, i: usize) -> Tensor<2> {
        match self.convs.get(i) {
            Some(c) => c.weight.val().flatten(1, 3),
            None => self.dense[i - self.convs.len()].weight.val().transpose(),
        }
    }

    fn weight_matrices(&self) -> Vec<Tensor<2>> {
        (0..self.convs.len() + self.dense.len())
            .map(|i| self.weight_matrix(i))
            .collect()
    }

    /// One power-iteration step for every weight (once per discriminator update).
    pub fn power_iteration(&mut self) {
        if self.sn_u.is_empty() {
            return;
        }
        let ws = self.weight_matrices();
        self.sn_u = ws
            .into_iter()
            .zip(&self.sn_u)
            .map(|(w, u)| spectral_norm::power_iteration(w, u.clone(), 1))
            .collect();
    }

    /// Spectral-norm vectors, for checkpoints (empty without spectral normalization).
    pub fn sn_state(&self) -> &[Tensor<1>] {
        &self.sn_u
    }

    pub fn set_sn_state(&mut self, u: Vec<Tensor<1>>) {
        assert_eq!(u.len(), self.sn_u.len(), "spectral-norm state size");
        self.sn_u = u;
    }

    /// The weight of layer `i` (convolutions first), divided by its sigma when normalized.
    fn scale<const D: usize>(&self, i: usize, w: Tensor<D>) -> Tensor<D> {
        match self.sn_u.get(i) {
            None => w,
            Some(u) => {
                let sigma = spectral_norm::sigma(self.weight_matrix(i), u); // [1]
                w / sigma.reshape([1usize; D])
            }
        }
    }

    fn conv_weight(&self, i: usize) -> Tensor<4> {
        self.scale(i, self.convs[i].weight.val())
    }

    /// Linear weights `[in, out]`.
    fn dense_weight(&self, j: usize) -> Tensor<2> {
        self.scale(self.convs.len() + j, self.dense[j].weight.val())
    }

    /// `[b, d]` (and `[b, extra]`) -> `[b, out]` logits or critic values.
    pub fn forward(&self, x: Tensor<2>, extra: Option<Tensor<2>>) -> Tensor<2> {
        self.forward_traced(x, extra).0
    }

    fn forward_traced(&self, x: Tensor<2>, extra: Option<Tensor<2>>) -> (Tensor<2>, Trace) {
        let act = self.activation;
        let mut trace = Trace {
            conv_pre: Vec::new(),
            dense_pre: Vec::new(),
        };
        let mut h = x;
        let mut extra = extra;
        if !self.convs.is_empty() {
            let [c, hh, ww] = self.shape;
            let b = h.dims()[0];
            let mut y = h.reshape([b, c, hh, ww]); // [b, c, h, w]
            if self.extra_planes {
                if let Some(e) = extra.take() {
                    let k = e.dims()[1];
                    let planes = e.reshape([b, k, 1, 1]).expand([b, k, hh, ww]); // [b, k, h, w]
                    y = Tensor::cat(vec![y, planes], 1);
                }
            }
            for (i, conv) in self.convs.iter().enumerate() {
                let bias = conv.bias.as_ref().map(|p| p.val());
                y = conv2d(y, self.conv_weight(i), bias, down_options()); // [b, ., h/2, w/2]
                if i > 0 {
                    if let Some(bn) = self.conv_norms.get(i - 1) {
                        y = genlab_kernels::fused_bn::batch_norm(bn, y);
                    }
                }
                trace.conv_pre.push(y.clone());
                y = act.apply(y);
            }
            h = y.flatten(1, 3); // [b, C*h0*w0]
        }
        if let Some(e) = extra {
            h = Tensor::cat(vec![h, e], 1);
        }
        let last = self.dense.len() - 1;
        for (j, layer) in self.dense.iter().enumerate() {
            if j == last && self.minibatch_std {
                h = Tensor::cat(vec![h.clone(), minibatch_std(h)], 1);
            }
            let bias = layer.bias.as_ref().map(|p| p.val());
            h = linear(h, self.dense_weight(j), bias);
            if j < last {
                trace.dense_pre.push(h.clone());
                h = act.apply(h);
            }
        }
        (h, trace)
    }

    /// d D(x)_0 / dx `[b, d]` for a one-output critic, written as an explicit backward pass of
    /// forward ops, so that a loss on it (WGAN-GP's penalty) can be back-propagated by a
    /// first-order autodiff. Needs a critic without batch norm, minibatch std or extra input,
    /// whose examples are independent.
    pub fn input_gradient(&self, x: Tensor<2>) -> Tensor<2> {
        assert!(
            self.conv_norms.is_empty() && !self.minibatch_std,
            "input_gradient needs a critic without batch norm or minibatch std"
        );
        let b = x.dims()[0];
        let act = self.activation;
        let (_, trace) = self.forward_traced(x.clone(), None);
        let device = x.device();
        // Dense layers, last to first: g <- (g Wᵀ) * act'(pre of the layer below).
        let mut g: Tensor<2> = Tensor::ones([b, 1], &device); // [b, out]
        for j in (0..self.dense.len()).rev() {
            g = g.matmul(self.dense_weight(j).transpose()); // [b, in_j]
            if j > 0 {
                g = g * act.derivative(trace.dense_pre[j - 1].clone());
            }
        }
        if self.convs.is_empty() {
            return g;
        }
        // Convolutions, last to first: through the activation, then the transposed conv.
        let n = self.convs.len();
        let pre_last = &trace.conv_pre[n - 1];
        let mut y: Tensor<4> = g.reshape(pre_last.dims()); // [b, C, h0, w0]
        for i in (0..n).rev() {
            y = y * act.derivative(trace.conv_pre[i].clone());
            y = conv_transpose2d(
                y,
                self.conv_weight(i),
                None,
                ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1),
            ); // [b, in_i, 2h, 2w]
        }
        y.flatten(1, 3)
    }
}

/// The minibatch standard deviation (Karras et al. 2018, §3, simplified): the mean over
/// features of each feature's standard deviation over the batch, `[b, f] -> [b, 1]`.
fn minibatch_std(h: Tensor<2>) -> Tensor<2> {
    let b = h.dims()[0];
    let mean = h.clone().mean_dim(0); // [1, f]
    let var = (h - mean).powi_scalar(2).mean_dim(0); // [1, f]
    var.add_scalar(1e-8)
        .sqrt()
        .mean()
        .reshape([1, 1])
        .repeat_dim(0, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use genlab_core::rng::{rng_for, Stream};

    fn critic(body: Body, sn: bool, device: &Device) -> (Discriminator, Shape) {
        let shape = match body {
            Body::Mlp => Shape { c: 1, h: 1, w: 3 },
            Body::Dcgan => Shape { c: 1, h: 8, w: 8 },
        };
        let spec = DiscSpec {
            body,
            shape,
            hidden: vec![5, 4],
            width: 3,
            activation: Activation::Tanh,
            batch_norm: false,
            spectral_norm: sn,
            minibatch_std: false,
            extra: 0,
            extra_planes: false,
            out: 1,
        };
        (Discriminator::new(&spec, device), shape)
    }

    /// The explicit input gradient equals the central finite difference of D, and autodiff's
    /// own first-order gradient, for an MLP and a convolutional critic (with and without
    /// spectral normalization).
    #[test]
    fn input_gradient_matches_finite_differences_and_autodiff() {
        let device = genlab_core::device::training_device(5);
        for (body, sn) in [
            (Body::Mlp, false),
            (Body::Mlp, true),
            (Body::Dcgan, false),
            (Body::Dcgan, true),
        ] {
            let (mut d, shape) = critic(body, sn, &device);
            d.power_iteration();
            let b = 2;
            let x = genlab_core::tensor::normal(
                [b, shape.dim()],
                &mut rng_for(1, 0, Stream::Eval),
                &device,
            );
            let explicit = genlab_core::tensor::to_vec(d.input_gradient(x.clone()));
            // Autodiff of the forward pass.
            let xg = x.clone().require_grad();
            let grads = d.forward(xg.clone(), None).sum().backward();
            let auto = genlab_core::tensor::to_vec(xg.grad(&grads).unwrap());
            // Central differences in f32 on a few coordinates of each example.
            let base = genlab_core::tensor::to_vec(x.clone());
            let dim = shape.dim();
            let eps = 1e-2f32;
            for (i, (&e, &a)) in explicit.iter().zip(&auto).enumerate() {
                assert!(
                    (e - a).abs() < 1e-4 * (1.0 + a.abs()),
                    "{body:?} sn={sn} [{i}] explicit {e} vs autodiff {a}"
                );
            }
            for i in (0..b * dim).step_by(dim / 3 + 1) {
                let f = |delta: f32| {
                    let mut v = base.clone();
                    v[i] += delta;
                    let t = genlab_core::tensor::matrix(v, b, dim, &device);
                    genlab_core::tensor::to_vec(d.forward(t, None))[i / dim] as f64
                };
                let fd = (f(eps) - f(-eps)) / (2.0 * eps as f64);
                let e = explicit[i] as f64;
                assert!(
                    (e - fd).abs() < 2e-3 * (1.0 + fd.abs()),
                    "{body:?} sn={sn} [{i}] explicit {e} vs finite difference {fd}"
                );
            }
        }
    }

    /// The penalty built on the explicit gradient back-propagates to the critic's weights
    /// (the whole point: burn's autodiff cannot take the gradient of its own gradient).
    #[test]
    fn a_loss_on_the_input_gradient_reaches_the_weights() {
        let device = genlab_core::device::training_device(5);
        let (d, shape) = critic(Body::Dcgan, false, &device);
        let x = genlab_core::tensor::normal(
            [3, shape.dim()],
            &mut rng_for(2, 0, Stream::Eval),
            &device,
        );
        let g = d.input_gradient(x);
        let penalty = (g.powi_scalar(2).sum_dim(1).sqrt() - 1.0)
            .powi_scalar(2)
            .mean();
        let grads = penalty.backward();
        let w = d.convs[0].weight.val();
        let gw = genlab_core::tensor::to_vec(w.grad(&grads).expect("the penalty reaches conv 0"));
        assert!(gw.iter().any(|v| v.abs() > 1e-6));
    }

    #[test]
    fn dcgan_sizes_follow_the_image_side() {
        let sq = |s| Shape { c: 1, h: s, w: s };
        assert_eq!(dcgan_stages(sq(28)), Some(2));
        assert_eq!(dcgan_stages(sq(32)), Some(3));
        assert_eq!(dcgan_stages(sq(64)), Some(4));
        assert_eq!(dcgan_stages(sq(7)), None);
        let device = genlab_core::device::training_device(0);
        for s in [28, 32, 64] {
            let g = Generator::new(
                &GenSpec {
                    body: Body::Dcgan,
                    input: 10,
                    shape: Shape { c: 3, h: s, w: s },
                    hidden: vec![],
                    width: 8,
                    activation: Activation::Relu,
                    batch_norm: true,
                },
                &device,
            );
            let out = g.forward(Tensor::zeros([2, 10], &device));
            assert_eq!(out.dims(), [2, 3 * s * s]);
        }
    }
}
