//! Mode coverage of a 2-D model's samples on a mixture with known modes (`toy:ring8`,
//! `toy:grid25`), on the protocol of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al.
//! 2018, Table 1), as their code computes it:
//!   1. draw `samples` points from the model (2,500 in both papers), seeded;
//!   2. a point is high quality if its distance to the nearest mode is below
//!      `threshold_sigmas` (3) standard deviations of the modes;
//!   3. a mode is captured if at least one high-quality point is nearest to it;
//!   4. reverse KL = KL(q || uniform), q the distribution of high-quality points over modes.
//!
//! NOTE: with no high-quality point at all, q is undefined and `reverse_kl` is null.

use anyhow::Result;
use burn::tensor::Device;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::Model;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct ModeProtocol {
    pub samples: usize,
    pub sigma: f32,
    pub threshold_sigmas: f32,
    pub seed: u64,
    pub captured_if: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModeCoverage {
    pub modes_captured: usize,
    pub modes_total: usize,
    pub high_quality_fraction: f64,
    pub reverse_kl: Option<f64>,
    /// High-quality points nearest to each mode.
    pub per_mode: Vec<usize>,
    /// `mode_protocol` in JSON: `protocol` is the sample-quality metrics' (issue 21).
    #[serde(rename = "mode_protocol")]
    pub protocol: ModeProtocol,
}

/// The collapse alarm, read from one mode-coverage measurement during training:
///   (a) coverage fell below 3/4 of the best so far (mode collapse; small wobbles are normal
///       early on, when a few stray samples decide whether a mode counts), or
///   (b) once a quarter of training is done, fewer than [`LOW_QUALITY`] of the samples lie
///       within 3 sigma of any mode (the modes "captured" then hang on a few stray points).
/// `best` is the most modes captured before this measurement, `progress` the share of the
/// training steps done. Returns the reason, or None.
pub fn collapse_alarm(c: &ModeCoverage, best: usize, progress: f64) -> Option<String> {
    if 4 * c.modes_captured < 3 * best {
        return Some(format!(
            "coverage fell from {best} modes to {} (mode collapse)",
            c.modes_captured
        ));
    }
    if progress >= 0.25 && c.high_quality_fraction < LOW_QUALITY {
        return Some(format!(
            "only {:.1}% of the samples lie within 3 sigma of a mode after {:.0}% of training (the modes are not learned; captured ones hang on stray samples)",
            100.0 * c.high_quality_fraction,
            100.0 * progress
        ));
    }
    None
}

/// The high-quality share below which rule (b) of [`collapse_alarm`] fires.
pub const LOW_QUALITY: f64 = 0.25;

/// The counts of steps 2-4 for `points` (x, y pairs).
pub fn coverage_of(points: &[f32], modes: &[[f32; 2]], sigma: f32) -> (Vec<usize>, usize) {
    let threshold = 3.0 * sigma;
    let mut per_mode = vec![0usize; modes.len()];
    let mut n = 0;
    for p in points.chunks_exact(2) {
        n += 1;
        let (j, d2) = modes
            .iter()
            .enumerate()
            .map(|(j, m)| (j, (p[0] - m[0]).powi(2) + (p[1] - m[1]).powi(2)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("at least one mode");
        if d2.sqrt() < threshold {
            per_mode[j] += 1;
        }
    }
    (per_mode, n)
}

/// KL(q || uniform over the modes) of the high-quality counts; None if there are none.
pub fn reverse_kl(per_mode: &[usize]) -> Option<f64> {
    let total: usize = per_mode.iter().sum();
    (total > 0).then(|| {
        let m = per_mode.len() as f64;
        per_mode
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let q = c as f64 / total as f64;
                q * (q * m).ln()
            })
            .sum()
    })
}

/// Steps 1-4 for a model that samples.
pub fn mode_coverage(
    model: &dyn Model,
    modes: &[[f32; 2]],
    sigma: f32,
    samples: usize,
    seed: u64,
    device: &Device,
) -> Result<Option<ModeCoverage>> {
    let Some(sampler) = model.as_sample() else {
        return Ok(None);
    };
    let mut rng = rng_for(seed, 1, Stream::Eval);
    let x = sampler.sample(samples, &mut rng, device)?;
    let points = genlab_core::tensor::to_vec(x);
    let (per_mode, n) = coverage_of(&points, modes, sigma);
    let hq: usize = per_mode.iter().sum();
    Ok(Some(ModeCoverage {
        modes_captured: per_mode.iter().filter(|&&c| c > 0).count(),
        modes_total: modes.len(),
        high_quality_fraction: hq as f64 / n.max(1) as f64,
        reverse_kl: reverse_kl(&per_mode),
        per_mode,
        protocol: ModeProtocol {
            samples,
            sigma,
            threshold_sigmas: 3.0,
            seed,
            captured_if: "at least one high-quality sample nearest to the mode",
        },
    }))
}

/// For a class-conditional model on a mixture whose labels are its modes (`toy:ring8`, label =
/// mode index): the fraction of `per_label` samples of each label whose nearest mode is that
/// label's, over all labels. None for models that cannot sample given a label.
pub fn label_accuracy(
    model: &dyn Model,
    modes: &[[f32; 2]],
    per_label: usize,
    seed: u64,
    device: &Device,
) -> Result<Option<f64>> {
    let Some(cond) = model.as_sample_given() else {
        return Ok(None);
    };
    let k = cond.classes().min(modes.len());
    let labels: Vec<u32> = (0..k as u32)
        .flat_map(|c| std::iter::repeat_n(c, per_label))
        .collect();
    let x = cond.sample_given(&labels, &mut rng_for(seed, 2, Stream::Eval), device)?;
    let points = genlab_core::tensor::to_vec(x);
    let correct = points
        .chunks_exact(2)
        .zip(&labels)
        .filter(|(p, &c)| {
            let nearest = modes
                .iter()
                .enumerate()
                .map(|(j, m)| (j, (p[0] - m[0]).powi(2) + (p[1] - m[1]).powi(2)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(j, _)| j);
            nearest == Some(c as usize)
        })
        .count();
    Ok(Some(correct as f64 / labels.len().max(1) as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: [[f32; 2]; 4] = [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]];

    #[test]
    fn collapse_on_one_mode_captures_one_with_reverse_kl_log_m() {
        // 10 points on mode 0 (within 3 sigma), 10 far from every mode.
        let mut pts = Vec::new();
        for i in 0..10 {
            pts.extend([0.01 * i as f32, 0.0]);
            pts.extend([1.0, 1.0 + 0.01 * i as f32]);
        }
        let (per_mode, n) = coverage_of(&pts, &SQUARE, 0.05);
        assert_eq!((per_mode.clone(), n), (vec![10, 0, 0, 0], 20));
        let kl = reverse_kl(&per_mode).unwrap();
        assert!((kl - 4f64.ln()).abs() < 1e-12, "{kl}");
    }

    #[test]
    fn even_coverage_has_zero_reverse_kl_and_none_without_good_points() {
        let pts: Vec<f32> = SQUARE.iter().flat_map(|m| [m[0] + 0.1, m[1]]).collect();
        let (per_mode, _) = coverage_of(&pts, &SQUARE, 0.05);
        assert_eq!(per_mode, vec![1, 1, 1, 1]);
        assert!(reverse_kl(&per_mode).unwrap().abs() < 1e-12);
        // 0.1 is 2 sigma at sigma 0.05 but 4 sigma at 0.025: no high-quality point.
        let (per_mode, _) = coverage_of(&pts, &SQUARE, 0.025);
        assert_eq!(reverse_kl(&per_mode), None);
    }

    fn measured(captured: usize, total: usize, hq: f64) -> ModeCoverage {
        ModeCoverage {
            modes_captured: captured,
            modes_total: total,
            high_quality_fraction: hq,
            reverse_kl: None,
            per_mode: Vec::new(),
            protocol: ModeProtocol {
                samples: 2500,
                sigma: 0.05,
                threshold_sigmas: 3.0,
                seed: 0,
                captured_if: "",
            },
        }
    }

    /// A logged sequence, no training: (step, modes, high-quality share) of a grid25 run of
    /// 10,000 steps that captures modes through stray samples while 7% lie near a mode, then
    /// of one that collapses.
    #[test]
    fn the_alarm_fires_on_collapse_and_on_a_low_high_quality_share() {
        let run = |log: &[(u64, usize, f64)]| -> Vec<u64> {
            let mut best = 0;
            let mut fired = Vec::new();
            for &(step, modes, hq) in log {
                let c = measured(modes, 25, hq);
                if collapse_alarm(&c, best, step as f64 / 10_000.0).is_some() {
                    fired.push(step);
                }
                best = best.max(modes);
            }
            fired
        };
        // Early, low quality is normal; at 4,000 steps 7% is not.
        let stray = [
            (500, 5, 0.01),
            (2000, 12, 0.04),
            (4000, 24, 0.07),
            (6000, 25, 0.30),
        ];
        assert_eq!(run(&stray), vec![4000]);
        let collapse = [
            (1000, 20, 0.6),
            (2000, 25, 0.8),
            (3000, 18, 0.8),
            (4000, 25, 0.9),
        ];
        assert_eq!(run(&collapse), vec![3000]);
        let healthy = [
            (1000, 10, 0.2),
            (3000, 20, 0.5),
            (6000, 24, 0.8),
            (10_000, 25, 0.9),
        ];
        assert!(run(&healthy).is_empty());
    }
}
