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

use super::raster::{pixel_log_prob, Raster, LEVELS};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::tensor::{one_hot, scalar, to_vec};
use genlab_core::Capability;
use genlab_core::{
    model::check_labels, Batch, Bound, Complete, DataInfo, Draw, Family, Likelihood, Losses, Model,
    NamedTensors, Sample, SampleGiven, StepCtx,
};
use genlab_data::{Kind, Scale, Shape};
use genlab_nn::conv2d::{Build, Conv2d, Conv2dConfig};
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

/// `[b, c, h, w]` moved down one row (zeros on top) or right one column (zeros on the left).
fn shift_down(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    Tensor::cat(
        vec![
            Tensor::zeros([b, c, 1, w], &x.device()),
            x.slice([0..b, 0..c, 0..h - 1, 0..w]),
        ],
        2,
    )
}

fn shift_right(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    Tensor::cat(
        vec![
            Tensor::zeros([b, c, h, 1], &x.device()),
            x.slice([0..b, 0..c, 0..h, 0..w - 1]),
        ],
        3,
    )
}

/// tanh(first half) ⊙ sigmoid(second half) over channels: `[b, 2p, h, w] -> [b, p, h, w]`.
fn gate(x: Tensor<4>) -> Tensor<4> {
    let p = x.dims()[1] / 2;
    tanh(x.clone().narrow(1, 0, p)) * sigmoid(x.narrow(1, p, p))
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
        let out = self.h_out.forward(gate(hf)); //                               [b, p, r, w]
        let h = if self.residual { h + out } else { out };
        (gate(vf), h)
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

    fn fill(
        &self,
        x: Tensor<2>,
        labels: &[u32],
        known: Option<Vec<f32>>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
    ) -> Tensor<2> {
        let net = genlab_core::device::module_for(&self.net, &x.device());
        let y = self.one_hot(labels, &x.device());
        let raster = Raster {
            shape: self.shape,
            levels: self.levels,
            rows_above: net.rows_above(self.config.kernel),
        };
        raster.fill(x, known, draw, rng, |band, row, col| {
            let n = band.dims()[0];
            net.forward(band, y.clone())
                .slice([0..n, 0..self.levels, row..row + 1, col..col + 1])
                .reshape([n, self.levels])
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
