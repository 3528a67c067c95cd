//! Spectral normalization (Miyato et al. 2018, "Spectral Normalization for GANs", Algorithm 1):
//! a layer uses W / sigma(W), with sigma(W), the largest singular value, estimated by one step
//! of power iteration per update from a vector `u` kept between updates.
//!
//! For W `[m, n]` and the kept `u` `[m]`:
//!   v = normalize(Wᵀ u),  u = normalize(W v)      (power iteration, no gradient)
//!   sigma = uᵀ W v                                   (gradient flows to W, with u and v fixed)
//! A convolution's kernel `[out, in, kh, kw]` is the matrix `[out, in*kh*kw]`.

use burn::tensor::{Device, Tensor};

const EPS: f64 = 1e-12;

fn normalize(x: Tensor<1>) -> Tensor<1> {
    let norm = x.clone().powi_scalar(2).sum().sqrt().add_scalar(EPS);
    x / norm
}

/// The starting `u` for a weight with `rows` rows: the normalized all-ones vector (any vector
/// with a component along the top singular vector converges).
pub fn init_u(rows: usize, device: &Device) -> Tensor<1> {
    Tensor::ones([rows], device).div_scalar((rows as f64).sqrt())
}

/// `steps` power-iteration steps on W `[m, n]` from `u` `[m]`; returns the new `u`, detached.
pub fn power_iteration(w: Tensor<2>, u: Tensor<1>, steps: usize) -> Tensor<1> {
    let w = w.detach();
    let mut u = u.to_device(&w.device());
    for _ in 0..steps {
        let v = normalize(
            w.clone()
                .transpose()
                .matmul(u.unsqueeze_dim(1))
                .squeeze_dim(1),
        ); // [n]
        u = normalize(w.clone().matmul(v.unsqueeze_dim(1)).squeeze_dim(1)); //               [m]
    }
    u
}

/// sigma(W) = uᵀ W v with v = normalize(Wᵀ u): `[1]`, differentiable in W.
pub fn sigma(w: Tensor<2>, u: &Tensor<1>) -> Tensor<1> {
    let u = u.clone().to_device(&w.device()).unsqueeze_dim::<2>(1); // [m, 1]
    let v = normalize(
        w.clone()
            .detach()
            .transpose()
            .matmul(u.clone())
            .squeeze_dim(1),
    ); // [n]
    (u * w * v.unsqueeze_dim(0)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::sym_eigen;

    /// The power-iteration estimate converges to the largest singular value from an SVD
    /// (the square root of the top eigenvalue of WᵀW).
    #[test]
    fn sigma_matches_the_largest_singular_value() {
        let device = genlab_core::device::training_device(0).inner();
        let (m, n) = (12, 7);
        let w = genlab_core::tensor::normal(
            [m, n],
            &mut genlab_core::rng::rng_for(3, 0, genlab_core::rng::Stream::Eval),
            &device,
        );
        let vals: Vec<f64> = genlab_core::tensor::to_vec(w.clone())
            .iter()
            .map(|&v| v as f64)
            .collect();
        let mut wtw = vec![0.0f64; n * n];
        for i in 0..n {
            for j in 0..n {
                wtw[i * n + j] = (0..m).map(|r| vals[r * n + i] * vals[r * n + j]).sum();
            }
        }
        let top = sym_eigen(&wtw, n).0[0].sqrt();
        let u = power_iteration(w.clone(), init_u(m, &device), 200);
        let est = sigma(w.clone(), &u).into_scalar::<f32>() as f64;
        assert!(
            (est - top).abs() < 1e-4 * top,
            "power iteration {est} vs SVD {top}"
        );
        // One step from the all-ones start underestimates, never overestimates.
        let one = sigma(w.clone(), &power_iteration(w, init_u(m, &device), 1));
        let one = one.into_scalar::<f32>() as f64;
        assert!(
            one <= top * (1.0 + 1e-5) && one > 0.3 * top,
            "{one} vs {top}"
        );
    }
}
