//! The adversarial losses, from discriminator logits (shared by every GAN family).
//!
//! With D(x) = sigmoid(l(x)):
//!   discriminator:   -log D(x) - log(1 - D(G(z)))  =  softplus(-l_real) + softplus(l_fake)
//!   minimax G:        log(1 - D(G(z)))             = -softplus(l_fake)          (minimised)
//!   non-saturating G: -log D(G(z))                 =  softplus(-l_fake)
//! Goodfellow et al. 2014, §3: early in training D rejects G's samples with confidence, the
//! minimax loss saturates (its gradient in l_fake is -sigmoid(l_fake) -> 0) and the
//! non-saturating one does not (-sigmoid(-l_fake) -> -1).

use burn::tensor::activation::softplus;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GanLoss {
    Minimax,
    NonSaturating,
}

/// Discriminator loss, mean over the batch; `smoothing` > 0 is one-sided label smoothing
/// (real target 1 - smoothing; Salimans et al. 2016). `[b, 1], [b, 1] -> [1]`
pub fn discriminator_loss(real: Tensor<2>, fake: Tensor<2>, smoothing: f64) -> Tensor<1> {
    let real_term = if smoothing > 0.0 {
        // target t: t softplus(-l) + (1 - t) softplus(l)
        softplus(real.clone().neg(), 1.0) * (1.0 - smoothing) + softplus(real, 1.0) * smoothing
    } else {
        softplus(real.neg(), 1.0)
    };
    (real_term.mean() + softplus(fake, 1.0).mean()).reshape([1])
}

/// Generator loss, mean over the batch. `[b, 1] -> [1]`
pub fn generator_loss(kind: GanLoss, fake: Tensor<2>) -> Tensor<1> {
    match kind {
        GanLoss::Minimax => softplus(fake, 1.0).mean().neg().reshape([1]),
        GanLoss::NonSaturating => softplus(fake.neg(), 1.0).mean().reshape([1]),
    }
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
    fn discriminator_loss_is_log_4_at_chance_and_smoothing_moves_the_real_target() {
        let device = Device::default();
        let zero = Tensor::<2>::zeros([3, 1], &device);
        let l = discriminator_loss(zero.clone(), zero.clone(), 0.0).into_scalar::<f32>();
        assert!((l - 4f32.ln()).abs() < 1e-6, "{l}");
        // With smoothing 0.1 the real term is minimised at sigmoid(l) = 0.9, not at l -> inf.
        let at = |v: f32| {
            let real = Tensor::<2>::full([1, 1], v, &device);
            discriminator_loss(real, zero.clone().narrow(0, 0, 1), 0.1).into_scalar::<f32>()
        };
        let best = (0.9f32 / 0.1).ln();
        assert!(at(best) < at(best + 0.5) && at(best) < at(best - 0.5));
    }
}
