//! `made`: masked autoencoder for distribution estimation (Germain, Gregor, Murray & Larochelle,
//! ICML 2015, https://arxiv.org/abs/1502.03509), on binary data.
//!
//!   log p(x) = sum_d log Bernoulli(x_d | sigmoid(out_d(x)))   where out_d sees only x_<d
//!
//! Training (algorithm 1, with connectivity-agnostic training of section 4.2):
//!   1. pick the connectivity: mask set `step mod masks` (one ordering + hidden degrees each);
//!   2. logits = MADE(x) under that mask set, one forward pass for all D conditionals;
//!   3. minimise the mean negative log-likelihood by Adam.
//!
//! Test (section 4.2): the ensemble of the first `test_masks` connectivities,
//!   p(x) = (1/K) sum_k p_k(x),  an exact likelihood of a mixture of K autoregressive models.
//!
//! Sampling and completion: ancestral, in the ordering of mask set 0, each unit computed once
//! when the last input it sees is drawn (`genlab_nn::made::Incremental`): one forward pass for
//! all D draws instead of one per dimension (the plain sampler, kept as the tests' reference).
//!
//! NOTE: the paper trained with Adagrad and early stopping on a validation set; the presets use
//! Adam lr 1e-3 (Karpathy's pytorch-made), and the run's keep-best checkpoint.

use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::model::held_out_nll;
use genlab_core::tensor::{matrix, scalar, to_vec};
use genlab_core::Capability;
use genlab_core::{
    Batch, Bound, Complete, DataInfo, Draw, Family, Likelihood, Losses, Model, NamedTensors,
    Sample, StepCtx,
};
use genlab_data::Kind;
use genlab_nn::autoregressive::bernoulli_fill;
use genlab_nn::loss::{bernoulli_log_prob, log_mean_exp};
use genlab_nn::made::{Incremental, MadeNet, Masks};
use genlab_nn::Activation;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Raster order for mask set 0 (random for the others).
    Natural,
    /// A random ordering for every mask set.
    Random,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MadeConfig {
    /// Hidden layer sizes; `[]` is FVSBN (a logistic regression per pixel on the earlier ones).
    pub hidden: Vec<usize>,
    pub activation: Activation,
    /// Connectivities cycled in training (1 = a single fixed ordering and mask).
    pub masks: usize,
    /// Connectivities averaged at test time (the first `test_masks` of those trained).
    pub test_masks: usize,
    pub order: Order,
}

impl Default for MadeConfig {
    /// The paper's single-hidden-layer MNIST model: 500 units, one mask, natural order.
    fn default() -> Self {
        Self {
            hidden: vec![500],
            activation: Activation::Relu,
            masks: 1,
            test_masks: 1,
            order: Order::Natural,
        }
    }
}

impl MadeConfig {
    fn validate(&self, family: &str, info: &DataInfo) -> Result<()> {
        if info.kind != Kind::Images || !info.preprocess.is_binary() {
            bail!("{family} models binary pixels; set data.binarize = \"dynamic\" (or \"static\") on an image dataset");
        }
        if self.masks == 0 || self.test_masks == 0 || self.test_masks > self.masks {
            bail!(
                "model.test_masks must be between 1 and model.masks ({}), found {}",
                self.masks,
                self.test_masks
            );
        }
        if self.hidden.contains(&0) {
            bail!("model.hidden sizes must be at least 1");
        }
        Ok(())
    }
}

pub struct Made {
    pub config: MadeConfig,
    pub net: MadeNet,
    /// Connectivity `i` is mask set `i`; drawn once from its index, so never saved.
    pub masks: Vec<Masks>,
    family: &'static str,
}

impl Made {
    pub fn new(
        family: &'static str,
        config: MadeConfig,
        info: &DataInfo,
        device: &Device,
    ) -> Result<Self> {
        config.validate(family, info)?;
        let d = info.shape.dim();
        let masks = (0..config.masks as u64)
            .map(|s| Masks::draw(d, &config.hidden, 1, s, config.order == Order::Natural))
            .collect();
        Ok(Self {
            net: MadeNet::new(d, &config.hidden, 1, config.activation, device),
            masks,
            config,
            family,
        })
    }

    /// log p_k(x) under connectivity k, per example: `[b, d] -> [b]`.
    fn log_prob(net: &MadeNet, masks: &Masks, x: Tensor<2>) -> Tensor<1> {
        let logits = net.forward(x.clone(), &masks.tensors(&x.device())); // [b, d]
        bernoulli_log_prob(logits, x)
    }

    /// Ancestral sampling in the ordering of mask set 0; see `bernoulli_fill`.
    fn fill(
        &self,
        x: Vec<f32>,
        n: usize,
        known: Option<&[f32]>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Tensor<2> {
        let plain = super::raster::plain_sampling();
        self.fill_by(x, n, known, draw, rng, device, plain)
    }

    /// [`Made::fill`] by one forward pass per dimension (`plain`) or incrementally.
    #[allow(clippy::too_many_arguments)]
    fn fill_by(
        &self,
        x: Vec<f32>,
        n: usize,
        known: Option<&[f32]>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
        device: &Device,
        plain: bool,
    ) -> Tensor<2> {
        let net = genlab_core::device::module_for(&self.net, device);
        let masks = &self.masks[0];
        let d = masks.order.len();
        let order = masks.sampling_order();
        let (bits, probs) = if plain {
            let m = masks.tensors(device);
            bernoulli_fill(x, n, &order, known, rng, |x, dim| {
                let logits = net.forward(matrix(x.to_vec(), n, d, device), &m); // [n, d]
                to_vec(logits.slice([0..n, dim..dim + 1]))
            })
        } else {
            let mut inc = Incremental::new(&net, masks, n);
            let mut previous = None;
            bernoulli_fill(x, n, &order, known, rng, |x, dim| {
                if let Some(p) = previous.replace(dim) {
                    inc.observe(x, p);
                }
                let out = inc.outputs(); // [n, d]
                (0..n).map(|s| out[s * d + dim]).collect()
            })
        };
        let out = match draw {
            Draw::Bits => bits,
            _ => probs,
        };
        matrix(out, n, d, device)
    }
}

impl Model for Made {
    fn family(&self) -> &'static str {
        self.family
    }
    fn held_out(&self, batch: &Batch, rng: &mut ChaCha8Rng) -> Result<Losses> {
        held_out_nll(self, "nll", batch.x.clone(), 1, rng)
    }
    fn binary(&self) -> bool {
        true
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }
    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let k = (ctx.step % self.masks.len() as u64) as usize;
        let nll = Self::log_prob(&self.net, &self.masks[k], batch.x.clone())
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
    fn as_complete(&self) -> Option<&dyn Complete> {
        Some(self)
    }
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        Some(self)
    }
}

impl Sample for Made {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let d = self.masks[0].order.len();
        Ok(self.fill(vec![0.0; n * d], n, None, Draw::Probabilities, rng, device))
    }
    fn sample_bits(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let d = self.masks[0].order.len();
        Ok(self.fill(vec![0.0; n * d], n, None, Draw::Bits, rng, device))
    }
}

impl Made {
    fn complete_as(
        &self,
        x: Tensor<2>,
        known: Tensor<2>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
    ) -> Tensor<2> {
        let device = x.device();
        let n = x.dims()[0];
        let (x, known) = (to_vec(x), to_vec(known));
        self.fill(x, n, Some(&known), draw, rng, &device)
    }
}

impl Complete for Made {
    fn complete(&self, x: Tensor<2>, known: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        Ok(self.complete_as(x, known, Draw::Probabilities, rng))
    }
    fn complete_bits(
        &self,
        x: Tensor<2>,
        known: Tensor<2>,
        rng: &mut ChaCha8Rng,
    ) -> Result<Tensor<2>> {
        Ok(self.complete_as(x, known, Draw::Bits, rng))
    }
}

impl Likelihood for Made {
    /// Exact: log (1/K) sum_k p_k(x) over the first `test_masks` connectivities.
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let net = genlab_core::device::module_for(&self.net, &x.device());
        let per_mask: Vec<Tensor<1>> = self.masks[..self.config.test_masks]
            .iter()
            .map(|m| Self::log_prob(&net, m, x.clone()))
            .collect(); // K x [b]
        let log_p = log_mean_exp(Tensor::stack::<2>(per_mask, 1)); // [b]
        Ok(to_vec(log_p).into_iter().map(f64::from).collect())
    }
    fn bound(&self, _k: usize) -> Bound {
        Bound::Exact
    }
    fn needs_binary_data(&self) -> bool {
        true
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(MadeConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Made::new(
        "made",
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "made",
    summary: "masked autoencoder: exact likelihood, order-agnostic masks, ensembles",
    paper: "Germain et al. 2015, arXiv:1502.03509",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Likelihood,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/made/default.toml"),
        ),
        ("tiny", include_str!("../../../../configs/made/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn incremental_sampling_draws_what_one_pass_per_dimension_draws() {
        // The same seed gives the same bits, and probabilities equal to f32 rounding, for two
        // hidden layers in natural and random order, for FVSBN (no hidden layer), and for
        // completion with the top rows known.
        let device = Device::default();
        let info = crate::testing::raster_info(5, 4, true, 1);
        let (n, d) = (6, 20);
        for (hidden, order) in [
            (vec![16, 12], Order::Natural),
            (vec![24], Order::Random),
            (vec![], Order::Natural),
        ] {
            let config = MadeConfig {
                hidden,
                activation: Activation::Relu,
                masks: 1,
                test_masks: 1,
                order,
            };
            let mut model = Made::new("made", config, &info, &device).unwrap();
            model.net = crate::testing::seeded(model.net, 1);
            let x = crate::testing::seeded_values(n, d, true, 2);
            let known: Vec<f32> = (0..n * d).map(|i| ((i % d) < 8) as u8 as f32).collect();
            for (x, known) in [(vec![0.0; n * d], None), (x, Some(known.as_slice()))] {
                for draw in [Draw::Bits, Draw::Probabilities] {
                    let run = |plain| {
                        let mut rng = ChaCha8Rng::seed_from_u64(5);
                        to_vec(model.fill_by(x.clone(), n, known, draw, &mut rng, &device, plain))
                    };
                    let (worst, same) = crate::testing::compare(&run(true), &run(false));
                    match draw {
                        Draw::Bits => assert!(same, "{order:?}: bits differ"),
                        _ => assert!(worst < 1e-5, "{order:?}: {worst}"),
                    }
                }
            }
        }
    }
}
