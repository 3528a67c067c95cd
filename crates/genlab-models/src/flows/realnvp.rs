//! `realnvp`: real-valued non-volume-preserving flow (Dinh, Sohl-Dickstein & Bengio, "Density
//! estimation using Real NVP", ICLR 2017, https://arxiv.org/abs/1605.08803).
//!
//!   log p(x) = log N(f(x); 0, I) + log |det ∂f/∂x|          (eq. 3, exact)
//!
//! f, in the density direction (section 3.6, multi-scale architecture):
//!   0. images: dequantized pixels x in [0, 1] -> logit(α + (1 - 2α) x)  (section 4.1);
//!   1. per scale: 3 affine couplings with alternating checkerboard masks, squeeze
//!      (c, h, w) -> (4c, h/2, w/2), 3 couplings with alternating channel masks, then factor out
//!      half of the channels as latent (they go straight to the Gaussian);
//!   2. `couplings` final couplings with alternating checkerboard masks.
//!
//! On 2-D points (stored as `[b, d, 1, 1]`) there is no squeezing: `couplings` couplings with
//! alternating halves, s and t nets of kernel 1 (MLPs).
//! Training maximises log p(x) by Adam. Sampling runs f⁻¹ on z ~ N(0, T² I).
//!
//! NOTE: the paper puts batch normalisation in the flow and in s/t; here every coupling
//! starts as the identity (zero-initialised last layer, as in Glow), so the flow has no
//! batch statistics and evaluation equals training mode.

use super::flow::{Flow, FlowNet};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::Capability;
use genlab_core::{DataInfo, Family, Model};
use genlab_data::{Kind, Scale, Shape};
use genlab_nn::flow::{
    logit_forward, logit_inverse, walk_forward, walk_inverse, AffineCoupling, CouplingSpec,
    MaskKind, Op,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealNvpConfig {
    /// Channels of the s/t networks.
    pub width: usize,
    /// Residual layers in each s/t network.
    pub blocks: usize,
    /// Squeeze-and-factor-out levels (images; each halves the side).
    pub scales: usize,
    /// Final couplings (images) or all couplings (points).
    pub couplings: usize,
    /// The logit transform's α (section 4.1: 0.05).
    pub alpha: f64,
    /// Standard deviation of z when sampling (1 = the model; < 1 = Glow's reduced temperature).
    pub temperature: f64,
}

impl Default for RealNvpConfig {
    fn default() -> Self {
        Self {
            width: 64,
            blocks: 2,
            scales: 2,
            couplings: 4,
            alpha: 0.05,
            temperature: 1.0,
        }
    }
}

#[derive(Module, Debug)]
pub struct RealNvpNet {
    pub couplings: Vec<AffineCoupling>,
}

pub struct RealNvp {
    pub config: RealNvpConfig,
    pub net: RealNvpNet,
    plan: Vec<Op>,
    /// The mask of coupling i.
    masks: Vec<MaskKind>,
    /// `[c, h, w]` of the data as the flow sees it (points: `[d, 1, 1]`).
    shape: [usize; 3],
    images: bool,
}

impl RealNvp {
    pub fn new(config: RealNvpConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        Self::with_init(config, info, device, true)
    }

    /// `zero_init = false` starts every coupling random (tests of the log-determinant).
    pub fn with_init(
        config: RealNvpConfig,
        info: &DataInfo,
        device: &Device,
        zero_init: bool,
    ) -> Result<Self> {
        let Shape { c, h, w } = info.shape;
        let images = info.kind == Kind::Images;
        if images {
            let pre = info.preprocess;
            if pre.is_binary() || !pre.dequantize || pre.scale != Scale::Unit {
                bail!("realnvp is a density on [0, 1]^d: set data.dequantize = true, data.binarize = \"none\" and data.scale = \"unit\"");
            }
            // Each scale squeezes (halves the sides): how many times these sides can halve.
            let halvings = h.trailing_zeros().min(w.trailing_zeros()) as usize;
            if config.scales > halvings {
                bail!("model.scales = {} halves the image side {} times, so {h}x{w} must be divisible by {}; set model.scales to at most {halvings} or resize the images (data.image_size)", config.scales, config.scales, 1usize << config.scales);
            }
        } else if c < 2 {
            bail!("realnvp couples halves of each point; it needs at least 2 dimensions");
        }
        if config.width == 0 || config.couplings == 0 || !(config.alpha > 0.0 && config.alpha < 0.5)
        {
            bail!("model.width and model.couplings must be at least 1 and model.alpha in (0, 0.5)");
        }
        let kernel = if images { 3 } else { 1 };
        let spec = CouplingSpec {
            width: config.width,
            blocks: config.blocks,
            kernel,
            zero_init,
        };
        let (mut plan, mut couplings, mut masks) = (Vec::new(), Vec::new(), Vec::new());
        let mut channels = c;
        let mut couple = |kind: MaskKind, channels: usize, plan: &mut Vec<Op>| {
            plan.push(Op::Layer(couplings.len()));
            masks.push(kind);
            couplings.push(AffineCoupling::new(channels, spec, device));
        };
        let checker = |i: usize| MaskKind::Checkerboard { parity: i % 2 == 1 };
        let halves = |i: usize| MaskKind::Channel { parity: i % 2 == 1 };
        if images {
            for _ in 0..config.scales {
                (0..3).for_each(|i| couple(checker(i), channels, &mut plan));
                plan.push(Op::Squeeze);
                channels *= 4;
                (0..3).for_each(|i| couple(halves(i), channels, &mut plan));
                plan.push(Op::Split);
                channels /= 2;
            }
            (0..config.couplings).for_each(|i| couple(checker(i), channels, &mut plan));
        } else {
            (0..config.couplings).for_each(|i| couple(halves(i), channels, &mut plan));
        }
        Ok(Self {
            net: RealNvpNet { couplings },
            config,
            plan,
            masks,
            shape: [c, h, w],
            images,
        })
    }
}

impl FlowNet for RealNvp {
    const FAMILY: &'static str = "realnvp";
    type Net = RealNvpNet;

    fn net(&self) -> &RealNvpNet {
        &self.net
    }
    fn set_net(&mut self, net: RealNvpNet) {
        self.net = net;
    }
    /// f: `x [b, D] -> (z [b, D], log |det ∂z/∂x| [b])`, z laid out by `walk_forward`.
    fn forward(&self, net: &RealNvpNet, x: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        if !self.images {
            return self.flow(net, x);
        }
        let (y, pre) = logit_forward(x, self.config.alpha);
        let (z, logdet) = self.flow(net, y);
        (z, logdet + pre)
    }

    /// The couplings alone, on logit-space images or on points.
    fn flow(&self, net: &RealNvpNet, y: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let b = y.dims()[0];
        let [c, h, w] = self.shape;
        walk_forward(&self.plan, y.reshape([b, c, h, w]), |i, t| {
            let [_, c, h, w] = t.dims();
            net.couplings[i].forward(t.clone(), self.masks[i].tensor([c, h, w], &t.device()))
        })
    }

    /// f⁻¹: `z [b, D] -> x [b, D]` (pixels in [0, 1] for images).
    fn inverse(&self, net: &RealNvpNet, z: Tensor<2>) -> Tensor<2> {
        let b = z.dims()[0];
        let t = walk_inverse(&self.plan, self.shape, z, |i, t| {
            let [_, c, h, w] = t.dims();
            net.couplings[i].inverse(t.clone(), self.masks[i].tensor([c, h, w], &t.device()))
        });
        let x = t.reshape([b as i64, -1]);
        if self.images {
            logit_inverse(x, self.config.alpha)
        } else {
            x
        }
    }

    fn dim(&self) -> usize {
        self.shape.iter().product()
    }
    fn images(&self) -> bool {
        self.images
    }
    fn alpha(&self) -> f64 {
        self.config.alpha
    }
    fn temperature(&self) -> f64 {
        self.config.temperature
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(RealNvpConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Flow(RealNvp::new(
        parse_section("model", model)?,
        info,
        device,
    )?)))
}

pub const FAMILY: Family = Family {
    name: "realnvp",
    summary: "Real NVP flow: affine couplings, checkerboard/channel masks, multi-scale",
    paper: "Dinh, Sohl-Dickstein & Bengio 2017, arXiv:1605.08803",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Interpolate,
        Capability::Likelihood,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/realnvp/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/realnvp/fashion.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/realnvp/tiny.toml"),
        ),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{brute_force_logdet, info, integrate_2d, seeded};
    use burn::tensor::Distribution;
    use genlab_core::tensor::{scalar, to_vec};

    fn random_flow(kind: Kind, shape: Shape, scales: usize, device: &Device) -> RealNvp {
        let cfg = RealNvpConfig {
            width: 8,
            blocks: 1,
            scales,
            couplings: 3,
            ..RealNvpConfig::default()
        };
        RealNvp::with_init(cfg, &info(kind, shape), device, false).unwrap()
    }

    #[test]
    fn log_determinant_equals_a_brute_force_jacobian() {
        let device = Device::default().autodiff();
        for (kind, shape, scales) in [
            (Kind::Points, Shape { c: 2, h: 1, w: 1 }, 0),
            (Kind::Points, Shape { c: 5, h: 1, w: 1 }, 0),
            (Kind::Images, Shape { c: 1, h: 4, w: 4 }, 1),
        ] {
            let flow = random_flow(kind, shape, scales, &device);
            let d = shape.dim();
            let mut rng = genlab_core::rng::rng_for(0, 0, genlab_core::rng::Stream::Eval);
            let x = to_vec(genlab_core::tensor::uniform([1, d], &mut rng, &device));
            let (_, logdet) = flow.forward(
                &flow.net,
                genlab_core::tensor::matrix(x.clone(), 1, d, &device),
            );
            let want = brute_force_logdet(|t| flow.forward(&flow.net, t).0, &x, d);
            let got = scalar(logdet);
            assert!(
                (got - want).abs() < 1e-3 * want.abs().max(1.0),
                "{kind:?} {shape:?}: logdet {got} vs brute force {want}"
            );
        }
    }

    #[test]
    fn inverse_undoes_forward() {
        let device = Device::default();
        for (kind, shape, scales) in [
            (Kind::Points, Shape { c: 2, h: 1, w: 1 }, 0),
            (Kind::Images, Shape { c: 1, h: 8, w: 8 }, 2),
        ] {
            let flow = random_flow(kind, shape, scales, &device);
            let x =
                Tensor::<2>::random([3, shape.dim()], Distribution::Uniform(0.05, 0.95), &device);
            let (z, _) = flow.forward(&flow.net, x.clone());
            let back = flow.inverse(&flow.net, z);
            let diff = (back - x).abs().max().into_scalar::<f32>();
            assert!(diff < 1e-5, "{kind:?}: {diff}");
        }
    }

    #[test]
    fn density_integrates_to_one_on_the_plane() {
        // Seeded weights: the backend's unseeded ones sometimes put more than 1% of the mass
        // outside the grid's ±8.
        let device = Device::default();
        let mut flow = random_flow(Kind::Points, Shape { c: 2, h: 1, w: 1 }, 0, &device);
        flow.net = seeded(flow.net, 0);
        let mass = integrate_2d(|x| flow.log_prob(&flow.net, x), &device);
        assert!((mass - 1.0).abs() < 0.01, "total probability {mass}");
    }
}
