//! `pixelcnn`: PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural
//! Networks", ICML 2016, https://arxiv.org/abs/1601.06759), for one-channel images.
//!
//!   log p(x) = sum_i log p(x_i | x_<i)   (raster order, exact)
//!
//! Network (section 3.4 and figure 5 of the paper):
//!   1. masked 7x7 convolution, type A (a pixel does not see itself), 1 -> 2h channels;
//!   2. `blocks` residual blocks: ReLU, 1x1 2h -> h, ReLU, masked 3x3 type B h -> h, ReLU,
//!      1x1 h -> 2h, plus the input;
//!   3. ReLU, 1x1 2h -> `head`, ReLU, 1x1 -> one logit per pixel (binarized data: Bernoulli) or
//!      256 logits per pixel (8-bit data: a softmax over intensities, section 5.2).
//!
//! Training minimises the mean NLL per image by Adam, all pixels in one pass.
//!
//! Sampling and completion are ancestral, pixel by pixel, by fast generation (Ramachandran et
//! al. 2017): each pixel computes every layer at its own position only, the masked layers
//! reading cached rows of their inputs ([`PointNet`]). The plain sampler it is tested against
//! runs the network on the band of rows a pixel's output can see (rows i - R ..= i, R = 3 +
//! blocks).
//!
//! NOTE: one channel (gray); colour needs the R/G/B sub-pixel masks of section 3.4.
//! NOTE: the blind spot of masked stacks (Gated PixelCNN, van den Oord et al. 2016b) is present
//! here by design; `gated-pixelcnn` removes it.

use super::raster::{pixel_log_prob, plain_sampling, PixelStep, Raster, LEVELS};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::model::held_out_nll;
use genlab_core::tensor::{scalar, to_vec};
use genlab_core::Capability;
use genlab_core::{
    Batch, Bound, Complete, DataInfo, Draw, Family, Likelihood, Losses, Model, NamedTensors,
    Sample, StepCtx,
};
use genlab_data::{Kind, Scale, Shape};
use genlab_nn::fast_generation::{relu as relu_in_place, PointConv, RowCache};
use genlab_nn::{MaskType, MaskedConv2d};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelCnnConfig {
    /// h: the residual blocks carry 2h channels and their 3x3 layer h.
    pub channels: usize,
    pub blocks: usize,
    /// Width of the hidden 1x1 layer of the output head.
    pub head: usize,
}

impl Default for PixelCnnConfig {
    fn default() -> Self {
        Self {
            channels: 32,
            blocks: 7,
            head: 64,
        }
    }
}

/// Figure 5: a bottleneck residual block around a masked 3x3 type-B convolution.
#[derive(Module, Debug)]
pub struct ResBlock {
    pub down: MaskedConv2d,
    pub mid: MaskedConv2d,
    pub up: MaskedConv2d,
}

impl ResBlock {
    fn new(h: usize, device: &Device) -> Self {
        Self {
            down: MaskedConv2d::new([2 * h, h], 1, MaskType::B, device),
            mid: MaskedConv2d::new([h, h], 3, MaskType::B, device),
            up: MaskedConv2d::new([h, 2 * h], 1, MaskType::B, device),
        }
    }

    /// `[b, 2h, r, w] -> [b, 2h, r, w]`
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = self.down.forward(relu(x.clone())); // [b, h, r, w]
        let y = self.mid.forward(relu(y)); //          [b, h, r, w]
        x + self.up.forward(relu(y)) //                [b, 2h, r, w]
    }
}

#[derive(Module, Debug)]
pub struct PixelCnnNet {
    pub first: MaskedConv2d,
    pub blocks: Vec<ResBlock>,
    pub head: MaskedConv2d,
    pub out: MaskedConv2d,
}

impl PixelCnnNet {
    pub fn new(cfg: &PixelCnnConfig, levels: usize, device: &Device) -> Self {
        let h = cfg.channels;
        Self {
            first: MaskedConv2d::new([1, 2 * h], 7, MaskType::A, device),
            blocks: (0..cfg.blocks).map(|_| ResBlock::new(h, device)).collect(),
            head: MaskedConv2d::new([2 * h, cfg.head], 1, MaskType::B, device),
            out: MaskedConv2d::new([cfg.head, levels], 1, MaskType::B, device),
        }
    }

    /// Logits `[b, 1, r, w] -> [b, K, r, w]` (K = 1 or 256).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = self.first.forward(x); // [b, 2h, r, w]
        for block in &self.blocks {
            y = block.forward(y);
        }
        self.out.forward(relu(self.head.forward(relu(y))))
    }

    /// Rows above a pixel that its output can see.
    pub fn rows_above(&self) -> usize {
        self.first.kernel / 2 + self.blocks.iter().map(|b| b.mid.kernel / 2).sum::<usize>()
    }
}

/// [`PixelCnnNet`] evaluated one position at a time, for fast generation.
pub struct PointNet {
    first: PointConv,
    /// down (1x1), mid (masked 3x3), up (1x1) of each block.
    blocks: Vec<[PointConv; 3]>,
    head: PointConv,
    out: PointConv,
}

impl PointNet {
    pub fn new(net: &PixelCnnNet) -> Self {
        Self {
            first: PointConv::masked(&net.first),
            blocks: net
                .blocks
                .iter()
                .map(|b| {
                    [
                        PointConv::masked(&b.down),
                        PointConv::masked(&b.mid),
                        PointConv::masked(&b.up),
                    ]
                })
                .collect(),
            head: PointConv::masked(&net.head),
            out: PointConv::masked(&net.out),
        }
    }

    /// Empty caches for `m` images of width `w`: each block's masked 3x3 reads the rows of its
    /// input at and above the pixel.
    fn step(&self, m: usize, w: usize) -> PointStep<'_> {
        let mids = self
            .blocks
            .iter()
            .map(|[_, mid, _]| RowCache::new(m, mid.rows_above() + 1, w, mid.c_in))
            .collect();
        PointStep { net: self, mids }
    }
}

struct PointStep<'a> {
    net: &'a PointNet,
    /// The input of each block's masked 3x3 (after its ReLU), `[m, 2, w, h]`.
    mids: Vec<RowCache>,
}

impl PixelStep for PointStep<'_> {
    /// [`PixelCnnNet::forward`] at (row, col) only: `[m, K]`.
    fn logits(&mut self, image: &RowCache, row: usize, col: usize) -> Vec<f32> {
        let mut y = self.net.first.at(image, row, col); //             [m, 2h]
        for ([down, mid, up], cache) in self.net.blocks.iter().zip(&mut self.mids) {
            let mut a = y.clone();
            relu_in_place(&mut a);
            let mut a = down.dense(&a); //                              [m, h]
            relu_in_place(&mut a);
            cache.put(row, col, &a);
            let mut b = mid.at(cache, row, col); //                     [m, h]
            relu_in_place(&mut b);
            y.iter_mut().zip(up.dense(&b)).for_each(|(y, u)| *y += u); // [m, 2h]
        }
        relu_in_place(&mut y);
        let mut z = self.net.head.dense(&y);
        relu_in_place(&mut z);
        self.net.out.dense(&z) //                                       [m, K]
    }
}

pub struct PixelCnn {
    pub config: PixelCnnConfig,
    pub net: PixelCnnNet,
    shape: Shape,
    /// 1 (Bernoulli, binary data) or 256 (softmax over 8-bit intensities).
    levels: usize,
}

impl PixelCnn {
    pub fn new(config: PixelCnnConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        if info.kind != Kind::Images || info.shape.c != 1 {
            bail!(
                "pixelcnn models one-channel images (found {} channels); set data.channels = 1",
                info.shape.c
            );
        }
        let pre = info.preprocess;
        if !pre.is_binary() && (pre.dequantize || pre.scale != Scale::Unit) {
            bail!("pixelcnn's 256-way softmax is a likelihood of the 8-bit pixels themselves; set data.dequantize = false and data.scale = \"unit\"");
        }
        if config.channels == 0 || config.head == 0 {
            bail!("model.channels and model.head must be at least 1");
        }
        let levels = if pre.is_binary() { 1 } else { LEVELS };
        Ok(Self {
            net: PixelCnnNet::new(&config, levels, device),
            config,
            shape: info.shape,
            levels,
        })
    }

    /// log p(x) per image: `[b, h*w] -> [b]`.
    fn log_prob(&self, net: &PixelCnnNet, x: Tensor<2>) -> Tensor<1> {
        let [b, _] = x.dims();
        let (h, w) = (self.shape.h, self.shape.w);
        pixel_log_prob(net.forward(x.clone().reshape([b, 1, h, w])), x)
    }

    /// Ancestral sampling of the pixels not `known`, by fast generation (module comment).
    fn fill(
        &self,
        x: Tensor<2>,
        known: Option<Vec<f32>>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
    ) -> Tensor<2> {
        self.fill_by(x, known, draw, rng, plain_sampling())
    }

    /// [`PixelCnn::fill`] by the plain sampler or the cached one.
    fn fill_by(
        &self,
        x: Tensor<2>,
        known: Option<Vec<f32>>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
        plain: bool,
    ) -> Tensor<2> {
        let net = genlab_core::device::module_for(&self.net, &x.device());
        let raster = Raster {
            shape: self.shape,
            levels: self.levels,
            rows_above: net.rows_above(),
        };
        if plain {
            return raster.fill(x, known, draw, rng, |band, row, col| {
                let n = band.dims()[0];
                net.forward(band)
                    .slice([0..n, 0..self.levels, row..row + 1, col..col + 1])
                    .reshape([n, self.levels])
            });
        }
        let point = PointNet::new(&net);
        raster.fill_cached(x, known, draw, rng, |images| {
            point.step(images.len(), self.shape.w)
        })
    }
}

impl Model for PixelCnn {
    fn family(&self) -> &'static str {
        "pixelcnn"
    }
    fn held_out(&self, batch: &Batch, rng: &mut ChaCha8Rng) -> Result<Losses> {
        held_out_nll(self, "nll", batch.x.clone(), 1, rng)
    }
    fn binary(&self) -> bool {
        self.levels == 1
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }
    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let nll = self.log_prob(&self.net, batch.x.clone()).mean().neg();
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
    fn as_complete(&self) -> Option<&dyn Complete> {
        Some(self)
    }
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        Some(self)
    }
}

impl Sample for PixelCnn {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let zeros = Tensor::zeros([n, self.shape.dim()], device);
        Ok(self.fill(zeros, None, Draw::Probabilities, rng))
    }
    fn sample_bits(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let zeros = Tensor::zeros([n, self.shape.dim()], device);
        Ok(self.fill(zeros, None, Draw::Bits, rng))
    }
}

impl Complete for PixelCnn {
    /// Exact p(hidden | known) when the known pixels come first in raster order (top half,
    /// left columns of the last rows); otherwise hidden pixels see only the known ones above
    /// and to their left.
    fn complete(&self, x: Tensor<2>, known: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        Ok(self.fill(x, Some(to_vec(known)), Draw::Probabilities, rng))
    }
    fn complete_bits(
        &self,
        x: Tensor<2>,
        known: Tensor<2>,
        rng: &mut ChaCha8Rng,
    ) -> Result<Tensor<2>> {
        Ok(self.fill(x, Some(to_vec(known)), Draw::Bits, rng))
    }
}

impl Likelihood for PixelCnn {
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let net = genlab_core::device::module_for(&self.net, &x.device());
        Ok(to_vec(self.log_prob(&net, x))
            .into_iter()
            .map(f64::from)
            .collect())
    }
    fn bound(&self, _k: usize) -> Bound {
        Bound::Exact
    }
    fn models_8bit_levels(&self) -> bool {
        self.levels == LEVELS
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(PixelCnnConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(PixelCnn::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "pixelcnn",
    summary: "PixelCNN: masked convolutions, residual blocks, exact likelihood (binary or 8-bit)",
    paper: "van den Oord, Kalchbrenner & Kavukcuoglu 2016, arXiv:1601.06759",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Likelihood,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/pixelcnn/default.toml"),
        ),
        (
            "8bit",
            include_str!("../../../../configs/pixelcnn/8bit.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/pixelcnn/tiny.toml"),
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

    fn cfg() -> PixelCnnConfig {
        PixelCnnConfig {
            channels: 4,
            blocks: 2,
            head: 8,
        }
    }

    #[test]
    fn every_output_depends_only_on_earlier_pixels() {
        // Causality golden for the whole network: d logit(i) / d x_j == 0 exactly for every
        // j >= i in raster order, and nonzero for the left neighbour.
        let device = Device::default().autodiff();
        let net = PixelCnnNet::new(&cfg(), 3, &device);
        let (h, w) = (8, 7);
        for (i, j) in [(0, 0), (3, 4), (7, 6)] {
            let x = Tensor::<4>::random([1, 1, h, w], Distribution::Normal(0.0, 1.0), &device)
                .require_grad();
            let y = net
                .forward(x.clone())
                .slice([0..1, 0..3, i..i + 1, j..j + 1])
                .sum();
            let g: Vec<f32> = x
                .grad(&y.backward())
                .unwrap()
                .into_data()
                .try_to_vec()
                .unwrap();
            for (pos, v) in g.iter().enumerate().skip(i * w + j) {
                assert_eq!(*v, 0.0, "output ({i},{j}) sees input {pos}");
            }
            if j > 0 {
                assert_ne!(
                    g[i * w + j - 1],
                    0.0,
                    "output ({i},{j}) must see its left neighbour"
                );
            }
        }
    }

    #[test]
    fn cached_sampling_draws_the_images_the_plain_sampler_draws() {
        // Fast generation changes the arithmetic, not the draws: the same seed gives the same
        // bits (Bernoulli) and intensities (256 levels) as the plain band sampler, for sampling
        // and for completion, with probabilities equal to f32 rounding.
        let device = Device::default();
        for binary in [true, false] {
            let info = crate::testing::raster_info(9, 7, binary, 1);
            let mut model = PixelCnn::new(cfg(), &info, &device).unwrap();
            model.net = crate::testing::seeded(model.net, 1);
            let n = 5;
            let d = 9 * 7;
            let x = crate::testing::seeded_values(n, d, true, 2);
            let x = genlab_core::tensor::matrix(x, n, d, &device);
            let known: Vec<f32> = (0..n * d).map(|i| ((i % d) < 30) as u8 as f32).collect();
            for (x, known) in [(Tensor::zeros([n, d], &device), None), (x, Some(known))] {
                for draw in [Draw::Bits, Draw::Probabilities] {
                    let run = |plain| {
                        let mut rng = ChaCha8Rng::seed_from_u64(7);
                        to_vec(model.fill_by(x.clone(), known.clone(), draw, &mut rng, plain))
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
        // The sampler's shortcut: the outputs of row i from rows i-R..=i equal those from the
        // whole image.
        let device = Device::default();
        let net = PixelCnnNet::new(&cfg(), 1, &device);
        let (h, w) = (14, 9);
        let x = Tensor::<4>::random([2, 1, h, w], Distribution::Normal(0.0, 1.0), &device);
        let full = net.forward(x.clone());
        let above = net.rows_above();
        assert_eq!(above, 3 + 2);
        for row in [0, 4, 13] {
            let top = row - row.min(above);
            let band = net.forward(x.clone().slice([0..2, 0..1, top..row + 1, 0..w]));
            let a = band.slice([0..2, 0..1, row - top..row - top + 1, 0..w]);
            let b = full.clone().slice([0..2, 0..1, row..row + 1, 0..w]);
            let diff = (a - b).abs().max().into_scalar::<f32>();
            assert!(diff < 1e-5, "row {row}: {diff}");
        }
    }
}
