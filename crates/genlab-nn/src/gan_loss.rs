//! The adversarial losses, from discriminator logits (shared by every GAN family).
//!
//! With D(x) = sigmoid(l(x)):
//!   discriminator:   -log D(x) - log(1 - D(G(z)))  =  softplus(-l_real) + softplus(l_fake)
//!   minimax G:        log(1 - D(G(z)))             = -softplus(l_fake)          (minimised)
//!   non-saturating G: -log D(G(z))                 =  softplus(-l_fake)
//! Goodfellow et al. 2014, §3: early in training D rejects G's samples with confidence, the
//! minimax loss saturates (its gradient in l_fake is -sigmoid(l_fake) -> 0) and the
//! non-saturating one does not (-sigmoid(-l_fake) -> -1).
//! The other games score raw outputs f (no sigmoid):
//!   least squares (LSGAN, Mao et al. 2017, a = 0, b = c = 1):
//!       D: ½ (f_real - 1)² + ½ f_fake²        G: ½ (f_fake - 1)²
//!   Wasserstein (WGAN, Arjovsky et al. 2017; the critic is kept Lipschitz by weight clipping):
//!       D: f_fake - f_real                    G: -f_fake
//!   hinge (Lim & Ye 2017; Miyato et al. 2018 with spectral norm):
//!       D: relu(1 - f_real) + relu(1 + f_fake)   G: -f_fake

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::activation::relu;
use burn::tensor::Tensor;
use genlab_kernels::fused::softplus;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GanLoss {
    Minimax,
    NonSaturating,
    LeastSquares,
    Wasserstein,
    Hinge,
}

impl GanLoss {
    /// Every game, in the order of the paper trail.
    pub const ALL: [GanLoss; 5] = [
        GanLoss::Minimax,
        GanLoss::NonSaturating,
        GanLoss::LeastSquares,
        GanLoss::Wasserstein,
        GanLoss::Hinge,
    ];

    /// The config's name of the game (`model.loss`).
    pub fn name(self) -> &'static str {
        match self {
            GanLoss::Minimax => "minimax",
            GanLoss::NonSaturating => "non_saturating",
            GanLoss::LeastSquares => "least_squares",
            GanLoss::Wasserstein => "wasserstein",
            GanLoss::Hinge => "hinge",
        }
    }

    /// The game named `name` ([`GanLoss::name`]).
    pub fn parse(name: &str) -> Option<GanLoss> {
        GanLoss::ALL.into_iter().find(|g| g.name() == name)
    }

    /// True for the losses on D(x) = sigmoid(logit), whose outputs are probabilities.
    pub fn is_logistic(self) -> bool {
        matches!(self, GanLoss::Minimax | GanLoss::NonSaturating)
    }
}

/// Discriminator loss, mean over the batch; `smoothing` > 0 is one-sided label smoothing
/// (real target 1 - smoothing; Salimans et al. 2016). `[b, 1], [b, 1] -> [1]`
pub fn discriminator_loss(
    kind: GanLoss,
    real: Tensor<2>,
    fake: Tensor<2>,
    smoothing: f64,
) -> Tensor<1> {
    match kind {
        GanLoss::Minimax | GanLoss::NonSaturating => logistic_d_loss(real, fake, smoothing),
        GanLoss::LeastSquares => {
            let r = real.sub_scalar(1.0 - smoothing);
            ((r.clone() * r).mean() * 0.5 + (fake.clone() * fake).mean() * 0.5).reshape([1])
        }
        GanLoss::Wasserstein => (fake.mean() - real.mean()).reshape([1]),
        GanLoss::Hinge => (relu(real.neg().add_scalar(1.0)).mean()
            + relu(fake.add_scalar(1.0)).mean())
        .reshape([1]),
    }
}

fn logistic_d_loss(real: Tensor<2>, fake: Tensor<2>, smoothing: f64) -> Tensor<1> {
    let real_term = if smoothing > 0.0 {
        // target t: t softplus(-l) + (1 - t) softplus(l)
        softplus(real.clone().neg()) * (1.0 - smoothing) + softplus(real) * smoothing
    } else {
        softplus(real.neg())
    };
    (real_term.mean() + softplus(fake).mean()).reshape([1])
}

/// Generator loss, mean over the batch. `[b, 1] -> [1]`
pub fn generator_loss(kind: GanLoss, fake: Tensor<2>) -> Tensor<1> {
    match kind {
        GanLoss::Minimax => softplus(fake).mean().neg().reshape([1]),
        GanLoss::NonSaturating => softplus(fake.neg()).mean().reshape([1]),
        GanLoss::LeastSquares => {
            let f = fake.sub_scalar(1.0);
            ((f.clone() * f).mean() * 0.5).reshape([1])
        }
        GanLoss::Wasserstein | GanLoss::Hinge => fake.mean().neg().reshape([1]),
    }
}

/// WGAN's Lipschitz constraint: every parameter of `module` clamped to [-c, c] (Arjovsky et
/// al. 2017, Algorithm 1, c = 0.01), after each critic update.
pub fn clip_weights<M: Module>(module: M, c: f64) -> M {
    struct Clip(f64);
    impl ModuleMapper for Clip {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, tensor, mapper) = param.consume();
            let clipped = Tensor::from_inner(tensor.inner().clamp(-self.0, self.0)).require_grad();
            Param::from_mapped_value(id, clipped, mapper)
        }
    }
    module.map(&mut Clip(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    /// d loss / d l_fake for one sample with logit `l`.
    fn grad_at(kind: GanLoss, l: f32) -> f32 {
        let device = Device::default().autodiff();
        let logit = Tensor::<2>::from_floats([[l]], &device).require_grad();
        let g = generator_loss(kind, logit.clone()).backward();
        logit.grad(&g).unwrap().into_scalar::<f32>()
    }

    #[test]
    fn minimax_saturates_where_the_non_saturating_loss_does_not() {
        // D(G(z)) = sigmoid(-10) ~ 4.5e-5: the discriminator rejects the sample confidently.
        let (mm, ns) = (
            grad_at(GanLoss::Minimax, -10.0),
            grad_at(GanLoss::NonSaturating, -10.0),
        );
        assert!(mm.abs() < 1e-4, "minimax gradient {mm}");
        assert!((ns + 1.0).abs() < 1e-4, "non-saturating gradient {ns}");
        // Both push the logit up (descent on the loss raises D(G(z))).
        assert!(mm < 0.0 && ns < 0.0);
        // Where D is fooled (D(G(z)) ~ 1) it is the other way round.
        let (mm, ns) = (
            grad_at(GanLoss::Minimax, 10.0),
            grad_at(GanLoss::NonSaturating, 10.0),
        );
        assert!((mm + 1.0).abs() < 1e-4 && ns.abs() < 1e-4, "{mm} {ns}");
    }

    #[test]
    fn clipping_bounds_every_weight_and_keeps_gradients_flowing() {
        let device = Device::default().autodiff();
        let lin = burn::nn::LinearConfig::new(4, 3).init(&device);
        let lin = clip_weights(lin, 0.01);
        let w = lin.weight.val().inner();
        let m = w.clone().abs().max().into_scalar::<f32>();
        assert!(m <= 0.01 + 1e-7 && m > 0.0, "max |w| = {m}");
        let x = Tensor::<2>::ones([1, 4], &device);
        let grads = lin.forward(x).sum().backward();
        assert!(
            lin.weight.val().grad(&grads).is_some(),
            "clipped weights still train"
        );
    }

    #[test]
    fn raw_output_games_have_their_papers_values() {
        let device = Device::default();
        let t = |v: f32| Tensor::<2>::full([2, 1], v, &device);
        let d = |k, r, f| discriminator_loss(k, t(r), t(f), 0.0).into_scalar::<f32>();
        let g = |k, f| generator_loss(k, t(f)).into_scalar::<f32>();
        // LSGAN: D is perfect at f_real = 1, f_fake = 0; G at f_fake = 1.
        assert_eq!(d(GanLoss::LeastSquares, 1.0, 0.0), 0.0);
        assert_eq!(g(GanLoss::LeastSquares, 1.0), 0.0);
        assert!((d(GanLoss::LeastSquares, 0.0, 1.0) - 1.0).abs() < 1e-6);
        // WGAN: the critic's loss is the negative gap of its means.
        assert!((d(GanLoss::Wasserstein, 3.0, -1.0) + 4.0).abs() < 1e-6);
        assert!((g(GanLoss::Wasserstein, -1.0) - 1.0).abs() < 1e-6);
        // Hinge: zero once real >= 1 and fake <= -1, linear inside the margin.
        assert_eq!(d(GanLoss::Hinge, 1.5, -2.0), 0.0);
        assert!((d(GanLoss::Hinge, 0.5, 0.0) - 1.5).abs() < 1e-6);
    }

    #[test]
    fn discriminator_loss_is_log_4_at_chance_and_smoothing_moves_the_real_target() {
        let device = Device::default();
        let zero = Tensor::<2>::zeros([3, 1], &device);
        let l = discriminator_loss(GanLoss::Minimax, zero.clone(), zero.clone(), 0.0)
            .into_scalar::<f32>();
        assert!((l - 4f32.ln()).abs() < 1e-6, "{l}");
        // With smoothing 0.1 the real term is minimised at sigmoid(l) = 0.9, not at l -> inf.
        let at = |v: f32| {
            let real = Tensor::<2>::full([1, 1], v, &device);
            discriminator_loss(GanLoss::Minimax, real, zero.clone().narrow(0, 0, 1), 0.1)
                .into_scalar::<f32>()
        };
        let best = (0.9f32 / 0.1).ln();
        assert!(at(best) < at(best + 0.5) && at(best) < at(best - 0.5));
    }
}
