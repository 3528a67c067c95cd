//! Inception score (Salimans et al. 2016) on the judge's class probabilities:
//!
//!   IS = exp(E_x KL(p(y | x) || p(y))),   p(y) the mean of p(y | x) over the split,
//!
//! in `splits` consecutive splits (torch-fidelity's default 10), mean and standard deviation.
//! Its maximum is the number of classes (confident and evenly spread samples).

use anyhow::{bail, Result};

pub const IS_SPLITS: usize = 10;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct InceptionScore {
    pub is: f64,
    pub is_std: f64,
    pub splits: usize,
}

/// From probabilities `[n, classes]` (rows summing to 1).
pub fn inception_score(p: &[f64], classes: usize, splits: usize) -> Result<InceptionScore> {
    if classes < 2 {
        bail!("the Inception score needs probabilities over at least 2 classes ({classes} given)");
    }
    let n = p.len() / classes;
    if n < splits || splits == 0 {
        bail!("the Inception score needs at least {splits} samples ({n} given)");
    }
    if let Some(r) = p.chunks(classes).position(|r| {
        r.iter().any(|v| v.is_nan() || *v < 0.0) || (r.iter().sum::<f64>() - 1.0).abs() > 1e-3
    }) {
        bail!("row {r} of the probabilities is not a distribution (negative, or not summing to 1): give softmax outputs, not logits");
    }
    let scores: Vec<f64> = (0..splits)
        .map(|s| {
            let rows = &p[s * n / splits * classes..(s + 1) * n / splits * classes];
            let m = rows.len() / classes;
            let mut py = vec![0.0; classes];
            for r in rows.chunks(classes) {
                py.iter_mut().zip(r).for_each(|(a, b)| *a += b / m as f64);
            }
            let kl: f64 = rows
                .chunks(classes)
                .map(|r| {
                    r.iter()
                        .zip(&py)
                        .filter(|(p, _)| **p > 0.0)
                        .map(|(p, q)| p * (p.ln() - q.ln()))
                        .sum::<f64>()
                })
                .sum::<f64>()
                / m as f64;
            kl.exp()
        })
        .collect();
    let mean = scores.iter().sum::<f64>() / splits as f64;
    let var = scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / splits as f64;
    Ok(InceptionScore {
        is: mean,
        is_std: var.sqrt(),
        splits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_even_samples_score_the_class_count() {
        // One-hot rows cycling through 4 classes: KL = ln 4 for each row, IS = 4; uniform rows: 1.
        let onehot: Vec<f64> = (0..40)
            .flat_map(|i| (0..4).map(move |c| (c == i % 4) as u8 as f64))
            .collect();
        let s = inception_score(&onehot, 4, 10).unwrap();
        assert!((s.is - 4.0).abs() < 1e-12 && s.is_std < 1e-12, "{s:?}");
        let uniform = vec![0.25; 160];
        assert!((inception_score(&uniform, 4, 10).unwrap().is - 1.0).abs() < 1e-12);
        assert!(inception_score(&uniform[..20], 4, 10).is_err());
    }
}
