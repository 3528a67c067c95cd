//! Nearest training examples of generated samples (Euclidean distance in model space): does a
//! model make new images or recall old ones?

/// For each row of `samples` (`[n, d]`), the `k` nearest rows of `train` (`[m, d]`) as
/// (squared distance, row index), nearest first. `k` is capped at `m`.
pub fn nearest(samples: &[f32], train: &[f32], d: usize, k: usize) -> Vec<Vec<(f32, usize)>> {
    samples
        .chunks(d)
        .map(|s| {
            let mut dist: Vec<(f32, usize)> = train
                .chunks(d)
                .enumerate()
                .map(|(i, t)| {
                    (
                        s.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(),
                        i,
                    )
                })
                .collect();
            let k = k.min(dist.len());
            if k == 0 {
                return Vec::new();
            }
            dist.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
            dist.truncate(k);
            dist.sort_by(|a, b| a.0.total_cmp(&b.0));
            dist
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_rows_in_order() {
        let train = [0.0, 0.0, 3.0, 0.0, 1.0, 1.0, 10.0, 10.0];
        let got = nearest(&[0.9, 0.9], &train, 2, 3);
        assert_eq!(
            got[0].iter().map(|p| p.1).collect::<Vec<_>>(),
            vec![2, 0, 1]
        );
        assert!((got[0][0].0 - 0.02).abs() < 1e-6);
    }
}
