//! The pictures every run and command writes: sample grids, reconstruction pairs,
//! interpolation strips, latent manifolds, 2-D scatter plots and training curves. Model outputs go through the
//! data's preprocessing in reverse, then through THE grid of genlab-viz.

use anyhow::{anyhow, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::model::cannot;
use genlab_core::{DataInfo, LatentDecode, Model};
use genlab_data::Kind;
use genlab_viz::{Grid, Images};
use rand_chacha::ChaCha8Rng;

/// Model-space `[n, d]` values to images in [0, 1].
pub fn to_images(x: Tensor<2>, info: &DataInfo) -> Images {
    let n = x.dims()[0];
    let v = genlab_core::tensor::to_vec(x)
        .into_iter()
        .map(|v| info.preprocess.to_unit(v))
        .collect();
    Images::new(v, n, info.shape.c, info.shape.h, info.shape.w)
}

/// A grid of `n` samples, or a scatter plot for 2-D points.
pub fn sample_picture(
    model: &dyn Model,
    info: &DataInfo,
    n: usize,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<image::RgbImage> {
    let sampler = model
        .as_sample()
        .ok_or_else(|| cannot(model, "sample unconditionally", "genlab reconstruct"))?;
    let x = sampler.sample(n, rng, device)?;
    let toy_modes = mode_centers(info);
    Ok(match info.kind {
        Kind::Points => genlab_viz::scatter_png(&genlab_core::tensor::to_vec(x), toy_modes, 5.0),
        Kind::Images => Grid {
            cols: (n as f64).sqrt().ceil() as usize,
            ..Grid::default()
        }
        .render(&to_images(x, info)),
    })
}

/// Heat map of a 2-D likelihood model's log-density, one evaluation per pixel, over the square
/// that holds the true modes with a margin of 0.5 (or `[-5, 5]²` without modes), with the modes
/// as thin rings; `None` for models without likelihood or data that is not 2-D points.
pub fn density_picture(
    model: &dyn Model,
    info: &DataInfo,
    device: &Device,
) -> Result<Option<image::RgbImage>> {
    let (Some(lik), Kind::Points, 2) = (model.as_likelihood(), info.kind, info.shape.dim()) else {
        return Ok(None);
    };
    let toy_modes = mode_centers(info);
    let res = genlab_viz::DENSITY_SIZE as usize;
    let extent = toy_modes
        .iter()
        .flat_map(|m| [m[0].abs(), m[1].abs()])
        .fold(None, |a: Option<f32>, v| Some(a.map_or(v, |a| a.max(v))))
        .map_or(5.0, |m| m + 0.5);
    let grid = genlab_viz::density_grid(res, extent);
    let mut logp = Vec::with_capacity(res * res);
    let mut rng = genlab_core::rng::rng_for(0, 0, genlab_core::rng::Stream::Eval);
    for chunk in grid.chunks(2 * 8192) {
        let x = genlab_core::tensor::matrix(chunk.to_vec(), chunk.len() / 2, 2, device);
        logp.extend(
            lik.log_likelihood(x, 1, &mut rng)?
                .into_iter()
                .map(|v| v as f32),
        );
    }
    Ok(Some(genlab_viz::density_png(&logp, res, extent, toy_modes)))
}

/// Originals on odd rows, reconstructions below them.
pub fn reconstruction_picture(
    model: &dyn Model,
    info: &DataInfo,
    x: Tensor<2>,
    cols: usize,
) -> Result<image::RgbImage> {
    let rec = model
        .as_reconstruct()
        .ok_or_else(|| cannot(model, "reconstruct", "genlab sample"))?;
    let x_hat = rec.reconstruct(x.clone())?;
    let (orig, recon) = (to_images(x, info), to_images(x_hat, info));
    let mut rows = Vec::new();
    for start in (0..orig.n).step_by(cols) {
        let end = (start + cols).min(orig.n);
        for src in [&orig, &recon] {
            let per = src.c * src.h * src.w;
            rows.push(Images::new(
                src.data[start * per..end * per].to_vec(),
                end - start,
                src.c,
                src.h,
                src.w,
            ));
        }
    }
    Ok(Grid {
        cols,
        ..Grid::default()
    }
    .render(&Images::concat(&rows)))
}

/// Spherical interpolation between two latent vectors (Shoemake 1985; White 2016 for GANs).
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let cos = (dot / (norm(a) * norm(b)).max(1e-12)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    if omega.abs() < 1e-4 {
        return a.iter().zip(b).map(|(x, y)| x + t * (y - x)).collect();
    }
    let (sa, sb) = (
        ((1.0 - t) * omega).sin() / omega.sin(),
        (t * omega).sin() / omega.sin(),
    );
    a.iter().zip(b).map(|(x, y)| sa * x + sb * y).collect()
}

/// Rows of `steps` decoded points between pairs of codes: `pairs` is a list of (z_a, z_b).
pub fn interpolation_picture(
    latent: &dyn LatentDecode,
    info: &DataInfo,
    pairs: &[(Vec<f32>, Vec<f32>)],
    steps: usize,
    spherical: bool,
    device: &Device,
) -> Result<image::RgbImage> {
    let dim = latent.latent_dim();
    let mut z = Vec::with_capacity(pairs.len() * steps * dim);
    for (a, b) in pairs {
        for i in 0..steps {
            let t = i as f32 / (steps - 1).max(1) as f32;
            if spherical {
                z.extend(slerp(a, b, t));
            } else {
                z.extend(a.iter().zip(b).map(|(x, y)| x + t * (y - x)));
            }
        }
    }
    let x = latent.decode(genlab_core::tensor::matrix(
        z,
        pairs.len() * steps,
        dim,
        device,
    ))?;
    Ok(Grid {
        cols: steps,
        ..Grid::default()
    }
    .render(&to_images(x, info)))
}

/// For a 2-D latent: decode a `side x side` grid through the Gaussian inverse CDF, as in
/// Kingma & Welling's figure 4 (or a uniform grid of [-3, 3]^2 without a Gaussian prior).
pub fn manifold_picture(
    latent: &dyn LatentDecode,
    info: &DataInfo,
    side: usize,
    device: &Device,
) -> Result<image::RgbImage> {
    if latent.latent_dim() != 2 {
        return Err(anyhow!("a manifold grid needs a 2-D latent, this model has {}; train with --set model.latent_dim=2", latent.latent_dim()));
    }
    let coord = |i: usize| {
        let p = (i as f64 + 0.5) / side as f64;
        if latent.gaussian_prior() {
            genlab_nn::special::normal_quantile(p) as f32
        } else {
            (6.0 * p - 3.0) as f32
        }
    };
    let mut z = Vec::with_capacity(side * side * 2);
    for r in 0..side {
        for c in 0..side {
            z.push(coord(c));
            z.push(coord(side - 1 - r));
        }
    }
    let x = latent.decode(genlab_core::tensor::matrix(z, side * side, 2, device))?;
    Ok(Grid {
        cols: side,
        scale: 1,
        gutter: 0,
    }
    .render(&to_images(x, info)))
}

/// The true modes of a toy set, drawn under its scatter plots (none for other data).
fn mode_centers(info: &DataInfo) -> &[[f32; 2]] {
    info.modes.as_ref().map_or(&[], |m| &m.centers)
}

/// A logged loss: its name, first and last value.
pub type SeriesEnds = (String, f64, f64);

/// Training curves of a run from its metrics.jsonl (one panel per loss, on its own range), with
/// each loss's first and last logged value; None before the first log line.
pub fn curves_picture(
    run: &genlab_core::run_dir::RunDir,
) -> Result<Option<(image::RgbImage, Vec<SeriesEnds>)>> {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for line in run.read_metrics()? {
        for (k, val) in line.losses {
            match series.iter_mut().find(|s| s.0 == k) {
                Some(s) => s.1.push((line.step as f64, val)),
                None => series.push((k, vec![(line.step as f64, val)])),
            }
        }
    }
    if series.is_empty() {
        return Ok(None);
    }
    let ends = series
        .iter()
        .map(|(k, pts)| (k.clone(), pts[0].1, pts[pts.len() - 1].1))
        .collect();
    Ok(Some((genlab_viz::panels_png(&series).0, ends)))
}

/// Write a PNG atomically.
pub fn save_png(path: &std::path::Path, img: &image::RgbImage) -> Result<()> {
    genlab_core::run_dir::atomic_write(path, &genlab_viz::png_bytes(img))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slerp_keeps_the_norm_between_orthogonal_unit_vectors() {
        let m = slerp(&[1.0, 0.0], &[0.0, 1.0], 0.5);
        assert!(((m[0] * m[0] + m[1] * m[1]).sqrt() - 1.0).abs() < 1e-6);
    }
}
