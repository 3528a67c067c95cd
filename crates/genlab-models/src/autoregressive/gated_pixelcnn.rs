//! `gated-pixelcnn`: the Gated PixelCNN of van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves
//! & Kavukcuoglu, "Conditional Image Generation with PixelCNN Decoders" (NeurIPS 2016,
//! https://arxiv.org/abs/1606.05328), class-conditional, for one-channel images.
//!
//! Two stacks remove PixelCNN's blind spot (section 2.2, figure 2):
//!   - the vertical stack convolves rows above and the current row (kernel (k/2 + 1) x k, padded
//!     on top), and reaches the horizontal stack shifted down one row, so that it only ever
//!     passes information from rows above;
//!   - the horizontal stack convolves the current row up to the current pixel (kernel
//!     1 x (k/2 + 1), padded on the left); in the first layer its input is shifted right one
//!     pixel, so that a pixel never sees itself.
//!
//! Each layer gates (eq. 4 with eq. 5's conditioning):
//!   y = tanh(W_f * x + V_f h) ⊙ sigmoid(W_g * x + V_g h),   h = one-hot class
//! and the horizontal stack adds a 1x1 convolution of its gated output to its input (residual).
//! Head: ReLU, 1x1 -> `head`, ReLU, 1x1 -> 1 logit (binarized data) or 256 (8-bit).
//! Training minimises the NLL of x given its class by Adam.
//!
//! Likelihood without a label is the exact marginal under a uniform class prior,
//! log p(x) = log (1/C) sum_y p(x | y), one pass per class.
//!
//! Sampling is ancestral, by fast generation (Ramachandran et al. 2017; [`PointNet`]): the
//! vertical stack runs a row at a time, once the row is drawn (the horizontal stack reads it a
//! row later); the horizontal stack and the head run at each pixel alone, reading cached rows.

use super::raster::{pixel_log_prob, plain_sampling, PixelStep, Raster, LEVELS};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::tensor::{one_hot, scalar, to_vec};
use genlab_core::Capability;
use genlab_core::{
    model::check_labels, Batch, Bound, Complete, DataInfo, Draw, Family, Likelihood, Losses, Model,
    NamedTensors, Sample, SampleGiven, StepCtx,
};
use genlab_data::{Kind, Scale, Shape};
use genlab_kernels::fused::{gated_tanh, shift_down, shift_right};
use genlab_nn::conv2d::{Build, Conv2d, Conv2dConfig};
use genlab_nn::fast_generation::{gate as gate_rows, relu as relu_in_place, PointConv, RowCache};
use genlab_nn::loss::log_mean_exp;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatedPixelCnnConfig {
    /// Feature maps p of both stacks (the gates use 2p).
    pub channels: usize,
    /// Gated layers, the first with a 7x7 receptive field, the rest `kernel`.
    pub layers: usize,
    pub kernel: usize,
    pub head: usize,
    /// Condition on the class label (section 2.3).
    pub conditional: bool,
}

impl Default for GatedPixelCnnConfig {
    fn default() -> Self {
        Self {
            channels: 32,
            layers: 8,
            kernel: 3,
            head: 64,
            conditional: true,
        }
    }
}

const FIRST_KERNEL: usize = 7;

fn conv(i: usize, o: usize, kernel: [usize; 2], pad: [usize; 4], device: &Device) -> Conv2d {
    let [top, left, bottom, right] = pad;
    Conv2dConfig::new([i, o], kernel)
        .with_padding(PaddingConfig2d::Explicit(top, left, bottom, right))
        .build(device)
}

/// One gated layer of both stacks (figure 2).
#[derive(Module, Debug)]
pub struct GatedLayer {
    pub v_conv: Conv2d,
    pub h_conv: Conv2d,
    pub v_to_h: Conv2d,
    pub h_out: Conv2d,
    /// Class -> gate biases of the vertical and horizontal stacks.
    pub cond: Option<Linear>,
    #[module(skip)]
    pub residual: bool,
}

impl GatedLayer {
    fn new(c_in: usize, p: usize, k: usize, classes: Option<usize>, device: &Device) -> Self {
        let r = k / 2;
        Self {
            v_conv: conv(c_in, 2 * p, [r + 1, k], [r, r, 0, r], device),
            h_conv: conv(c_in, 2 * p, [1, r + 1], [0, r, 0, 0], device),
            v_to_h: conv(2 * p, 2 * p, [1, 1], [0; 4], device),
            h_out: conv(p, p, [1, 1], [0; 4], device),
            cond: classes.map(|c| LinearConfig::new(c, 4 * p).init(device)),
            residual: c_in == p,
        }
    }

    /// `(v, h) [b, c, r, w]`, `y` one-hot `[b, C]` -> `(v, h) [b, p, r, w]`.
    fn forward(&self, v: Tensor<4>, h: Tensor<4>, y: Option<Tensor<2>>) -> (Tensor<4>, Tensor<4>) {
        let vf = self.v_conv.forward(v); //                                      [b, 2p, r, w]
        let mut hf = self.h_conv.forward(h.clone()) + self.v_to_h.forward(shift_down(vf.clone()));
        let mut vf = vf;
        if let (Some(cond), Some(y)) = (&self.cond, y) {
            let [b, two_p, _, _] = hf.dims();
            let bias = cond.forward(y); //                                        [b, 4p]
            vf = vf + bias.clone().narrow(1, 0, two_p).reshape([b, two_p, 1, 1]);
            hf = hf + bias.narrow(1, two_p, two_p).reshape([b, two_p, 1, 1]);
        }
        let out = self.h_out.forward(gated_tanh(hf)); // tanh ⊙ σ (eq. 2)           [b, p, r, w]
        let h = if self.residual { h + out } else { out };
        (gated_tanh(vf), h)
    }
}

#[derive(Module, Debug)]
pub struct GatedPixelCnnNet {
    pub layers: Vec<GatedLayer>,
    pub head: Conv2d,
    pub out: Conv2d,
}

impl GatedPixelCnnNet {
    pub fn new(
        cfg: &GatedPixelCnnConfig,
        levels: usize,
        classes: Option<usize>,
        device: &Device,
    ) -> Self {
        let p = cfg.channels;
        let layers = (0..cfg.layers)
            .map(|i| match i {
                0 => GatedLayer::new(1, p, FIRST_KERNEL, classes, device),
                _ => GatedLayer::new(p, p, cfg.kernel, classes, device),
            })
            .collect();
        Self {
            layers,
            head: conv(p, cfg.head, [1, 1], [0; 4], device),
            out: conv(cfg.head, levels, [1, 1], [0; 4], device),
        }
    }

    /// The horizontal stack's last features: `[b, 1, r, w] -> [b, p, r, w]`.
    pub fn features(&self, x: Tensor<4>, y: Option<Tensor<2>>) -> Tensor<4> {
        let (mut v, mut h) = (x.clone(), shift_right(x));
        for layer in &self.layers {
            (v, h) = layer.forward(v, h, y.clone());
        }
        h
    }

    /// Logits `[b, 1, r, w] -> [b, K, r, w]`.
    pub fn forward(&self, x: Tensor<4>, y: Option<Tensor<2>>) -> Tensor<4> {
        self.out
            .forward(relu(self.head.forward(relu(self.features(x, y)))))
    }

    /// Rows above a pixel that its output can see: the first vertical kernel, one more row per
    /// later layer's kernel, and the shift into the horizontal stack.
    pub fn rows_above(&self, kernel: usize) -> usize {
        FIRST_KERNEL / 2 + (self.layers.len().saturating_sub(1)) * (kernel / 2) + 1
    }
}

/// [`GatedPixelCnnNet`] evaluated a row (vertical stack) or a position (horizontal stack) at
/// a time, for fast generation.
pub struct PointNet {
    layers: Vec<PointLayer>,
    head: PointConv,
    out: PointConv,
    /// Gated feature maps p.
    p: usize,
}

struct PointLayer {
    v_conv: PointConv,
    /// The first layer's reads the image shifted right one column: the pixels to the left.
    h_conv: PointConv,
    v_to_h: PointConv,
    h_out: PointConv,
    residual: bool,
}

impl PointNet {
    pub fn new(net: &GatedPixelCnnNet) -> Self {
        let layers = net
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| PointLayer {
                v_conv: PointConv::conv(&l.v_conv),
                h_conv: PointConv::conv(&l.h_conv).shifted_right((i == 0) as usize),
                v_to_h: PointConv::conv(&l.v_to_h),
                h_out: PointConv::conv(&l.h_out),
                residual: l.residual,
            })
            .collect();
        Self {
            layers,
            head: PointConv::conv(&net.head),
            out: PointConv::conv(&net.out),
            p: net.layers[0].h_out.weight.dims()[0],
        }
    }

    /// Empty caches for `m` images of width `w`; `cond[l]` holds layer l's class biases
    /// `[m, 4p]` (empty when unconditional).
    fn step(&self, m: usize, w: usize, cond: Vec<Vec<f32>>) -> PointStep<'_> {
        let p = self.p;
        PointStep {
            net: self,
            // Layer 0 reads the image itself: its slot stays empty.
            v_in: self
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| match i {
                    0 => RowCache::new(0, 1, w, p),
                    _ => RowCache::new(m, l.v_conv.rows_above() + 1, w, p),
                })
                .collect(),
            vf_above: vec![vec![0.0; m * w * 2 * p]; self.layers.len()],
            h_in: (0..self.layers.len())
                .map(|_| RowCache::new(m, 1, w, p))
                .collect(),
            cond,
        }
    }
}

struct PointStep<'a> {
    net: &'a PointNet,
    /// Layer l's vertical input (l >= 1; layer 0 reads the image): `[m, r + 1, w, p]`.
    v_in: Vec<RowCache>,
    /// Layer l's vertical pre-activations (before class biases) of the row above: `[m, w, 2p]`,
    /// zeros on the first row (the shift down).
    vf_above: Vec<Vec<f32>>,
    /// Layer l's horizontal input on the current row (l >= 1): `[m, 1, w, p]`.
    h_in: Vec<RowCache>,
    cond: Vec<Vec<f32>>,
}

impl PointStep<'_> {
    /// `x [m * k, c] += cond[s, range]` for row i of x, image s = i / k; `cond [m, 4p]`.
    fn add_cond(x: &mut [f32], cond: &[f32], per_image: usize, range: std::ops::Range<usize>) {
        let c = range.len();
        let four_p = 2 * c;
        for (i, row) in x.chunks_mut(c).enumerate() {
            let bias = &cond[(i / per_image) * four_p..][range.clone()];
            row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
        }
    }

    /// The vertical stack on image row `row`, now drawn: every layer's pre-activations there,
    /// and the next layer's input.
    fn vertical(&mut self, image: &RowCache, row: usize) {
        let (p, w) = (self.net.p, image.w);
        for (l, layer) in self.net.layers.iter().enumerate() {
            let source = if l == 0 { image } else { &self.v_in[l] };
            let vf = layer.v_conv.row(source, row); //                      [m * w, 2p]
            if l + 1 < self.net.layers.len() {
                let mut biased = vf.clone();
                if !self.cond.is_empty() {
                    Self::add_cond(&mut biased, &self.cond[l], w, 0..2 * p);
                }
                self.v_in[l + 1].put_row(row, &gate_rows(&biased, p));
            }
            self.vf_above[l] = vf;
        }
    }
}

impl PixelStep for PointStep<'_> {
    /// [`GatedPixelCnnNet::forward`] at (row, col) only: `[m, K]`.
    fn logits(&mut self, image: &RowCache, row: usize, col: usize) -> Vec<f32> {
        if col == 0 && row > 0 {
            self.vertical(image, row - 1);
        }
        let (p, m, w) = (self.net.p, image.n, image.w);
        // The horizontal stack's input here: layer 0's is the pixel to the left.
        let mut h: Vec<f32> = (0..m)
            .flat_map(|s| match col {
                0 => vec![0.0; image.c],
                _ => image.at(s, row, col - 1).to_vec(),
            })
            .collect();
        for (l, layer) in self.net.layers.iter().enumerate() {
            let source = if l == 0 { image } else { &self.h_in[l] };
            let mut hf = layer.h_conv.at(source, row, col); //             [m, 2p]
            let above: Vec<f32> = (0..m)
                .flat_map(|s| {
                    self.vf_above[l][(s * w + col) * 2 * p..(s * w + col + 1) * 2 * p].to_vec()
                })
                .collect();
            hf.iter_mut()
                .zip(layer.v_to_h.dense(&above))
                .for_each(|(h, v)| *h += v);
            if !self.cond.is_empty() {
                Self::add_cond(&mut hf, &self.cond[l], 1, 2 * p..4 * p);
            }
            let out = layer.h_out.dense(&gate_rows(&hf, p)); //           [m, p]
            h = match layer.residual {
                true => h.iter().zip(out).map(|(a, b)| a + b).collect(),
                false => out,
            };
            if l + 1 < self.net.layers.len() {
                self.h_in[l + 1].put(row, col, &h);
            }
        }
        relu_in_place(&mut h);
        let mut z = self.net.head.dense(&h);
        relu_in_place(&mut z);
        self.net.out.dense(&z) //                                          [m, K]
    }
}

pub struct GatedPixelCnn {
    pub config: GatedPixelCnnConfig,
    pub net: GatedPixelCnnNet,
    shape: Shape,
    levels: usize,
    classes: usize,
}

impl GatedPixelCnn {
    pub fn new(config: GatedPixelCnnConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        if info.kind != Kind::Images || info.shape.c != 1 {
            bail!("gated-pixelcnn models one-channel images (found {} channels); set data.channels = 1", info.shape.c);
        }
        let pre = info.preprocess;
        if !pre.is_binary() && (pre.dequantize || pre.scale != Scale::Unit) {
            bail!("gated-pixelcnn's 256-way softmax is a likelihood of the 8-bit pixels themselves; set data.dequantize = false and data.scale = \"unit\"");
        }
        if config.conditional && info.classes < 2 {
            bail!("model.conditional needs labelled data with at least 2 classes; this data has {}; set model.conditional = false", info.classes);
        }
        if config.channels == 0 || config.layers == 0 || config.kernel.is_multiple_of(2) {
            bail!("model.channels and model.layers must be at least 1 and model.kernel odd");
        }
        let levels = if pre.is_binary() { 1 } else { LEVELS };
        let classes = config.conditional.then_some(info.classes);
        Ok(Self {
            net: GatedPixelCnnNet::new(&config, levels, classes, device),
            config,
            shape: info.shape,
            levels,
            classes: info.classes,
        })
    }

    fn one_hot(&self, labels: &[u32], device: &Device) -> Option<Tensor<2>> {
        self.config
            .conditional
            .then(|| one_hot(labels, self.classes, device))
    }

    /// log p(x | labels) per image.
    fn log_prob(&self, net: &GatedPixelCnnNet, x: Tensor<2>, labels: &[u32]) -> Tensor<1> {
        let [b, _] = x.dims();
        let y = self.one_hot(labels, &x.device());
        let img = x.clone().reshape([b, 1, self.shape.h, self.shape.w]);
        pixel_log_prob(net.forward(img, y), x)
    }

    /// Ancestral sampling of the pixels not `known` given `labels`, by fast generation.
    fn fill(
        &self,
        x: Tensor<2>,
        labels: &[u32],
        known: Option<Vec<f32>>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
    ) -> Tensor<2> {
        self.fill_by(x, labels, known, draw, rng, plain_sampling())
    }

    /// [`GatedPixelCnn::fill`] by the plain sampler or the cached one.
    fn fill_by(
        &self,
        x: Tensor<2>,
        labels: &[u32],
        known: Option<Vec<f32>>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
        plain: bool,
    ) -> Tensor<2> {
        let device = x.device();
        let net = genlab_core::device::module_for(&self.net, &device);
        let y = self.one_hot(labels, &device);
        let raster = Raster {
            shape: self.shape,
            levels: self.levels,
            rows_above: net.rows_above(self.config.kernel),
        };
        if plain {
            return raster.fill(x, known, draw, rng, |band, row, col| {
                let n = band.dims()[0];
                net.forward(band, y.clone())
                    .slice([0..n, 0..self.levels, row..row + 1, col..col + 1])
                    .reshape([n, self.levels])
            });
        }
        let point = PointNet::new(&net);
        raster.fill_cached(x, known, draw, rng, |images| {
            let cond = match &y {
                Some(y) => {
                    let mine = y.clone().slice([images.clone(), 0..self.classes]);
                    net.layers
                        .iter()
                        .map(|l| {
                            to_vec(l.cond.as_ref().expect("conditional").forward(mine.clone()))
                        })
                        .collect()
                }
                None => vec![],
            };
            point.step(images.len(), self.shape.w, cond)
        })
    }

    /// Labels 0, 1, .., C-1, 0, 1, .. for `n` unlabelled draws.
    fn round_robin(&self, n: usize) -> Vec<u32> {
        (0..n).map(|i| (i % self.classes.max(1)) as u32).collect()
    }
}

impl Model for GatedPixelCnn {
    fn family(&self) -> &'static str {
        "gated-pixelcnn"
    }
    /// As trained: log p(x | y) with the held-out labels when conditional.
    fn held_out(&self, batch: &Batch, _rng: &mut ChaCha8Rng) -> Result<Losses> {
        let net = genlab_core::device::module_for(&self.net, &batch.x.device());
        let labels = match (&batch.y, self.config.conditional) {
            (Some(y), true) => genlab_core::tensor::labels(y.clone()),
            _ => vec![],
        };
        let nll = self.log_prob(&net, batch.x.clone(), &labels).mean().neg();
        Ok(Losses::of(&[("nll", scalar(nll))]))
    }
    fn binary(&self) -> bool {
        self.levels == 1
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }
    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let labels = match (&batch.y, self.config.conditional) {
            (Some(y), true) => genlab_core::tensor::labels(y.clone()),
            (None, true) => {
                bail!("gated-pixelcnn with model.conditional = true needs labelled data")
            }
            (_, false) => vec![],
        };
        let nll = self
            .log_prob(&self.net, batch.x.clone(), &labels)
            .mean()
            .neg();
        let value = scalar(nll.clone());
        self.net = ctx.update("model", self.net.clone(), &nll);
        Ok(Losses::of(&[("nll", value)]))
    }
    fn save_params(&self) -> NamedTensors {
        NamedTensors::of("model", &self.net)
    }
    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.net = params.restore("model", self.net.clone())?;
        Ok(())
    }
    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_sample_given(&self) -> Option<&dyn SampleGiven> {
        self.config.conditional.then_some(self as &dyn SampleGiven)
    }
    fn as_complete(&self) -> Option<&dyn Complete> {
        Some(self)
    }
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        Some(self)
    }
}

impl Sample for GatedPixelCnn {
    /// Conditional models draw the classes in turn.
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let zeros = Tensor::zeros([n, self.shape.dim()], device);
        Ok(self.fill(zeros, &self.round_robin(n), None, Draw::Probabilities, rng))
    }
    fn sample_bits(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let zeros = Tensor::zeros([n, self.shape.dim()], device);
        Ok(self.fill(zeros, &self.round_robin(n), None, Draw::Bits, rng))
    }
}

impl SampleGiven for GatedPixelCnn {
    fn classes(&self) -> usize {
        self.classes
    }
    fn sample_given(
        &self,
        labels: &[u32],
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Tensor<2>> {
        self.given(labels, Draw::Probabilities, rng, device)
    }
    fn sample_given_bits(
        &self,
        labels: &[u32],
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Tensor<2>> {
        self.given(labels, Draw::Bits, rng, device)
    }
}

impl GatedPixelCnn {
    /// One image of each class in `labels`, shown as `draw` says.
    fn given(
        &self,
        labels: &[u32],
        draw: Draw,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Tensor<2>> {
        check_labels(labels, self.classes)?;
        let zeros = Tensor::zeros([labels.len(), self.shape.dim()], device);
        Ok(self.fill(zeros, labels, None, draw, rng))
    }
}

impl Complete for GatedPixelCnn {
    /// Conditional models complete under the classes in turn (the label is not known here).
    fn complete(&self, x: Tensor<2>, known: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let labels = self.round_robin(x.dims()[0]);
        Ok(self.fill(x, &labels, Some(to_vec(known)), Draw::Probabilities, rng))
    }
    fn complete_bits(
        &self,
        x: Tensor<2>,
        known: Tensor<2>,
        rng: &mut ChaCha8Rng,
    ) -> Result<Tensor<2>> {
        let labels = self.round_robin(x.dims()[0]);
        Ok(self.fill(x, &labels, Some(to_vec(known)), Draw::Bits, rng))
    }
}

impl Likelihood for GatedPixelCnn {
    /// Conditional: the exact marginal log (1/C) sum_y p(x | y).
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let net = genlab_core::device::module_for(&self.net, &x.device());
        let b = x.dims()[0];
        let log_p = if self.config.conditional {
            let per_class: Vec<Tensor<1>> = (0..self.classes as u32)
                .map(|c| self.log_prob(&net, x.clone(), &vec![c; b]))
                .collect();
            log_mean_exp(Tensor::stack::<2>(per_class, 1))
        } else {
            self.log_prob(&net, x, &[])
        };
        Ok(to_vec(log_p).into_iter().map(f64::from).collect())
    }
    fn bound(&self, _k: usize) -> Bound {
        Bound::Exact
    }
    fn models_8bit_levels(&self) -> bool {
        self.levels == LEVELS
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(GatedPixelCnnConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(GatedPixelCnn::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "gated-pixelcnn",
    summary:
        "Gated PixelCNN: vertical + horizontal stacks (no blind spot), gates, class-conditional",
    paper: "van den Oord et al. 2016, arXiv:1606.05328",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::SampleGivenLabel,
        Capability::Likelihood,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/gated-pixelcnn/default.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/gated-pixelcnn/tiny.toml"),
        ),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use rand::SeedableRng;

    fn net(device: &Device) -> GatedPixelCnnNet {
        let cfg = GatedPixelCnnConfig {
            channels: 4,
            layers: 3,
            ..GatedPixelCnnConfig::default()
        };
        GatedPixelCnnNet::new(&cfg, 1, Some(3), device)
    }

    #[test]
    fn causal_and_without_a_blind_spot() {
        // d features(i, j) / d x(r, c): exactly 0 for (r, c) at or after (i, j) in raster order,
        // and nonzero for every earlier pixel in the 7x7 window above and to the left, including
        // the upper-right pixels a masked PixelCNN cannot see (its blind spot).
        let device = Device::default().autodiff();
        let net = net(&device);
        let (h, w, i, j) = (9, 9, 5, 4);
        let x = Tensor::<4>::random([1, 1, h, w], Distribution::Normal(0.0, 1.0), &device)
            .require_grad();
        let y = Some(one_hot(&[1], 3, &device));
        let f = net
            .features(x.clone(), y)
            .slice([0..1, 0..4, i..i + 1, j..j + 1])
            .sum();
        let g: Vec<f32> = x
            .grad(&f.backward())
            .unwrap()
            .into_data()
            .try_to_vec()
            .unwrap();
        for r in 0..h {
            for c in 0..w {
                let v = g[r * w + c];
                if (r, c) >= (i, j) {
                    assert_eq!(v, 0.0, "({i},{j}) sees ({r},{c})");
                } else if r + 3 >= i && c + 3 >= j && c <= j + 4 {
                    assert_ne!(v, 0.0, "({i},{j}) is blind to ({r},{c})");
                }
            }
        }
        // The masked PixelCNN of the same depth (7x7 A, two 3x3 B) is blind at (i-1, j+4).
        let cfg = crate::autoregressive::pixelcnn::PixelCnnConfig {
            channels: 4,
            blocks: 2,
            head: 8,
        };
        let masked = crate::autoregressive::pixelcnn::PixelCnnNet::new(&cfg, 1, &device);
        let x = Tensor::<4>::random([1, 1, h, w], Distribution::Normal(0.0, 1.0), &device)
            .require_grad();
        let f = masked
            .forward(x.clone())
            .slice([0..1, 0..1, i..i + 1, j..j + 1])
            .sum();
        let g: Vec<f32> = x
            .grad(&f.backward())
            .unwrap()
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(g[(i - 1) * w + j + 4], 0.0, "PixelCNN's blind spot");
    }

    #[test]
    fn cached_sampling_draws_the_images_the_plain_sampler_draws() {
        // As for pixelcnn: the same bits and intensities as the plain band sampler, for
        // sampling and completion, conditional (a class per image) or not.
        let device = Device::default();
        for (binary, conditional) in [(true, true), (false, false), (true, false)] {
            let info = crate::testing::raster_info(8, 6, binary, 3);
            let config = GatedPixelCnnConfig {
                channels: 4,
                layers: 3,
                kernel: 3,
                head: 8,
                conditional,
            };
            let mut model = GatedPixelCnn::new(config, &info, &device).unwrap();
            model.net = crate::testing::seeded(model.net, 1);
            let (n, d) = (5, 8 * 6);
            let x = crate::testing::seeded_values(n, d, true, 2);
            let x = genlab_core::tensor::matrix(x, n, d, &device);
            let known: Vec<f32> = (0..n * d).map(|i| ((i % d) < 20) as u8 as f32).collect();
            let labels = [0, 2, 1, 1, 0];
            for (x, known) in [(Tensor::zeros([n, d], &device), None), (x, Some(known))] {
                for draw in [Draw::Bits, Draw::Probabilities] {
                    let run = |plain| {
                        let mut rng = ChaCha8Rng::seed_from_u64(11);
                        let out =
                            model.fill_by(x.clone(), &labels, known.clone(), draw, &mut rng, plain);
                        to_vec(out)
                    };
                    let (worst, same) = crate::testing::compare(&run(true), &run(false));
                    if draw == Draw::Bits || !binary {
                        assert!(same, "binary {binary}, {draw:?}: differ by {worst}");
                    } else {
                        assert!(worst < 1e-4, "binary {binary}: {worst}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_band_of_rows_gives_the_full_image_outputs() {
        let device = Device::default();
        let net = net(&device);
        let (h, w) = (14, 9);
        let x = Tensor::<4>::random([2, 1, h, w], Distribution::Normal(0.0, 1.0), &device);
        let y = Some(one_hot(&[0, 2], 3, &device));
        let full = net.forward(x.clone(), y.clone());
        let above = net.rows_above(3);
        for row in [0, 6, 13] {
            let top = row - row.min(above);
            let band = net.forward(x.clone().slice([0..2, 0..1, top..row + 1, 0..w]), y.clone());
            let a = band.slice([0..2, 0..1, row - top..row - top + 1, 0..w]);
            let b = full.clone().slice([0..2, 0..1, row..row + 1, 0..w]);
            let diff = (a - b).abs().max().into_scalar::<f32>();
            assert!(diff < 1e-5, "row {row}: {diff}");
        }
    }
}
