//! `nade`: the neural autoregressive distribution estimator (Larochelle & Murray, AISTATS 2011,
//! "The Neural Autoregressive Distribution Estimator"), on binary data, raster order.
//!
//!   a_1 = c,   a_{d+1} = a_d + W[:, d] x_d          (eq. 4: weights shared across d)
//!   h_d = sigmoid(a_d)
//!   p(x_d = 1 | x_<d) = sigmoid(b_d + V[d, :] · h_d)
//!   log p(x) = sum_d log Bernoulli(x_d | p(x_d = 1 | x_<d))   (exact)
//!
//! Training runs the recursion and its gradient by hand, O(DH) per example (the paper's
//! section 3), on the host, examples in parallel:
//!   forward   for d = 1..D: h_d = sigmoid(a_d); p_d = sigmoid(b_d + V_d · h_d);
//!                           a_{d+1} = a_d + x_d W_d
//!   backward  δa = 0; for d = D..1:
//!               g = p_d - x_d;  δb_d += g;  δV_d += g h_d;  δW_d += x_d δa;
//!               δa += g V_d ⊙ h_d ⊙ (1 - h_d)
//!             δc += δa
//! and hands the gradient to the optimizer of group `model`. Sampling and completion run the
//! same recursion: one O(H) update per pixel, so a sample costs one network pass in total.
//! Evaluation uses the tensor form (an exclusive cumulative sum over d of x_d W_d, `[b, D, H]`),
//! and a golden test checks the hand gradient against autodiff of it.
//!
//! NOTE: by hand because autodiff of the tensor form materialises `[b, D, H]` several times:
//! 1.4 s per batch of 100 at H = 500 (measured), where the loop needs one `[D, H]` buffer per
//! thread.
//!
//! NOTE: the paper trained by SGD with early stopping; the presets use Adam lr 1e-3.

use anyhow::{bail, Result};
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::model::held_out_nll;
use genlab_core::tensor::{matrix, to_vec};
use genlab_core::Capability;
use genlab_core::{
    Batch, Bound, Complete, DataInfo, Draw, Family, Likelihood, Losses, Model, NamedTensors,
    Sample, StepCtx,
};
use genlab_data::Kind;
use genlab_kernels::lanes::dot;
use genlab_kernels::vexp;
use genlab_nn::loss::bernoulli_log_prob;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NadeConfig {
    /// H, the paper's 500 for MNIST.
    pub hidden: usize,
}

impl Default for NadeConfig {
    fn default() -> Self {
        Self { hidden: 500 }
    }
}

#[derive(Module, Debug)]
pub struct NadeNet {
    /// `[D, H]`: row d is W[:, d] of the paper.
    pub w: Param<Tensor<2>>,
    /// `[H]`
    pub c: Param<Tensor<1>>,
    /// `[D, H]`
    pub v: Param<Tensor<2>>,
    /// `[D]`
    pub b: Param<Tensor<1>>,
}

impl NadeNet {
    pub fn new(d: usize, h: usize, device: &Device) -> Self {
        let init = |fan_in: usize| Initializer::Uniform {
            min: -1.0 / (fan_in as f64).sqrt(),
            max: 1.0 / (fan_in as f64).sqrt(),
        };
        Self {
            w: init(d).init([d, h], device),
            c: Initializer::Zeros.init([h], device),
            v: init(h).init([d, h], device),
            b: Initializer::Zeros.init([d], device),
        }
    }

    /// The logits of every conditional: `x [b, D] -> [b, D]`.
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, d] = x.dims();
        let h = self.c.dims()[0];
        let w = self.w.val().unsqueeze_dim::<3>(0); //                  [1, D, H]
        let terms = x.unsqueeze_dim::<3>(2).expand([b, d, h]) * w; // [b, D, H]  x_d W[:, d]
        let a = terms.clone().cumsum(1) - terms; //                     [b, D, H]  sum_{j<d}
        let hid = sigmoid(a + self.c.val().unsqueeze_dim::<2>(0).unsqueeze_dim::<3>(0));
        let out = (hid * self.v.val().unsqueeze_dim::<3>(0)).sum_dim(2); // [b, D, 1]
        out.reshape([b, d]) + self.b.val().unsqueeze_dim::<2>(0)
    }
}

pub struct Nade {
    pub config: NadeConfig,
    pub net: NadeNet,
}

impl Nade {
    pub fn new(config: NadeConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        if info.kind != Kind::Images || !info.preprocess.is_binary() {
            bail!("nade models binary pixels; set data.binarize = \"dynamic\" (or \"static\") on an image dataset");
        }
        if config.hidden == 0 {
            bail!("model.hidden must be at least 1");
        }
        Ok(Self {
            net: NadeNet::new(info.shape.dim(), config.hidden, device),
            config,
        })
    }

    /// The recursion of eq. 4 on the host, one pixel at a time: draws unknown pixels, keeps
    /// known ones. Returns the picture (see `genlab_nn::autoregressive::bernoulli_fill`).
    fn fill(
        &self,
        x: &mut [f32],
        n: usize,
        known: Option<&[f32]>,
        rng: &mut ChaCha8Rng,
    ) -> Vec<f32> {
        let Host { w, c, v, b } = Host::of(&self.net);
        let h = c.len();
        let d = b.len();
        let mut picture = x.to_vec();
        let mut hid = vec![0f32; h];
        vexp::wide(|| {
            for r in 0..n {
                let mut a = c.clone(); // a_1 = c
                for dim in 0..d {
                    let i = r * d + dim;
                    if !known.is_some_and(|k| k[i] > 0.5) {
                        hid.iter_mut().zip(&a).for_each(|(s, a)| *s = sigmoid1(*a));
                        let row = &v[dim * h..(dim + 1) * h];
                        let logit = b[dim] + dot(row, &hid);
                        let p = sigmoid1(logit);
                        x[i] = (rng.random::<f32>() < p) as u8 as f32;
                        picture[i] = p;
                    }
                    if x[i] != 0.0 {
                        let col = &w[dim * h..(dim + 1) * h];
                        a.iter_mut().zip(col).for_each(|(a, w)| *a += w * x[i]);
                    }
                }
            }
        });
        picture
    }
}

/// The parameters on the host, row-major: `w`, `v` `[D, H]`, `c` `[H]`, `b` `[D]`.
struct Host {
    w: Vec<f32>,
    c: Vec<f32>,
    v: Vec<f32>,
    b: Vec<f32>,
}

/// The logistic sigmoid in the branch-free form that vectorises (libm's `expf` took 28% of a
/// step); the training pass and the sampler both use it, so they give the same conditionals.
#[inline(always)]
fn sigmoid1(a: f32) -> f32 {
    vexp::sigmoid(a)
}

/// log(1 + e^l) without overflow.
fn softplus1(l: f32) -> f32 {
    l.max(0.0) + (-l.abs()).exp().ln_1p()
}

impl Host {
    fn of(net: &NadeNet) -> Self {
        let net = net.valid();
        Self {
            w: to_vec(net.w.val()),
            c: to_vec(net.c.val()),
            v: to_vec(net.v.val()),
            b: to_vec(net.b.val()),
        }
    }

    fn zeros_like(&self) -> Self {
        Self {
            w: vec![0.0; self.w.len()],
            c: vec![0.0; self.c.len()],
            v: vec![0.0; self.v.len()],
            b: vec![0.0; self.b.len()],
        }
    }

    fn add(mut self, other: Self) -> Self {
        for (a, b) in [
            (&mut self.w, &other.w),
            (&mut self.c, &other.c),
            (&mut self.v, &other.v),
            (&mut self.b, &other.b),
        ] {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        }
        self
    }

    /// Mean NLL of the batch `x [n, D]` and its gradient (the module comment's loops, per
    /// example; examples in parallel, each thread with its own `[D, H]` buffer of h_d).
    fn nll_and_gradient(&self, x: &[f32], n: usize) -> (f64, Host) {
        use rayon::prelude::*;
        let (d, h) = (self.b.len(), self.c.len());
        let (nll, mut grad) = x
            .par_chunks(d)
            .fold(
                || (0f64, self.zeros_like(), vec![0f32; d * h], vec![0f32; d]),
                |(mut nll, mut g, mut hs, mut p), x| {
                    vexp::wide(|| {
                        // Forward: h_d and p_d for every d, and the NLL.
                        let mut a = self.c.clone();
                        for dim in 0..d {
                            let row = dim * h..(dim + 1) * h;
                            let hd = &mut hs[row.clone()];
                            hd.iter_mut().zip(&a).for_each(|(s, a)| *s = sigmoid1(*a));
                            let vd = &self.v[row.clone()];
                            let logit = self.b[dim] + dot(vd, hd);
                            p[dim] = sigmoid1(logit);
                            nll += (softplus1(logit) - x[dim] * logit) as f64;
                            if x[dim] != 0.0 {
                                let wd = &self.w[row];
                                a.iter_mut().zip(wd).for_each(|(a, w)| *a += x[dim] * w);
                            }
                        }
                        // Backward: δa holds dL/da_{d+1} on entering step d.
                        let mut da = vec![0f32; h];
                        for dim in (0..d).rev() {
                            let gd = p[dim] - x[dim];
                            let row = dim * h..(dim + 1) * h;
                            let hd = &hs[row.clone()];
                            g.b[dim] += gd;
                            let dv = &mut g.v[row.clone()];
                            dv.iter_mut().zip(hd).for_each(|(dv, s)| *dv += gd * s);
                            if x[dim] != 0.0 {
                                let dw = &mut g.w[row.clone()];
                                dw.iter_mut().zip(&da).for_each(|(dw, a)| *dw += x[dim] * a);
                            }
                            let vd = &self.v[row];
                            da.iter_mut()
                                .zip(vd.iter().zip(hd))
                                .for_each(|(a, (v, s))| *a += gd * v * s * (1.0 - s));
                        }
                        g.c.iter_mut().zip(&da).for_each(|(c, a)| *c += a);
                        (nll, g, hs, p)
                    })
                },
            )
            .map(|(nll, g, _, _)| (nll, g))
            .reduce(
                || (0.0, self.zeros_like()),
                |(l1, g1), (l2, g2)| (l1 + l2, g1.add(g2)),
            );
        let scale = 1.0 / n as f32;
        for t in [&mut grad.w, &mut grad.c, &mut grad.v, &mut grad.b] {
            t.iter_mut().for_each(|v| *v *= scale);
        }
        (nll / n as f64, grad)
    }
}

impl Model for Nade {
    fn family(&self) -> &'static str {
        "nade"
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
        let n = batch.x.dims()[0];
        let (nll, g) = Host::of(&self.net).nll_and_gradient(&to_vec(batch.x.clone()), n);
        let tensor = |v: Vec<f32>| Tensor::<1>::from_floats(v.as_slice(), &ctx.device);
        let grads = BTreeMap::from([
            ("w".to_string(), tensor(g.w)),
            ("c".to_string(), tensor(g.c)),
            ("v".to_string(), tensor(g.v)),
            ("b".to_string(), tensor(g.b)),
        ]);
        self.net = ctx.apply("model", self.net.clone(), &grads);
        Ok(Losses::of(&[("nll", nll)]))
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

impl Nade {
    /// [`Nade::fill`] as a tensor of the bits drawn or of their probabilities.
    fn fill_as(
        &self,
        mut x: Vec<f32>,
        n: usize,
        known: Option<&[f32]>,
        draw: Draw,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Tensor<2> {
        let d = self.net.b.dims()[0];
        let picture = self.fill(&mut x, n, known, rng);
        match draw {
            Draw::Bits => matrix(x, n, d, device),
            _ => matrix(picture, n, d, device),
        }
    }
}

impl Sample for Nade {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let d = self.net.b.dims()[0];
        Ok(self.fill_as(vec![0.0; n * d], n, None, Draw::Probabilities, rng, device))
    }
    fn sample_bits(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let d = self.net.b.dims()[0];
        Ok(self.fill_as(vec![0.0; n * d], n, None, Draw::Bits, rng, device))
    }
}

impl Complete for Nade {
    fn complete(&self, x: Tensor<2>, known: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let (n, device) = (x.dims()[0], x.device());
        let known = to_vec(known);
        Ok(self.fill_as(
            to_vec(x),
            n,
            Some(&known),
            Draw::Probabilities,
            rng,
            &device,
        ))
    }
    fn complete_bits(
        &self,
        x: Tensor<2>,
        known: Tensor<2>,
        rng: &mut ChaCha8Rng,
    ) -> Result<Tensor<2>> {
        let (n, device) = (x.dims()[0], x.device());
        let known = to_vec(known);
        Ok(self.fill_as(to_vec(x), n, Some(&known), Draw::Bits, rng, &device))
    }
}

impl Likelihood for Nade {
    fn log_likelihood(&self, x: Tensor<2>, _k: usize, _rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let net = genlab_core::device::module_for(&self.net, &x.device());
        let log_p = bernoulli_log_prob(net.logits(x.clone()), x);
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
    toml::Table::try_from(NadeConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(Nade::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "nade",
    summary: "neural autoregressive density estimator: shared-weight recursion, exact likelihood",
    paper: "Larochelle & Murray 2011",
    groups: &["model"],
    capabilities: &[
        Capability::Sample,
        Capability::Likelihood,
        Capability::Complete,
    ],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/nade/default.toml"),
        ),
        ("tiny", include_str!("../../../../configs/nade/tiny.toml")),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use genlab_core::tensor::scalar;

    #[test]
    fn conditional_d_depends_only_on_earlier_pixels() {
        // Causality golden: d logit_i / d x_j == 0 exactly for j >= i, nonzero for j = i - 1.
        let device = Device::default().autodiff();
        let (d, h) = (9, 6);
        let net = NadeNet::new(d, h, &device);
        for i in [0, 4, 8] {
            let x = Tensor::<2>::random([1, d], Distribution::Uniform(0.0, 1.0), &device)
                .require_grad();
            let y = net.logits(x.clone()).slice([0..1, i..i + 1]).sum();
            let g: Vec<f32> = x
                .grad(&y.backward())
                .unwrap()
                .into_data()
                .try_to_vec()
                .unwrap();
            for (j, v) in g.iter().enumerate().skip(i) {
                assert_eq!(*v, 0.0, "logit {i} sees x_{j}");
            }
            if i > 0 {
                assert_ne!(g[i - 1], 0.0, "logit {i} must see x_{}", i - 1);
            }
        }
    }

    #[test]
    fn the_sampling_recursion_gives_the_training_conditionals() {
        // Completion with every pixel known runs the O(H)-per-pixel recursion without drawing;
        // with all but the last known, the picture's last value is p(x_D = 1 | x_<D), which
        // must equal sigmoid(logits) of the batched cumsum form.
        let info = DataInfo {
            kind: Kind::Images,
            shape: genlab_data::Shape { c: 1, h: 3, w: 4 },
            classes: 1,
            preprocess: genlab_data::Preprocess {
                binarize: genlab_data::Binarize::Static,
                scale: genlab_data::Scale::Unit,
                dequantize: false,
            },
            modes: None,
            standardization: None,
            input: None,
        };
        let device = Device::default();
        let nade = Nade::new(NadeConfig { hidden: 5 }, &info, &device).unwrap();
        let x: Vec<f32> = (0..24).map(|i| ((i * 7) % 3 == 0) as u8 as f32).collect();
        let mut known = vec![1.0; 24];
        known[11] = 0.0;
        known[23] = 0.0;
        let mut rng = genlab_core::rng::rng_for(0, 0, genlab_core::rng::Stream::Eval);
        let got = to_vec(
            nade.complete(
                matrix(x.clone(), 2, 12, &device),
                matrix(known, 2, 12, &device),
                &mut rng,
            )
            .unwrap(),
        );
        let want = to_vec(sigmoid(nade.net.logits(matrix(x, 2, 12, &device))));
        for i in [11, 23] {
            assert!(
                (got[i] - want[i]).abs() < 1e-5,
                "pixel {i}: {} vs {}",
                got[i],
                want[i]
            );
        }
    }

    #[test]
    fn the_hand_gradient_equals_autodiff_of_the_tensor_form() {
        let device = Device::default().autodiff();
        let (n, d, h) = (3, 10, 7);
        let net = NadeNet::new(d, h, &device);
        // Nonzero biases so that every term is exercised.
        let normal = |len: usize| {
            Param::from_tensor(Tensor::random(
                [len],
                Distribution::Normal(0.0, 0.5),
                &device,
            ))
        };
        let net = NadeNet {
            c: normal(h),
            b: normal(d),
            ..net
        };
        let x: Vec<f32> = (0..n * d)
            .map(|i| ((i * 5 + 1) % 3 == 0) as u8 as f32)
            .collect();
        let xt = matrix(x.clone(), n, d, &device);
        let loss = bernoulli_log_prob(net.logits(xt.clone()), xt).mean().neg();
        let grads = loss.backward();
        let (nll, hand) = Host::of(&net).nll_and_gradient(&x, n);
        assert!((nll - scalar(loss)).abs() < 1e-4, "nll {nll}");
        let flat =
            |t: Option<Tensor<2>>| -> Vec<f32> { t.unwrap().into_data().try_to_vec().unwrap() };
        let flat1 =
            |t: Option<Tensor<1>>| -> Vec<f32> { t.unwrap().into_data().try_to_vec().unwrap() };
        for (name, auto, hand) in [
            ("w", flat(net.w.val().grad(&grads)), hand.w),
            ("v", flat(net.v.val().grad(&grads)), hand.v),
            ("c", flat1(net.c.val().grad(&grads)), hand.c),
            ("b", flat1(net.b.val().grad(&grads)), hand.b),
        ] {
            assert_eq!(auto.len(), hand.len());
            for (a, b) in auto.iter().zip(&hand) {
                assert!((a - b).abs() < 1e-5, "{name}: autodiff {a} vs hand {b}");
            }
        }
    }
}
