//! The masked autoencoder of MADE (Germain, Gregor, Murray & Larochelle 2015, "MADE: Masked
//! Autoencoder for Distribution Estimation", https://arxiv.org/abs/1502.03509), shared by the
//! `made` family (Bernoulli conditionals) and `maf` (Gaussian conditionals, Papamakarios et al.
//! 2017).
//!
//! Every unit gets a degree (section 4): input d has degree order[d] + 1 in 1..=D, a hidden unit
//! a random degree in [min degree of the layer below, D - 1]. A weight from unit a to hidden unit
//! b exists iff deg(b) >= deg(a); to an output iff deg(out) > deg(a) (eqs. 12-13). So output d
//! sees exactly the inputs before d in the ordering, and the network is a product of
//! conditionals p(x_d | x_<d).
//!
//! NOTE: degrees are drawn as in the authors' code (and Karpathy's pytorch-made): seed 0 with
//! the natural ordering uses the identity order; every other mask draws a fresh permutation.

use crate::Activation;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

/// `y = x (W ⊙ M) + b`; the mask is given at each call (MADE resamples it).
#[derive(Module, Debug)]
pub struct MaskedLinear {
    /// `[in, out]`
    pub weight: Param<Tensor<2>>,
    pub bias: Param<Tensor<1>>,
}

impl MaskedLinear {
    /// PyTorch's nn.Linear initialisation U(-1/sqrt(in), 1/sqrt(in)).
    pub fn new(d_in: usize, d_out: usize, device: &Device) -> Self {
        let bound = 1.0 / (d_in as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        Self {
            weight: init.init([d_in, d_out], device),
            bias: init.init([d_out], device),
        }
    }

    /// `x [b, in], mask [in, out] -> [b, out]`
    pub fn forward(&self, x: Tensor<2>, mask: Tensor<2>) -> Tensor<2> {
        x.matmul(self.weight.val() * mask) + self.bias.val().unsqueeze()
    }
}

/// One connectivity: the ordering and the 0/1 mask of every layer, row-major `[in, out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Masks {
    /// `order[d]` = position of input d in the autoregressive ordering (0 = first).
    pub order: Vec<usize>,
    pub layers: Vec<(usize, usize, Vec<f32>)>,
    /// The masks as tensors, per device they were asked on (see [`Masks::tensors`]).
    cache: TensorCache,
}

/// Tensors made once per device: a MAF of five 784-1024-1568 MADEs otherwise copied its 12M
/// mask entries into new tensors at every step (3% of the step, and fresh pages). burn compares
/// devices by hardware, so a device and its autodiff twin can compare equal: whether the device
/// is autodiff is part of the key too. A clone starts empty.
#[derive(Debug, Default)]
struct TensorCache(Mutex<Vec<(Device, bool, Vec<Tensor<2>>)>>);

impl Clone for TensorCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for TensorCache {
    fn eq(&self, _: &Self) -> bool {
        true // a cache of what the masks are
    }
}

impl Masks {
    /// Degrees and masks for `d` inputs, the given hidden sizes and `k` outputs per input.
    /// `natural`: mask 0 keeps the identity ordering.
    pub fn draw(d: usize, hidden: &[usize], k: usize, seed: u64, natural: bool) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut order: Vec<usize> = (0..d).collect();
        if !(natural && seed == 0) {
            order.shuffle(&mut rng);
        }
        Self::with_order(order, hidden, k, &mut rng)
    }

    /// Masks for a given ordering; hidden degrees drawn from `rng`.
    pub fn with_order(order: Vec<usize>, hidden: &[usize], k: usize, rng: &mut impl Rng) -> Self {
        let d = order.len();
        // Degrees in 1..=d: input i has degree order[i] + 1.
        let mut below: Vec<usize> = order.iter().map(|o| o + 1).collect();
        let mut layers = Vec::new();
        for &h in hidden {
            let lo = below
                .iter()
                .copied()
                .min()
                .unwrap_or(1)
                .min(d.saturating_sub(1).max(1));
            let hi = d.saturating_sub(1).max(lo);
            let deg: Vec<usize> = (0..h).map(|_| rng.random_range(lo..=hi)).collect();
            layers.push(connect(&below, &deg, |a, b| b >= a));
            below = deg;
        }
        // Output block j (of k) for input i has degree order[i] + 1; strictly greater.
        let out: Vec<usize> = (0..k).flat_map(|_| order.iter().map(|o| o + 1)).collect();
        layers.push(connect(&below, &out, |a, b| b > a));
        Self {
            order,
            layers,
            cache: TensorCache::default(),
        }
    }

    /// Input indices in sampling order.
    pub fn sampling_order(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.order.len()).collect();
        idx.sort_by_key(|&i| self.order[i]);
        idx
    }

    /// The masks of every layer as `[in, out]` tensors on `device`, made at the first call per
    /// device and shared after.
    pub fn tensors(&self, device: &Device) -> Vec<Tensor<2>> {
        let mut cache = self.cache.0.lock().unwrap_or_else(|e| e.into_inner());
        let autodiff = device.is_autodiff();
        if let Some((_, _, t)) = cache.iter().find(|(d, a, _)| d == device && *a == autodiff) {
            return t.clone();
        }
        let t: Vec<Tensor<2>> = self
            .layers
            .iter()
            .map(|(i, o, m)| Tensor::from_data(TensorData::new(m.clone(), [*i, *o]), device))
            .collect();
        cache.push((device.clone(), autodiff, t.clone()));
        t
    }
}

fn connect(
    below: &[usize],
    above: &[usize],
    keep: impl Fn(usize, usize) -> bool,
) -> (usize, usize, Vec<f32>) {
    let m = below
        .iter()
        .flat_map(|&a| above.iter().map(move |&b| (a, b)))
        .map(|(a, b)| keep(a, b) as u8 as f32)
        .collect();
    (below.len(), above.len(), m)
}

/// The masked MLP `d -> hidden.. -> k*d` (output block j holds parameter j of every input's
/// conditional), with an optional direct input-to-output connection (section 4.3).
#[derive(Module, Debug)]
pub struct MadeNet {
    pub layers: Vec<MaskedLinear>,
    #[module(skip)]
    pub activation: Activation,
}

impl MadeNet {
    pub fn new(
        d: usize,
        hidden: &[usize],
        k: usize,
        activation: Activation,
        device: &Device,
    ) -> Self {
        let sizes: Vec<usize> = std::iter::once(d)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(k * d))
            .collect();
        Self {
            layers: sizes
                .windows(2)
                .map(|w| MaskedLinear::new(w[0], w[1], device))
                .collect(),
            activation,
        }
    }

    /// `x [b, d] -> [b, k*d]` under one connectivity (`masks` from [`Masks::tensors`]).
    pub fn forward(&self, mut x: Tensor<2>, masks: &[Tensor<2>]) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, (layer, m)) in self.layers.iter().zip(masks).enumerate() {
            x = layer.forward(x, m.clone());
            if i < last {
                x = self.activation.apply(x);
            }
        }
        x
    }
}

/// A [`MadeNet`] evaluated incrementally while its inputs are drawn one by one in the
/// ordering (fast generation for MADE, in the spirit of Ramachandran et al. 2017): every unit is
/// computed once, as soon as the last input it sees is known, and passes its value on by a
/// rank-1 update of the next layer's pre-activations. Drawing all D inputs then costs one
/// forward pass instead of D.
///
/// A unit's *ready step* is the ordering position of the last input it sees (through the
/// masks), -1 for none: it is final once that input is known.
pub struct Incremental {
    activation: Activation,
    n: usize,
    /// Per layer: `(in, out, W ⊙ M [in, out])`.
    weights: Vec<(usize, usize, Vec<f32>)>,
    /// Per layer: pre-activations `[n, out]`, the bias plus every final source so far.
    pre: Vec<Vec<f32>>,
    /// Per hidden layer: its units grouped by ready step + 1.
    ready: Vec<Vec<Vec<usize>>>,
    order: Vec<usize>,
}

impl Incremental {
    /// For `n` inputs being drawn in `masks`' ordering; computes the units that see no input.
    pub fn new(net: &MadeNet, masks: &Masks, n: usize) -> Self {
        let d = masks.order.len();
        let weights: Vec<(usize, usize, Vec<f32>)> = net
            .layers
            .iter()
            .zip(&masks.layers)
            .map(|(layer, (i, o, m))| {
                let w = genlab_core::tensor::to_vec(layer.weight.val());
                (*i, *o, w.iter().zip(m).map(|(w, m)| w * m).collect())
            })
            .collect();
        let pre = net
            .layers
            .iter()
            .map(|l| {
                let b = genlab_core::tensor::to_vec(l.bias.val());
                (0..n).flat_map(|_| b.iter().copied()).collect()
            })
            .collect();
        // Ready steps, layer by layer: the latest source a unit is connected to.
        let mut below: Vec<isize> = masks.order.iter().map(|&o| o as isize).collect();
        let mut ready = Vec::new();
        for (i, o, m) in &masks.layers[..masks.layers.len() - 1] {
            let steps: Vec<isize> = (0..*o)
                .map(|u| {
                    (0..*i)
                        .filter(|&a| m[a * o + u] > 0.0)
                        .map(|a| below[a])
                        .max()
                        .unwrap_or(-1)
                })
                .collect();
            let mut groups = vec![Vec::new(); d + 1];
            for (u, &t) in steps.iter().enumerate() {
                groups[(t + 1) as usize].push(u);
            }
            ready.push(groups);
            below = steps;
        }
        let mut inc = Self {
            activation: net.activation,
            n,
            weights,
            pre,
            ready,
            order: masks.order.clone(),
        };
        inc.propagate(0);
        inc
    }

    /// Output pre-activations `[n, k * d]`; output j is final once every input before its own
    /// in the ordering has been [`observe`](Incremental::observe)d.
    pub fn outputs(&self) -> &[f32] {
        self.pre.last().expect("an output layer")
    }

    /// Input `dim` now holds `x[:, dim]` (`x [n, d]`): pass it on, and every unit it completes.
    pub fn observe(&mut self, x: &[f32], dim: usize) {
        let d = self.weights[0].0;
        let v: Vec<f32> = (0..self.n).map(|s| x[s * d + dim]).collect();
        self.add(0, dim, &v);
        self.propagate(self.order[dim] + 1);
    }

    /// `pre[layer][s, :] += v[s] * W[layer][unit, :]`.
    fn add(&mut self, layer: usize, unit: usize, v: &[f32]) {
        let (_, o, w) = &self.weights[layer];
        let row = &w[unit * o..(unit + 1) * o];
        for (s, &a) in v.iter().enumerate() {
            if a != 0.0 {
                let pre = &mut self.pre[layer][s * o..(s + 1) * o];
                pre.iter_mut().zip(row).for_each(|(p, w)| *p += a * w);
            }
        }
    }

    /// Activate the hidden units of ready group `group` (step + 1), layer by layer.
    fn propagate(&mut self, group: usize) {
        for l in 0..self.ready.len() {
            let o = self.weights[l].1;
            for u in self.ready[l][group].clone() {
                let a: Vec<f32> = (0..self.n)
                    .map(|s| self.activation.apply_scalar(self.pre[l][s * o + u]))
                    .collect();
                self.add(l + 1, u, &a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn mask_tensors_are_made_once_per_device_and_autodiff_kind() {
        // The cache keys by the device and by autodiff: a device and its autodiff twin compare
        // equal, and a tensor of the wrong kind would meet the other kind's weights.
        let masks = Masks::draw(5, &[8], 2, 3, false);
        let plain = Device::default();
        let ad = plain.clone().autodiff();
        for device in [&plain, &ad, &plain, &ad] {
            let t = masks.tensors(device);
            assert_eq!(t.len(), masks.layers.len());
            for (t, (i, o, m)) in t.iter().zip(&masks.layers) {
                assert_eq!(t.dims(), [*i, *o]);
                assert_eq!(t.device().is_autodiff(), device.is_autodiff());
                assert_eq!(t.to_data().try_to_vec::<f32>().unwrap(), *m);
            }
        }
        assert_eq!(
            masks.cache.0.lock().unwrap().len(),
            2,
            "one entry per kind of device"
        );
        assert!(
            masks.clone().cache.0.lock().unwrap().is_empty(),
            "a clone starts empty"
        );
    }

    #[test]
    fn output_d_depends_exactly_on_the_inputs_before_d() {
        // Causality golden: d out_i / d x_j == 0 exactly when order[j] >= order[i], for every
        // output block and several masks; and the first input in the ordering reaches the
        // output of the second (the network is not trivially disconnected).
        let device = Device::default().autodiff();
        let d = 7;
        for seed in 0..4 {
            let masks = Masks::draw(d, &[16, 16], 2, seed, true);
            let net = MadeNet::new(d, &[16, 16], 2, Activation::Relu, &device);
            let m = masks.tensors(&device);
            for out in 0..2 * d {
                let i = out % d;
                let x = Tensor::<2>::random([1, d], Distribution::Normal(0.0, 1.0), &device)
                    .require_grad();
                let y = net.forward(x.clone(), &m).slice([0..1, out..out + 1]).sum();
                let g: Vec<f32> = x
                    .grad(&y.backward())
                    .unwrap()
                    .into_data()
                    .try_to_vec()
                    .unwrap();
                for (j, v) in g.iter().enumerate() {
                    if masks.order[j] >= masks.order[i] {
                        assert_eq!(*v, 0.0, "seed {seed}: output {out} sees input {j}");
                    }
                }
            }
            let order = masks.sampling_order();
            // Reachability through the masks (a ReLU may be off for one x).
            let path = masks
                .layers
                .iter()
                .fold(None::<Vec<f32>>, |acc, (i, o, m)| {
                    let start = acc.unwrap_or_else(|| {
                        let mut v = vec![0.0; *i];
                        v[order[0]] = 1.0;
                        v
                    });
                    Some(
                        (0..*o)
                            .map(|b| (0..*i).map(|a| start[a] * m[a * o + b]).sum())
                            .collect(),
                    )
                });
            let reach = path.unwrap()[order[1]];
            assert!(
                reach > 0.0,
                "seed {seed}: no path from the first input to the second output"
            );
        }
    }
}
