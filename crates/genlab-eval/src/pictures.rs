//! The pictures every run and command writes: sample grids, reconstruction pairs,
//! interpolation strips, latent manifolds, point pictures (histogram, scatter, pairs plot) and
//! training curves. Model outputs go through the data's preprocessing in reverse (points back
//! to the data's units), then through THE grid or the point pictures of genlab-viz. Every
//! picture says what it shows in a title band that starts with its [`About`].

use anyhow::{anyhow, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::model::cannot;
use genlab_core::{Bound, DataInfo, Draw, LatentDecode, Likelihood, Model};
use genlab_data::Kind;
use genlab_viz::{Grid, Images, Points};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// Which run a picture is of: the start of its title band, "vae · runs/vae · step 3000".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct About {
    pub family: String,
    /// The run directory as the user named it.
    pub run: String,
    /// The training step of the weights shown.
    pub step: u64,
}

impl About {
    pub fn new(family: &str, run: &Path, step: u64) -> Self {
        Self {
            family: family.to_string(),
            run: run.display().to_string(),
            step,
        }
    }

    /// The title of a picture showing `what`: "vae · runs/vae · step 3000 · `what`".
    pub fn title(&self, what: &str) -> String {
        format!(
            "{} · {} · step {} · {what}",
            self.family, self.run, self.step
        )
    }
}

/// A short label of a value on a grid's axis: at most 2 decimals, no trailing zeros.
pub fn short(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "-0" => "0".to_string(),
        _ => s.to_string(),
    }
}

/// Model-space `[n, d]` values to images in [0, 1].
pub fn to_images(x: Tensor<2>, info: &DataInfo) -> Images {
    let n = x.dims()[0];
    let v = genlab_core::tensor::to_vec(x)
        .into_iter()
        .map(|v| info.preprocess.to_unit(v))
        .collect();
    Images::new(v, n, info.shape.c, info.shape.h, info.shape.w)
}

/// Point data draws at least this many samples: 64 points show no shape.
pub const POINT_SAMPLES: usize = 2000;
/// Points at which a 1-D model's density curve is evaluated.
const CURVE_POINTS: usize = 400;
/// Rows per likelihood call on a grid.
const GRID_CHUNK: usize = 8192;

/// `n` samples as a picture: a grid of images, or for point data (at least [`POINT_SAMPLES`]
/// drawn) in the data's own units (standardised data mapped back) the picture
/// [`genlab_viz::points_png`] picks by the number of columns: a histogram with the model's
/// density curve for one column (likelihood models), a scatter with the true modes of a toy
/// set for two, a pairs plot of the first four for more. Titled "`about` · 64 samples
/// (`noise`)" ("fixed noise", "seed 3"), with what `draw` shows of a model of bits.
pub fn sample_picture(
    model: &dyn Model,
    info: &DataInfo,
    n: usize,
    (about, noise): (&About, &str),
    draw: Draw,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<image::RgbImage> {
    let caption = (about, noise);
    Ok(pictures_of_samples(model, info, n, caption, draw, false, rng, device)?.0)
}

/// [`sample_picture`], and for a likelihood model of 2-D points a heat map of its log-density
/// log p(x) in nats over the same axes as the samples' scatter (None for other models and
/// data), one evaluation per pixel; standardised data is evaluated on the z-scores of the grid,
/// plus the Jacobian, so the map is of the data as given.
pub fn sample_and_density_pictures(
    model: &dyn Model,
    info: &DataInfo,
    n: usize,
    (about, noise): (&About, &str),
    draw: Draw,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<(image::RgbImage, Option<image::RgbImage>)> {
    pictures_of_samples(model, info, n, (about, noise), draw, true, rng, device)
}

/// "64 samples", "64 binary draws", "64 samples, P(x = 1) per pixel": how many and, for a
/// model of bits, what of them.
pub fn samples_caption(n: usize, draw: Draw) -> String {
    match draw {
        Draw::Values => format!("{n} samples"),
        Draw::Bits => format!("{n} binary draws"),
        Draw::Probabilities => format!("{n} samples, P(x = 1) per pixel"),
    }
}

#[allow(clippy::too_many_arguments)]
fn pictures_of_samples(
    model: &dyn Model,
    info: &DataInfo,
    n: usize,
    (about, noise): (&About, &str),
    draw: Draw,
    with_density: bool,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<(image::RgbImage, Option<image::RgbImage>)> {
    let sampler = model
        .as_sample()
        .ok_or_else(|| cannot(model, "sample unconditionally", "genlab reconstruct"))?;
    if info.kind == Kind::Images {
        let x = draw.sample(sampler, n, rng, device)?;
        let grid = Grid {
            cols: (n as f64).sqrt().ceil() as usize,
            title: about.title(&format!("{} ({noise})", samples_caption(n, draw))),
            ..Grid::default()
        };
        return Ok((grid.render(&to_images(x, info)), None));
    }
    let n = n.max(POINT_SAMPLES);
    let values = data_units(
        &genlab_core::tensor::to_vec(draw.sample(sampler, n, rng, device)?),
        info,
    );
    let d = info.shape.dim();
    let title = about.title(&format!("{} ({noise})", samples_caption(n, draw)));
    let mut points = Points::new(&values, d, title).with_modes(mode_centers(info));
    let likelihood = model.as_likelihood();
    if let (1, Some(lik)) = (d, likelihood) {
        let span = points.extent[0];
        let xs: Vec<f64> = (0..CURVE_POINTS)
            .map(|i| span.lo + span.width() * i as f64 / (CURVE_POINTS - 1) as f64)
            .collect();
        let logp = log_density(lik, info, &xs, device)?;
        points.density = xs.into_iter().zip(logp.into_iter().map(f64::exp)).collect();
    }
    let density = match (with_density, d, likelihood) {
        (true, 2, Some(lik)) => {
            let logp = log_density(lik, info, &genlab_viz::density_grid(&points.extent), device)?;
            let title = about.title(&format!("log p(x) in nats{}", bound_note(lik)));
            Some(genlab_viz::density_png(
                &logp,
                &points.extent,
                mode_centers(info),
                &title,
            ))
        }
        _ => None,
    };
    Ok((genlab_viz::points_png(&points), density))
}

/// Model-space point values `[n, d]` in the data's own units (f64, so that a column far from
/// zero keeps its spread).
fn data_units(x: &[f32], info: &DataInfo) -> Vec<f64> {
    match &info.standardization {
        Some(s) => s.invert_f64(x),
        None => x.iter().map(|&v| v as f64).collect(),
    }
}

/// The model's log p(x) in nats at rows `xs` (`[n, d]`, the data's own units): standardised
/// data is evaluated on z = (x - mean) / std, plus log |dz/dx|.
fn log_density(
    lik: &dyn Likelihood,
    info: &DataInfo,
    xs: &[f64],
    device: &Device,
) -> Result<Vec<f64>> {
    let d = info.shape.dim();
    let (z, log_jacobian) = match &info.standardization {
        Some(s) => (s.apply(xs), s.log_jacobian()),
        None => (xs.iter().map(|&v| v as f32).collect(), 0.0),
    };
    let mut logp = Vec::with_capacity(xs.len() / d);
    let mut rng = genlab_core::rng::rng_for(0, 0, genlab_core::rng::Stream::Eval);
    for chunk in z.chunks(d * GRID_CHUNK) {
        let x = genlab_core::tensor::matrix(chunk.to_vec(), chunk.len() / d, d, device);
        logp.extend(
            lik.log_likelihood(x, 1, &mut rng)?
                .into_iter()
                .map(|v| v + log_jacobian),
        );
    }
    Ok(logp)
}

/// What a density map shows when it is not the exact density.
fn bound_note(lik: &dyn Likelihood) -> &'static str {
    match lik.bound(1) {
        Bound::Exact => "",
        Bound::LowerBound => " (a lower bound)",
        Bound::Estimate => " (an estimate)",
        Bound::Projected => " (of a projection)",
    }
}

/// Rows of originals, each above the row of their reconstructions, captioned so; titled
/// "`about` · reconstructions of 32 `of`" ("test images").
pub fn reconstruction_picture(
    model: &dyn Model,
    info: &DataInfo,
    x: Tensor<2>,
    cols: usize,
    (about, of): (&About, &str),
) -> Result<image::RgbImage> {
    let rec = model
        .as_reconstruct()
        .ok_or_else(|| cannot(model, "reconstruct", "genlab sample"))?;
    let x_hat = rec.reconstruct(x.clone())?;
    let (orig, recon) = (to_images(x, info), to_images(x_hat, info));
    let n = orig.n;
    let title = about.title(&format!(
        "reconstructions of {n} {of}{}",
        match model.binary() {
            true => "; originals binarized, reconstructions P(x = 1) per pixel",
            false => "",
        }
    ));
    Ok(paired_rows(
        &[(&orig, "original"), (&recon, "reconstruction")],
        cols,
        title,
    ))
}

/// Inputs of a translator `[n, from.dim()]`, values in [0, 1], as images of shape `to` for a
/// grid beside outputs of that shape: nearest pixels (a downscaled input shows its blocks), one
/// grey channel copied to each colour channel, colour shown as its first channel beside grey.
pub fn inputs_as_images(v: &[f32], from: genlab_data::Shape, to: genlab_data::Shape) -> Images {
    let n = v.len() / from.dim().max(1);
    let mut out = Vec::with_capacity(n * to.dim());
    for i in 0..n {
        let img = &v[i * from.dim()..(i + 1) * from.dim()];
        for c in 0..to.c {
            let ci = if from.c == to.c { c } else { 0 };
            for r in 0..to.h {
                for col in 0..to.w {
                    // Nearest pixel: repeated when the input is smaller, skipped when larger.
                    let (ri, cj) = (r * from.h / to.h, col * from.w / to.w);
                    out.push(img[(ci * from.h + ri) * from.w + cj]);
                }
            }
        }
    }
    Images::new(out, n, to.c, to.h, to.w)
}

/// Rows of `(images, caption)` interleaved in blocks of `cols`: row 1 of each, then row 2 of
/// each, ...; a short last block filled with blank cells. All of one shape.
pub fn paired_rows(rows: &[(&Images, &str)], cols: usize, title: String) -> image::RgbImage {
    let first = rows[0].0;
    let n = first.n;
    let cols = cols.min(n).max(1);
    let per = first.c * first.h * first.w;
    let mut cells = Vec::new();
    let (mut blank, mut row_labels) = (Vec::new(), Vec::new());
    for start in (0..n).step_by(cols) {
        let end = (start + cols).min(n);
        for (src, label) in rows {
            cells.extend_from_slice(&src.data[start * per..end * per]);
            for _ in end..start + cols {
                blank.push(cells.len() / per);
                cells.extend(std::iter::repeat_n(0.0, per));
            }
            row_labels.push(label.to_string());
        }
    }
    let cells = Images::new(cells, row_labels.len() * cols, first.c, first.h, first.w);
    Grid {
        cols,
        title,
        row_labels,
        blank,
        ..Grid::default()
    }
    .render(&cells)
}

/// Rows of inputs, their translations, the round trip back (models of both directions) and the
/// targets (the true answers, where known), each row captioned;
/// titled "`about` · translations of 16 `of` (`input caption`)". `rng` draws the model's noise.
#[allow(clippy::too_many_arguments)]
pub fn translation_picture(
    model: &dyn Model,
    info: &DataInfo,
    input: Tensor<2>,
    target: Option<Tensor<2>>,
    cols: usize,
    (about, of, input_caption): (&About, &str, &str),
    rng: &mut ChaCha8Rng,
) -> Result<image::RgbImage> {
    let tr = model
        .as_translate()
        .ok_or_else(|| cannot(model, "translate", "genlab sample"))?;
    let output = tr.translate(input.clone(), rng)?;
    // A model of both directions also shows the way back: F(G(x)), which should be x.
    let round_trip = match tr.translate_back(output.clone(), rng) {
        Some(back) => {
            let unit: Vec<f32> = genlab_core::tensor::to_vec(back?)
                .into_iter()
                .map(|v| info.preprocess.to_unit(v))
                .collect();
            Some(inputs_as_images(&unit, tr.input_shape(), info.shape))
        }
        None => None,
    };
    let output = to_images(output, info);
    let unit: Vec<f32> = genlab_core::tensor::to_vec(input)
        .into_iter()
        .map(|v| info.preprocess.to_unit(v))
        .collect();
    let input = inputs_as_images(&unit, tr.input_shape(), info.shape);
    let mut rows: Vec<(&Images, &str)> = vec![(&input, "input"), (&output, "output")];
    if let Some(r) = &round_trip {
        rows.push((r, "round trip"));
    }
    let target = target.map(|t| to_images(t, info));
    if let Some(t) = &target {
        rows.push((t, "target"));
    }
    let n = output.n;
    Ok(paired_rows(
        &rows,
        cols,
        about.title(&format!("translations of {n} {of} ({input_caption})")),
    ))
}

/// Spherical interpolation between two latent vectors (Shoemake 1985; White 2016 for GANs).
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    let lerp = || a.iter().zip(b).map(|(x, y)| x + t * (y - x)).collect();
    if na < 1e-12 || nb < 1e-12 {
        return lerp();
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let omega = (dot / (na * nb)).clamp(-1.0, 1.0).acos();
    if omega.sin() < 1e-6 {
        return lerp(); // the same or exactly opposite directions
    }
    // The direction along the great circle, the norm linearly between the two: White's
    // formula on the raw codes divides their difference in norm by sin(omega), which runs
    // away for nearly opposite codes.
    let (sa, sb) = (
        ((1.0 - t) * omega).sin() / (omega.sin() * na),
        (t * omega).sin() / (omega.sin() * nb),
    );
    let scale = (1.0 - t) * na + t * nb;
    a.iter()
        .zip(b)
        .map(|(x, y)| scale * (sa * x + sb * y))
        .collect()
}

/// Rows of `steps` decoded points between pairs of codes: `pairs` is a list of (z_a, z_b);
/// the columns captioned with t (0 at z_a, 1 at z_b) under `title`.
pub fn interpolation_picture(
    latent: &dyn LatentDecode,
    info: &DataInfo,
    pairs: &[(Vec<f32>, Vec<f32>)],
    steps: usize,
    spherical: bool,
    title: String,
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
    let path = if spherical {
        "t along the arc between two codes (slerp)"
    } else {
        "t along the line between two codes (lerp)"
    };
    Ok(Grid {
        cols: steps,
        title,
        col_header: path.to_string(),
        col_labels: (0..steps)
            .map(|i| short(i as f64 / (steps - 1).max(1) as f64))
            .collect(),
        ..Grid::default()
    }
    .render(&to_images(x, info)))
}

/// For a 2-D latent: decode a `side x side` grid through the Gaussian inverse CDF, as in
/// Kingma & Welling's figure 4 (or a uniform grid of [-3, 3]^2 without a Gaussian prior),
/// z1 along the columns and z2 up the rows, captioned with their values, under "`about` · ...".
pub fn manifold_picture(
    latent: &dyn LatentDecode,
    info: &DataInfo,
    side: usize,
    (about, decoded): (&About, &str),
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
    let grid_of = if latent.gaussian_prior() {
        "Gaussian quantiles"
    } else {
        "[-3, 3]^2"
    };
    Ok(Grid {
        cols: side,
        scale: 1,
        gutter: 0,
        title: about.title(&format!(
            "the decoder over a {side}x{side} grid of z ({grid_of}){decoded}"
        )),
        col_header: "z1".into(),
        col_labels: (0..side).map(|c| short(coord(c) as f64)).collect(),
        row_header: "z2".into(),
        row_labels: (0..side)
            .map(|r| short(coord(side - 1 - r) as f64))
            .collect(),
        ..Grid::default()
    }
    .render(&to_images(x, info)))
}

/// The true modes of a toy set, drawn over its scatter plots (none for other data).
fn mode_centers(info: &DataInfo) -> &[[f32; 2]] {
    info.modes.as_ref().map_or(&[], |m| &m.centers)
}

/// A logged loss: its name, first and last value.
pub type SeriesEnds = (String, f64, f64);

/// Training curves of `family`'s run from its metrics.jsonl (one panel per loss or measured
/// metric, on its own range, and one per loss that sums others), with each one's first and
/// last logged value;
/// None before the first log line.
pub fn curves_picture(
    run: &genlab_core::run_dir::RunDir,
    family: &str,
) -> Result<Option<(image::RgbImage, Vec<SeriesEnds>)>> {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let metrics = run.read_metrics()?;
    let last = metrics.last().map_or(0, |l| l.step);
    // Losses, then measurements such as a GAN's mode coverage, each its own panel.
    for line in metrics {
        for (k, val) in line.losses.into_iter().chain(line.metrics) {
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
    let about = About::new(family, run.path(), last);
    let title = about.title("training curves, each point the mean since the one before");
    Ok(Some((genlab_viz::panels_png(&title, &series).0, ends)))
}

/// Write a PNG atomically.
pub fn save_png(path: &std::path::Path, img: &image::RgbImage) -> Result<()> {
    genlab_core::run_dir::atomic_write(path, &genlab_viz::png_bytes(img))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A standard normal in every column, of whatever values it is given.
    struct StandardNormal;

    impl Likelihood for StandardNormal {
        fn log_likelihood(
            &self,
            x: Tensor<2>,
            _k: usize,
            _rng: &mut ChaCha8Rng,
        ) -> Result<Vec<f64>> {
            let d = x.dims()[1];
            Ok(genlab_core::tensor::to_vec(x)
                .chunks(d)
                .map(|row| {
                    row.iter()
                        .map(|&z| -0.5 * (z as f64).powi(2) - 0.5 * std::f64::consts::TAU.ln())
                        .sum()
                })
                .collect())
        }
        fn bound(&self, _k: usize) -> Bound {
            Bound::Exact
        }
    }

    #[test]
    fn points_are_drawn_and_evaluated_in_the_data_units() {
        // The model sees z-scores of a column near 1.7e9 with a spread of 50.
        let info = DataInfo {
            kind: Kind::Points,
            shape: genlab_data::Shape { c: 1, h: 1, w: 1 },
            classes: 0,
            preprocess: genlab_core::config::DataConfig::default().preprocess(),
            modes: None,
            standardization: Some(genlab_data::Standardization {
                mean: vec![1.7e9],
                std: vec![50.0],
            }),
            input: None,
        };
        // Samples z = -1, 0, 2 are 1.7e9 - 50, 1.7e9, 1.7e9 + 100 (f32 would round to 128s).
        assert_eq!(
            data_units(&[-1.0, 0.0, 2.0], &info),
            [1.7e9 - 50.0, 1.7e9, 1.7e9 + 100.0]
        );
        // p(x) = N(z; 0, 1) / 50: at the mean, 1 / (50 sqrt(2 pi)).
        let device = Device::default();
        let logp = log_density(&StandardNormal, &info, &[1.7e9, 1.7e9 + 100.0], &device).unwrap();
        let at_mean = -0.5 * std::f64::consts::TAU.ln() - 50f64.ln();
        assert!((logp[0] - at_mean).abs() < 1e-9, "{logp:?}");
        assert!((logp[1] - (at_mean - 2.0)).abs() < 1e-6, "{logp:?}");
    }

    #[test]
    fn titles_name_family_run_and_step() {
        let about = About::new("vae", Path::new("runs/vae"), 3000);
        assert_eq!(
            about.title("64 samples from fixed noise"),
            "vae · runs/vae · step 3000 · 64 samples from fixed noise"
        );
        assert_eq!(short(-1.959964), "-1.96");
        assert_eq!(short(0.5), "0.5");
        assert_eq!(short(-0.001), "0");
        assert_eq!(short(2.0), "2");
        // What a picture of samples shows of a model of bits is in its title.
        assert_eq!(samples_caption(64, Draw::Values), "64 samples");
        assert_eq!(samples_caption(64, Draw::Bits), "64 binary draws");
        assert_eq!(
            samples_caption(8, Draw::Probabilities),
            "8 samples, P(x = 1) per pixel"
        );
    }

    #[test]
    fn slerp_keeps_the_norm_between_orthogonal_unit_vectors() {
        let m = slerp(&[1.0, 0.0], &[0.0, 1.0], 0.5);
        assert!(((m[0] * m[0] + m[1] * m[1]).sqrt() - 1.0).abs() < 1e-6);
        // Nearly opposite codes of norms 1 and 2.0006: every point's norm stays between them
        // (the raw-code formula gave norms near 40 here), ends exact.
        let (a, b) = ([1.0, 0.0], [-2.0, 0.05]);
        for i in 0..=10 {
            let m = slerp(&a, &b, i as f32 / 10.0);
            let n = (m[0] * m[0] + m[1] * m[1]).sqrt();
            assert!((1.0 - 1e-4..=2.001).contains(&n), "t {i}: norm {n}");
        }
        assert_eq!(slerp(&a, &b, 0.0), a);
        let end = slerp(&a, &b, 1.0);
        assert!((end[0] - b[0]).abs() < 1e-5 && (end[1] - b[1]).abs() < 1e-5);
    }
}
