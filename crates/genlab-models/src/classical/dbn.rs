//! `dbn`: deep belief network (Hinton, Osindero & Teh 2006, "A fast learning algorithm for deep
//! belief nets"), trained greedily one RBM at a time.
//!
//! Layers v - h1 - h2 - ... - hL. Training (one stage per layer, `epochs_per_layer` epochs each;
//! the top RBM keeps training until the run ends):
//!   1. x = p(h_{l} | ... p(h_1 | v)) : the data propagated up the frozen layers below (means)
//!   2. one CD-k / PCD-k update of RBM l on x (`rbm::cd_step`)
//!   3. `end_epoch` advances to layer l + 1 after `epochs_per_layer` epochs.
//!
//! Sampling: Gibbs sampling in the top RBM (an undirected associative memory) from noise, then
//! one top-down pass through the directed layers below, p(h_{l-1} | h_l) = sigmoid(b + h_l Wᵀ),
//! with means (not samples) so that the picture shows E[v | top state].
//!
//! NOTE: the layers below the top use the RBM weights as recognition and generative weights
//! (no up-down fine-tuning / wake-sleep), as in the greedy stage of the paper.

use super::rbm::{bernoulli, cd_step, RbmConfig, RbmNet, Visible, Weights};
use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::Capability;
use genlab_core::{
    Batch, DataInfo, Family, GibbsChain, Losses, Model, NamedTensors, Reconstruct, Sample, StepCtx,
};
use genlab_data::Kind;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbnConfig {
    /// Hidden layer sizes, bottom to top (the top pair is the undirected RBM).
    pub layers: Vec<usize>,
    /// Epochs of greedy training per layer before the next layer starts.
    pub epochs_per_layer: u64,
    /// Units of the data layer; all hidden layers are Bernoulli.
    pub visible: Visible,
    pub k: usize,
    pub persistent: bool,
    pub sparsity_target: f64,
    pub sparsity_cost: f64,
    /// Gibbs steps in the top RBM for `genlab sample`.
    pub sample_steps: usize,
}

impl Default for DbnConfig {
    fn default() -> Self {
        Self {
            // Hinton et al. 2006 used 500-500-2000 on MNIST (plus labels at the top).
            layers: vec![500, 500, 2000],
            epochs_per_layer: 10,
            visible: Visible::Bernoulli,
            k: 1,
            persistent: true,
            sparsity_target: 0.0,
            sparsity_cost: 0.0,
            sample_steps: 1000,
        }
    }
}

/// The stacked RBMs, `layers.{l}.{w,b,c}`.
#[derive(Module, Debug)]
pub struct DbnNet {
    pub layers: Vec<RbmNet>,
}

pub struct Dbn {
    cfg: DbnConfig,
    kind: Kind,
    net: DbnNet,
    /// The layer being trained (and the top of the stack used for sampling).
    stage: usize,
    /// PCD chains per layer.
    chains: Vec<Option<(usize, Vec<f32>)>>,
}

impl Dbn {
    pub fn new(cfg: DbnConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        if cfg.layers.is_empty() || cfg.layers.contains(&0) {
            bail!("dbn: model.layers must list at least one hidden size, all >= 1 (e.g. [500, 500, 2000])");
        }
        if cfg.k == 0 || cfg.epochs_per_layer == 0 {
            bail!("dbn: model.k and model.epochs_per_layer must be >= 1");
        }
        if cfg.visible == Visible::Bernoulli && info.preprocess.scale != genlab_data::Scale::Unit {
            bail!("dbn: bernoulli visible units model values in [0, 1]; set data.scale = \"unit\" or model.visible = \"gaussian\"");
        }
        let mut sizes = vec![info.shape.dim()];
        sizes.extend(&cfg.layers);
        let layers = sizes
            .windows(2)
            .map(|p| RbmNet::new(p[0], p[1], device))
            .collect();
        Ok(Self {
            chains: vec![None; cfg.layers.len()],
            cfg,
            kind: info.kind,
            net: DbnNet { layers },
            stage: 0,
        })
    }

    /// RBM `l` without autodiff.
    fn layer(&self, l: usize, device: &Device) -> Weights {
        let visible = if l == 0 {
            self.cfg.visible
        } else {
            Visible::Bernoulli
        };
        self.net.layers[l].weights(visible, device)
    }

    /// The RBM settings of layer `l` (its size comes from its weights).
    fn layer_cfg(&self) -> RbmConfig {
        RbmConfig {
            k: self.cfg.k,
            persistent: self.cfg.persistent,
            sparsity_target: self.cfg.sparsity_target,
            sparsity_cost: self.cfg.sparsity_cost,
            ..RbmConfig::default()
        }
    }

    /// Mean-field up pass through layers `0..top`: `[b, v] -> [b, h_top]`.
    fn up(&self, mut x: Tensor<2>, top: usize) -> Tensor<2> {
        let device = x.device();
        for l in 0..top {
            x = self.layer(l, &device).hidden_prob(x);
        }
        x
    }

    /// Top-down pass of means from the visible layer of RBM `top` to the data.
    fn down(&self, mut x: Tensor<2>, top: usize) -> Tensor<2> {
        let device = x.device();
        for l in (0..top).rev() {
            x = self.layer(l, &device).visible_mean(x);
        }
        match self.kind {
            Kind::Images => x.clamp(0.0, 1.0),
            Kind::Points => x,
        }
    }
}

impl Model for Dbn {
    fn family(&self) -> &'static str {
        "dbn"
    }
    fn binary(&self) -> bool {
        self.cfg.visible == Visible::Bernoulli
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let l = self.stage;
        let device = batch.x.device();
        let x = self.up(batch.x.clone(), l); // [b, size of layer l's input]
        let wts = self.layer(l, &device);
        let cfg = self.layer_cfg();
        let (grads, mut losses) = cd_step(&wts, &cfg, &mut self.chains[l], x, &mut ctx.rng);
        let grads: BTreeMap<String, Tensor<1>> = grads
            .into_iter()
            .map(|(k, g)| (format!("layers.{l}.{k}"), g))
            .collect();
        self.net = ctx.apply("model", self.net.clone(), &grads);
        losses.push("layer", l as f64);
        Ok(losses)
    }

    fn end_epoch(&mut self, epoch: u64) -> Result<()> {
        let next = ((epoch + 1) / self.cfg.epochs_per_layer) as usize;
        let next = next.min(self.cfg.layers.len() - 1);
        if next != self.stage {
            eprintln!(
                "dbn: layer {} done after {} epochs; training layer {} (up pass through {} frozen)",
                self.stage,
                epoch + 1,
                next,
                next
            );
            self.stage = next;
        }
        Ok(())
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::of("model", &self.net);
        out.insert_f64("model/stage".into(), vec![1], vec![self.stage as f64]);
        for (l, c) in self.chains.iter().enumerate() {
            if let Some((n, h)) = c {
                let width = h.len() / n;
                out.insert(format!("model/pcd_chains_{l}"), vec![*n, width], h.clone());
            }
        }
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.net = params.restore("model", self.net.clone())?;
        let stage = params.get_f64("model/stage", &[1])?[0] as usize;
        if stage >= self.cfg.layers.len() {
            bail!(
                "dbn: checkpoint is at layer {stage} but model.layers has {} layers",
                self.cfg.layers.len()
            );
        }
        self.stage = stage;
        for (l, c) in self.chains.iter_mut().enumerate() {
            *c = params
                .0
                .get(&format!("model/pcd_chains_{l}"))
                .map(|(shape, h)| (shape[0], h.clone()));
        }
        Ok(())
    }

    fn filters(&self) -> Option<Tensor<2>> {
        Some(self.net.layers[0].valid().w.val().transpose()) // [h1, v]
    }
    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_reconstruct(&self) -> Option<&dyn Reconstruct> {
        Some(self)
    }
    fn as_chain(&self) -> Option<&dyn GibbsChain> {
        Some(self)
    }

    fn diagnostics(&self, x: Tensor<2>) -> Result<serde_json::Map<String, serde_json::Value>> {
        let device = x.device();
        let mut m = serde_json::Map::new();
        m.insert("trained_layers".into(), (self.stage + 1).into());
        // Free energy of the data's top-layer input under the top RBM, per example.
        let top = self.up(x, self.stage);
        let fe = genlab_core::tensor::to_vec(self.layer(self.stage, &device).free_energy(top));
        m.insert(
            "top_mean_free_energy".into(),
            (fe.iter().map(|&v| v as f64).sum::<f64>() / fe.len() as f64).into(),
        );
        Ok(m)
    }
}

impl Sample for Dbn {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let frames = self.chain(n, 1, self.cfg.sample_steps, rng, device)?;
        Ok(frames.into_iter().last().unwrap())
    }
}

impl GibbsChain for Dbn {
    fn sampling_steps(&self) -> usize {
        self.cfg.sample_steps
    }
    /// Gibbs chains in the top RBM from noise; every frame is projected down to the data.
    fn chain(
        &self,
        n: usize,
        frames: usize,
        every: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Vec<Tensor<2>>> {
        let top = self.stage;
        let wts = self.layer(top, device);
        let [width, _] = wts.w.dims();
        let v = bernoulli(Tensor::full([n, width], 0.5, device), rng);
        let frames = wts.gibbs_frames(v, frames, every, rng);
        Ok(frames.into_iter().map(|m| self.down(m, top)).collect())
    }
}

impl Reconstruct for Dbn {
    /// Up through every trained layer (means), then down: E[v | top hidden = p(h | x)].
    fn reconstruct(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        let device = x.device();
        let top = self.layer(self.stage, &device);
        let h = top.hidden_prob(self.up(x, self.stage));
        Ok(self.down(top.visible_mean(h), self.stage))
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(DbnConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Dbn::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "dbn",
    summary: "deep belief network: stacked RBMs trained greedily, Gibbs in the top RBM + down pass",
    paper: "Hinton, Osindero & Teh 2006",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Reconstruct,
        Capability::GibbsChain,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/dbn/default.toml"),
        ),
        ("tiny", include_str!("../../../../configs/dbn/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use genlab_data::{Binarize, Preprocess, Scale, Shape};

    fn info() -> DataInfo {
        DataInfo {
            kind: Kind::Images,
            shape: Shape { c: 1, h: 2, w: 3 },
            classes: 0,
            preprocess: Preprocess {
                binarize: Binarize::None,
                scale: Scale::Unit,
                dequantize: false,
            },
            modes: None,
            standardization: None,
            input: None,
        }
    }

    #[test]
    fn end_epoch_advances_one_layer_per_stage_and_stops_at_the_top() {
        let cfg = DbnConfig {
            layers: vec![4, 3],
            epochs_per_layer: 2,
            ..Default::default()
        };
        let mut dbn = Dbn::new(cfg, &info(), &Device::default().autodiff()).unwrap();
        let mut stages = Vec::new();
        for epoch in 0..6 {
            dbn.end_epoch(epoch).unwrap();
            stages.push(dbn.stage);
        }
        assert_eq!(stages, vec![0, 1, 1, 1, 1, 1]);
    }

    #[test]
    fn training_a_layer_leaves_the_frozen_layers_below_unchanged() {
        let device = Device::default().autodiff();
        let cfg = DbnConfig {
            layers: vec![4, 3],
            epochs_per_layer: 1,
            ..Default::default()
        };
        let mut dbn = Dbn::new(cfg, &info(), &device).unwrap();
        dbn.end_epoch(0).unwrap(); // now training layer 1
        let before = dbn.save_params();
        let mut optim = genlab_core::optim::Optimizers::new(
            &BTreeMap::from([("model".to_string(), Default::default())]),
            1,
        );
        let x = genlab_core::tensor::matrix(
            vec![1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0],
            2,
            6,
            &device,
        );
        let mut ctx = StepCtx::new(0, 1, 0, device.clone(), &mut optim);
        dbn.train_step(&Batch::of(x), &mut ctx).unwrap();
        let after = dbn.save_params();
        for (name, (_, v)) in &before.0 {
            let changed = after.0[name].1 != *v;
            let want = name.starts_with("model/layers.1.") || name.starts_with("model/pcd_chains");
            assert_eq!(changed, want, "{name}");
        }
    }
}
