//! Euclidean distances between feature rows, by GEMM in blocks of rows:
//! ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a·b (clamped at 0).

use super::Features;
use genlab_nn::linalg::gemm_into;

/// Distances per block: 10 million f64, 80 MB, whatever the width of `b`.
const BLOCK_VALUES: usize = 10_000_000;

fn sq_norms(f: &Features) -> Vec<f64> {
    f.x.chunks(f.d)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect()
}

/// Calls `each(first_row, block)` for blocks of rows of `a`, `block` holding the squared
/// distances `[rows, b.n]` of those rows of `a` to every row of `b`.
pub fn pairwise_sq_distances(a: &Features, b: &Features, mut each: impl FnMut(usize, &[f64])) {
    if a.n == 0 || b.n == 0 {
        return;
    }
    let (na, nb) = (sq_norms(a), sq_norms(b));
    let per = (BLOCK_VALUES / b.n).clamp(1, a.n);
    let mut block = vec![0.0; per * b.n];
    for start in (0..a.n).step_by(per) {
        let rows = per.min(a.n - start);
        let c = &mut block[..rows * b.n];
        let a_rows = &a.x[start * a.d..(start + rows) * a.d];
        gemm_into(c, a_rows, &b.x, (rows, a.d, b.n), false, true, false, true);
        for (r, row) in c.chunks_mut(b.n).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (na[start + r] + nb[j] - 2.0 * *v).max(0.0);
            }
        }
        each(start, c);
    }
}

/// For each row of `f`, the Euclidean distance to its `k`-th nearest other row (the row
/// itself, at distance 0, is not counted: the prdc package's `k + 1`-th smallest).
pub fn kth_neighbour_distances(f: &Features, k: usize) -> Vec<f64> {
    let mut out = vec![0.0; f.n];
    pairwise_sq_distances(f, f, |start, block| {
        for (r, row) in block.chunks(f.n).enumerate() {
            let mut row = row.to_vec();
            let kk = k.min(row.len() - 1);
            row.select_nth_unstable_by(kk, f64::total_cmp);
            out[start + r] = row[kk].sqrt();
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_the_definition() {
        let a = Features::new(vec![0.0, 0.0, 3.0, 4.0], 2).unwrap();
        let b = Features::new(vec![1.0, 1.0, 3.0, 0.0, 0.0, 0.0], 2).unwrap();
        let mut got = Vec::new();
        pairwise_sq_distances(&a, &b, |_, block| got.extend_from_slice(block));
        assert_eq!(got, [2.0, 9.0, 0.0, 13.0, 16.0, 25.0]);
        // On a line at 0, 1, 3, 7: the 1st and 2nd nearest others.
        let line = Features::new(vec![0.0, 1.0, 3.0, 7.0], 1).unwrap();
        assert_eq!(kth_neighbour_distances(&line, 1), [1.0, 1.0, 2.0, 4.0]);
        assert_eq!(kth_neighbour_distances(&line, 2), [3.0, 2.0, 3.0, 6.0]);
    }
}
