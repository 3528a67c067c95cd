//! `wgan-gp`: Wasserstein GAN with gradient penalty (Gulrajani et al. 2017, "Improved Training
//! of Wasserstein GANs", Algorithm 1). Per critic update, with eps ~ U[0, 1] per example:
//!   x_hat = eps x + (1 - eps) G(z)
//!   L = D(G(z)) - D(x) + lambda (|grad_x D(x_hat)|_2 - 1)²        (lambda = `model.gp_weight`)
//! and every `d_steps`-th (n_critic = 5) step the generator descends -D(G(z)). Adam lr 1e-4,
//! beta1 0, beta2 0.9 in the paper.
//!
//! The penalty needs the gradient of a gradient, which burn's first-order autodiff cannot take:
//! `Discriminator::input_gradient` writes grad_x D as an explicit backward pass of forward ops,
//! so that the ordinary backward of L reaches the critic's weights through it (golden tests
//! against finite differences and against autodiff in `genlab_nn::gan_nets`).
//! The critic has no batch norm (§4: it would make each example's gradient depend on the batch);
//! with `model.batch_norm` on, only G uses it.

use super::kit::{self, GanConfig, DISC, GEN, GROUPS};
use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_split;
use genlab_core::tensor::{normal, uniform};
use genlab_core::Capability;
use genlab_core::{
    Adversarial, Batch, DataInfo, Family, LatentDecode, Losses, Model, NamedTensors, Sample,
    Selection, StepCtx,
};
use genlab_nn::gan_loss::GanLoss;
use genlab_nn::gan_nets::{Discriminator, Generator, Output};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WganGpConfig {
    /// lambda, the weight of the gradient penalty (10 in the paper).
    pub gp_weight: f64,
}

impl Default for WganGpConfig {
    fn default() -> Self {
        Self { gp_weight: 10.0 }
    }
}

pub struct WganGp {
    cfg: GanConfig,
    gp_weight: f64,
    gen: Generator,
    critic: Discriminator,
    output: Output,
}

impl WganGp {
    pub fn new(
        own: WganGpConfig,
        cfg: GanConfig,
        info: &DataInfo,
        device: &Device,
    ) -> Result<Self> {
        let body = kit::check(
            "wgan-gp",
            &cfg,
            info,
            kit::Uses {
                penalty: true,
                ..Default::default()
            },
        )?;
        if cfg.loss != GanLoss::Wasserstein {
            bail!("wgan-gp: model.loss is wasserstein by definition");
        }
        if cfg.clip > 0.0 {
            bail!("wgan-gp: the gradient penalty replaces weight clipping; set model.clip = 0 (or train `wgan` for clipping)");
        }
        if cfg.minibatch_std {
            bail!("wgan-gp: model.minibatch_std couples the examples of a batch, so the per-example gradient penalty is not defined with it; set it to false");
        }
        if !(own.gp_weight > 0.0 && own.gp_weight.is_finite()) {
            bail!(
                "wgan-gp: model.gp_weight = {} must be positive (10 in the paper)",
                own.gp_weight
            );
        }
        let critic_cfg = GanConfig {
            batch_norm: false,
            ..cfg.clone()
        };
        Ok(Self {
            gen: kit::generator(&cfg, body, info, 0, device),
            critic: kit::discriminator(&critic_cfg, body, info, (0, false), 1, device),
            output: kit::output(info),
            gp_weight: own.gp_weight,
            cfg,
        })
    }

    fn generate(&self, z: Tensor<2>) -> Tensor<2> {
        self.output.apply(self.gen.forward(z))
    }
}

impl Model for WganGp {
    fn family(&self) -> &'static str {
        "wgan-gp"
    }
    /// The critic's values and their gradient norms are unbounded scores.
    fn unbounded_terms(&self) -> &'static [&'static str] {
        &["d_loss", "g_loss", "wasserstein", "grad_norm"]
    }
    fn groups(&self) -> Vec<&'static str> {
        GROUPS.to_vec()
    }
    fn selection(&self) -> Selection {
        // A low discriminator loss marks a strong critic, not a good generator.
        Selection::None
    }

    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let d_steps = self.cfg.d_steps;
        kit::schedule(self, d_steps, batch, ctx)
    }

    fn save_params(&self) -> NamedTensors {
        kit::save_pair(&self.gen, &self.critic)
    }

    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        kit::load_pair(&mut self.gen, &mut self.critic, params)
    }

    fn as_sample(&self) -> Option<&dyn Sample> {
        Some(self)
    }
    fn as_latent(&self) -> Option<&dyn LatentDecode> {
        Some(self)
    }
    fn as_adversarial(&mut self) -> Option<&mut dyn Adversarial> {
        Some(self)
    }
}

impl Adversarial for WganGp {
    /// Critic: D(G(z)) - D(x) + lambda (|grad D(x_hat)| - 1)^2 (Algorithm 1, lines 4-9).
    fn step_disc(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let x = batch.x.clone(); // [b, d]
        let [b, _] = x.dims();
        let device = x.device();
        self.critic.power_iteration();
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &device);
        let fake = self.generate(z).detach();
        let eps = uniform([b, 1], &mut ctx.rng, &device); // [b, 1]
        let x_hat = x.clone() * eps.clone() + fake.clone() * eps.neg().add_scalar(1.0);
        let grad = self.critic.input_gradient(x_hat); // [b, d]
        let grad_norm = grad.powi_scalar(2).sum_dim(1).add_scalar(1e-12).sqrt(); // [b, 1]
        let penalty = grad_norm.clone().sub_scalar(1.0).powi_scalar(2).mean();
        let real = self.critic.forward(x, None).mean();
        let fake_score = self.critic.forward(fake, None).mean();
        let distance = (real.clone() - fake_score.clone()).into_scalar::<f32>() as f64;
        let gp_value = penalty.clone().into_scalar::<f32>() as f64;
        let mean_norm = grad_norm.mean().into_scalar::<f32>() as f64;
        let g_value = fake_score.clone().neg().into_scalar::<f32>() as f64;
        let d_loss = fake_score - real + penalty.mul_scalar(self.gp_weight);
        let d_value = d_loss.clone().into_scalar::<f32>() as f64;
        self.critic = ctx.update(DISC, self.critic.clone(), &d_loss);
        Ok(Losses::of(&[
            ("d_loss", d_value),
            ("g_loss", g_value),
            ("wasserstein", distance),
            ("gradient_penalty", gp_value),
            ("grad_norm", mean_norm),
        ]))
    }

    /// Generator: -D(G(z)) through the frozen critic (lines 11-12).
    fn step_gen(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let [b, _] = batch.x.dims();
        let z = normal([b, self.cfg.latent_dim], &mut ctx.rng, &batch.x.device());
        let g_loss = kit::frozen(&self.critic)
            .forward(self.generate(z), None)
            .mean()
            .neg();
        let g_value = g_loss.clone().into_scalar::<f32>() as f64;
        self.gen = ctx.update(GEN, self.gen.clone(), &g_loss);
        Ok(Losses::of(&[("g_loss", g_value)]))
    }

    fn noise_dim(&self) -> usize {
        self.cfg.latent_dim
    }

    fn generate(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        self.decode(z)
    }

    fn critic(&self, x: Tensor<2>) -> Result<Vec<f32>> {
        let logit = kit::frozen(&self.critic).forward(x, None);
        Ok(kit::critic_values(GanLoss::Wasserstein, logit))
    }

    fn generator_gradient(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let critic = kit::frozen(&self.critic);
        kit::generator_gradient(GanLoss::Wasserstein, self.decode(z)?, |x| {
            critic.forward(x, None)
        })
    }

    fn games(&self) -> Vec<&'static str> {
        kit::games(&self.cfg, true)
    }

    fn set_game(&mut self, game: &str) -> Result<()> {
        kit::pick_game("wgan-gp", &self.games(), game).map(|_| ())
    }
}

impl Sample for WganGp {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        self.decode(self.prior_sample(n, rng, device)?)
    }
}

impl LatentDecode for WganGp {
    fn latent_dim(&self) -> usize {
        self.cfg.latent_dim
    }
    fn encode(&self, _x: Tensor<2>) -> Result<Tensor<2>> {
        bail!("wgan-gp has no encoder: find a latent code for an image with `genlab invert RUN IMAGE.png`, or interpolate between random codes with `genlab interpolate RUN --random`")
    }
    fn decode(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        let gen = genlab_core::device::module_for(&self.gen, &z.device());
        Ok(self.output.apply(gen.forward(z)))
    }
}

fn default_model() -> toml::Table {
    let mut t = toml::Table::try_from(GanConfig {
        arch: kit::Arch::Auto,
        loss: GanLoss::Wasserstein,
        d_steps: 5,
        ..GanConfig::default()
    })
    .expect("config serialises");
    t.extend(toml::Table::try_from(WganGpConfig::default()).expect("config serialises"));
    t
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let (own, cfg) = parse_split::<WganGpConfig, GanConfig>("model", model)?;
    Ok(Box::new(WganGp::new(own, cfg, info, device)?))
}

pub const FAMILY: Family = Family {
    name: "wgan-gp",
    summary: "Wasserstein GAN with gradient penalty (explicit input gradient of the critic)",
    paper: "Gulrajani et al. 2017",
    groups: GROUPS,
    capabilities: &[Capability::Sample, Capability::Interpolate],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/wgan-gp/default.toml"),
        ),
        (
            "fashion",
            include_str!("../../../../configs/wgan-gp/fashion.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/wgan-gp/tiny.toml"),
        ),
    ],
    default_model,
    build,
};
