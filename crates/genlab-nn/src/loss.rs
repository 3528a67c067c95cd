//! Log-densities and divergences, per example (summed over dimensions), in nats.

use crate::special::LN_2PI;
use burn::tensor::Tensor;
use genlab_kernels::fused::softplus;

/// log Bernoulli(x | sigmoid(logits)) summed over dims: `[b, d] -> [b]`.
/// Uses x*l - softplus(l), stable for large |l|.
pub fn bernoulli_log_prob(logits: Tensor<2>, x: Tensor<2>) -> Tensor<1> {
    (x * logits.clone() - softplus(logits))
        .sum_dim(1)
        .squeeze_dim(1)
}

/// log N(x | mu, exp(log_var)) summed over dims: `[b, d] -> [b]`.
pub fn gaussian_log_prob(x: Tensor<2>, mu: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    let sq = (x - mu).square() / log_var.clone().exp();
    (sq + log_var)
        .add_scalar(LN_2PI)
        .mul_scalar(-0.5)
        .sum_dim(1)
        .squeeze_dim(1)
}

/// log N(z | 0, I) summed over dims: `[b, d] -> [b]`.
pub fn standard_normal_log_prob(z: Tensor<2>) -> Tensor<1> {
    z.square()
        .add_scalar(LN_2PI)
        .mul_scalar(-0.5)
        .sum_dim(1)
        .squeeze_dim(1)
}

/// KL(N(mu, exp(log_var)) || N(0, I)) per latent unit, closed form (Kingma & Welling 2014,
/// appendix B): `[b, d] -> [b, d]`.
pub fn gaussian_kl_per_unit(mu: Tensor<2>, log_var: Tensor<2>) -> Tensor<2> {
    (mu.square() + log_var.clone().exp() - log_var)
        .sub_scalar(1.0)
        .mul_scalar(0.5)
}

/// log mean exp over dim 1, stable: `[b, k] -> [b]`.
pub fn log_mean_exp(x: Tensor<2>) -> Tensor<1> {
    let k = x.dims()[1] as f64;
    let m = x.clone().max_dim(1).detach(); // [b, 1]
    let s = (x - m.clone()).exp().sum_dim(1).log(); // [b, 1]
    (s + m).sub_scalar(k.ln()).squeeze_dim(1)
}

/// Mean softmax cross-entropy of `logits [b, k]` against one-hot (or soft) `targets [b, k]`,
/// in nats: `[1]`.
pub fn softmax_cross_entropy(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let log_p = burn::tensor::activation::log_softmax(logits, 1);
    (targets * log_p).sum_dim(1).neg().mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};
    use rand::SeedableRng;

    fn t2(v: Vec<f32>, r: usize, c: usize) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v, [r, c]), &Device::default())
    }

    #[test]
    fn gaussian_kl_matches_monte_carlo() {
        // KL(q||p) = E_q[log q(z) - log p(z)], estimated with 200k draws of z ~ q.
        let (mu, log_var) = (0.7f32, -0.6f32);
        let closed = genlab_core::tensor::to_vec(gaussian_kl_per_unit(
            t2(vec![mu], 1, 1),
            t2(vec![log_var], 1, 1),
        ))[0] as f64;
        let n = 200_000;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let eps = genlab_core::tensor::normal([n, 1], &mut rng, &Device::default());
        let z = eps.mul_scalar((0.5 * log_var).exp()).add_scalar(mu);
        let log_q = gaussian_log_prob(z.clone(), t2(vec![mu; n], n, 1), t2(vec![log_var; n], n, 1));
        let log_p = standard_normal_log_prob(z);
        let mc = genlab_core::tensor::scalar((log_q - log_p).mean());
        assert!(
            (closed - mc).abs() < 5e-3,
            "closed {closed} vs Monte Carlo {mc}"
        );
    }

    #[test]
    fn log_mean_exp_is_stable_for_large_values() {
        let v = genlab_core::tensor::to_vec(log_mean_exp(t2(
            vec![1000.0, 1000.0, -1000.0, -1000.0],
            2,
            2,
        )));
        assert!(
            (v[0] - 1000.0).abs() < 1e-3 && (v[1] + 1000.0).abs() < 1e-3,
            "{v:?}"
        );
    }

    #[test]
    fn bernoulli_log_prob_matches_the_definition() {
        // logit 0 -> p = 0.5 for both pixels: log 0.25.
        let v = genlab_core::tensor::to_vec(bernoulli_log_prob(
            t2(vec![0.0, 0.0], 1, 2),
            t2(vec![1.0, 0.0], 1, 2),
        ));
        assert!((v[0] - 0.25f32.ln()).abs() < 1e-6);
    }
}
