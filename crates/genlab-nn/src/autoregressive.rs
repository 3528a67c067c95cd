//! Ancestral sampling of binary autoregressive models (FVSBN, MADE, PixelCNN on binarized data):
//! x_d ~ Bernoulli(p(x_d = 1 | x_<d)) one dimension at a time, in the model's ordering.

use rand::Rng;

/// Fill the unknown dimensions of `x` (`[n, d]` row-major) in `order`. `known[i]` is 1 where
/// `x[i]` is given (completion) and every value is drawn when `known` is `None` (sampling).
/// `logit(x, dim)` returns the `n` logits of p(x_dim = 1 | x_<dim) for the current `x`; it is
/// called for every dimension in `order`, known or not (incremental samplers see them all).
///
/// Returns `(bits, probabilities)`: the drawn bits (the given values where known), and a
/// picture with the given values where known and, where drawn, the probability
/// p(x_d = 1 | x_<d) under the drawn prefix (the mean of each draw, as the NADE and MADE papers
/// show samples). The bits condition every later dimension.
///
/// Exact for completion when the known dimensions come before the hidden ones in `order` (e.g.
/// the bottom half in raster order); otherwise hidden dimensions are drawn given the known ones
/// before them only.
pub fn bernoulli_fill(
    mut x: Vec<f32>,
    n: usize,
    order: &[usize],
    known: Option<&[f32]>,
    rng: &mut impl Rng,
    mut logit: impl FnMut(&[f32], usize) -> Vec<f32>,
) -> (Vec<f32>, Vec<f32>) {
    let d = order.len();
    assert_eq!(x.len(), n * d, "x must be [n, d]");
    let is_known = |i: usize| known.is_some_and(|k| k[i] > 0.5);
    let mut picture = x.clone();
    for &dim in order {
        let logits = logit(&x, dim);
        for (r, l) in logits.iter().enumerate() {
            let i = r * d + dim;
            if is_known(i) {
                continue;
            }
            let p = 1.0 / (1.0 + (-l).exp());
            x[i] = (rng.random::<f32>() < p) as u8 as f32;
            picture[i] = p;
        }
    }
    (x, picture)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn draws_follow_the_conditionals_and_keep_known_values() {
        // A chain x_1 ~ B(0.9), x_d = x_{d-1} exactly (logit +-20): every row is constant, and
        // about 90% of rows are ones. Known entries are never overwritten.
        let (n, d) = (2000, 5);
        let order: Vec<usize> = (0..d).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let logit = |x: &[f32], dim: usize| -> Vec<f32> {
            (0..n)
                .map(|r| match dim {
                    0 => (0.9f32 / 0.1).ln(),
                    _ => 40.0 * x[r * d + dim - 1] - 20.0,
                })
                .collect()
        };
        let (out, probs) = bernoulli_fill(vec![0.0; n * d], n, &order, None, &mut rng, logit);
        assert!(out.iter().all(|&v| v == 0.0 || v == 1.0));
        assert!((0..n).all(|r| (probs[r * d] - 0.9).abs() < 1e-5));
        let ones = (0..n).filter(|r| out[r * d + 4] > 0.5).count() as f64 / n as f64;
        assert!((ones - 0.9).abs() < 0.03, "{ones}");
        assert!((0..n).all(|r| (out[r * d + 1] > 0.5) == (out[r * d + 4] > 0.5)));
        // Completion: first dimension given as 0 for every row -> every row becomes zeros.
        let mut known = vec![0.0; n * d];
        (0..n).for_each(|r| known[r * d] = 1.0);
        let (out, _) = bernoulli_fill(vec![0.0; n * d], n, &order, Some(&known), &mut rng, logit);
        assert!(out.iter().all(|&v| v < 0.5));
    }
}
