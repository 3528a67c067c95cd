//! GAN inversion: the latent code whose decoding is closest to a given image, for any model that
//! decodes latents (GANs, BiGAN, VAEs). Gradient descent on z of the squared error
//! |G(z) - x|² / d + prior_weight |z|² / latent, with Adam, from several random starts; the best
//! start wins (Creswell & Bharath 2018, "Inverting the Generator of a GAN"; Zhu et al. 2016).

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
}

/// What [`invert`] found, for `n` images, `r` restarts, latent size `dim`, `d` values per image.
pub struct Inversion {
    /// Codes of every start, `[r * n, dim]` row-major, start-major (row `k * n + i`).
    pub z: Vec<f32>,
    /// Their decodings in model space, `[r * n, d]`.
    pub x: Vec<f32>,
    /// Mean squared error per value of each start, `[r * n]`.
    pub mse: Vec<f64>,
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
    let (mut m, mut v) = (vec![0.0f64; z.len()], vec![0.0f64; z.len()]);
    for t in 1..=cfg.steps {
        let zt = matrix(z.clone(), r * n, dim, &grad_device).require_grad();
        let x = latent.decode(zt.clone())?;
        let loss = (x - target.clone())
            .powi_scalar(2)
            .sum()
            .div_scalar(d as f64)
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
    let mse: Vec<f64> = (0..r * n)
        .map(|row| {
            let i = row % n;
            (0..d)
                .map(|j| ((x[row * d + j] - targets[i * d + j]) as f64).powi(2))
                .sum::<f64>()
                / d as f64
        })
        .collect();
    let best = (0..n)
        .map(|i| {
            (0..r)
                .min_by(|&a, &b| mse[a * n + i].total_cmp(&mse[b * n + i]))
                .unwrap()
        })
        .collect();
    Ok(Inversion { z, x, mse, best })
}
