//! GAN inversion: the latent code whose decoding is closest to a given image, for any model that
//! decodes latents (GANs, BiGAN, VAEs). Gradient descent on z of the squared error
//! |G(z) - x|² / d + prior_weight |z|² / latent, with Adam, from several random starts; the best
//! start wins (Creswell & Bharath 2018, "Inverting the Generator of a GAN"; Zhu et al. 2016).
//!
//! With a mask ([`Fit::Masked`]) this is semantic inpainting by masked inversion (Yeh et al.
//! 2017, "Semantic Image Inpainting with Deep Generative Models", eq. 2-4): only the known values
//! are fitted, with the contextual loss |M ⊙ (G(z) - y)|₁ / |M|₁ of Amos's reference
//! implementation (`bamos/dcgan-completion.tensorflow`; the paper's variant weights known pixels
//! by how many hidden ones lie in a 7x7 window). The paper's perceptual term λ log(1 - D(G(z)))
//! is replaced by the same prior pull as above, which keeps z where G was trained without needing
//! the discriminator, and the completion is pasted into the hole without Poisson blending.

use anyhow::{anyhow, Result};
use burn::tensor::Device;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::tensor::{matrix, normal, to_vec};
use genlab_core::LatentDecode;

/// A small pull towards the prior keeps codes where G was trained.
const PRIOR_WEIGHT: f64 = 1e-3;
/// Adam's moment decays.
const BETAS: (f64, f64) = (0.9, 0.999);

pub struct InversionConfig {
    /// Adam steps.
    pub steps: usize,
    pub lr: f64,
    /// Random starts per image.
    pub restarts: usize,
    /// Seeds the random starts (host stream `Eval`, draw 1) and the gradient device.
    pub seed: u64,
    /// What is fitted.
    pub fit: Fit,
}

/// The data term of the inversion.
#[derive(Clone, Debug, Default)]
pub enum Fit {
    /// |G(z) - x|² / d over every value.
    #[default]
    Squared,
    /// |M ⊙ (G(z) - x)|₁ / |M|₁: only where the mask `M` (`[d]`, 1 = known, 0 = hidden) is set.
    Masked(Vec<f32>),
}

/// What [`invert`] found, for `n` images, `r` restarts, latent size `dim`, `d` values per image.
pub struct Inversion {
    /// Codes of every start, `[r * n, dim]` row-major, start-major (row `k * n + i`).
    pub z: Vec<f32>,
    /// Their decodings in model space, `[r * n, d]`.
    pub x: Vec<f32>,
    /// The fit's error of each start, `[r * n]`: mean squared error per value
    /// ([`Fit::Squared`]) or mean absolute error per known value ([`Fit::Masked`]).
    pub error: Vec<f64>,
    /// The best start of each image, `[n]`.
    pub best: Vec<usize>,
}

impl Inversion {
    /// Row of the best start of image `i` in `z`, `x` and `mse`.
    pub fn best_row(&self, i: usize) -> usize {
        self.best[i] * self.best.len() + i
    }
}

/// Invert `targets` (`[n, d]` in model space). `init` gives one start code per image (`[n, dim]`),
/// repeated for every restart; else starts are drawn from N(0, I). Errors if the model passes no
/// gradient to its latent.
pub fn invert(
    latent: &dyn LatentDecode,
    targets: &[f32],
    d: usize,
    init: Option<&[f32]>,
    cfg: &InversionConfig,
    device: &Device,
) -> Result<Inversion> {
    let (n, dim, r) = (targets.len() / d, latent.latent_dim(), cfg.restarts);
    let mut z: Vec<f32> = match init {
        Some(init) => (0..r).flat_map(|_| init.iter().copied()).collect(),
        None => to_vec(normal(
            [r * n, dim],
            &mut rng_for(cfg.seed, 1, Stream::Eval),
            device,
        )),
    };
    let grad_device = genlab_core::device::training_device(cfg.seed);
    let target = matrix(
        (0..r).flat_map(|_| targets.iter().copied()).collect(),
        r * n,
        d,
        &grad_device,
    );
    let mask = match &cfg.fit {
        Fit::Squared => None,
        Fit::Masked(m) => {
            anyhow::ensure!(
                m.len() == d,
                "the mask has {} values for images of {d}",
                m.len()
            );
            let known: f64 = m.iter().map(|&v| v as f64).sum();
            anyhow::ensure!(known > 0.0, "the mask hides every value: nothing to fit");
            Some((m.as_slice(), known))
        }
    };
    let mask_t = mask.map(|(m, _)| matrix(m.to_vec(), 1, d, &grad_device).repeat_dim(0, r * n));
    let (mut m, mut v) = (vec![0.0f64; z.len()], vec![0.0f64; z.len()]);
    for t in 1..=cfg.steps {
        let zt = matrix(z.clone(), r * n, dim, &grad_device).require_grad();
        let x = latent.decode(zt.clone())?;
        let data = match (&mask_t, mask) {
            (Some(mt), Some((_, known))) => ((x - target.clone()) * mt.clone())
                .abs()
                .sum()
                .div_scalar(known),
            _ => (x - target.clone())
                .powi_scalar(2)
                .sum()
                .div_scalar(d as f64),
        };
        let loss = data
            + zt.clone()
                .powi_scalar(2)
                .sum()
                .mul_scalar(PRIOR_WEIGHT / dim as f64);
        let grads = loss.backward();
        let g = to_vec(
            zt.grad(&grads)
                .ok_or_else(|| anyhow!("this model does not pass gradients to its latent"))?,
        );
        // Adam on the host in f64 (Kingma & Ba 2015, Algorithm 1).
        for i in 0..z.len() {
            let gi = g[i] as f64;
            m[i] = BETAS.0 * m[i] + (1.0 - BETAS.0) * gi;
            v[i] = BETAS.1 * v[i] + (1.0 - BETAS.1) * gi * gi;
            let mh = m[i] / (1.0 - BETAS.0.powi(t as i32));
            let vh = v[i] / (1.0 - BETAS.1.powi(t as i32));
            z[i] -= (cfg.lr * mh / (vh.sqrt() + 1e-8)) as f32;
        }
    }
    // Final errors per (restart, image); the best restart per image.
    let x = to_vec(latent.decode(matrix(z.clone(), r * n, dim, device))?);
    let error: Vec<f64> = (0..r * n)
        .map(|row| {
            let i = row % n;
            let diff = (0..d).map(|j| (x[row * d + j] - targets[i * d + j]) as f64);
            match mask {
                None => diff.map(|e| e * e).sum::<f64>() / d as f64,
                Some((m, known)) => {
                    diff.zip(m).map(|(e, &w)| e.abs() * w as f64).sum::<f64>() / known
                }
            }
        })
        .collect();
    let best = (0..n)
        .map(|i| {
            (0..r)
                .min_by(|&a, &b| error[a * n + i].total_cmp(&error[b * n + i]))
                .unwrap()
        })
        .collect();
    Ok(Inversion { z, x, error, best })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    /// x = z W: a decoder whose inverse is known.
    struct Linear(Vec<f32>);
    const DIM: usize = 2;
    const D: usize = 6;
    impl LatentDecode for Linear {
        fn latent_dim(&self) -> usize {
            DIM
        }
        fn encode(&self, _x: Tensor<2>) -> Result<Tensor<2>> {
            unreachable!("inversion never encodes")
        }
        fn decode(&self, z: Tensor<2>) -> Result<Tensor<2>> {
            Ok(z.clone()
                .matmul(matrix(self.0.clone(), DIM, D, &z.device())))
        }
    }

    #[test]
    fn masked_inversion_fits_the_known_values_and_fills_the_hidden_ones() {
        let w = vec![
            0.9, -0.4, 0.3, 0.7, 0.5, -0.8, //
            0.2, 0.8, -0.6, 0.1, 0.9, 0.4,
        ];
        let model = Linear(w.clone());
        let z_true = [0.5f32, -0.3];
        let truth: Vec<f32> = (0..D)
            .map(|j| z_true[0] * w[j] + z_true[1] * w[D + j])
            .collect();
        // The last two values are hidden and hold garbage the fit must ignore.
        let mut target = truth.clone();
        target[4] = 9.0;
        target[5] = -9.0;
        let mask = vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0];
        let device = Device::default();
        let cfg = |fit| InversionConfig {
            steps: 400,
            lr: 0.05,
            restarts: 2,
            seed: 0,
            fit,
        };
        let masked = invert(&model, &target, D, None, &cfg(Fit::Masked(mask)), &device).unwrap();
        let b = masked.best_row(0);
        for (j, want) in truth.iter().enumerate().skip(4) {
            let got = masked.x[b * D + j];
            assert!(
                (got - want).abs() < 0.05,
                "hidden value {j}: {got} vs {want}"
            );
        }
        assert!(masked.error[b] < 0.02, "{}", masked.error[b]);
        // Fitting every value chases the garbage instead.
        let plain = invert(&model, &target, D, None, &cfg(Fit::Squared), &device).unwrap();
        let b = plain.best_row(0);
        assert!((plain.x[b * D + 4] - truth[4]).abs() > 0.5);
        // A mask that hides everything is refused.
        let none = invert(
            &model,
            &target,
            D,
            None,
            &cfg(Fit::Masked(vec![0.0; D])),
            &device,
        );
        assert!(none
            .err()
            .unwrap()
            .to_string()
            .contains("hides every value"));
    }
}
