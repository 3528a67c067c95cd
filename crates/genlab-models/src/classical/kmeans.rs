//! The starting responsibilities of EM, as sklearn's `GaussianMixture` chooses them: k-means++
//! seeds (Arthur & Vassilvitskii 2007), Lloyd's k-means from them, or random. Used by the mixture
//! families (`gmm`, `bgmm`) and `genlab gmm-select` through `mixture.rs`'s restarts.

use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Init {
    /// k-means++ seeding (Arthur & Vassilvitskii 2007), responsibilities = nearest seed.
    #[serde(rename = "kmeans++")]
    KmeansPlusPlus,
    /// Random responsibilities, normalised per example.
    #[serde(rename = "random")]
    Random,
    /// k-means++ seeding, then Lloyd's k-means to convergence (sklearn's default).
    #[serde(rename = "kmeans")]
    Kmeans,
}

/// Starting responsibilities `[n, K]` for EM.
pub fn initial_resp(x: &[f64], d: usize, k: usize, init: Init, rng: &mut impl Rng) -> Vec<f64> {
    let n = x.len() / d;
    let one_hot = |labels: &[usize]| {
        let mut r = vec![0.0; n * k];
        for (i, &l) in labels.iter().enumerate() {
            r[i * k + l] = 1.0;
        }
        r
    };
    match init {
        Init::Random => {
            let mut r: Vec<f64> = (0..n * k).map(|_| rng.random::<f64>()).collect();
            for row in r.chunks_exact_mut(k) {
                let s: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= s);
            }
            r
        }
        Init::KmeansPlusPlus => {
            let centers = kmeans_plus_plus(x, d, k, rng);
            one_hot(&nearest(x, d, &centers).0)
        }
        Init::Kmeans => {
            let mut centers = kmeans_plus_plus(x, d, k, rng);
            let mut labels = nearest(x, d, &centers).0;
            for _ in 0..300 {
                let mut sums = vec![0.0; k * d];
                let mut counts = vec![0usize; k];
                for (i, &l) in labels.iter().enumerate() {
                    counts[l] += 1;
                    for t in 0..d {
                        sums[l * d + t] += x[i * d + t];
                    }
                }
                for j in 0..k {
                    if counts[j] > 0 {
                        for t in 0..d {
                            centers[j * d + t] = sums[j * d + t] / counts[j] as f64;
                        }
                    }
                }
                let next = nearest(x, d, &centers).0;
                if next == labels {
                    break;
                }
                labels = next;
            }
            one_hot(&labels)
        }
    }
}

/// k-means++ seeds `[K, d]`: each next seed drawn with probability proportional to the squared
/// distance to the nearest seed so far (greedy: the best of 2 + ln K candidates, as sklearn).
pub fn kmeans_plus_plus(x: &[f64], d: usize, k: usize, rng: &mut impl Rng) -> Vec<f64> {
    let n = x.len() / d;
    let trials = 2 + (k as f64).ln() as usize;
    let dist2 =
        |i: usize, c: &[f64]| -> f64 { (0..d).map(|t| (x[i * d + t] - c[t]).powi(2)).sum() };
    let first = rng.random_range(0..n);
    let mut centers = x[first * d..(first + 1) * d].to_vec();
    let mut closest: Vec<f64> = (0..n).map(|i| dist2(i, &centers[..d])).collect();
    for _ in 1..k {
        let total: f64 = closest.iter().sum();
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let mut u = rng.random::<f64>() * total;
            let cand = closest
                .iter()
                .position(|&c| {
                    u -= c;
                    u < 0.0
                })
                .unwrap_or(n - 1);
            let c = &x[cand * d..(cand + 1) * d];
            let next: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|i| closest[i].min(dist2(i, c)))
                .collect();
            let pot: f64 = next.iter().sum();
            if best.as_ref().is_none_or(|b| pot < b.0) {
                best = Some((pot, cand, next));
            }
        }
        let (_, cand, next) = best.unwrap();
        centers.extend_from_slice(&x[cand * d..(cand + 1) * d]);
        closest = next;
    }
    centers
}

/// Index of the nearest center for every row, and the squared distance to it.
pub fn nearest(x: &[f64], d: usize, centers: &[f64]) -> (Vec<usize>, Vec<f64>) {
    let k = centers.len() / d;
    x.par_chunks(d)
        .map(|row| {
            (0..k)
                .map(|j| {
                    let c = &centers[j * d..(j + 1) * d];
                    (
                        j,
                        row.iter().zip(c).map(|(a, b)| (a - b).powi(2)).sum::<f64>(),
                    )
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap()
        })
        .unzip()
}
