//! `cyclegan`: unpaired image-to-image translation with cycle consistency (Zhu, Park, Isola &
//! Efros 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
//! Networks"). Two generators G: A -> B (`g_ab`) and F: B -> A (`g_ba`), two discriminators
//! D_B on domain B (`d_b`) and D_A on domain A (`d_a`); the data is two domains, as
//! `unpaired(7,9):fashion-mnist` (sneakers -> ankle boots) gives them. On a paired task
//! (`edges:fashion-mnist`) the inputs of each batch are shuffled before use, so the model never
//! sees a pair: the paper's setting for comparing with pix2pix's paired upper bound.
//!
//! Objective (eq. 3, with the least-squares game of §4 and the identity loss of §5.2):
//!   L = L_GAN(G, D_B) + L_GAN(F, D_A) + λ (|F(G(a)) - a|₁ + |G(F(b)) - b|₁)
//!       + λ_id λ (|G(b) - b|₁ + |F(a) - a|₁),        λ = 10, λ_id = 0.5
//! One minibatch per train step, in the reference code's order:
//!
//! 1. G and F together (D's weights held): descend (D_B(G(a)) - 1)² + (D_A(F(b)) - 1)² plus
//!    the cycle and identity terms (groups `g_ab`, `g_ba`);
//! 2. D_B and D_A, each on real images and on a generated image drawn from a history of 50
//!    (Shrivastava et al. 2017's image pool): ½ (D(real) - 1)² + ½ D(pooled fake)² (groups
//!    `d_b`, `d_a`).
//!
//! The learning rate stays at 2e-4 and then decays linearly to 0 (`schedule = "linear"` with
//! `decay_start`, half the run in the presets, as the paper's 100 + 100 epochs). The identity
//! term needs domains with the same channels; between grey and colour it is left out (say so
//! with `identity_weight = 0`). The pools are saved with the discriminators, so a resumed run
//! draws from the same history.

use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::device::module_for;
use genlab_core::tensor::{matrix, scalar, to_vec};
use genlab_core::{
    Batch, Capability, DataInfo, Family, Losses, Model, NamedTensors, Selection, StepCtx, Translate,
};
use genlab_data::{InputKind, Shape};
use genlab_nn::gan_loss::{discriminator_loss, GanLoss};
use genlab_nn::gan_nets::Output;
use genlab_nn::translation_nets::{PatchGan, ResnetGenerator};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const G_AB: &str = "g_ab";
const G_BA: &str = "g_ba";
const D_A: &str = "d_a";
const D_B: &str = "d_b";
const GROUPS: &[&str] = &[G_AB, G_BA, D_A, D_B];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleGanConfig {
    /// ResNet generator channels of its first layer (64 in the paper).
    pub g_width: usize,
    /// Residual blocks (6 for 128-pixel images in the paper, 9 for 256).
    pub blocks: usize,
    /// PatchGAN channels of its first layer (64).
    pub d_width: usize,
    /// PatchGAN depth: 1 gives 16x16 patches, 3 the paper's 70x70.
    pub d_layers: usize,
    /// λ, the weight of each cycle-consistency term (10).
    pub cycle_weight: f64,
    /// λ_id as a fraction of λ (0.5: identity terms weigh 5).
    pub identity_weight: f64,
    /// Generated images kept for the discriminators (50; 0 = the current batch only).
    pub pool_size: usize,
    /// The GAN game (`least_squares`, the paper's).
    pub loss: GanLoss,
}

impl Default for CycleGanConfig {
    fn default() -> Self {
        Self {
            g_width: 64,
            blocks: 6,
            d_width: 64,
            d_layers: 1,
            cycle_weight: 10.0,
            identity_weight: 0.5,
            pool_size: 50,
            loss: GanLoss::LeastSquares,
        }
    }
}

/// A history of generated images (Shrivastava et al. 2017): D sees, for each new image, with
/// probability ½ an older one in its place once the pool is full.
#[derive(Clone, Debug, Default)]
struct ImagePool {
    size: usize,
    images: Vec<Vec<f32>>,
}

impl ImagePool {
    /// `fake [b, d]` (detached) -> what D sees `[b, d]`; stores the new images.
    fn query(&mut self, fake: Tensor<2>, rng: &mut ChaCha8Rng) -> Tensor<2> {
        if self.size == 0 {
            return fake;
        }
        let [b, d] = fake.dims();
        let device = fake.device();
        let v = to_vec(fake);
        let mut out = Vec::with_capacity(b * d);
        for row in v.chunks_exact(d) {
            if self.images.len() < self.size {
                self.images.push(row.to_vec());
                out.extend_from_slice(row);
            } else if rng.random::<f64>() > 0.5 {
                let i = rng.random_range(0..self.size);
                out.extend_from_slice(&self.images[i]);
                self.images[i] = row.to_vec();
            } else {
                out.extend_from_slice(row);
            }
        }
        matrix(out, b, d, &device)
    }
}

pub struct CycleGan {
    cfg: CycleGanConfig,
    g_ab: ResnetGenerator,
    g_ba: ResnetGenerator,
    d_a: PatchGan,
    d_b: PatchGan,
    pool_a: ImagePool,
    pool_b: ImagePool,
    a: Shape,
    b: Shape,
    paired: bool,
    output: Output,
}

impl CycleGan {
    pub fn new(cfg: CycleGanConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        let Some(InputKind {
            shape: a, paired, ..
        }) = info.input
        else {
            bail!("cyclegan needs two domains: train it on `--data unpaired(7,9):fashion-mnist` (sneakers -> ankle boots), or on a paired task such as `edges:fashion-mnist` (its pairs are not used)");
        };
        let b = info.shape;
        if (a.h, a.w) != (b.h, b.w) {
            bail!(
                "cyclegan: domain A has {}x{} images and domain B {}x{}; both domains need one size (resize one with data.image_size)",
                a.h, a.w, b.h, b.w
            );
        }
        if !b.h.is_multiple_of(4) || !b.w.is_multiple_of(4) || b.h < 8 {
            bail!(
                "cyclegan: the ResNet generator halves the image twice: {}x{} is not a multiple of 4 of at least 8; resize with data.image_size (e.g. 32)",
                b.h, b.w
            );
        }
        if cfg.loss != GanLoss::LeastSquares {
            bail!("cyclegan: model.loss is least_squares, the paper's game (its generator terms are (D(G(a)) - 1)^2); other games are not implemented for it");
        }
        if cfg.g_width == 0 || cfg.d_width == 0 || cfg.d_layers == 0 {
            bail!("cyclegan: model.g_width, model.d_width and model.d_layers must be at least 1");
        }
        if !(cfg.cycle_weight >= 0.0 && cfg.identity_weight >= 0.0) {
            bail!("cyclegan: model.cycle_weight and model.identity_weight are weights >= 0");
        }
        if cfg.identity_weight > 0.0 && a.c != b.c {
            bail!(
                "cyclegan: the identity term compares an image with its translation, but domain A has {} channel(s) and B {}; set model.identity_weight = 0",
                a.c, b.c
            );
        }
        let none = Shape { c: 0, ..b };
        Ok(Self {
            g_ab: ResnetGenerator::new(a, b, cfg.g_width, cfg.blocks, device),
            g_ba: ResnetGenerator::new(b, a, cfg.g_width, cfg.blocks, device),
            d_a: PatchGan::new(none, a, cfg.d_width, cfg.d_layers, device),
            d_b: PatchGan::new(none, b, cfg.d_width, cfg.d_layers, device),
            pool_a: ImagePool {
                size: cfg.pool_size,
                ..ImagePool::default()
            },
            pool_b: ImagePool {
                size: cfg.pool_size,
                ..ImagePool::default()
            },
            a,
            b,
            paired,
            output: Output::for_data(info.kind, info.preprocess.scale),
            cfg,
        })
    }

    fn gen(&self, g: &ResnetGenerator, x: Tensor<2>) -> Tensor<2> {
        self.output.apply(g.forward(x))
    }
}

/// Mean squared distance of D's patch outputs from `target`.
fn mse_to(x: Tensor<2>, target: f64) -> Tensor<1> {
    x.sub_scalar(target).powi_scalar(2).mean().reshape([1])
}

fn l1(x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    (x - y).abs().mean().reshape([1])
}

impl Model for CycleGan {
    fn family(&self) -> &'static str {
        "cyclegan"
    }
    fn groups(&self) -> Vec<&'static str> {
        GROUPS.to_vec()
    }
    fn selection(&self) -> Selection {
        Selection::None
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let Some(mut a) = batch.input.clone() else {
            bail!("cyclegan got a batch without domain A: train it on `unpaired(A,B):SPEC` or an image-to-image task");
        };
        let b = batch.x.clone();
        if self.paired {
            a = super::unpair(a, &mut ctx.rng);
        }
        // 1. Both generators, through the discriminators (their gradients from this loss are
        //    computed and left unused: only g_ab and g_ba step on it).
        let fake_b = self.gen(&self.g_ab, a.clone());
        let fake_a = self.gen(&self.g_ba, b.clone());
        let rec_a = self.gen(&self.g_ba, fake_b.clone());
        let rec_b = self.gen(&self.g_ab, fake_a.clone());
        let adv_ab = mse_to(self.d_b.forward(None, fake_b.clone()), 1.0);
        let adv_ba = mse_to(self.d_a.forward(None, fake_a.clone()), 1.0);
        let lambda = self.cfg.cycle_weight;
        let cycle = (l1(rec_a, a.clone()) + l1(rec_b, b.clone())) * lambda;
        let mut g_loss = adv_ab.clone() + adv_ba.clone() + cycle.clone();
        let mut losses = Losses::default();
        let idw = lambda * self.cfg.identity_weight;
        let identity = if idw > 0.0 {
            let id = l1(self.gen(&self.g_ab, b.clone()), b.clone())
                + l1(self.gen(&self.g_ba, a.clone()), a.clone());
            g_loss = g_loss + id.clone() * idw;
            Some(scalar(id.clone()) * idw)
        } else {
            None
        };
        losses.push("g_loss", scalar(g_loss.clone()));
        losses.push("g_ab_adv", scalar(adv_ab.clone()));
        losses.push("g_ba_adv", scalar(adv_ba.clone()));
        losses.push("cycle", scalar(cycle.clone()));
        if let Some(id) = identity {
            losses.push("identity", id);
        }
        (self.g_ab, self.g_ba) = ctx.update_both(
            (G_AB, self.g_ab.clone()),
            (G_BA, self.g_ba.clone()),
            &g_loss,
        );
        // 2. Each discriminator on real images and on images from its pool.
        let pooled_b = self.pool_b.query(fake_b.detach(), &mut ctx.rng);
        let pooled_a = self.pool_a.query(fake_a.detach(), &mut ctx.rng);
        let loss = self.cfg.loss;
        let d_b_loss = discriminator_loss(
            loss,
            self.d_b.forward(None, b),
            self.d_b.forward(None, pooled_b),
            0.0,
        );
        let d_a_loss = discriminator_loss(
            loss,
            self.d_a.forward(None, a),
            self.d_a.forward(None, pooled_a),
            0.0,
        );
        losses.push("d_b_loss", scalar(d_b_loss.clone()));
        losses.push("d_a_loss", scalar(d_a_loss.clone()));
        self.d_b = ctx.update(D_B, self.d_b.clone(), &d_b_loss);
        self.d_a = ctx.update(D_A, self.d_a.clone(), &d_a_loss);
        Ok(losses)
    }

    fn save_params(&self) -> NamedTensors {
        let mut out = NamedTensors::of(G_AB, &self.g_ab);
        out.collect(G_BA, &self.g_ba);
        out.collect(D_A, &self.d_a);
        out.collect(D_B, &self.d_b);
        for (group, pool, d) in [
            (D_A, &self.pool_a, self.a.dim()),
            (D_B, &self.pool_b, self.b.dim()),
        ] {
            if !pool.images.is_empty() {
                out.insert(
                    format!("{group}/pool"),
                    vec![pool.images.len(), d],
                    pool.images.concat(),
                );
            }
        }
        out
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.g_ab = params.restore(G_AB, self.g_ab.clone())?;
        self.g_ba = params.restore(G_BA, self.g_ba.clone())?;
        self.d_a = params.restore(D_A, self.d_a.clone())?;
        self.d_b = params.restore(D_B, self.d_b.clone())?;
        for (group, pool, d) in [
            (D_A, &mut self.pool_a, self.a.dim()),
            (D_B, &mut self.pool_b, self.b.dim()),
        ] {
            pool.images = match params.0.get(&format!("{group}/pool")) {
                Some((_, v)) => v.chunks_exact(d).map(<[f32]>::to_vec).collect(),
                None => Vec::new(),
            };
        }
        Ok(())
    }

    fn as_translate(&self) -> Option<&dyn Translate> {
        Some(self)
    }
}

impl Translate for CycleGan {
    fn input_shape(&self) -> Shape {
        self.a
    }
    /// G(a), A -> B.
    fn translate(&self, input: Tensor<2>, _rng: &mut ChaCha8Rng) -> Result<Tensor<2>> {
        let g = module_for(&self.g_ab, &input.device());
        Ok(self.gen(&g, input))
    }
    /// F(b), B -> A.
    fn translate_back(
        &self,
        output: Tensor<2>,
        _rng: &mut ChaCha8Rng,
    ) -> Option<Result<Tensor<2>>> {
        let f = module_for(&self.g_ba, &output.device());
        Some(Ok(self.gen(&f, output)))
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(CycleGanConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    Ok(Box::new(CycleGan::new(
        parse_section("model", model)?,
        info,
        device,
    )?))
}

pub const FAMILY: Family = Family {
    name: "cyclegan",
    summary: "unpaired translation: two ResNet generators, two PatchGANs, cycle consistency x 10",
    paper: "Zhu et al. 2017",
    groups: GROUPS,
    capabilities: &[Capability::Translate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/cyclegan/default.toml"),
        ),
        (
            "edges",
            include_str!("../../../../configs/cyclegan/edges.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/cyclegan/tiny.toml"),
        ),
    ],
    default_model,
    build,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::info;
    use genlab_core::optim::Optimizers;
    use rand::SeedableRng;

    #[test]
    fn the_pool_returns_new_images_until_full_then_mixes_in_old_ones() {
        let device = Device::default();
        let mut pool = ImagePool {
            size: 4,
            ..ImagePool::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let batch = |v: f32| matrix(vec![v; 8], 4, 2, &device);
        assert_eq!(to_vec(pool.query(batch(1.0), &mut rng)), vec![1.0; 8]);
        let out = to_vec(pool.query(batch(2.0), &mut rng));
        let old = out.iter().filter(|&&v| v == 1.0).count();
        assert!(old > 0 && old < 8, "about half old images: {out:?}");
        assert_eq!(pool.images.len(), 4);
    }

    #[test]
    fn a_step_updates_all_four_networks_and_the_pools_survive_a_checkpoint() {
        let device = genlab_core::device::training_device(1);
        let s = Shape { c: 1, h: 8, w: 8 };
        let mut info = info(genlab_data::Kind::Images, s);
        info.input = Some(InputKind {
            shape: s,
            paired: true,
            hole: None,
        });
        let cfg = CycleGanConfig {
            g_width: 2,
            blocks: 1,
            d_width: 2,
            pool_size: 3,
            ..CycleGanConfig::default()
        };
        let mut model = CycleGan::new(cfg.clone(), &info, &device).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut batch = Batch::of(genlab_core::tensor::uniform([4, 64], &mut rng, &device));
        batch.input = Some(genlab_core::tensor::uniform([4, 64], &mut rng, &device));
        let groups = GROUPS.iter().map(|g| (g.to_string(), Default::default()));
        let mut optim = Optimizers::new(&groups.collect(), 1);
        let before = model.save_params();
        let mut ctx = StepCtx::new(0, 1, 0, device.clone(), &mut optim);
        let losses = model.train_step(&batch, &mut ctx).unwrap();
        assert!(losses.non_finite().is_none(), "{losses:?}");
        let after = model.save_params();
        for g in GROUPS {
            assert_ne!(before.group(g).0, after.group(g).0, "{g} did not move");
        }
        assert_eq!(model.pool_a.images.len(), 3);
        let mut loaded = CycleGan::new(cfg, &info, &device).unwrap();
        loaded.load_params(&after).unwrap();
        assert_eq!(loaded.pool_b.images, model.pool_b.images);
        // Grey to colour has no identity term: refused unless it is off.
        info.input = Some(InputKind {
            shape: Shape { c: 3, ..s },
            paired: false,
            hole: None,
        });
        let err = CycleGan::new(CycleGanConfig::default(), &info, &device)
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("model.identity_weight = 0"),
            "{err}"
        );
    }
}
