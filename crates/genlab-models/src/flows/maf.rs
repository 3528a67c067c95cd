//! `maf`: masked autoregressive flow (Papamakarios, Pavlakou & Murray, "Masked Autoregressive
//! Flow for Density Estimation", NeurIPS 2017, https://arxiv.org/abs/1705.07057).
//!
//! Each layer is a Gaussian autoregressive model whose MADE gives, in one pass,
//!   mu_i = f_mu(x_<i),  alpha_i = f_alpha(x_<i),   u_i = (x_i - mu_i) exp(-alpha_i)   (eq. 3-4)
//!   log |det ∂u/∂x| = -sum_i alpha_i
//! and `layers` of them are stacked, the ordering reversed from one layer to the next (section
//! 3.2), so that log p(x) = log N(u_L; 0, I) + sum_l log |det ∂u_l/∂u_{l-1}| exactly.
//! Images go through RealNVP's logit transform first (the paper does the same).
//! Training maximises log p(x) by Adam; sampling inverts each layer one dimension at a time,
//! x_i = u_i exp(alpha_i) + mu_i: D passes per layer as the paper states it, one here, as each
//! MADE unit is computed once, when the last input it sees is known (MADE's fast generation,
//! `genlab_nn::made::Incremental`).
//!
//! NOTE: the paper's batch normalisation between layers is left out (as in realnvp.rs).

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::model::held_out_nll;
use genlab_core::tensor::{matrix, normal, scalar, to_vec};
use genlab_core::Capability;
use genlab_core::{
    Batch, Bound, DataInfo, Family, Likelihood, Losses, Model, NamedTensors, Sample, StepCtx,
};
use genlab_data::{Kind, Scale};
use genlab_nn::flow::{logit_forward, logit_inverse};
use genlab_nn::loss::standard_normal_log_prob;
use genlab_nn::made::{Incremental, MadeNet, Masks};
use genlab_nn::Activation;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MafConfig {
    /// Hidden sizes of every MADE.
    pub hidden: Vec<usize>,
    pub activation: Activation,
    /// Number of stacked MADEs.
    pub layers: usize,
    /// The logit transform's α for images.
    pub alpha: f64,
    /// Standard deviation of u when sampling.
    pub temperature: f64,
}

impl Default for MafConfig {
    /// The paper's MAF 5 on UCI data: five MADEs of 2 x 100 units (its MNIST model used 1024).
    fn default() -> Self {
        Self {
            hidden: vec![100, 100],
            activation: Activation::Relu,
            layers: 5,
            alpha: 0.05,
            temperature: 1.0,
        }
    }
}

/// The bound of a sample's values in each layer's inverse. A sample that diverges (exp(alpha)
/// of a large alpha) would overflow to inf, and the next layer's MADE would turn it NaN
/// (inf - inf); held here instead, it stays finite (exp overflowing again is held again). An
/// image then ends saturated, black or white, through the logit transform's inverse; a point
/// ends at ±1e4, an outlier the point metrics see. Samples within it, which is all the data's
/// (image logits lie within ±2.95, the intermediate u near N(0, I)), are untouched. How many
/// samples reach it is not counted.
const DIVERGED: f32 = 1e4;

/// One value of a layer's inverse, `x = u exp(alpha) + mu` (Papamakarios et al. 2017, sec. 3.1),
/// held within ±[`DIVERGED`]. `alpha` is capped at 88 before the exponential, so `exp` stays
/// finite (at most 1.7e38) and a `u` of 0 gives `mu` rather than `0 * inf` = NaN; a larger
/// `alpha` would have taken the value to the bound anyway unless `u` were 0 to within 1e-34.
fn inverse_one(u: f32, mu: f32, alpha: f32) -> f32 {
    // Not `alpha.min(88.0)`: `f32::min` would turn a NaN alpha into 88 and hide it.
    let alpha = if alpha > 88.0 { 88.0 } else { alpha };
    (u * alpha.exp() + mu).clamp(-DIVERGED, DIVERGED)
}

#[derive(Module, Debug)]
pub struct MafNet {
    pub mades: Vec<MadeNet>,
}

pub struct Maf {
    pub config: MafConfig,
    pub net: MafNet,
    /// Layer l's connectivity: natural order for even l, reversed for odd l.
    masks: Vec<Masks>,
    images: bool,
}

impl Maf {
    pub fn new(config: MafConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let d = info.shape.dim();
        let images = info.kind == Kind::Images;
        if images {
            let pre = info.preprocess;
            if pre.is_binary() || !pre.dequantize || pre.scale != Scale::Unit {
                bail!("maf is a density on [0, 1]^d: set data.dequantize = true, data.binarize = \"none\" and data.scale = \"unit\"");
            }
        } else if d < 2 {
            bail!("maf needs at least 2 dimensions");
        }
        if config.layers == 0 || config.hidden.is_empty() || config.hidden.contains(&0) {
            bail!("model.layers and every model.hidden size must be at least 1");
        }
        let masks = (0..config.layers)
            .map(|l| {
                let mut order: Vec<usize> = (0..d).collect();
                if l % 2 == 1 {
                    order.reverse();
                }
                let mut rng = ChaCha8Rng::seed_from_u64(l as u64);
                Masks::with_order(order, &config.hidden, 2, &mut rng)
            })
            .collect();
        let mades = (0..config.layers)
            .map(|_| MadeNet::new(d, &config.hidden, 2, config.activation, device))
            .collect();
        Ok(Self {
            net: MafNet { mades },
            config,
            masks,
            images,
        })
    }

    /// (mu, alpha) of layer `l` at `x [b, D]`, each `[b, D]`.
    /// `masks`: layer l's mask tensors (built once by the caller, not per pass).
    fn params(net: &MafNet, l: usize, masks: &[Tensor<2>], x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let d = x.dims()[1];
        let out = net.mades[l].forward(x, masks); // [b, 2D]
        (out.clone().narrow(1, 0, d), out.narrow(1, d, d))
    }

    /// x -> (u, log |det ∂u/∂x| [b]).
    fn forward(&self, net: &MafNet, x: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let b = x.dims()[0];
        let (mut u, mut logdet) = if self.images {
            logit_forward(x, self.config.alpha)
        } else {
            let device = x.device();
            (x, Tensor::zeros([b], &device))
        };
        for l in 0..self.masks.len() {
            let masks = self.masks[l].tensors(&u.device());
            let (mu, alpha) = Self::params(net, l, &masks, u.clone());
            u = (u - mu) * alpha.clone().neg().exp();
            logdet = logdet - alpha.sum_dim(1).reshape([b]);
        }
        (u, logdet)
    }

    /// u -> x, each layer inverted one dimension at a time in its ordering,
    /// x_i = u_i exp(alpha_i) + mu_i, held within ±[`DIVERGED`]. The MADE is evaluated
    /// incrementally ([`Incremental`]: each unit computed once, when the last input it sees is
    /// known), so a layer costs one forward pass rather than the paper's D.
    fn inverse(&self, net: &MafNet, u: Tensor<2>) -> Tensor<2> {
        let [n, d] = u.dims();
        let device = u.device();
        let mut u = to_vec(u);
        for l in (0..self.masks.len()).rev() {
            let mut x = vec![0f32; n * d];
            let mut made = Incremental::new(&net.mades[l], &self.masks[l], n);
            for dim in self.masks[l].sampling_order() {
                // [n, 2D]: mu in the first D columns, alpha in the last D; column `dim` is
                // final, as every input before it in the ordering is observed.
                let out = made.outputs();
                for r in 0..n {
                    let (mu, alpha) = (out[r * 2 * d + dim], out[r * 2 * d + d + dim]);
                    x[r * d + dim] = inverse_one(u[r * d + dim], mu, alpha);
                }
                made.observe(&x, dim);
            }
            u = x;
        }
        let x = matrix(u, n, d, &device);
        if self.images {
            logit_inverse(x, self.config.alpha)
        } else {
            x
        }
    }

    fn log_prob(&self, net: &MafNet, x: Tensor<2>) -> Tensor<1> {
        let (u, logdet) = self.forward(net, x);
        standard_normal_log_prob(u) + logdet
    }
}

impl Model for Maf {
    fn family(&self) -> &'static str {
        "maf"
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
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        Some(self)
    }
}

impl Sample for Maf {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let d = self.masks[0].order.len();
        let u = normal([n, d], rng, device).mul_scalar(self.config.temperature);
        Ok(self.inverse(&genlab_core::device::module_for(&self.net, device), u))
    }
}

impl Likelihood for Maf {
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
}

fn default_model() -> toml::Table {
    toml::Table::try_from(MafConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Maf::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "maf",
    summary: "masked autoregressive flow: stacked Gaussian MADEs, exact likelihood",
    paper: "Papamakarios, Pavlakou & Murray 2017, arXiv:1705.07057",
    groups: &["model"],
    capabilities: &[Capability::Sample, Capability::Likelihood],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/maf/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/maf/fashion.toml"),
        ),
        ("tiny", include_str!("../../../../configs/maf/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{brute_force_logdet, info, integrate_2d, seeded};
    use burn::tensor::Distribution;
    use genlab_data::Shape;

    fn maf(d: usize, device: &Device) -> Maf {
        let cfg = MafConfig {
            hidden: vec![16],
            layers: 3,
            ..MafConfig::default()
        };
        Maf::new(cfg, &info(Kind::Points, Shape { c: d, h: 1, w: 1 }), device).unwrap()
    }

    #[test]
    fn log_determinant_equals_a_brute_force_jacobian() {
        let device = Device::default().autodiff();
        for d in [2, 6] {
            let flow = maf(d, &device);
            let x: Vec<f32> = (0..d).map(|i| (i as f32 * 0.37).sin()).collect();
            let (_, logdet) = flow.forward(&flow.net, matrix(x.clone(), 1, d, &device));
            let want = brute_force_logdet(|t| flow.forward(&flow.net, t).0, &x, d);
            let got = scalar(logdet);
            assert!(
                (got - want).abs() < 1e-3 * want.abs().max(1.0),
                "d {d}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn inverse_undoes_forward() {
        // The incremental inverse against the plain forward pass, with one and two hidden
        // layers (units of the second complete from units of the first).
        let device = Device::default();
        for hidden in [vec![16], vec![16, 12]] {
            let cfg = MafConfig {
                hidden,
                layers: 3,
                ..MafConfig::default()
            };
            let flow = Maf::new(
                cfg,
                &info(Kind::Points, Shape { c: 5, h: 1, w: 1 }),
                &device,
            )
            .unwrap();
            let x = Tensor::<2>::random([4, 5], Distribution::Normal(0.0, 1.0), &device);
            let (u, _) = flow.forward(&flow.net, x.clone());
            let diff = (flow.inverse(&flow.net, u) - x)
                .abs()
                .max()
                .into_scalar::<f32>();
            assert!(diff < 1e-5, "{diff}");
        }
    }

    #[test]
    fn a_diverging_sample_stays_finite() {
        // Noise far out in the tails: unguarded, exp(alpha) overflows and the next layer's
        // MADE makes inf - inf; held within ±DIVERGED, every value stays a number.
        let device = Device::default();
        let mut flow = maf(5, &device);
        // Seeded: with some unseeded weights the later layers pull every value back inside the
        // bound (the first assert passes, the second fails: once in 9 runs here).
        flow.net = seeded(flow.net, 0);
        let u: Vec<f32> = (0..20)
            .map(|i| if i % 2 == 0 { 1e30 } else { -1e30 })
            .collect();
        let x = to_vec(flow.inverse(&flow.net, matrix(u, 4, 5, &device)));
        assert!(x.iter().all(|v| v.is_finite()), "{x:?}");
        assert!(x.iter().any(|v| v.abs() == DIVERGED), "{x:?}");
    }

    #[test]
    fn an_overflowing_scale_never_makes_nan() {
        // exp(100) is inf in f32: u = 0 must give mu, not 0 * inf; other u go to the bound.
        assert_eq!(inverse_one(0.0, 0.5, 100.0), 0.5);
        assert_eq!(inverse_one(1e-3, 0.5, 100.0), DIVERGED);
        assert_eq!(inverse_one(-1e-3, 0.5, f32::INFINITY), -DIVERGED);
        assert_eq!(inverse_one(2.0, 0.5, 0.0), 2.5);
        // A NaN of the network stays NaN, for the sample-quality check to name.
        assert!(inverse_one(0.3, 0.5, f32::NAN).is_nan());
    }

    #[test]
    fn density_integrates_to_one_on_the_plane() {
        // Seeded weights: the backend's unseeded ones sometimes put more than 1% of the mass
        // outside the grid's ±8.
        let device = Device::default();
        let mut flow = maf(2, &device);
        flow.net = seeded(flow.net, 0);
        let mass = integrate_2d(|x| flow.log_prob(&flow.net, x), &device);
        assert!((mass - 1.0).abs() < 0.01, "total probability {mass}");
    }
}
