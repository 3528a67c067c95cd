//! Optimizers per parameter group: Adam, AdamW, SGD with momentum, RMSprop, with learning-rate
//! schedules and gradient-norm clipping. Written here rather than taken from burn-optim because
//! their state must be saved by parameter *path* (burn keys it by in-memory ids) so that a
//! resumed run continues bit for bit.

use crate::params::NamedTensors;
use anyhow::{bail, Result};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Gradients, Tensor};
use genlab_kernels::fused_adam::{adam_step, AdamStep};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimKind {
    Adam,
    AdamW,
    Sgd,
    RmsProp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    Constant,
    /// Cosine decay from `lr` to `lr * min_lr_ratio` over the run.
    Cosine,
    /// Linear decay from `lr` to `lr * min_lr_ratio` over the run, or, with `decay_start`,
    /// constant until that step and then linear to the floor at the last step (CycleGAN's
    /// schedule: constant for half the epochs, then linear to 0).
    Linear,
    /// Multiply by `gamma` every `step_size` steps.
    Step,
}

/// One group's optimizer, `[optim.<group>]` in a config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimConfig {
    pub kind: OptimKind,
    pub lr: f64,
    /// Adam/AdamW first-moment decay; SGD momentum uses `momentum`.
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// L2 penalty added to the gradient (Adam, SGD, RMSprop) or decoupled decay (AdamW).
    pub weight_decay: f64,
    pub momentum: f64,
    /// RMSprop squared-gradient decay.
    pub alpha: f64,
    pub schedule: Schedule,
    pub warmup_steps: u64,
    pub min_lr_ratio: f64,
    /// `schedule = "linear"`: the step the decay starts at (0 = the first step after warmup).
    /// Absent from configs written before it existed: 0.
    #[serde(default)]
    pub decay_start: u64,
    pub step_size: u64,
    pub gamma: f64,
    /// Clip the group's global gradient norm to this value; 0 turns clipping off.
    pub clip_grad_norm: f64,
}

impl Default for OptimConfig {
    /// Adam with PyTorch's defaults and lr 1e-3 (Kingma & Ba 2015).
    fn default() -> Self {
        Self {
            kind: OptimKind::Adam,
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            alpha: 0.99,
            schedule: Schedule::Constant,
            warmup_steps: 0,
            min_lr_ratio: 0.0,
            decay_start: 0,
            step_size: 1000,
            gamma: 0.5,
            clip_grad_norm: 0.0,
        }
    }
}

impl OptimConfig {
    pub fn validate(&self, group: &str) -> Result<()> {
        let bad = |key: &str, why: &str| -> Result<()> { bail!("optim.{group}.{key}: {why}") };
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(
                "lr",
                &format!("must be a positive number, found {}", self.lr),
            );
        }
        for (k, v) in [
            ("beta1", self.beta1),
            ("beta2", self.beta2),
            ("momentum", self.momentum),
            ("alpha", self.alpha),
        ] {
            if !(0.0..1.0).contains(&v) {
                return bad(k, &format!("must be in [0, 1), found {v}"));
            }
        }
        if self.decay_start > 0 && self.schedule != Schedule::Linear {
            return bad(
                "decay_start",
                "applies to schedule = \"linear\" only (constant, then linear decay)",
            );
        }
        if self.weight_decay < 0.0 || self.clip_grad_norm < 0.0 || self.eps <= 0.0 {
            return bad(
                "weight_decay/clip_grad_norm/eps",
                "must not be negative (eps > 0)",
            );
        }
        Ok(())
    }

    /// Learning rate at `step` (0-based) of a run of `total` steps.
    pub fn lr_at(&self, step: u64, total: u64) -> f64 {
        let warm = if self.warmup_steps > 0 && step < self.warmup_steps {
            (step + 1) as f64 / self.warmup_steps as f64
        } else {
            1.0
        };
        let start = self.warmup_steps.max(self.decay_start);
        let span = total.saturating_sub(start).max(1) as f64;
        let t = (step.saturating_sub(start) as f64 / span).min(1.0);
        let m = self.min_lr_ratio;
        let factor = match self.schedule {
            Schedule::Constant => 1.0,
            Schedule::Cosine => m + (1.0 - m) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()),
            Schedule::Linear => m + (1.0 - m) * (1.0 - t),
            Schedule::Step => self.gamma.powi((step / self.step_size.max(1)) as i32),
        };
        self.lr * warm * factor
    }
}

/// Per-parameter moment buffers, flattened to 1-D.
#[derive(Clone)]
struct Slot {
    m: Tensor<1>,
    v: Tensor<1>,
}

/// The EMA's decay after a group's `t`-th update (t >= 1): `min(decay, (1 + t) / (10 + t))`,
/// TensorFlow's `ExponentialMovingAverage` warm-up ([`Optimizers::with_ema`]).
pub fn ema_decay_at(decay: f64, t: u64) -> f64 {
    let t = t as f64;
    decay.min((1.0 + t) / (10.0 + t))
}

/// One group's optimizer and its state.
pub struct GroupOptimizer {
    pub config: OptimConfig,
    /// Number of updates taken (Adam's bias correction).
    pub t: u64,
    slots: BTreeMap<String, Slot>,
    /// Exponential moving average of the weights (0 = off), with each parameter's shape.
    ema_decay: f64,
    ema: BTreeMap<String, (Vec<usize>, Tensor<1>)>,
}

impl GroupOptimizer {
    pub fn new(config: OptimConfig) -> Self {
        Self {
            config,
            t: 0,
            slots: BTreeMap::new(),
            ema_decay: 0.0,
            ema: BTreeMap::new(),
        }
    }
}

/// The optimizers of all groups of one model.
pub struct Optimizers {
    pub total_steps: u64,
    groups: BTreeMap<String, GroupOptimizer>,
}

impl Optimizers {
    pub fn new(configs: &BTreeMap<String, OptimConfig>, total_steps: u64) -> Self {
        Self {
            total_steps,
            groups: configs
                .iter()
                .map(|(g, c)| (g.clone(), GroupOptimizer::new(c.clone())))
                .collect(),
        }
    }

    /// Keep an exponential moving average of every group's weights (Polyak averaging; the
    /// "EMA generator" of GAN practice): ema = d_t * ema + (1 - d_t) * theta after the group's
    /// t-th update, starting from the initial weights, with the warmed-up decay
    /// d_t = min(decay, (1 + t) / (10 + t)) of TensorFlow's `ExponentialMovingAverage`
    /// (`num_updates`). Without the warm-up a run of few updates keeps a share decay^t of its
    /// random initial weights (13.5% after 2,000 updates at 0.999); with it the average spans
    /// about the last tenth of the run until t reaches 9 / (1 - decay) - 1, then the plain
    /// window of 1 / (1 - decay) updates.
    pub fn with_ema(mut self, decay: f64) -> Self {
        for g in self.groups.values_mut() {
            g.ema_decay = decay;
        }
        self
    }

    /// The averaged weights keyed like `Model::save_params`, once an update has been taken.
    pub fn ema_params(&self) -> Option<NamedTensors> {
        let mut out = NamedTensors::default();
        for (g, opt) in &self.groups {
            for (path, (shape, t)) in &opt.ema {
                out.insert(
                    format!("{g}/{path}"),
                    shape.clone(),
                    crate::tensor::to_vec(t.clone()),
                );
            }
        }
        (!out.0.is_empty()).then_some(out)
    }

    /// Set the base learning rate of `group` from the next update on (the studio's GAN Lab
    /// changes it between steps); an error names a group that does not exist or a bad rate.
    pub fn set_lr(&mut self, group: &str, lr: f64) -> Result<()> {
        let Some(g) = self.groups.get_mut(group) else {
            let names: Vec<&str> = self.groups.keys().map(String::as_str).collect();
            bail!(
                "no parameter group `{group}`; the groups are {}",
                names.join(", ")
            );
        };
        let mut config = g.config.clone();
        config.lr = lr;
        config.validate(group)?;
        g.config = config;
        Ok(())
    }

    pub fn lr(&self, group: &str, step: u64) -> f64 {
        self.groups[group].config.lr_at(step, self.total_steps)
    }

    /// One update of `module` (the parameters of `group`) from back-propagated `grads`.
    pub fn step<M: Module>(&mut self, group: &str, step: u64, module: M, grads: &Gradients) -> M {
        self.step_with(group, step, module, Grads::Backprop(grads))
    }

    /// One update of `module` from gradients a family computed itself, keyed by parameter path
    /// (`w`, `layers.0.weight`), flattened. Panics if a key names no parameter of `module`.
    pub fn step_given<M: Module>(
        &mut self,
        group: &str,
        step: u64,
        module: M,
        grads: &BTreeMap<String, Tensor<1>>,
    ) -> M {
        let mut used = Vec::new();
        let out = self.step_with(group, step, module, Grads::Given(grads, &mut used));
        for key in grads.keys() {
            assert!(
                used.contains(key),
                "gradient for `{key}` names no parameter of group `{group}`"
            );
        }
        out
    }

    fn step_with<M: Module>(&mut self, group: &str, step: u64, module: M, grads: Grads) -> M {
        let total = self.total_steps;
        let opt = self.groups.get_mut(group).unwrap_or_else(|| {
            panic!("family used parameter group `{group}` without declaring it in groups()")
        });
        opt.t += 1;
        let lr = opt.config.lr_at(step, total);
        let clip_scale = if opt.config.clip_grad_norm > 0.0 {
            let mut sq = SquaredNorm {
                grads: &grads,
                total: None,
                path: Vec::new(),
            };
            module.visit(&mut sq);
            let norm = sq
                .total
                .map(|t| t.into_scalar::<f32>() as f64)
                .unwrap_or(0.0)
                .sqrt();
            if norm > opt.config.clip_grad_norm {
                opt.config.clip_grad_norm / (norm + 1e-6)
            } else {
                1.0
            }
        } else {
            1.0
        };
        let mut updater = Updater {
            opt,
            grads,
            lr,
            clip_scale,
            path: Vec::new(),
        };
        module.map(&mut updater)
    }

    /// State tensors keyed `group/path/{m,v}` plus `group/__t`.
    pub fn save_state(&self) -> (NamedTensors, BTreeMap<String, u64>) {
        let mut out = NamedTensors::default();
        let mut counts = BTreeMap::new();
        for (g, opt) in &self.groups {
            counts.insert(g.clone(), opt.t);
            for (path, slot) in &opt.slots {
                for (k, t) in [("m", &slot.m), ("v", &slot.v)] {
                    let values = crate::tensor::to_vec(t.clone());
                    out.insert(format!("{g}/{path}/{k}"), vec![values.len()], values);
                }
            }
            for (path, (shape, t)) in &opt.ema {
                out.insert(
                    format!("{g}/{path}/ema"),
                    shape.clone(),
                    crate::tensor::to_vec(t.clone()),
                );
            }
        }
        (out, counts)
    }

    pub fn load_state(
        &mut self,
        state: &NamedTensors,
        counts: &BTreeMap<String, u64>,
        device: &burn::tensor::Device,
    ) -> Result<()> {
        for (g, opt) in self.groups.iter_mut() {
            opt.t = counts.get(g).copied().unwrap_or(0);
            opt.slots.clear();
            opt.ema.clear();
            let prefix = format!("{g}/");
            let mut pending: BTreeMap<String, (Option<Tensor<1>>, Option<Tensor<1>>)> =
                BTreeMap::new();
            for (name, (shape, values)) in state.0.iter().filter(|(k, _)| k.starts_with(&prefix)) {
                let rest = &name[prefix.len()..];
                let Some((path, which)) = rest.rsplit_once('/') else {
                    bail!("optimizer state entry `{name}` is malformed");
                };
                let n = shape.iter().product::<usize>();
                let t = Tensor::<1>::from_data(
                    burn::tensor::TensorData::new(values.clone(), [n]),
                    device,
                );
                if which == "ema" {
                    opt.ema.insert(path.to_string(), (shape.clone(), t));
                    continue;
                }
                let e = pending.entry(path.to_string()).or_default();
                match which {
                    "m" => e.0 = Some(t),
                    "v" => e.1 = Some(t),
                    _ => bail!("optimizer state entry `{name}` is malformed"),
                }
            }
            for (path, (m, v)) in pending {
                match (m, v) {
                    (Some(m), Some(v)) => {
                        opt.slots.insert(path, Slot { m, v });
                    }
                    _ => bail!("optimizer state for {g}/{path} is incomplete"),
                }
            }
        }
        Ok(())
    }
}

/// Where an update's gradients come from.
enum Grads<'a> {
    Backprop(&'a Gradients),
    /// Computed by the family (e.g. the CD update of an RBM), keyed by path; records the keys used.
    Given(&'a BTreeMap<String, Tensor<1>>, &'a mut Vec<String>),
}

impl Grads<'_> {
    /// The gradient of `param` at `key`, flattened.
    fn of<const D: usize>(&mut self, key: &str, param: &Tensor<D>) -> Option<Tensor<1>> {
        let n = param.dims().iter().product::<usize>();
        match self {
            Grads::Backprop(g) => param.grad(g).map(|g| g.reshape([n])),
            Grads::Given(map, used) => map.get(key).map(|g| {
                used.push(key.to_string());
                assert_eq!(g.dims()[0], n, "gradient for `{key}` has the wrong size");
                g.clone()
            }),
        }
    }
}

struct SquaredNorm<'a, 'g> {
    grads: &'a Grads<'g>,
    total: Option<Tensor<1>>,
    path: Vec<String>,
}

impl ModuleVisitor for SquaredNorm<'_, '_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let grad = match self.grads {
            Grads::Backprop(g) => {
                let n = param.val().dims().iter().product::<usize>();
                param.val().grad(g).map(|g| g.reshape([n]))
            }
            Grads::Given(map, _) => map.get(&self.path.join(".")).cloned(),
        };
        if let Some(g) = grad {
            let s = g.square().sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

struct Updater<'a, 'g> {
    opt: &'a mut GroupOptimizer,
    grads: Grads<'g>,
    lr: f64,
    clip_scale: f64,
    path: Vec<String>,
}

impl ModuleMapper for Updater<'_, '_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let key = self.path.join(".");
        let Some(mut g) = self.grads.of(&key, &tensor) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let dims = tensor.dims();
        let n = dims.iter().product::<usize>();
        let theta = tensor.inner().reshape([n]);
        if self.clip_scale != 1.0 {
            g = g.mul_scalar(self.clip_scale);
        }
        // The EMA starts from the weights before the first update.
        let theta_before =
            (self.opt.ema_decay > 0.0 && !self.opt.ema.contains_key(&key)).then(|| theta.clone());
        let c = &self.opt.config;
        let (lr, t) = (self.lr, self.opt.t as i32);
        let slot = self.opt.slots.remove(&key).unwrap_or_else(|| Slot {
            m: theta.zeros_like(),
            v: theta.zeros_like(),
        });
        let fused = match c.kind {
            OptimKind::Adam | OptimKind::AdamW => {
                let wd = c.weight_decay;
                let step = AdamStep {
                    lr: lr as f32,
                    beta1: c.beta1 as f32,
                    beta2: c.beta2 as f32,
                    one_minus_beta1: (1.0 - c.beta1) as f32,
                    one_minus_beta2: (1.0 - c.beta2) as f32,
                    eps: c.eps as f32,
                    bc1: (1.0 - c.beta1.powi(t)) as f32,
                    bc2: (1.0 - c.beta2.powi(t)) as f32,
                    l2: if c.kind == OptimKind::Adam {
                        wd as f32
                    } else {
                        0.0
                    },
                    decay: if c.kind == OptimKind::AdamW && wd > 0.0 {
                        (1.0 - lr * wd) as f32
                    } else {
                        1.0
                    },
                };
                adam_step(
                    theta.clone(),
                    g.clone(),
                    slot.m.clone(),
                    slot.v.clone(),
                    step,
                )
            }
            _ => None,
        };
        let (theta, slot) = match c.kind {
            _ if fused.is_some() => {
                let (theta, m, v) = fused.expect("checked");
                (theta, Slot { m, v })
            }
            OptimKind::Adam | OptimKind::AdamW => {
                if c.kind == OptimKind::Adam && c.weight_decay > 0.0 {
                    g = g + theta.clone().mul_scalar(c.weight_decay);
                }
                let m = slot.m.mul_scalar(c.beta1) + g.clone().mul_scalar(1.0 - c.beta1);
                let v = slot.v.mul_scalar(c.beta2) + g.square().mul_scalar(1.0 - c.beta2);
                let bc1 = 1.0 - c.beta1.powi(t);
                let bc2 = 1.0 - c.beta2.powi(t);
                let denom = v.clone().div_scalar(bc2).sqrt().add_scalar(c.eps);
                let mut theta = if c.kind == OptimKind::AdamW && c.weight_decay > 0.0 {
                    theta.mul_scalar(1.0 - lr * c.weight_decay)
                } else {
                    theta
                };
                theta = theta - m.clone().div_scalar(bc1).div(denom).mul_scalar(lr);
                (theta, Slot { m, v })
            }
            OptimKind::Sgd => {
                if c.weight_decay > 0.0 {
                    g = g + theta.clone().mul_scalar(c.weight_decay);
                }
                // PyTorch's form: buf = momentum * buf + g; theta -= lr * buf.
                let m = if c.momentum > 0.0 {
                    slot.m.mul_scalar(c.momentum) + g
                } else {
                    g
                };
                (theta - m.clone().mul_scalar(lr), Slot { m, v: slot.v })
            }
            OptimKind::RmsProp => {
                if c.weight_decay > 0.0 {
                    g = g + theta.clone().mul_scalar(c.weight_decay);
                }
                let v = slot.v.mul_scalar(c.alpha) + g.clone().square().mul_scalar(1.0 - c.alpha);
                let step = g.div(v.clone().sqrt().add_scalar(c.eps));
                let m = if c.momentum > 0.0 {
                    slot.m.mul_scalar(c.momentum) + step
                } else {
                    step
                };
                (theta - m.clone().mul_scalar(lr), Slot { m, v })
            }
        };
        if self.opt.ema_decay > 0.0 {
            let d = ema_decay_at(self.opt.ema_decay, self.opt.t);
            let prev = self
                .opt
                .ema
                .remove(&key)
                .map(|e| e.1)
                .or(theta_before)
                .expect("an EMA slot exists or was seeded above");
            let ema = prev.mul_scalar(d) + theta.clone().mul_scalar(1.0 - d);
            self.opt.ema.insert(key.clone(), (dims.to_vec(), ema));
        }
        self.opt.slots.insert(key, slot);
        let updated = Tensor::from_inner(theta.reshape(dims)).require_grad();
        Param::from_mapped_value(id, updated, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_adam_equals_the_tensor_form() {
        // The tensor form below is the fallback off flex; the fused pass must agree with it.
        use burn::tensor::{Device, Distribution};
        let device = Device::default();
        let r = |s| Tensor::<1>::random([s], Distribution::Normal(0.0, 1.0), &device);
        let (theta, g, m) = (r(20_000), r(20_000), r(20_000));
        let v = r(20_000).abs();
        let (lr, b1, b2, eps, wd, t) = (1e-3f64, 0.9f64, 0.999f64, 1e-8f64, 0.01f64, 7);
        let (bc1, bc2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        for adamw in [false, true] {
            let step = AdamStep {
                lr: lr as f32,
                beta1: b1 as f32,
                beta2: b2 as f32,
                one_minus_beta1: (1.0 - b1) as f32,
                one_minus_beta2: (1.0 - b2) as f32,
                eps: eps as f32,
                bc1: bc1 as f32,
                bc2: bc2 as f32,
                l2: if adamw { 0.0 } else { wd as f32 },
                decay: if adamw { (1.0 - lr * wd) as f32 } else { 1.0 },
            };
            let (ft, fm, fv) = adam_step(theta.clone(), g.clone(), m.clone(), v.clone(), step)
                .expect("flex is the default device");
            let g2 = if adamw {
                g.clone()
            } else {
                g.clone() + theta.clone().mul_scalar(wd)
            };
            let em = m.clone().mul_scalar(b1) + g2.clone().mul_scalar(1.0 - b1);
            let ev = v.clone().mul_scalar(b2) + g2.square().mul_scalar(1.0 - b2);
            let denom = ev.clone().div_scalar(bc2).sqrt().add_scalar(eps);
            let t0 = if adamw {
                theta.clone().mul_scalar(1.0 - lr * wd)
            } else {
                theta.clone()
            };
            let et = t0 - em.clone().div_scalar(bc1).div(denom).mul_scalar(lr);
            for (name, a, b) in [
                ("theta", ft.clone(), et),
                ("m", fm.clone(), em),
                ("v", fv.clone(), ev),
            ] {
                let diff = (a - b).abs().max().into_scalar::<f32>();
                assert!(diff <= 1e-6, "adamw={adamw} {name}: max difference {diff}");
            }
        }
    }

    #[test]
    fn linear_decay_can_start_late() {
        let c = OptimConfig {
            lr: 2e-4,
            schedule: Schedule::Linear,
            decay_start: 100,
            ..OptimConfig::default()
        };
        assert_eq!(c.lr_at(0, 200), 2e-4);
        assert_eq!(c.lr_at(100, 200), 2e-4);
        assert!((c.lr_at(150, 200) - 1e-4).abs() < 1e-12);
        assert!(
            (c.lr_at(199, 200) - 2e-6).abs() < 1e-12,
            "1% left at the last step"
        );
    }

    #[test]
    fn cosine_schedule_decays_to_the_floor() {
        let c = OptimConfig {
            schedule: Schedule::Cosine,
            min_lr_ratio: 0.1,
            ..Default::default()
        };
        assert!((c.lr_at(0, 100) - 1e-3).abs() < 1e-9);
        assert!((c.lr_at(100, 100) - 1e-4).abs() < 1e-9);
    }

    #[test]
    fn warmup_ramps_linearly() {
        let c = OptimConfig {
            warmup_steps: 10,
            ..Default::default()
        };
        assert!((c.lr_at(4, 100) - 5e-4).abs() < 1e-12);
    }

    #[test]
    fn ema_decay_warms_up_to_its_value() {
        assert!((ema_decay_at(0.999, 1) - 2.0 / 11.0).abs() < 1e-12);
        // A short run (2,000 updates) averages about its last 220, not its initial weights.
        assert!((ema_decay_at(0.999, 2000) - 2001.0 / 2010.0).abs() < 1e-12);
        assert_eq!(ema_decay_at(0.999, 9000), 0.999);
        assert_eq!(ema_decay_at(0.5, 8), 0.5);
    }

    #[test]
    fn ema_after_one_step_blends_the_initial_and_updated_weights() {
        use burn::module::Module;
        let device = crate::device::training_device(0);
        let lin = burn::nn::LinearConfig::new(3, 2).init(&device);
        let mut before = NamedTensors::default();
        before.collect("model", &lin);
        let mut opt = Optimizers::new(
            &BTreeMap::from([(
                "model".to_string(),
                OptimConfig {
                    lr: 0.1,
                    ..Default::default()
                },
            )]),
            10,
        )
        .with_ema(0.75);
        let x = crate::tensor::matrix(vec![1.0, -2.0, 0.5], 1, 3, &device);
        let loss = lin.forward(x).sum();
        let lin = opt.step("model", 0, lin.clone(), &loss.backward());
        let mut after = NamedTensors::default();
        after.collect("model", &lin.valid());
        let ema = opt.ema_params().unwrap();
        for (name, (_, theta1)) in &after.0 {
            let theta0 = &before.0[name].1;
            let e = &ema.0[name].1;
            for i in 0..theta1.len() {
                // The first update's decay is the warm-up's 2/11, under 0.75.
                let d = (2.0 / 11.0) as f32;
                let want = d * theta0[i] + (1.0 - d) * theta1[i];
                assert!(
                    (e[i] - want).abs() < 1e-6,
                    "{name}[{i}]: ema {} vs {want}",
                    e[i]
                );
            }
        }
    }

    /// One step of `cfg` on y = sum(W x + b) from a seeded Linear(3, 2); returns (before, after)
    /// values of every parameter (the gradient of W[i, j] is x[i], of b[j] is 1).
    fn one_step(cfg: OptimConfig, steps: u64) -> (NamedTensors, NamedTensors) {
        use burn::module::Module;
        let device = crate::device::training_device(0);
        let mut lin = burn::nn::LinearConfig::new(3, 2).init(&device);
        let mut before = NamedTensors::default();
        before.collect("model", &lin);
        let mut opt = Optimizers::new(&BTreeMap::from([("model".to_string(), cfg)]), 10);
        for step in 0..steps {
            let x = crate::tensor::matrix(vec![1.0, -2.0, 0.5], 1, 3, &device);
            let loss = lin.forward(x).sum();
            lin = opt.step("model", step, lin.clone(), &loss.backward());
        }
        let mut after = NamedTensors::default();
        after.collect("model", &lin.valid());
        (before, after)
    }

    /// Run `steps` updates of `cfg` and check every parameter against `want(theta_0, g)`.
    fn assert_update(cfg: OptimConfig, steps: u64, tol: f32, want: impl Fn(f32, f32) -> f32) {
        let (before, after) = one_step(cfg, steps);
        for (name, (_, theta)) in &after.0 {
            for (i, v) in theta.iter().enumerate() {
                let w = want(before.0[name].1[i], grad_of(name, i));
                assert!((v - w).abs() < tol, "{name}[{i}]: {v} vs {w}");
            }
        }
    }

    fn grad_of(name: &str, i: usize) -> f32 {
        if name.ends_with("bias") {
            1.0
        } else {
            [1.0, -2.0, 0.5][i / 2]
        }
    }

    #[test]
    fn sgd_with_momentum_follows_the_pytorch_recurrence() {
        // buf_1 = g, buf_2 = mu g + g; theta_2 = theta_0 - lr (g + (mu + 1) g).
        let (lr, mu) = (0.1f32, 0.9f32);
        let cfg = OptimConfig {
            kind: OptimKind::Sgd,
            lr: lr as f64,
            momentum: mu as f64,
            ..Default::default()
        };
        assert_update(cfg, 2, 1e-5, |theta0, g| theta0 - lr * (g + (mu + 1.0) * g));
    }

    #[test]
    fn adamw_first_step_is_decay_then_a_unit_step() {
        // Bias-corrected first Adam step is lr * g / (|g| + eps) = lr * sign(g); AdamW first
        // shrinks theta by (1 - lr * wd).
        let (lr, wd) = (0.01f32, 0.1f32);
        let cfg = OptimConfig {
            kind: OptimKind::AdamW,
            lr: lr as f64,
            weight_decay: wd as f64,
            ..Default::default()
        };
        assert_update(cfg, 1, 1e-5, |theta0, g| {
            theta0 * (1.0 - lr * wd) - lr * g.signum()
        });
    }

    #[test]
    fn rmsprop_first_step_divides_by_the_root_mean_square() {
        // v_1 = (1 - alpha) g^2, so the step is lr * g / sqrt((1 - alpha) g^2) = lr sign(g) / sqrt(1 - alpha).
        let (lr, alpha) = (0.01f32, 0.99f32);
        let cfg = OptimConfig {
            kind: OptimKind::RmsProp,
            lr: lr as f64,
            alpha: alpha as f64,
            ..Default::default()
        };
        assert_update(cfg, 1, 1e-4, |theta0, g| {
            theta0 - lr * g.signum() / (1.0 - alpha).sqrt()
        });
    }

    #[test]
    fn clipping_scales_the_whole_group_to_the_norm_limit() {
        // Global norm of the gradients: sqrt(2 (1 + 4 + 0.25) + 2 * 1) = sqrt(12.5).
        let (lr, clip) = (0.1f32, 0.5f32);
        let cfg = OptimConfig {
            kind: OptimKind::Sgd,
            lr: lr as f64,
            clip_grad_norm: clip as f64,
            ..Default::default()
        };
        let scale = clip / 12.5f32.sqrt();
        assert_update(cfg, 1, 1e-5, |theta0, g| theta0 - lr * g * scale);
    }

    #[test]
    fn rejects_a_negative_learning_rate() {
        let c = OptimConfig {
            lr: -1.0,
            ..Default::default()
        };
        assert!(c
            .validate("model")
            .unwrap_err()
            .to_string()
            .contains("optim.model.lr"));
    }
}
