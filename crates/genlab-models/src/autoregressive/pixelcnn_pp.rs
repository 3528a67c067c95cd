//! `pixelcnn++`: PixelCNN++ (Salimans, Karpathy, Chen & Kingma, ICLR 2017,
//! https://arxiv.org/abs/1701.05517), for one-channel 8-bit images.
//!
//! Likelihood (section 2.1): each pixel, scaled to [-1, 1] in 256 bins, has a discretized
//! mixture of K logistics,
//!   P(x) = sum_k pi_k [sigmoid((x + 1/255 - mu_k) / s_k) - sigmoid((x - 1/255 - mu_k) / s_k)]
//! with the edge bins taking the whole tail (x = -1: the lower tail; x = 1: the upper tail).
//!
//! Network (sections 2.3-2.4, the authors' `pixel_cnn_pp/model.py`):
//!   - two streams: `u` sees the rows above (down-shifted 2x3 convolutions), `ul` the rows above
//!     and the pixels to the left (down-right-shifted 2x2 convolutions); both start shifted one
//!     row down (and `ul` one column right) so that no pixel sees itself;
//!   - gated ResNet blocks with concat_elu, `ul` also reading `u` through a 1x1 (network in
//!     network) connection;
//!   - `scales` resolutions: an up pass with `resnets` blocks per scale and stride-2 shifted
//!     convolutions between scales, then a down pass with stride-2 shifted transposed
//!     convolutions whose blocks read every up-pass output through skip connections;
//!   - a 1x1 output of 3K mixture parameters per pixel.
//!
//! Training minimises the NLL by Adam; sampling is ancestral, pixel by pixel, each pixel drawn
//! from the 256 bin probabilities of its mixture.
//!
//! Sampling is by fast generation (Ramachandran et al. 2017; [`PointNet`]). The `u` stream
//! sees only rows above, so it runs a row at a time when a row starts; the `ul` stream runs at
//! each pixel alone. A coarser scale's row (`u`) or position (`ul`) is computed when the finer
//! positions its stride-2 convolution reads are final: at even rows, and even columns for `ul`;
//! the transposed convolutions back up read what those steps stored. Every convolution reads
//! cached rows of its input. The plain sampler it is tested against runs the network on the
//! rows down to each pixel (rounded up to the stride-2 layers' multiple).
//!
//! NOTE: gray images only (the paper's RGB channel coupling of section 2.2 is not here);
//! no dropout (the paper's 0.5 regularises CIFAR-10's large nets).

use super::raster::{plain_sampling, PixelStep, Raster, LEVELS};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::tensor::activation::{log_softmax, sigmoid};
use burn::tensor::ops::{ConvOptions, PadMode};
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
use genlab_kernels::fused::softplus;
use genlab_kernels::fused::{concat_elu, glu, shift_down, shift_right};
use genlab_kernels::gemm_conv::conv2d;
use genlab_kernels::vexp;
use genlab_nn::conv2d::{Build, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use genlab_nn::fast_generation::{concat_elu as concat_elu_rows, PointConv, RowCache};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelCnnPpConfig {
    /// Feature maps of both streams (the paper: 160).
    pub filters: usize,
    /// Gated ResNet blocks per scale in the up pass (the paper: 5).
    pub resnets: usize,
    /// Resolutions (the paper: 3, 32 -> 16 -> 8).
    pub scales: usize,
    /// Logistic components per pixel (the paper: 10).
    pub mixtures: usize,
}

impl Default for PixelCnnPpConfig {
    fn default() -> Self {
        Self {
            filters: 32,
            resnets: 2,
            scales: 2,
            mixtures: 5,
        }
    }
}

/// Lower bound on log s (the authors' -7).
const MIN_LOG_SCALE: f64 = -7.0;

/// A convolution whose output at (i, j) sees input rows <= i, optionally columns <= j.
#[derive(Module, Debug)]
pub struct Shifted {
    pub conv: Conv2d,
    /// (left, right, top) zero padding; the bottom is never padded.
    #[module(skip)]
    pub pad: [usize; 3],
}

impl Shifted {
    /// `down` (kernel [kh, kw] centred in width) or `down_right` (kernel [kh, kw] ending at j).
    fn new(
        i: usize,
        o: usize,
        kernel: [usize; 2],
        right: bool,
        stride: usize,
        device: &Device,
    ) -> Self {
        let [kh, kw] = kernel;
        let pad = if right {
            [kw - 1, 0, kh - 1]
        } else {
            [(kw - 1) / 2, (kw - 1) / 2, kh - 1]
        };
        Self {
            conv: Conv2dConfig::new([i, o], kernel)
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Valid)
                .build(device),
            pad,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [l, r, t] = self.pad;
        let options = ConvOptions {
            stride: self.conv.stride,
            padding: [(t, 0), (l, r)],
            dilation: [1, 1],
            groups: 1,
        };
        let bias = self.conv.bias.as_ref().map(|b| b.val());
        conv2d(x, self.conv.weight.val(), bias, options)
    }
}

/// Stride-2 transposed version, cropped so that causality holds (the authors' *_deconv2d).
#[derive(Module, Debug)]
pub struct ShiftedUp {
    pub conv: ConvTranspose2d,
    #[module(skip)]
    pub right: bool,
}

impl ShiftedUp {
    fn new(c: usize, right: bool, device: &Device) -> Self {
        let kernel = if right { [2, 2] } else { [2, 3] };
        Self {
            conv: ConvTranspose2dConfig::new([c, c], kernel)
                .with_stride([2, 2])
                .with_padding_out([1, 1])
                .build(device),
            right,
        }
    }

    /// `[b, c, h, w] -> [b, c, 2h, 2w]`
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let y = self.conv.forward(x); // [b, c, 2h + 1, 2w + 1 or 2w + 2]
        let col = if self.right { 0 } else { 1 };
        y.slice([0..b, 0..c, 0..2 * h, col..col + 2 * w])
    }
}

/// x + a ⊙ sigmoid(b), with [a, b] = conv(concat_elu(conv(concat_elu(x)) + nin(concat_elu(aux)))).
#[derive(Module, Debug)]
pub struct GatedResnet {
    pub first: Shifted,
    pub aux: Option<Conv2d>,
    pub second: Shifted,
}

impl GatedResnet {
    fn new(f: usize, aux: usize, right: bool, device: &Device) -> Self {
        let kernel = if right { [2, 2] } else { [2, 3] };
        Self {
            first: Shifted::new(2 * f, f, kernel, right, 1, device),
            aux: (aux > 0).then(|| Conv2dConfig::new([2 * aux, f], [1, 1]).build(device)),
            second: Shifted::new(2 * f, 2 * f, kernel, right, 1, device),
        }
    }

    fn forward(&self, x: Tensor<4>, aux: Option<Tensor<4>>) -> Tensor<4> {
        let mut c = self.first.forward(concat_elu(x.clone()));
        if let (Some(nin), Some(a)) = (&self.aux, aux) {
            c = c + nin.forward(concat_elu(a));
        }
        let c = self.second.forward(concat_elu(c)); // [b, 2f, h, w]
        x + glu(c) // a ⊙ σ(b) of the halves, one fused pass each way
    }
}

#[derive(Module, Debug)]
pub struct PixelCnnPpNet {
    pub u_init: Shifted,
    pub ul_init_down: Shifted,
    pub ul_init_right: Shifted,
    /// Up pass, `scales * resnets` blocks per stream.
    pub up_u: Vec<GatedResnet>,
    pub up_ul: Vec<GatedResnet>,
    pub down_sample_u: Vec<Shifted>,
    pub down_sample_ul: Vec<Shifted>,
    /// Down pass, `resnets + 1` blocks per scale but the first (`resnets`).
    pub down_u: Vec<GatedResnet>,
    pub down_ul: Vec<GatedResnet>,
    pub up_sample_u: Vec<ShiftedUp>,
    pub up_sample_ul: Vec<ShiftedUp>,
    pub out: Conv2d,
    #[module(skip)]
    pub resnets: usize,
    #[module(skip)]
    pub scales: usize,
}

impl PixelCnnPpNet {
    pub fn new(cfg: &PixelCnnPpConfig, device: &Device) -> Self {
        let (f, r, s) = (cfg.filters, cfg.resnets, cfg.scales);
        let down_blocks = r + (s - 1) * (r + 1);
        Self {
            // Input: the pixel and a channel of ones (so that padding is recognisable).
            u_init: Shifted::new(2, f, [2, 3], false, 1, device),
            ul_init_down: Shifted::new(2, f, [1, 3], false, 1, device),
            ul_init_right: Shifted::new(2, f, [2, 1], true, 1, device),
            up_u: (0..s * r)
                .map(|_| GatedResnet::new(f, 0, false, device))
                .collect(),
            up_ul: (0..s * r)
                .map(|_| GatedResnet::new(f, f, true, device))
                .collect(),
            down_sample_u: (1..s)
                .map(|_| Shifted::new(f, f, [2, 3], false, 2, device))
                .collect(),
            down_sample_ul: (1..s)
                .map(|_| Shifted::new(f, f, [2, 2], true, 2, device))
                .collect(),
            down_u: (0..down_blocks)
                .map(|_| GatedResnet::new(f, f, false, device))
                .collect(),
            down_ul: (0..down_blocks)
                .map(|_| GatedResnet::new(f, 2 * f, true, device))
                .collect(),
            up_sample_u: (1..s).map(|_| ShiftedUp::new(f, false, device)).collect(),
            up_sample_ul: (1..s).map(|_| ShiftedUp::new(f, true, device)).collect(),
            out: Conv2dConfig::new([2 * f, 3 * cfg.mixtures], [1, 1]).build(device),
            resnets: r,
            scales: s,
        }
    }

    /// Mixture parameters `[b, 1, h, w]` (pixels in [-1, 1]) -> `[b, 3K, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, _, h, w] = x.dims();
        let ones = Tensor::ones([b, 1, h, w], &x.device());
        let x = Tensor::cat(vec![x, ones], 1);
        let mut us = vec![shift_down(self.u_init.forward(x.clone()))];
        let mut uls = vec![
            shift_down(self.ul_init_down.forward(x.clone()))
                + shift_right(self.ul_init_right.forward(x)),
        ];
        let mut block = 0;
        for scale in 0..self.scales {
            for _ in 0..self.resnets {
                let u = self.up_u[block].forward(us.last().unwrap().clone(), None);
                let ul = self.up_ul[block].forward(uls.last().unwrap().clone(), Some(u.clone()));
                us.push(u);
                uls.push(ul);
                block += 1;
            }
            if scale + 1 < self.scales {
                us.push(self.down_sample_u[scale].forward(us.last().unwrap().clone()));
                uls.push(self.down_sample_ul[scale].forward(uls.last().unwrap().clone()));
            }
        }
        let (mut u, mut ul) = (us.pop().unwrap(), uls.pop().unwrap());
        let mut block = 0;
        for scale in 0..self.scales {
            let n = if scale == 0 {
                self.resnets
            } else {
                self.resnets + 1
            };
            for _ in 0..n {
                u = self.down_u[block].forward(u, us.pop());
                let skip = Tensor::cat(vec![u.clone(), uls.pop().expect("one skip per block")], 1);
                ul = self.down_ul[block].forward(ul, Some(skip));
                block += 1;
            }
            if scale + 1 < self.scales {
                u = self.up_sample_u[scale].forward(u);
                ul = self.up_sample_ul[scale].forward(ul);
            }
        }
        self.out.forward(concat_elu(ul))
    }
}

/// log P(x) of each position under its discretized logistic mixture: `x [b, P, 1]` in [-1, 1],
/// `params [b, P, 3K]` (mixture logits, means, log scales) -> `[b, P]`.
pub fn dmol_log_prob(x: Tensor<3>, params: Tensor<3>) -> Tensor<2> {
    let k = params.dims()[2] / 3;
    let logit_pi = params.clone().narrow(2, 0, k);
    let mu = params.clone().narrow(2, k, k);
    let log_s = params.narrow(2, 2 * k, k).clamp_min(MIN_LOG_SCALE);
    let centered = x.clone() - mu; //                              [b, P, K]
    let inv_s = log_s.clone().neg().exp();
    let plus = inv_s.clone() * centered.clone().add_scalar(1.0 / 255.0);
    let minus = inv_s.clone() * centered.clone().sub_scalar(1.0 / 255.0);
    let log_cdf_plus = plus.clone() - softplus(plus.clone()); //     x = -1: log sigmoid(plus)
    let log_one_minus_cdf_min = softplus(minus.clone()).neg(); //    x = 1
    let delta = sigmoid(plus) - sigmoid(minus);
    let mid = inv_s * centered;
    // Bins too narrow for f32 differences: the density at the centre times the bin width.
    let log_pdf_mid = mid.clone() - log_s - softplus(mid).mul_scalar(2.0);
    let interior = delta.clone().clamp_min(1e-12).log().mask_where(
        delta.lower_elem(1e-5),
        log_pdf_mid.sub_scalar(127.5f64.ln()),
    );
    let x = x.expand(interior.dims());
    let log_p = interior
        .mask_where(x.clone().lower_elem(-0.999), log_cdf_plus)
        .mask_where(x.greater_elem(0.999), log_one_minus_cdf_min);
    let all = log_p + log_softmax(logit_pi, 2);
    let m = all.clone().max_dim(2).detach(); //                     [b, P, 1]
    ((all - m.clone()).exp().sum_dim(2).log() + m).squeeze_dim(2)
}

/// Where a point layer runs: along a whole row of its scale, or at one position.
#[derive(Clone, Copy)]
enum At {
    Row(usize),
    Pos(usize, usize),
}

/// Store `input` (`[m, w, c]` for a row, `[m, c]` at a position) in `cache` and run `conv`
/// there.
fn conv_at(conv: &PointConv, cache: &mut RowCache, input: &[f32], at: At) -> Vec<f32> {
    match at {
        At::Row(r) => {
            cache.put_row(r, input);
            conv.row(cache, r)
        }
        At::Pos(r, c) => {
            cache.put(r, c, input);
            conv.at(cache, r, c)
        }
    }
}

/// [`GatedResnet`] at one position or along one row.
struct PointResnet {
    first: PointConv,
    aux: Option<PointConv>,
    second: PointConv,
}

impl PointResnet {
    fn new(block: &GatedResnet) -> Self {
        let shifted = |s: &Shifted| PointConv::padded(&s.conv, s.pad[2], s.pad[0]);
        Self {
            first: shifted(&block.first),
            aux: block.aux.as_ref().map(PointConv::conv),
            second: shifted(&block.second),
        }
    }

    /// Caches of the two shifted convolutions' inputs, `[m, rows, w, 2f]`.
    fn caches(&self, m: usize, w: usize) -> [RowCache; 2] {
        [&self.first, &self.second].map(|c| RowCache::new(m, c.rows_above() + 1, w, c.c_in))
    }

    /// `x [k, f]`, `aux [k, c]` -> `[k, f]` (k = m images, or m x w for a row).
    fn forward(
        &self,
        caches: &mut [RowCache; 2],
        x: &[f32],
        aux: Option<&[f32]>,
        at: At,
    ) -> Vec<f32> {
        let f = self.first.c_out;
        let mut c = conv_at(&self.first, &mut caches[0], &concat_elu_rows(x, f), at);
        if let (Some(nin), Some(a)) = (&self.aux, aux) {
            let a = nin.dense(&concat_elu_rows(a, nin.c_in / 2));
            c.iter_mut().zip(a).for_each(|(c, a)| *c += a);
        }
        let c = conv_at(&self.second, &mut caches[1], &concat_elu_rows(&c, f), at); // [k, 2f]
        x.chunks(f)
            .zip(c.chunks(2 * f))
            .flat_map(|(x, c)| (0..f).map(move |i| x[i] + c[i] * vexp::sigmoid(c[f + i])))
            .collect()
    }
}

/// [`PixelCnnPpNet`] evaluated a row (`u`) or a position (`ul`) at a time, for fast generation.
pub struct PointNet {
    u_init: PointConv,
    ul_init_down: PointConv,
    ul_init_right: PointConv,
    up_u: Vec<PointResnet>,
    up_ul: Vec<PointResnet>,
    down_sample_u: Vec<PointConv>,
    down_sample_ul: Vec<PointConv>,
    down_u: Vec<PointResnet>,
    down_ul: Vec<PointResnet>,
    up_sample_u: Vec<[[PointConv; 2]; 2]>,
    up_sample_ul: Vec<[[PointConv; 2]; 2]>,
    out: PointConv,
    resnets: usize,
    scales: usize,
}

impl PointNet {
    pub fn new(net: &PixelCnnPpNet) -> Self {
        let shifted = |s: &Shifted| PointConv::padded(&s.conv, s.pad[2], s.pad[0]);
        let resnets = |blocks: &[GatedResnet]| blocks.iter().map(PointResnet::new).collect();
        Self {
            u_init: shifted(&net.u_init),
            ul_init_down: shifted(&net.ul_init_down),
            ul_init_right: shifted(&net.ul_init_right),
            up_u: resnets(&net.up_u),
            up_ul: resnets(&net.up_ul),
            down_sample_u: net.down_sample_u.iter().map(shifted).collect(),
            down_sample_ul: net.down_sample_ul.iter().map(shifted).collect(),
            down_u: resnets(&net.down_u),
            down_ul: resnets(&net.down_ul),
            up_sample_u: net
                .up_sample_u
                .iter()
                .map(|u| PointConv::transposed(&u.conv, 1))
                .collect(),
            up_sample_ul: net
                .up_sample_ul
                .iter()
                .map(|u| PointConv::transposed(&u.conv, 0))
                .collect(),
            out: PointConv::conv(&net.out),
            resnets: net.resnets,
            scales: net.scales,
        }
    }

    /// Down-pass blocks at `scale`, and the first one's index (the down pass starts at the
    /// coarsest scale, whose `resnets` blocks come first; finer scales have one more).
    fn down_blocks(&self, scale: usize) -> (usize, usize) {
        let (r, s) = (self.resnets, self.scales);
        match scale + 1 == s {
            true => (r, 0),
            false => (r + 1, r + (s - 2 - scale) * (r + 1)),
        }
    }

    fn step(&self, m: usize, h: usize, w: usize) -> PointStep<'_> {
        let f = self.u_init.c_out;
        let width = |s: usize| w >> s;
        let per_scale = |blocks: &[PointResnet], down: bool| -> Vec<Vec<[RowCache; 2]>> {
            (0..self.scales)
                .map(|s| {
                    let (n, first) = match down {
                        true => self.down_blocks(s),
                        false => (self.resnets, s * self.resnets),
                    };
                    blocks[first..first + n]
                        .iter()
                        .map(|b| b.caches(m, width(s)))
                        .collect()
                })
                .collect()
        };
        // Inputs of the stride-2 layers (two rows of the finer scale) and of the transposed
        // ones (one row of the coarser scale), indexed by the coarser scale.
        let coarse = |rows: usize, finer: bool| -> Vec<RowCache> {
            (0..self.scales)
                .map(|s| {
                    let side = if finer {
                        width(s.saturating_sub(1))
                    } else {
                        width(s)
                    };
                    RowCache::new(m, rows, side, f)
                })
                .collect()
        };
        PointStep {
            net: self,
            x: RowCache::new(m, h, w, 2),
            up_u: per_scale(&self.up_u, false),
            up_ul: per_scale(&self.up_ul, false),
            down_u: per_scale(&self.down_u, true),
            down_ul: per_scale(&self.down_ul, true),
            into_u: coarse(2, true),
            into_ul: coarse(2, true),
            final_u: coarse(1, false),
            final_ul: coarse(1, false),
            u_up_rows: vec![vec![]; self.scales],
            u_down_rows: vec![vec![]; self.scales],
            f,
        }
    }
}

struct PointStep<'a> {
    net: &'a PointNet,
    /// The network's input: the pixel on [-1, 1] and a channel of ones, `[m, h, w, 2]`.
    x: RowCache,
    /// Each block's caches, per scale.
    up_u: Vec<Vec<[RowCache; 2]>>,
    up_ul: Vec<Vec<[RowCache; 2]>>,
    down_u: Vec<Vec<[RowCache; 2]>>,
    down_ul: Vec<Vec<[RowCache; 2]>>,
    /// Per coarser scale s >= 1: the finer scale's last up-pass output, read by the stride-2
    /// layers.
    into_u: Vec<RowCache>,
    into_ul: Vec<RowCache>,
    /// Per scale s >= 1: its down pass's output, read by the transposed layers.
    final_u: Vec<RowCache>,
    final_ul: Vec<RowCache>,
    /// Per scale: the `u` outputs of each up- and down-pass block on its latest row
    /// (`[m, w_s, f]`), the `ul` blocks' auxiliary input.
    u_up_rows: Vec<Vec<Vec<f32>>>,
    u_down_rows: Vec<Vec<Vec<f32>>>,
    f: usize,
}

/// Column `col` of `rows [m, w, f]`: `[m, f]`.
fn column(rows: &[f32], m: usize, col: usize, f: usize) -> Vec<f32> {
    let w = rows.len() / (m * f);
    (0..m)
        .flat_map(|s| {
            rows[(s * w + col) * f..(s * w + col + 1) * f]
                .iter()
                .copied()
        })
        .collect()
}

impl PointStep<'_> {
    /// The `u` stream on row `r` of `scale`, from its first input there `entry [m, w_s, f]`.
    fn u_row(&mut self, scale: usize, r: usize, entry: Vec<f32>) {
        let net = self.net;
        let (m, f, res) = (self.x.n, self.f, net.resnets);
        let mut skips = vec![entry];
        for k in 0..res {
            let u = skips.last().unwrap().clone();
            let u =
                net.up_u[scale * res + k].forward(&mut self.up_u[scale][k], &u, None, At::Row(r));
            skips.push(u);
        }
        self.u_up_rows[scale] = skips[1..].to_vec();
        let mut u = if scale + 1 < net.scales {
            self.into_u[scale + 1].put_row(r, skips.last().unwrap());
            if r.is_multiple_of(2) {
                let coarse = net.down_sample_u[scale].row(&self.into_u[scale + 1], r / 2);
                self.u_row(scale + 1, r / 2, coarse);
            }
            let w = self.x.w >> scale;
            // The down pass runs coarsest first: its first transposed layer is the coarsest.
            let up = &net.up_sample_u[net.scales - 2 - scale];
            let cols: Vec<Vec<f32>> = (0..w)
                .map(|j| up[r % 2][j % 2].at(&self.final_u[scale + 1], r / 2, j / 2))
                .collect();
            (0..m)
                .flat_map(|s| {
                    cols.iter()
                        .flat_map(move |c| c[s * f..(s + 1) * f].iter().copied())
                })
                .collect()
        } else {
            skips.pop().unwrap()
        };
        let (n, first) = net.down_blocks(scale);
        let mut outs = Vec::with_capacity(n);
        for k in 0..n {
            let skip = skips.pop().expect("one skip per block");
            u = net.down_u[first + k].forward(
                &mut self.down_u[scale][k],
                &u,
                Some(&skip),
                At::Row(r),
            );
            outs.push(u.clone());
        }
        self.u_down_rows[scale] = outs;
        if scale > 0 {
            self.final_u[scale].put_row(r, &u);
        }
    }

    /// The `ul` stream at (r, c) of `scale`, from its first input there `entry [m, f]`; the
    /// output of the finest scale's last block.
    fn ul_at(&mut self, scale: usize, r: usize, c: usize, entry: Vec<f32>) -> Vec<f32> {
        let net = self.net;
        let (m, f, res) = (self.x.n, self.f, net.resnets);
        let at = At::Pos(r, c);
        let mut skips = vec![entry];
        for k in 0..res {
            let aux = column(&self.u_up_rows[scale][k], m, c, f);
            let ul = skips.last().unwrap().clone();
            let ul =
                net.up_ul[scale * res + k].forward(&mut self.up_ul[scale][k], &ul, Some(&aux), at);
            skips.push(ul);
        }
        let mut ul = if scale + 1 < net.scales {
            self.into_ul[scale + 1].put(r, c, skips.last().unwrap());
            if r.is_multiple_of(2) && c.is_multiple_of(2) {
                let coarse = net.down_sample_ul[scale].at(&self.into_ul[scale + 1], r / 2, c / 2);
                self.ul_at(scale + 1, r / 2, c / 2, coarse);
            }
            let up = &net.up_sample_ul[net.scales - 2 - scale];
            up[r % 2][c % 2].at(&self.final_ul[scale + 1], r / 2, c / 2)
        } else {
            skips.pop().unwrap()
        };
        let (n, first) = net.down_blocks(scale);
        for k in 0..n {
            let skip = skips.pop().expect("one skip per block");
            let u = column(&self.u_down_rows[scale][k], m, c, f);
            let aux: Vec<f32> = u
                .chunks(f)
                .zip(skip.chunks(f))
                .flat_map(|(u, s)| u.iter().chain(s).copied())
                .collect();
            ul = net.down_ul[first + k].forward(&mut self.down_ul[scale][k], &ul, Some(&aux), at);
        }
        if scale > 0 {
            self.final_ul[scale].put(r, c, &ul);
        }
        ul
    }
}

impl PixelStep for PointStep<'_> {
    /// [`PixelCnnPpNet::forward`] at (row, col) only, as the 256 bin log-probabilities `[m, 256]`.
    fn logits(&mut self, image: &RowCache, row: usize, col: usize) -> Vec<f32> {
        let (m, w, f) = (image.n, image.w, self.f);
        let input = |s: usize, r: usize, c: usize| [2.0 * image.at(s, r, c)[0] - 1.0, 1.0];
        if col == 0 {
            if row > 0 {
                for s in 0..m {
                    for c in 0..w {
                        self.x.set(s, row - 1, c, &input(s, row - 1, c));
                    }
                }
            }
            // The u stream's first input: u_init one row up (zeros on the first row).
            let entry = match row {
                0 => vec![0.0; m * w * f],
                _ => self.net.u_init.row(&self.x, row - 1),
            };
            self.u_row(0, row, entry);
        } else {
            for s in 0..m {
                self.x.set(s, row, col - 1, &input(s, row, col - 1));
            }
        }
        let mut entry = vec![0.0; m * f];
        if row > 0 {
            let down = self.net.ul_init_down.at(&self.x, row - 1, col);
            entry.iter_mut().zip(down).for_each(|(e, v)| *e += v);
        }
        if col > 0 {
            let right = self.net.ul_init_right.at(&self.x, row, col - 1);
            entry.iter_mut().zip(right).for_each(|(e, v)| *e += v);
        }
        let ul = self.ul_at(0, row, col, entry);
        let params = self.net.out.dense(&concat_elu_rows(&ul, f)); // [m, 3K]
        let k3 = self.net.out.c_out;
        let device = Device::default();
        let p = Tensor::<1>::from_floats(params.as_slice(), &device)
            .reshape([m, 1, k3])
            .expand([m, LEVELS, k3]);
        let bins: Vec<f32> = (0..LEVELS).map(|j| 2.0 * j as f32 / 255.0 - 1.0).collect();
        let v = Tensor::<1>::from_floats(bins.as_slice(), &device)
            .reshape([1, LEVELS, 1])
            .expand([m, LEVELS, 1]);
        to_vec(dmol_log_prob(v, p))
    }
}

pub struct PixelCnnPp {
    pub config: PixelCnnPpConfig,
    pub net: PixelCnnPpNet,
    shape: Shape,
}

impl PixelCnnPp {
    pub fn new(config: PixelCnnPpConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let Shape { c, h, w } = info.shape;
        if info.kind != Kind::Images || c != 1 {
            bail!(
                "pixelcnn++ models one-channel images (found {c} channels); set data.channels = 1"
            );
        }
        let pre = info.preprocess;
        if pre.is_binary() || pre.dequantize || pre.scale != Scale::Unit {
            bail!("pixelcnn++ is a likelihood of 8-bit pixels: set data.binarize = \"none\", data.dequantize = false and data.scale = \"unit\"");
        }
        if config.scales == 0 {
            bail!("model.scales must be at least 1 (one scale works at full resolution)");
        }
        // Scales beyond the first each halve the sides: how many times these sides can halve.
        let halvings = h.trailing_zeros().min(w.trailing_zeros()) as usize;
        if config.scales - 1 > halvings {
            bail!("model.scales = {} halves the image {} times, so {h}x{w} must be divisible by {}; set model.scales to at most {} or resize the images (data.image_size)", config.scales, config.scales - 1, 1usize << (config.scales - 1), halvings + 1);
        }
        if config.filters == 0 || config.resnets == 0 || config.mixtures == 0 {
            bail!("model.filters, model.resnets and model.mixtures must be at least 1");
        }
        Ok(Self {
            net: PixelCnnPpNet::new(&config, device),
            config,
            shape: info.shape,
        })
    }

    /// The rows `0..=row` of images being drawn, `[n, 1, row + 1, w]`, padded with zero rows to
    /// the next multiple of 2^(scales - 1), the height the stride-2 layers need. Every layer
    /// reads only rows at or above its output row (shifted convolutions pad the top only), so
    /// row `row` comes out as on the whole image, at about half the average cost.
    fn band_for(&self, band: Tensor<4>) -> Tensor<4> {
        let r = band.dims()[2];
        let side = 1 << (self.config.scales - 1);
        let rows = r.next_multiple_of(side).min(self.shape.h);
        band.pad((0, 0, 0, rows - r), PadMode::Constant(0.0))
    }

    /// `x [b, h*w]` in [0, 1] -> log p(x) `[b]`.
    fn log_prob(&self, net: &PixelCnnPpNet, x: Tensor<2>) -> Tensor<1> {
        let [b, d] = x.dims();
        let x = x.mul_scalar(2.0).sub_scalar(1.0); // [-1, 1]
        let params = net.forward(x.clone().reshape([b, 1, self.shape.h, self.shape.w])); // [b, 3K, h, w]
        let k3 = params.dims()[1];
        let params = params.reshape([b, k3, d]).swap_dims(1, 2); //                          [b, d, 3K]
        dmol_log_prob(x.reshape([b, d, 1]), params)
            .sum_dim(1)
            .reshape([b])
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

    /// [`PixelCnnPp::fill`] by the plain sampler or the cached one.
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
            levels: LEVELS,
            rows_above: self.shape.h,
        };
        if !plain {
            let point = PointNet::new(&net);
            return raster.fill_cached(x, known, draw, rng, |images| {
                point.step(images.len(), self.shape.h, self.shape.w)
            });
        }
        let bins: Vec<f32> = (0..LEVELS).map(|j| 2.0 * j as f32 / 255.0 - 1.0).collect();
        raster.fill(x, known, draw, rng, |band, row, col| {
            // The 256 bin log-probabilities of pixel (row, col): `[n, 256]`.
            let n = band.dims()[0];
            let params = net.forward(self.band_for(band).mul_scalar(2.0).sub_scalar(1.0));
            let k3 = params.dims()[1];
            let p = params
                .slice([0..n, 0..k3, row..row + 1, col..col + 1])
                .reshape([n, 1, k3])
                .expand([n, LEVELS, k3]);
            let v = Tensor::<1>::from_floats(bins.as_slice(), &p.device())
                .reshape([1, LEVELS, 1])
                .expand([n, LEVELS, 1]);
            dmol_log_prob(v, p)
        })
    }
}

impl Model for PixelCnnPp {
    fn family(&self) -> &'static str {
        "pixelcnn++"
    }
    fn held_out(&self, batch: &Batch, rng: &mut ChaCha8Rng) -> Result<Losses> {
        held_out_nll(self, "nll", batch.x.clone(), 1, rng)
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

impl Sample for PixelCnnPp {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let zeros = Tensor::zeros([n, self.shape.dim()], device);
        Ok(self.fill(zeros, None, Draw::Values, rng))
    }
}

impl Complete for PixelCnnPp {
    /// Exact p(hidden | known) when the known pixels come first in raster order.
    fn complete(&self, x: Tensor<2>, known: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        Ok(self.fill(x, Some(to_vec(known)), Draw::Values, rng))
    }
}

impl Likelihood for PixelCnnPp {
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
    /// The discretized logistic mixture is a mass over the 256 levels (eq. 2).
    fn models_8bit_levels(&self) -> bool {
        true
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(PixelCnnPpConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(PixelCnnPp::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "pixelcnn++",
    summary: "PixelCNN++: discretized logistic mixture, shifted two-stream convs, down/up-sampling",
    paper: "Salimans, Karpathy, Chen & Kingma 2017, arXiv:1701.05517",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Likelihood,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/pixelcnn++/default.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/pixelcnn++/tiny.toml"),
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

    #[test]
    fn the_mixture_gives_the_256_bins_total_probability_one() {
        let device = Device::default();
        let k = 3;
        let params = Tensor::<3>::random([2, 1, 3 * k], Distribution::Normal(0.0, 1.0), &device)
            .expand([2, LEVELS, 3 * k]);
        let bins: Vec<f32> = (0..LEVELS).map(|j| 2.0 * j as f32 / 255.0 - 1.0).collect();
        let x = Tensor::<1>::from_floats(bins.as_slice(), &device)
            .reshape([1, LEVELS, 1])
            .expand([2, LEVELS, 1]);
        let total = to_vec(dmol_log_prob(x, params).exp().sum_dim(1));
        for t in total {
            assert!((t - 1.0).abs() < 1e-4, "sum over bins {t}");
        }
    }

    #[test]
    fn cached_sampling_draws_the_images_the_plain_sampler_draws() {
        // Fast generation across scales: the same intensities as the plain sampler, for one,
        // two and three scales, for sampling and for completion.
        let device = Device::default();
        for (scales, resnets) in [(1, 2), (2, 1), (3, 1)] {
            let info = crate::testing::raster_info(8, 12, false, 1);
            let config = PixelCnnPpConfig {
                filters: 4,
                resnets,
                scales,
                mixtures: 2,
            };
            let mut model = PixelCnnPp::new(config, &info, &device).unwrap();
            model.net = crate::testing::seeded(model.net, 1);
            let (n, d) = (3, 8 * 12);
            let x = crate::testing::seeded_values(n, d, false, 2);
            let x = genlab_core::tensor::matrix(x, n, d, &device);
            let known: Vec<f32> = (0..n * d).map(|i| ((i % d) < 30) as u8 as f32).collect();
            for (x, known) in [(Tensor::zeros([n, d], &device), None), (x, Some(known))] {
                let run = |plain| {
                    let mut rng = ChaCha8Rng::seed_from_u64(3);
                    to_vec(model.fill_by(x.clone(), known.clone(), Draw::Values, &mut rng, plain))
                };
                let (worst, same) = crate::testing::compare(&run(true), &run(false));
                assert!(same, "{scales} scales: differ by {worst}");
            }
        }
    }

    #[test]
    fn sampling_on_the_rows_above_gives_the_whole_image_values() {
        // The band sampling runs on (rows 0..=i, padded to a multiple of 4) must give pixel
        // (i, j) the parameters the whole image gives it.
        let device = Device::default();
        let config = PixelCnnPpConfig {
            filters: 4,
            resnets: 1,
            scales: 3,
            mixtures: 2,
        };
        let (h, w) = (8, 8);
        let model = PixelCnnPp {
            net: PixelCnnPpNet::new(&config, &device),
            config,
            shape: Shape { c: 1, h, w },
        };
        let x = Tensor::<4>::random([2, 1, h, w], Distribution::Normal(0.0, 1.0), &device);
        let whole = model.net.forward(x.clone()); // [2, 6, h, w]
        for (i, j) in [(0, 0), (2, 5), (4, 1), (5, 7), (7, 3)] {
            let band = model.band_for(x.clone().slice([0..2, 0..1, 0..i + 1, 0..w]));
            assert_eq!(band.dims()[2], (i + 1).next_multiple_of(4));
            let got = to_vec(
                model
                    .net
                    .forward(band)
                    .slice([0..2, 0..6, i..i + 1, j..j + 1]),
            );
            let want = to_vec(whole.clone().slice([0..2, 0..6, i..i + 1, j..j + 1]));
            for (g, v) in got.iter().zip(&want) {
                assert!((g - v).abs() < 1e-5, "pixel ({i},{j}): {g} vs {v}");
            }
        }
    }

    #[test]
    fn every_output_depends_only_on_earlier_pixels_across_scales() {
        // Causality golden through the down- and up-sampling path: d params(i, j) / d x(r, c)
        // == 0 exactly for (r, c) at or after (i, j); nonzero for the pixel to the left and the
        // one above.
        let device = Device::default().autodiff();
        let cfg = PixelCnnPpConfig {
            filters: 4,
            resnets: 1,
            scales: 3,
            mixtures: 2,
        };
        let net = PixelCnnPpNet::new(&cfg, &device);
        let (h, w) = (8, 8);
        for (i, j) in [(5, 3), (4, 6), (7, 7)] {
            let x = Tensor::<4>::random([1, 1, h, w], Distribution::Normal(0.0, 1.0), &device)
                .require_grad();
            let y = net
                .forward(x.clone())
                .slice([0..1, 0..6, i..i + 1, j..j + 1])
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
            assert_ne!(
                g[i * w + j - 1],
                0.0,
                "({i},{j}) must see its left neighbour"
            );
            assert_ne!(
                g[(i - 1) * w + j],
                0.0,
                "({i},{j}) must see the pixel above"
            );
        }
    }
}
