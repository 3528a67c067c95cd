//! `glow`: generative flow with invertible 1x1 convolutions (Kingma & Dhariwal, NeurIPS 2018,
//! https://arxiv.org/abs/1807.03039).
//!
//!   log p(x) = log N(f(x); 0, I) + log |det ∂f/∂x|   (exact)
//!
//! One step of flow (figure 2a, table 1):
//!   1. actnorm: y = (x + bias) ⊙ exp(log_scale), initialised from the first batch so that each
//!      channel has zero mean and unit variance;
//!   2. invertible 1x1 convolution, W = P L (U + diag(sign ⊙ exp(log_s))) (the LU form);
//!   3. affine coupling on the channel halves.
//!
//! Multi-scale (figure 2b): `levels` times { squeeze; `steps` steps of flow; split half the
//! channels off to the Gaussian } (no split after the last level). Images first go through
//! the logit transform of dequantized pixels; 2-D points (`[b, d, 1, 1]`) skip squeezing.
//! Training maximises log p(x) by Adam; samples are drawn at temperature T (the paper shows
//! T = 0.7).
//!
//! NOTE: the coupling is RealNVP's (s = scale ⊙ tanh, shared with `realnvp`), not Glow's
//! sigmoid(h + 2) scale; the split priors are N(0, I) rather than learned; the s/t nets have
//! no actnorm inside. Each is a simplification of the paper, kept to share tested layers.

use super::flow::{Flow, FlowNet};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::Capability;
use genlab_core::{Batch, DataInfo, Family, Model, StepCtx};
use genlab_data::{Kind, Scale, Shape};
use genlab_nn::flow::{
    logit_forward, logit_inverse, squeeze, walk_forward, walk_inverse, ActNorm, AffineCoupling,
    CouplingSpec, InvConv1x1, MaskKind, Op,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlowConfig {
    /// L: squeeze levels (images).
    pub levels: usize,
    /// K: steps of flow per level (points: all steps).
    pub steps: usize,
    /// Channels of the coupling networks.
    pub width: usize,
    /// Residual layers in each coupling network.
    pub blocks: usize,
    pub alpha: f64,
    pub temperature: f64,
}

impl Default for GlowConfig {
    fn default() -> Self {
        Self {
            levels: 2,
            steps: 8,
            width: 64,
            blocks: 1,
            alpha: 0.05,
            temperature: 1.0,
        }
    }
}

/// Actnorm, 1x1 convolution, affine coupling.
#[derive(Module, Debug)]
pub struct FlowStep {
    pub norm: ActNorm,
    pub mix: InvConv1x1,
    pub couple: AffineCoupling,
}

const HALVES: MaskKind = MaskKind::Channel { parity: false };

impl FlowStep {
    fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<1>) {
        let (x, ld1) = self.norm.forward(x);
        let (x, ld2) = self.mix.forward(x);
        let [_, c, h, w] = x.dims();
        let mask = HALVES.tensor([c, h, w], &x.device());
        let (y, ld3) = self.couple.forward(x, mask);
        (y, ld1 + ld2 + ld3)
    }

    fn inverse(&self, y: Tensor<4>) -> Tensor<4> {
        let [_, c, h, w] = y.dims();
        let mask = HALVES.tensor([c, h, w], &y.device());
        self.norm
            .inverse(self.mix.inverse(self.couple.inverse(y, mask)))
    }
}

#[derive(Module, Debug)]
pub struct GlowNet {
    pub steps: Vec<FlowStep>,
}

pub struct Glow {
    pub config: GlowConfig,
    pub net: GlowNet,
    plan: Vec<Op>,
    shape: [usize; 3],
    images: bool,
}

impl Glow {
    pub fn new(config: GlowConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let Shape { c, h, w } = info.shape;
        let images = info.kind == Kind::Images;
        if images {
            let pre = info.preprocess;
            if pre.is_binary() || !pre.dequantize || pre.scale != Scale::Unit {
                bail!("glow is a density on [0, 1]^d: set data.dequantize = true, data.binarize = \"none\" and data.scale = \"unit\"");
            }
            // Each level squeezes (halves the sides): how many times these sides can halve.
            let halvings = h.trailing_zeros().min(w.trailing_zeros()) as usize;
            if config.levels == 0 {
                bail!("model.levels must be at least 1 (each level squeezes the image once)");
            }
            if halvings == 0 {
                bail!("glow squeezes the image at least once, so its sides must be even, found {h}x{w}; resize the images (data.image_size) to an even size");
            }
            if config.levels > halvings {
                bail!("model.levels = {} squeezes the image {} times, so {h}x{w} must be divisible by {}; set model.levels to at most {halvings} or resize the images (data.image_size)", config.levels, config.levels, 1usize << config.levels);
            }
        } else if c < 2 {
            bail!("glow couples halves of each point; it needs at least 2 dimensions");
        }
        if config.steps == 0 || config.width == 0 || !(config.alpha > 0.0 && config.alpha < 0.5) {
            bail!("model.steps and model.width must be at least 1 and model.alpha in (0, 0.5)");
        }
        let spec = CouplingSpec {
            width: config.width,
            blocks: config.blocks,
            kernel: if images { 3 } else { 1 },
            zero_init: true,
        };
        let (mut plan, mut steps) = (Vec::new(), Vec::new());
        let mut add_step = |channels: usize, plan: &mut Vec<Op>| {
            plan.push(Op::Layer(steps.len()));
            steps.push(FlowStep {
                norm: ActNorm::new(channels, device),
                mix: InvConv1x1::new(channels, steps.len() as u64, device),
                couple: AffineCoupling::new(channels, spec, device),
            });
        };
        if images {
            let mut channels = c;
            for level in 0..config.levels {
                plan.push(Op::Squeeze);
                channels *= 4;
                (0..config.steps).for_each(|_| add_step(channels, &mut plan));
                if level + 1 < config.levels {
                    plan.push(Op::Split);
                    channels /= 2;
                }
            }
        } else {
            (0..config.steps).for_each(|_| add_step(c, &mut plan));
        }
        Ok(Self {
            net: GlowNet { steps },
            config,
            plan,
            shape: [c, h, w],
            images,
        })
    }

    /// Data in model space -> the flow's input `[b, c, h, w]` and its log-determinant.
    fn prepare(&self, x: Tensor<2>) -> (Tensor<4>, Tensor<1>) {
        let b = x.dims()[0];
        let [c, h, w] = self.shape;
        let (x, logdet) = if self.images {
            logit_forward(x, self.config.alpha)
        } else {
            let device = x.device();
            (x, Tensor::zeros([b], &device))
        };
        (x.reshape([b, c, h, w]), logdet)
    }

    /// Actnorm's data-dependent initialisation (section 3.1): run the plan on a batch and set
    /// each actnorm from the activations that reach it.
    fn init_actnorm(&mut self, x: Tensor<2>) {
        let (mut t, _) = self.prepare(x.detach());
        for op in self.plan.clone() {
            match op {
                Op::Layer(i) => {
                    let step = &mut self.net.steps[i];
                    step.norm = step.norm.clone().init(t.clone());
                    t = step.forward(t).0.detach();
                }
                Op::Squeeze => t = squeeze(t),
                Op::Split => {
                    let c = t.dims()[1];
                    t = t.narrow(1, 0, c / 2);
                }
            }
        }
    }
}

impl FlowNet for Glow {
    const FAMILY: &'static str = "glow";
    type Net = GlowNet;

    fn net(&self) -> &GlowNet {
        &self.net
    }
    fn set_net(&mut self, net: GlowNet) {
        self.net = net;
    }
    fn forward(&self, net: &GlowNet, x: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let (t, pre) = self.prepare(x);
        let (z, logdet) = walk_forward(&self.plan, t, |i, t| net.steps[i].forward(t));
        (z, logdet + pre)
    }

    /// The steps of flow alone, on logit-space images or on points.
    fn flow(&self, net: &GlowNet, y: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let b = y.dims()[0];
        let [c, h, w] = self.shape;
        walk_forward(&self.plan, y.reshape([b, c, h, w]), |i, t| {
            net.steps[i].forward(t)
        })
    }

    fn inverse(&self, net: &GlowNet, z: Tensor<2>) -> Tensor<2> {
        let b = z.dims()[0];
        let t = walk_inverse(&self.plan, self.shape, z, |i, t| net.steps[i].inverse(t));
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
    /// Actnorm is initialised from the first batch, before the first update.
    fn before_step(&mut self, batch: &Batch, ctx: &StepCtx) {
        if ctx.step == 0 {
            self.init_actnorm(batch.x.clone());
        }
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(GlowConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Flow(Glow::new(
        parse_section("model", model)?,
        info,
        device,
    )?)))
}

pub const FAMILY: Family = Family {
    name: "glow",
    summary: "Glow flow: actnorm, invertible 1x1 convolution (LU), affine coupling, multi-scale",
    paper: "Kingma & Dhariwal 2018, arXiv:1807.03039",
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
            include_str!("../../../../configs/glow/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/glow/fashion.toml"),
        ),
        ("tiny", include_str!("../../../../configs/glow/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{brute_force_logdet, info, integrate_2d};
    use burn::tensor::Distribution;
    use genlab_core::tensor::matrix;
    use genlab_core::tensor::{scalar, to_vec};

    /// A flow whose couplings are not the identity: actnorm initialised from data and one
    /// training step taken, so every layer is exercised.
    fn trained(kind: Kind, shape: Shape, device: &Device) -> Glow {
        let cfg = GlowConfig {
            levels: 1,
            steps: 2,
            width: 8,
            ..GlowConfig::default()
        };
        let mut glow = Glow::new(cfg, &info(kind, shape), device).unwrap();
        let x = Tensor::<2>::random([16, shape.dim()], Distribution::Uniform(0.1, 0.9), device);
        glow.init_actnorm(x.clone());
        let mut optim = genlab_core::optim::Optimizers::new(
            &std::collections::BTreeMap::from([(
                "model".to_string(),
                genlab_core::optim::OptimConfig {
                    lr: 0.05,
                    ..Default::default()
                },
            )]),
            1,
        );
        let mut ctx = StepCtx::new(1, 2, 0, device.clone(), &mut optim);
        let batch = Batch::of(x);
        let mut flow = Flow(glow);
        flow.train_step(&batch, &mut ctx).unwrap();
        flow.0
    }

    #[test]
    fn log_determinant_equals_a_brute_force_jacobian_and_inverse_undoes_forward() {
        let device = Device::default().autodiff();
        for (kind, shape) in [
            (Kind::Points, Shape { c: 2, h: 1, w: 1 }),
            (Kind::Images, Shape { c: 1, h: 4, w: 4 }),
        ] {
            let glow = trained(kind, shape, &device);
            let d = shape.dim();
            let x: Vec<f32> = (0..d).map(|i| 0.5 + 0.3 * (i as f32 * 1.7).sin()).collect();
            let (z, logdet) = glow.forward(&glow.net, matrix(x.clone(), 1, d, &device));
            let want = brute_force_logdet(|t| glow.forward(&glow.net, t).0, &x, d);
            let got = scalar(logdet);
            assert!(
                (got - want).abs() < 1e-3 * want.abs().max(1.0),
                "{kind:?}: {got} vs {want}"
            );
            let back = to_vec(glow.inverse(&glow.net, z));
            let err = back
                .iter()
                .zip(&x)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 1e-4, "{kind:?}: inverse error {err}");
        }
    }

    #[test]
    fn density_integrates_to_one_on_the_plane() {
        let device = Device::default().autodiff();
        let glow = trained(Kind::Points, Shape { c: 2, h: 1, w: 1 }, &device);
        let infer = genlab_core::device::inference_device(&device);
        let net = genlab_core::device::module_for(&glow.net, &infer);
        let mass = integrate_2d(|x| glow.log_prob(&net, x), &infer);
        assert!((mass - 1.0).abs() < 0.01, "total probability {mass}");
    }
}
