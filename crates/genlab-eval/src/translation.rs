//! Scores of image-to-image translation on tasks with known answers (genlab-data's tasks): the
//! translator's outputs against the true targets, beside the same scores of baselines that
//! need no learning, so a number says how much the model adds.
//!
//! - `l1`: mean absolute error per pixel, images in [0, 1];
//! - `psnr`: peak signal-to-noise ratio 10 log10(1 / MSE) in dB, data range 1, the mean of
//!   per-image values (an exact match counts as [`PSNR_CAP`] dB, not infinity);
//! - `ssim`: structural similarity (Wang et al. 2004) exactly as scikit-image's
//!   `structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5,
//!   use_sample_covariance=False)` computes it: Gaussian-weighted local means, variances and
//!   covariance (σ = 1.5, truncated at 3.5 σ: an 11x11 window), K1 = 0.01, K2 = 0.03, the mean
//!   of the SSIM map with the 5-pixel border (half the window) cropped; colour images: the mean
//!   over channels. Goldens against scikit-image: tests/translation_golden.rs.
//!
//! Unpaired domains (`unpaired(A,B):SPEC`) have no answers: `iou` (the intersection over union
//! of the input's and the output's foregrounds, pixels whose channel mean exceeds
//! [`FOREGROUND`]: is the silhouette kept?) and `diversity` (mean L1 between 2,000 fixed pairs
//! of outputs) beside `diversity_input` and their `diversity_ratio` (a generator that ignores
//! its input and always draws one boot scores near 0).
//!
//! Baselines (keys `l1_NAME`, `psnr_NAME`, `ssim_NAME`): `input` (the input itself, for tasks
//! whose input has the target's size: a grey input copied to each colour channel), `bicubic`
//! (super-resolution: bicubic upsampling with Keys' a = -0.5 and PIL's border rule,
//! [`bicubic_upsample`]), `mean` (inpainting: the hole filled with the mean training image).

use anyhow::Result;
use burn::tensor::Device;
use genlab_core::{DataInfo, Translate};
use genlab_data::{Dataset, Shape, Task};
use rand_chacha::ChaCha8Rng;

/// The PSNR of an exact match, in dB (MSE floored at 1e-10).
pub const PSNR_CAP: f64 = 100.0;
/// Rows per translation call.
const CHUNK: usize = 500;

/// Mean absolute difference per pixel of two images.
pub fn l1(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() as f64)
        .sum::<f64>()
        / a.len() as f64
}

/// PSNR in dB of two images with values in [0, 1].
pub fn psnr(a: &[f32], b: &[f32]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| ((x - y) as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (1.0 / mse.max(1e-10)).log10()
}

/// The 1-D Gaussian of scipy.ndimage.gaussian_filter: σ = 1.5, radius int(3.5 σ + 0.5) = 5,
/// normalised to sum 1.
fn gaussian_taps() -> [f64; 11] {
    let sigma = 1.5f64;
    let mut w: [f64; 11] = std::array::from_fn(|i| {
        let x = i as f64 - 5.0;
        (-0.5 * x * x / (sigma * sigma)).exp()
    });
    let sum: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= sum);
    w
}

/// SSIM of one channel `[h*w]`; see the module docs. Images smaller than 11x11 have no window
/// inside them: scikit-image refuses them, and so does this (None).
pub fn ssim_channel(a: &[f32], b: &[f32], h: usize, w: usize) -> Option<f64> {
    const R: usize = 5;
    if h < 2 * R + 1 || w < 2 * R + 1 {
        return None;
    }
    let g = gaussian_taps();
    // Filtered maps, valid only at least R from every border (the only places kept).
    let filter = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
        let mut rows = vec![0.0; h * w];
        for r in 0..h {
            for c in R..w - R {
                rows[r * w + c] = (0..=2 * R).map(|k| g[k] * f(r * w + c + k - R)).sum();
            }
        }
        let mut out = vec![0.0; h * w];
        for r in R..h - R {
            for c in R..w - R {
                out[r * w + c] = (0..=2 * R).map(|k| g[k] * rows[(r + k - R) * w + c]).sum();
            }
        }
        out
    };
    let (x, y) = (|i: usize| a[i] as f64, |i: usize| b[i] as f64);
    let ux = filter(&x);
    let uy = filter(&y);
    let uxx = filter(&|i| x(i) * x(i));
    let uyy = filter(&|i| y(i) * y(i));
    let uxy = filter(&|i| x(i) * y(i));
    let (c1, c2) = (0.01f64.powi(2), 0.03f64.powi(2));
    let mut sum = 0.0;
    for r in R..h - R {
        for c in R..w - R {
            let i = r * w + c;
            let (mx, my) = (ux[i], uy[i]);
            let (vx, vy, vxy) = (uxx[i] - mx * mx, uyy[i] - my * my, uxy[i] - mx * my);
            sum += ((2.0 * mx * my + c1) * (2.0 * vxy + c2))
                / ((mx * mx + my * my + c1) * (vx + vy + c2));
        }
    }
    Some(sum / ((h - 2 * R) * (w - 2 * R)) as f64)
}

/// SSIM of two images `[c*h*w]`: the mean over channels.
pub fn ssim(a: &[f32], b: &[f32], s: Shape) -> Option<f64> {
    let hw = s.h * s.w;
    let mut sum = 0.0;
    for c in 0..s.c {
        sum += ssim_channel(&a[c * hw..(c + 1) * hw], &b[c * hw..(c + 1) * hw], s.h, s.w)?;
    }
    Some(sum / s.c as f64)
}

/// PIL's bicubic kernel (Keys 1981, a = -0.5).
fn keys(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// PIL's resampling weights from `n_in` to `n_out` samples (upsampling): for output i, the
/// first input index and the weights, normalised to sum 1 (PIL's border rule: taps outside
/// the image are dropped and the rest renormalised).
fn bicubic_weights(n_in: usize, n_out: usize) -> Vec<(usize, Vec<f64>)> {
    let scale = n_in as f64 / n_out as f64;
    let support = 2.0;
    (0..n_out)
        .map(|i| {
            let center = (i as f64 + 0.5) * scale;
            let lo = ((center - support + 0.5) as i64).max(0) as usize;
            let hi = ((center + support + 0.5) as i64).min(n_in as i64) as usize;
            let mut w: Vec<f64> = (lo..hi).map(|x| keys(x as f64 - center + 0.5)).collect();
            let sum: f64 = w.iter().sum();
            if sum != 0.0 {
                w.iter_mut().for_each(|v| *v /= sum);
            }
            (lo, w)
        })
        .collect()
}

/// Bicubic upsampling of one image `[c*h*w]` to `[c*(h*f)*(w*f)]` as PIL's
/// `Image.resize(..., Image.BICUBIC)` on a float image, without clipping.
pub fn bicubic_upsample(img: &[f32], s: Shape, f: usize) -> Vec<f32> {
    let (h2, w2) = (s.h * f, s.w * f);
    let (wx, wy) = (bicubic_weights(s.w, w2), bicubic_weights(s.h, h2));
    let mut out = Vec::with_capacity(s.c * h2 * w2);
    for c in 0..s.c {
        let plane = &img[c * s.h * s.w..(c + 1) * s.h * s.w];
        // Horizontal pass [h, w2], then vertical [h2, w2].
        let mut rows = vec![0.0f64; s.h * w2];
        for r in 0..s.h {
            for (j, (lo, w)) in wx.iter().enumerate() {
                rows[r * w2 + j] = w
                    .iter()
                    .enumerate()
                    .map(|(k, wk)| wk * plane[r * s.w + lo + k] as f64)
                    .sum();
            }
        }
        for (lo, w) in &wy {
            for j in 0..w2 {
                let v: f64 = w
                    .iter()
                    .enumerate()
                    .map(|(k, wk)| wk * rows[(lo + k) * w2 + j])
                    .sum();
                out.push(v as f32);
            }
        }
    }
    out
}

/// Running means of the three scores over images.
#[derive(Default)]
struct Means {
    l1: f64,
    psnr: f64,
    ssim: f64,
    n: usize,
}

impl Means {
    fn add(&mut self, out: &[f32], target: &[f32], s: Shape) {
        self.l1 += l1(out, target);
        self.psnr += psnr(out, target);
        self.ssim += ssim(out, target, s).unwrap_or(f64::NAN);
        self.n += 1;
    }

    fn write(&self, suffix: &str, out: &mut serde_json::Map<String, serde_json::Value>) {
        let n = self.n.max(1) as f64;
        for (k, v) in [("l1", self.l1), ("psnr", self.psnr), ("ssim", self.ssim)] {
            let v = v / n;
            if v.is_finite() {
                out.insert(format!("{k}{suffix}"), v.into());
            }
        }
    }
}

/// `l1`, `psnr` and `ssim` of `outputs` against `targets` (both `[n, s.dim()]` in [0, 1]), each
/// the mean of per-image values as [`translation_scores`] reports them, into `out` under
/// `l1{suffix}`, `psnr{suffix}`, `ssim{suffix}`. Scores answers made outside a translator, such
/// as `genlab complete --json`'s completions of the `hole` task.
pub fn paired_scores(
    outputs: &[f32],
    targets: &[f32],
    s: Shape,
    suffix: &str,
    out: &mut serde_json::Map<String, serde_json::Value>,
) {
    let mut m = Means::default();
    for (o, t) in outputs.chunks(s.dim()).zip(targets.chunks(s.dim())) {
        m.add(o, t, s);
    }
    m.write(suffix, out);
}

/// A baseline's answer for input `x` (values in [0, 1]) of the task.
type Baseline<'a> = (&'a str, Box<dyn Fn(&[f32]) -> Vec<f32> + 'a>);

/// The baselines that make sense for `task` (see the module docs); `mean` is the mean training
/// image `[c*h*w]` for inpainting.
fn baselines<'a>(
    task: Option<&Task>,
    input: Shape,
    target: Shape,
    mean: &'a [f32],
) -> Vec<Baseline<'a>> {
    let mut v: Vec<Baseline> = Vec::new();
    let channels_fit = input.c == target.c || input.c == 1;
    if (input.h, input.w) == (target.h, target.w) && channels_fit {
        v.push((
            "input",
            Box::new(move |x: &[f32]| {
                if input.c == target.c {
                    x.to_vec()
                } else {
                    (0..target.c).flat_map(|_| x.iter().copied()).collect()
                }
            }),
        ));
    } else if input.c == target.c
        && target.h.is_multiple_of(input.h)
        && target.h / input.h == target.w / input.w
    {
        let f = target.h / input.h;
        v.push((
            "bicubic",
            Box::new(move |x: &[f32]| bicubic_upsample(x, input, f)),
        ));
    }
    if let Some(Task::Hole(side)) = task {
        let hole = genlab_data::Hole::centred(*side, target);
        v.push((
            "mean",
            Box::new(move |x: &[f32]| {
                let mut y = x.to_vec();
                for c in 0..target.c {
                    for r in hole.top..hole.top + hole.side {
                        for col in hole.left..hole.left + hole.side {
                            let i = (c * target.h + r) * target.w + col;
                            y[i] = mean[i];
                        }
                    }
                }
                y
            }),
        ));
    }
    v
}

/// `l1`, `psnr`, `ssim` of `tr`'s outputs on every pair of `data` (test pairs), and of each
/// baseline, into `out`; returns the outputs `[n, c*h*w]` in [0, 1] for the judge. `train_mean`
/// is the mean training image (the inpainting baseline). `rng` draws the model's noise.
#[allow(clippy::too_many_arguments)]
pub fn translation_scores(
    tr: &dyn Translate,
    info: &DataInfo,
    data: &Dataset,
    task: Option<&Task>,
    train_mean: &[f32],
    rng: &mut ChaCha8Rng,
    device: &Device,
    out: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<f32>> {
    let inputs = data.input.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "{} has no inputs: evaluate a translator on an image-to-image task",
            data.name
        )
    })?;
    let (s, si) = (data.shape, inputs.shape);
    if !inputs.paired {
        return unpaired_scores(tr, info, inputs, s, rng, device, out);
    }
    let base = baselines(task, si, s, train_mean);
    let mut model = Means::default();
    let mut others: Vec<Means> = base.iter().map(|_| Means::default()).collect();
    let outputs = translate_all(tr, info, inputs, s, rng, device)?;
    for i in 0..data.len() {
        let (o, t) = (&outputs[i * s.dim()..(i + 1) * s.dim()], data.example(i));
        model.add(o, t, s);
        for ((_, f), m) in base.iter().zip(&mut others) {
            m.add(&f(inputs.example(i)), t, s);
        }
    }
    model.write("", out);
    for ((name, _), m) in base.iter().zip(&others) {
        m.write(&format!("_{name}"), out);
    }
    out.insert("n_examples".into(), data.len().into());
    Ok(outputs)
}

/// `tr`'s outputs `[n, s.dim()]` in [0, 1] for every input of `inputs`, translated in chunks
/// of [`CHUNK`] with the model's noise from `rng`.
fn translate_all(
    tr: &dyn Translate,
    info: &DataInfo,
    inputs: &genlab_data::Inputs,
    s: Shape,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<Vec<f32>> {
    let (si, n) = (inputs.shape, inputs.len());
    let pre = info.preprocess.for_evaluation();
    let mut outputs = Vec::with_capacity(n * s.dim());
    let mut progress = genlab_core::progress::Progress::new("translating test inputs", n as u64);
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let x: Vec<f32> = (start..end)
            .flat_map(|i| inputs.example(i).iter().map(|&v| pre.from_unit(v)))
            .collect();
        let x = genlab_core::tensor::matrix(x, end - start, si.dim(), device);
        outputs.extend(
            genlab_core::tensor::to_vec(tr.translate(x, rng)?)
                .into_iter()
                .map(|v| pre.to_unit(v)),
        );
        progress.inc((end - start) as u64);
    }
    Ok(outputs)
}

/// A pixel is foreground when the mean of its channels exceeds this (images in [0, 1]).
pub const FOREGROUND: f32 = 0.1;
/// Pairs of images sampled for the diversity score.
const DIVERSITY_PAIRS: usize = 2000;

/// Foreground mask `[h*w]` of one image `[c*h*w]`.
fn foreground(x: &[f32], s: Shape) -> Vec<bool> {
    let hw = s.h * s.w;
    (0..hw)
        .map(|p| (0..s.c).map(|c| x[c * hw + p]).sum::<f32>() / s.c as f32 > FOREGROUND)
        .collect()
}

/// Intersection over union of the foregrounds of two images of one size (1 when both are
/// empty): does a translation keep the input's silhouette?
pub fn silhouette_iou(a: &[f32], sa: Shape, b: &[f32], sb: Shape) -> f64 {
    let (fa, fb) = (foreground(a, sa), foreground(b, sb));
    let inter = fa.iter().zip(&fb).filter(|(x, y)| **x && **y).count();
    let union = fa.iter().zip(&fb).filter(|(x, y)| **x || **y).count();
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// Mean L1 distance between [`DIVERSITY_PAIRS`] fixed pairs of distinct rows of `x [n, d]`.
pub fn diversity(x: &[f32], d: usize) -> f64 {
    let n = x.len() / d;
    if n < 2 {
        return 0.0;
    }
    let pairs = DIVERSITY_PAIRS.min(n * (n - 1) / 2);
    (0..pairs)
        .map(|k| {
            let i = k % n;
            let j = (i + 1 + (k * 7919) % (n - 1)) % n;
            l1(&x[i * d..(i + 1) * d], &x[j * d..(j + 1) * d])
        })
        .sum::<f64>()
        / pairs as f64
}

/// Unpaired domains have no answers to compare with: `iou` (silhouette kept, mean over the
/// inputs), `diversity` of the outputs and of the inputs and their ratio (a generator that
/// ignores its input and draws one boot scores near 0); the outputs, in [0, 1], for the judge.
#[allow(clippy::too_many_arguments)]
fn unpaired_scores(
    tr: &dyn Translate,
    info: &DataInfo,
    inputs: &genlab_data::Inputs,
    s: Shape,
    rng: &mut ChaCha8Rng,
    device: &Device,
    out: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<f32>> {
    let (si, n) = (inputs.shape, inputs.len());
    let outputs = translate_all(tr, info, inputs, s, rng, device)?;
    let iou: f64 = (0..n)
        .map(|i| {
            silhouette_iou(
                inputs.example(i),
                si,
                &outputs[i * s.dim()..(i + 1) * s.dim()],
                s,
            )
        })
        .sum();
    let (d_out, d_in) = (diversity(&outputs, s.dim()), diversity(&inputs.x, si.dim()));
    out.insert("iou".into(), (iou / n.max(1) as f64).into());
    out.insert("diversity".into(), d_out.into());
    out.insert("diversity_input".into(), d_in.into());
    out.insert("diversity_ratio".into(), (d_out / d_in.max(1e-12)).into());
    out.insert("n_examples".into(), n.into());
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_images_score_perfectly_and_noise_lowers_them() {
        let s = Shape { c: 1, h: 16, w: 16 };
        let a: Vec<f32> = (0..256).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
        assert_eq!(l1(&a, &a), 0.0);
        assert_eq!(psnr(&a, &a), PSNR_CAP);
        assert!((ssim(&a, &a, s).unwrap() - 1.0).abs() < 1e-12);
        let b: Vec<f32> = a.iter().map(|v| (v + 0.1).min(1.0)).collect();
        assert!(ssim(&a, &b, s).unwrap() < 1.0);
        // A constant offset of 0.1 everywhere: MSE 0.01, 20 dB (where nothing clips).
        let c: Vec<f32> = a.iter().map(|v| v * 0.5 + 0.1).collect();
        let d: Vec<f32> = a.iter().map(|v| v * 0.5).collect();
        assert!((psnr(&c, &d) - 20.0).abs() < 1e-4);
        assert!(
            ssim(&a, &a, Shape { c: 1, h: 10, w: 10 }).is_none(),
            "no 11x11 window fits"
        );
    }

    #[test]
    fn silhouettes_and_diversity_catch_a_generator_that_ignores_its_input() {
        let s = Shape { c: 1, h: 4, w: 4 };
        let mut a = vec![0.0f32; 16];
        a[5] = 1.0;
        a[6] = 1.0;
        let mut b = vec![0.0f32; 16];
        b[6] = 1.0;
        assert!((silhouette_iou(&a, s, &b, s) - 0.5).abs() < 1e-12);
        assert_eq!(silhouette_iou(&[0.0; 16], s, &[0.0; 16], s), 1.0);
        let varied: Vec<f32> = (0..64).map(|i| ((i * 13) % 7) as f32 / 7.0).collect();
        let same: Vec<f32> = (0..64).map(|i| (i % 16) as f32 / 16.0).collect();
        assert!(diversity(&varied, 16) > 0.1);
        assert_eq!(diversity(&same, 16), 0.0, "four copies of one image");
    }

    #[test]
    fn bicubic_keeps_constants_and_interpolates_between_samples() {
        let s = Shape { c: 1, h: 4, w: 4 };
        let flat = vec![0.25f32; 16];
        assert!(bicubic_upsample(&flat, s, 2)
            .iter()
            .all(|v| (v - 0.25).abs() < 1e-6));
        let ramp: Vec<f32> = (0..16).map(|i| (i % 4) as f32).collect();
        let up = bicubic_upsample(&ramp, s, 2);
        assert_eq!(up.len(), 64);
        // Inside the image a cubic through a linear ramp is the ramp: output column j sits at
        // input coordinate (j + 0.5) / 2 - 0.5.
        for j in 3..5 {
            let want = (j as f32 + 0.5) / 2.0 - 0.5;
            assert!(
                (up[8 + j] - want).abs() < 1e-5,
                "column {j}: {} vs {want}",
                up[8 + j]
            );
        }
    }
}
