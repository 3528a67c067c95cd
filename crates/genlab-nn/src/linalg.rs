//! Dense f64 linear algebra for the closed-form families (Gaussians, mixtures, PCA): matrix
//! products through the `gemm` crate (the kernel burn's CPU backend uses), and the few
//! factorizations they need on small symmetric matrices.
//!
//! NOTE: Cholesky, triangular inverse and the Jacobi eigensolver are written here by hand: they
//! are a page of code on matrices of at most a few hundred rows, while nalgebra or faer would add
//! minutes to every cold build for the same three routines. Matrices are row-major `Vec<f64>`.

use gemm::Parallelism;

/// `c[m, n] (+)= a[m, k] · b[k, n]`, with either operand optionally transposed in place:
/// `a_t` reads `a` as stored `[k, m]`, `b_t` reads `b` as stored `[n, k]`.
#[allow(clippy::too_many_arguments)]
pub fn gemm_into(
    c: &mut [f64],
    a: &[f64],
    b: &[f64],
    (m, k, n): (usize, usize, usize),
    a_t: bool,
    b_t: bool,
    accumulate: bool,
    parallel: bool,
) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    let (a_rs, a_cs) = if a_t {
        (1, m as isize)
    } else {
        (k as isize, 1)
    };
    let (b_rs, b_cs) = if b_t {
        (1, k as isize)
    } else {
        (n as isize, 1)
    };
    let par = if parallel && m * n * k > 1 << 18 {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    // SAFETY: the asserts above bound every index the strides reach.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

/// `a[m, k] · b[k, n]`.
pub fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    gemm_into(&mut c, a, b, (m, k, n), false, false, false, true);
    c
}

/// `aᵀ · b` for `a` stored `[k, m]` and `b` `[k, n]`: sums over the rows of both.
pub fn matmul_tn(a: &[f64], b: &[f64], k: usize, m: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    gemm_into(&mut c, a, b, (m, k, n), true, false, false, true);
    c
}

/// Lower-triangular `L` with `L Lᵀ = a`, or `None` when `a` is not positive definite.
pub fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for p in 0..j {
                s -= l[i * d + p] * l[j * d + p];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// Inverse of a lower-triangular matrix (lower-triangular again).
pub fn lower_inverse(l: &[f64], d: usize) -> Vec<f64> {
    let mut inv = vec![0.0; d * d];
    for col in 0..d {
        // Forward substitution for L x = e_col.
        for i in col..d {
            let mut s = if i == col { 1.0 } else { 0.0 };
            for p in col..i {
                s -= l[i * d + p] * inv[p * d + col];
            }
            inv[i * d + col] = s / l[i * d + i];
        }
    }
    inv
}

/// log |det a| by LU with partial pivoting (flow goldens: brute-force Jacobians).
pub fn log_abs_det(a: &[f64], d: usize) -> f64 {
    let mut a = a.to_vec();
    let mut total = 0.0;
    for col in 0..d {
        let pivot = (col..d)
            .max_by(|&i, &j| a[i * d + col].abs().total_cmp(&a[j * d + col].abs()))
            .unwrap_or(col);
        if pivot != col {
            for k in 0..d {
                a.swap(col * d + k, pivot * d + k);
            }
        }
        let p = a[col * d + col];
        total += p.abs().ln();
        for i in col + 1..d {
            let f = a[i * d + col] / p;
            for k in col..d {
                a[i * d + k] -= f * a[col * d + k];
            }
        }
    }
    total
}

/// LU with partial pivoting: `perm`, unit-lower `l` and upper `u` with `a[perm[i], :] = (L U)[i, :]`,
/// i.e. a = Pᵀ L U for the row permutation P that `perm` describes (Glow's LU-parametrised 1x1
/// convolution). `None` when `a` is singular.
pub fn lu(a: &[f64], d: usize) -> Option<(Vec<usize>, Vec<f64>, Vec<f64>)> {
    let mut u = a.to_vec();
    let mut l = vec![0.0; d * d];
    let mut perm: Vec<usize> = (0..d).collect();
    for col in 0..d {
        let pivot =
            (col..d).max_by(|&i, &j| u[i * d + col].abs().total_cmp(&u[j * d + col].abs()))?;
        if u[pivot * d + col].abs() < 1e-12 {
            return None;
        }
        if pivot != col {
            for k in 0..d {
                u.swap(col * d + k, pivot * d + k);
                l.swap(col * d + k, pivot * d + k);
            }
            perm.swap(col, pivot);
        }
        for i in col + 1..d {
            let f = u[i * d + col] / u[col * d + col];
            l[i * d + col] = f;
            for k in col..d {
                u[i * d + k] -= f * u[col * d + k];
            }
        }
    }
    (0..d).for_each(|i| l[i * d + i] = 1.0);
    Some((perm, l, u))
}

/// Inverse by Gauss-Jordan elimination with partial pivoting; `None` when singular.
pub fn inverse(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv: Vec<f64> = (0..d * d).map(|i| (i / d == i % d) as u8 as f64).collect();
    for col in 0..d {
        let pivot =
            (col..d).max_by(|&i, &j| m[i * d + col].abs().total_cmp(&m[j * d + col].abs()))?;
        if m[pivot * d + col].abs() < 1e-12 {
            return None;
        }
        for k in 0..d {
            m.swap(col * d + k, pivot * d + k);
            inv.swap(col * d + k, pivot * d + k);
        }
        let p = m[col * d + col];
        for k in 0..d {
            m[col * d + k] /= p;
            inv[col * d + k] /= p;
        }
        for i in 0..d {
            if i != col {
                let f = m[i * d + col];
                for k in 0..d {
                    m[i * d + k] -= f * m[col * d + k];
                    inv[i * d + k] -= f * inv[col * d + k];
                }
            }
        }
    }
    Some(inv)
}

/// A random orthogonal matrix: Gram-Schmidt on a Gaussian one (Glow's initial rotation).
pub fn random_orthogonal(d: usize, rng: &mut impl rand::Rng) -> Vec<f64> {
    use rand_distr::{Distribution, StandardNormal};
    let mut q: Vec<f64> = (0..d * d).map(|_| StandardNormal.sample(rng)).collect();
    for i in 0..d {
        for j in 0..i {
            let dot: f64 = (0..d).map(|k| q[i * d + k] * q[j * d + k]).sum();
            for k in 0..d {
                q[i * d + k] -= dot * q[j * d + k];
            }
        }
        let norm = (0..d).map(|k| q[i * d + k].powi(2)).sum::<f64>().sqrt();
        (0..d).for_each(|k| q[i * d + k] /= norm);
    }
    q
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: eigenvalues in
/// descending order and the matching unit eigenvectors as the columns of a `[d, d]` matrix.
pub fn sym_eigen(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    let norm: f64 = a
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j] * a[i * d + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * norm {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..d {
                    let (arp, arq) = (a[r * d + p], a[r * d + q]);
                    a[r * d + p] = c * arp - s * arq;
                    a[r * d + q] = s * arp + c * arq;
                }
                for r in 0..d {
                    let (apr, aqr) = (a[p * d + r], a[q * d + r]);
                    a[p * d + r] = c * apr - s * aqr;
                    a[q * d + r] = s * apr + c * aqr;
                }
                for r in 0..d {
                    let (vrp, vrq) = (v[r * d + p], v[r * d + q]);
                    v[r * d + p] = c * vrp - s * vrq;
                    v[r * d + q] = s * vrp + c * vrq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&i, &j| a[j * d + j].total_cmp(&a[i * d + i]));
    let vals = order.iter().map(|&i| a[i * d + i]).collect();
    let mut vecs = vec![0.0; d * d];
    for (new, &old) in order.iter().enumerate() {
        for r in 0..d {
            vecs[r * d + new] = v[r * d + old];
        }
    }
    (vals, vecs)
}

/// The `k` leading eigenpairs of a symmetric positive semi-definite `[d, d]` matrix: Jacobi for
/// small `d`, else subspace iteration (k + 10 vectors, orthonormalised each round) followed by
/// Rayleigh-Ritz on the small projected matrix. Eigenvectors are columns of `[d, k]`, each with
/// its largest-magnitude entry positive so that results are reproducible.
pub fn top_eigen(c: &[f64], d: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    let k = k.min(d);
    let (vals, vecs) = if d <= 160 {
        let (vals, vecs) = sym_eigen(c, d);
        let cols: Vec<f64> = (0..d)
            .flat_map(|r| vecs[r * d..r * d + k].to_vec())
            .collect();
        (vals[..k].to_vec(), cols)
    } else {
        subspace_iteration(c, d, k)
    };
    let mut vecs = vecs;
    for j in 0..k {
        let big = (0..d)
            .map(|r| vecs[r * k + j])
            .max_by(|a, b| a.abs().total_cmp(&b.abs()))
            .unwrap_or(1.0);
        if big < 0.0 {
            for r in 0..d {
                vecs[r * k + j] = -vecs[r * k + j];
            }
        }
    }
    (vals, vecs)
}

fn subspace_iteration(c: &[f64], d: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    let p = (k + 10).min(d);
    // A fixed, dense start (no RNG): columns of a cosine basis.
    let mut q: Vec<f64> = (0..d)
        .flat_map(|r| {
            (0..p).map(move |j| {
                ((r as f64 + 0.5) * (j as f64 + 1.0) * 0.7311).cos() + 1e-3 * j as f64
            })
        })
        .collect();
    orthonormalize(&mut q, d, p);
    for _ in 0..200 {
        let z = matmul(c, &q, d, d, p);
        let mut next = z;
        orthonormalize(&mut next, d, p);
        let change: f64 = (0..p)
            .map(|j| {
                let dot: f64 = (0..d).map(|r| next[r * p + j] * q[r * p + j]).sum();
                1.0 - dot.abs()
            })
            .take(k)
            .fold(0.0, f64::max);
        q = next;
        if change < 1e-13 {
            break;
        }
    }
    // Rayleigh-Ritz: eigenvectors of qᵀ c q rotate q onto the eigenvectors of c.
    let cq = matmul(c, &q, d, d, p);
    let small = matmul_tn(&q, &cq, d, p, p);
    let (vals, w) = sym_eigen(&small, p);
    let full = matmul(&q, &w, d, p, p);
    let vecs = (0..d)
        .flat_map(|r| full[r * p..r * p + k].to_vec())
        .collect();
    (vals[..k].to_vec(), vecs)
}

/// Modified Gram-Schmidt on the `p` columns of a row-major `[d, p]` matrix.
fn orthonormalize(q: &mut [f64], d: usize, p: usize) {
    for j in 0..p {
        for i in 0..j {
            let dot: f64 = (0..d).map(|r| q[r * p + i] * q[r * p + j]).sum();
            for r in 0..d {
                q[r * p + j] -= dot * q[r * p + i];
            }
        }
        let norm = (0..d).map(|r| q[r * p + j].powi(2)).sum::<f64>().sqrt();
        for r in 0..d {
            q[r * p + j] /= norm.max(1e-300);
        }
    }
}

/// Mean `[d]` and biased covariance `[d, d]` (divided by `n`) of the rows of `x` `[n, d]`.
pub fn mean_and_covariance(x: &[f64], n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0; d];
    for row in x.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let centered: Vec<f64> = x
        .chunks_exact(d)
        .flat_map(|row| row.iter().zip(&mean).map(|(v, m)| v - m))
        .collect();
    let mut cov = matmul_tn(&centered, &centered, n, d, d);
    cov.iter_mut().for_each(|c| *c /= n as f64);
    (mean, cov)
}

/// Principal component analysis fitted on rows `[n, d]`: `z = (x - mean) · W` with `W` the
/// leading `p` eigenvectors of the covariance, divided by `sqrt(eigenvalue)` when whitening.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    pub d: usize,
    pub p: usize,
    pub mean: Vec<f64>,
    /// `[d, p]` unit eigenvectors, largest eigenvalue first.
    pub components: Vec<f64>,
    /// `[p]` eigenvalues (variance along each component).
    pub variances: Vec<f64>,
    pub whiten: bool,
}

impl Pca {
    pub fn fit(x: &[f64], n: usize, d: usize, p: usize, whiten: bool) -> Self {
        let (mean, cov) = mean_and_covariance(x, n, d);
        let (variances, components) = top_eigen(&cov, d, p);
        let p = variances.len();
        Self {
            d,
            p,
            mean,
            components,
            variances: variances.into_iter().map(|v| v.max(1e-12)).collect(),
            whiten,
        }
    }

    /// Fraction of the total variance the kept components explain, given the covariance trace.
    pub fn explained(&self, total_variance: f64) -> f64 {
        self.variances.iter().sum::<f64>() / total_variance.max(1e-300)
    }

    /// `[n, d]` -> `[n, p]`.
    pub fn transform(&self, x: &[f64], n: usize) -> Vec<f64> {
        let centered: Vec<f64> = x
            .chunks_exact(self.d)
            .flat_map(|row| row.iter().zip(&self.mean).map(|(v, m)| v - m))
            .collect();
        let mut z = matmul(&centered, &self.components, n, self.d, self.p);
        if self.whiten {
            for row in z.chunks_exact_mut(self.p) {
                for (v, var) in row.iter_mut().zip(&self.variances) {
                    *v /= var.sqrt();
                }
            }
        }
        z
    }

    /// `[n, p]` -> `[n, d]`, the point in data space the code stands for.
    pub fn inverse(&self, z: &[f64], n: usize) -> Vec<f64> {
        let mut z = z.to_vec();
        if self.whiten {
            for row in z.chunks_exact_mut(self.p) {
                for (v, var) in row.iter_mut().zip(&self.variances) {
                    *v *= var.sqrt();
                }
            }
        }
        let mut x = vec![0.0; n * self.d];
        gemm_into(
            &mut x,
            &z,
            &self.components,
            (n, self.p, self.d),
            false,
            true,
            false,
            true,
        );
        for row in x.chunks_exact_mut(self.d) {
            for (v, m) in row.iter_mut().zip(&self.mean) {
                *v += m;
            }
        }
        x
    }

    /// Log |det| of the map x -> z restricted to the kept subspace (0 unless whitening).
    pub fn log_det(&self) -> f64 {
        if self.whiten {
            -0.5 * self.variances.iter().map(|v| v.ln()).sum::<f64>()
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spd(d: usize) -> Vec<f64> {
        let b: Vec<f64> = (0..d * d)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) / 7.0)
            .collect();
        let mut a = matmul_tn(&b, &b, d, d, d);
        for i in 0..d {
            a[i * d + i] += 0.5;
        }
        a
    }

    #[test]
    fn cholesky_reconstructs_and_inverts() {
        let d = 7;
        let a = spd(d);
        let l = cholesky(&a, d).unwrap();
        let mut lt = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                lt[j * d + i] = l[i * d + j];
            }
        }
        let back = matmul(&l, &lt, d, d, d);
        for (x, y) in back.iter().zip(&a) {
            assert!((x - y).abs() < 1e-10);
        }
        let eye = matmul(&lower_inverse(&l, d), &l, d, d, d);
        for i in 0..d {
            for j in 0..d {
                assert!((eye[i * d + j] - (i == j) as u8 as f64).abs() < 1e-10);
            }
        }
        let mut bad = a.clone();
        bad[0] = -1.0;
        assert!(cholesky(&bad, d).is_none());
    }

    #[test]
    fn eigenpairs_satisfy_a_v_equals_lambda_v() {
        for d in [6, 200] {
            let a = spd(d);
            let (vals, vecs) = top_eigen(&a, d, 4);
            assert!(vals.windows(2).all(|w| w[0] >= w[1]));
            for j in 0..4 {
                let v: Vec<f64> = (0..d).map(|r| vecs[r * 4 + j]).collect();
                let av = matmul(&a, &v, d, d, 1);
                for r in 0..d {
                    assert!(
                        (av[r] - vals[j] * v[r]).abs() < 1e-7 * vals[0],
                        "d {d} pair {j}"
                    );
                }
            }
        }
    }

    #[test]
    fn pca_inverse_recovers_points_in_the_subspace() {
        // Points on a 2-D plane inside 5-D space: two components keep everything.
        let (n, d) = (50, 5);
        let x: Vec<f64> = (0..n)
            .flat_map(|i| {
                let (a, b) = ((i as f64 * 0.37).sin(), (i as f64 * 0.11).cos());
                [a + b, a - b, 2.0 * a, 0.5 * b + 1.0, -a]
            })
            .collect();
        for whiten in [false, true] {
            let pca = Pca::fit(&x, n, d, 2, whiten);
            let back = pca.inverse(&pca.transform(&x, n), n);
            for (u, v) in back.iter().zip(&x) {
                assert!((u - v).abs() < 1e-9, "whiten {whiten}");
            }
        }
    }

    #[test]
    fn transposed_products_match_the_plain_one() {
        let a: Vec<f64> = (0..12).map(|v| v as f64).collect(); // [4, 3]
        let b: Vec<f64> = (0..8).map(|v| v as f64 - 3.0).collect(); // [4, 2]
        let tn = matmul_tn(&a, &b, 4, 3, 2);
        let mut at = vec![0.0; 12];
        for i in 0..4 {
            for j in 0..3 {
                at[j * 4 + i] = a[i * 3 + j];
            }
        }
        assert_eq!(tn, matmul(&at, &b, 3, 4, 2));
    }

    #[test]
    fn lu_and_inverse_reconstruct_a_random_orthogonal_matrix() {
        use rand::SeedableRng;
        let d = 6;
        let q = random_orthogonal(d, &mut rand_chacha::ChaCha8Rng::seed_from_u64(3));
        let qtq = matmul_tn(&q, &q, d, d, d);
        for i in 0..d {
            for j in 0..d {
                assert!((qtq[i * d + j] - (i == j) as u8 as f64).abs() < 1e-12);
            }
        }
        let (perm, l, u) = lu(&q, d).unwrap();
        let lu_ = matmul(&l, &u, d, d, d);
        for i in 0..d {
            for k in 0..d {
                assert!((q[perm[i] * d + k] - lu_[i * d + k]).abs() < 1e-12);
            }
        }
        let inv = inverse(&q, d).unwrap();
        let eye = matmul(&q, &inv, d, d, d);
        for i in 0..d {
            for j in 0..d {
                assert!((eye[i * d + j] - (i == j) as u8 as f64).abs() < 1e-10);
            }
        }
        assert!(
            log_abs_det(&q, d).abs() < 1e-10,
            "an orthogonal matrix has |det| 1"
        );
    }
}
