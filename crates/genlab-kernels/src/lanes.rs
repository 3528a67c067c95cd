//! Reductions that vectorise. Rust keeps a float sum in source order, so `iter().sum()` adds
//! one value at a time; eight interleaved partial sums let the compiler use SIMD lanes. The
//! order of the additions, and so the last bits, differ from a sequential sum: code whose
//! passes must agree with each other (a model's training pass and its sampler, say) uses these
//! in both.

/// `Σ a_i b_i` over equal-length slices, in eight interleaved partial sums added pairwise at
/// the end. Panics if the lengths differ.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot of slices of different lengths");
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0f32; 8];
    for (x, y) in a8.zip(b8) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_equals_the_exact_sum_at_every_length() {
        for len in [0, 1, 7, 8, 9, 16, 500, 1003] {
            let a: Vec<f32> = (0..len)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
                .collect();
            let b: Vec<f32> = (0..len)
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 5.0)
                .collect();
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            let scale: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (*x as f64 * *y as f64).abs())
                .sum();
            let got = dot(&a, &b) as f64;
            assert!(
                (got - exact).abs() <= 1e-6 * scale.max(1.0),
                "length {len}: {got} against {exact}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn dot_refuses_different_lengths() {
        dot(&[1.0, 2.0], &[1.0]);
    }
}
