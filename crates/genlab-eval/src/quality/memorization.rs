//! Does a model copy its training set? On the judge's features: the median distance from each
//! generated row to its nearest training row, over the same median for held-out test rows
//! (about 1 for a model that generalises like the data, far below 1 for one that recalls its
//! training images), and the share of generated rows closer to a training row than the 1st
//! percentile of the test rows' nearest-training distances.

use super::distances::pairwise_sq_distances;
use super::Features;
use anyhow::Result;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Memorization {
    /// median nearest-train distance of generated rows / that of test rows.
    pub median_ratio: f64,
    /// Share of generated rows nearer a training row than 1% of the test rows are.
    pub close_share: f64,
}

/// For each row of `a`, the Euclidean distance to its nearest row of `train`.
fn nearest(a: &Features, train: &Features) -> Vec<f64> {
    let mut out = vec![f64::INFINITY; a.n];
    pairwise_sq_distances(a, train, |start, block| {
        for (r, row) in block.chunks(train.n).enumerate() {
            out[start + r] = row.iter().cloned().fold(f64::INFINITY, f64::min).sqrt();
        }
    });
    out
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}

pub fn memorization(fake: &Features, test: &Features, train: &Features) -> Result<Memorization> {
    for (what, f) in [("generated", fake), ("test", test), ("training", train)] {
        if f.n == 0 || f.d != fake.d {
            anyhow::bail!(
                "memorisation: the {what} features have {} rows of width {}, the generated ones width {}; compute all three with the same judge",
                f.n,
                f.d,
                fake.d
            );
        }
    }
    let mut to_fake = nearest(fake, train);
    let mut to_test = nearest(test, train);
    let floor = quantile(&mut to_test.clone(), 0.01);
    let close = to_fake.iter().filter(|&&d| d < floor).count() as f64 / fake.n as f64;
    let ratio = quantile(&mut to_fake, 0.5) / quantile(&mut to_test, 0.5).max(f64::MIN_POSITIVE);
    Ok(Memorization {
        median_ratio: ratio,
        close_share: close,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_of_training_rows_are_caught() {
        // Train on a grid of the line; test rows fall between grid points; a copying model
        // returns training rows exactly, a generalising one rows like the test rows.
        let train = Features::new((0..100).map(|i| i as f64).collect(), 1).unwrap();
        let test = Features::new((0..50).map(|i| 2.0 * i as f64 + 0.5).collect(), 1).unwrap();
        let copies = Features::new((0..50).map(|i| (2 * i) as f64).collect(), 1).unwrap();
        let m = memorization(&copies, &test, &train).unwrap();
        assert!(m.median_ratio < 1e-9 && m.close_share == 1.0, "{m:?}");
        let g = memorization(&test, &test, &train).unwrap();
        assert!(
            (g.median_ratio - 1.0).abs() < 1e-12 && g.close_share == 0.0,
            "{g:?}"
        );
    }
}
