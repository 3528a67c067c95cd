//! The GEMM plumbing shared by the planar ([`crate::gemm_conv_kernels`]) and channels-last
//! ([`crate::gemm_conv_nhwc`]) convolution kernels: the strided `sgemm` call, per-thread scratch,
//! image groups, and the choice between the two layouts. Both kernel files import this one and
//! neither imports the other's helpers.

use gemm::Parallelism;
use std::cell::RefCell;

/// `dst[m, n] (+)= lhs[m, k] · rhs[k, n]`; strides are (row, column) in elements.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    (m, k, n): (usize, usize, usize),
    dst: &mut [f32],
    accumulate: bool,
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
    par: Parallelism,
) {
    assert!(dst.len() >= m * n);
    assert!(m == 0 || k == 0 || (m - 1) * lhs_rs + (k - 1) * lhs_cs < lhs.len());
    assert!(k == 0 || n == 0 || (k - 1) * rhs_rs + (n - 1) * rhs_cs < rhs.len());
    // SAFETY: the asserts bound every index the strides reach.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

/// Whether channels-last runs (`c` floats) beat planar runs (at most `ow` floats) by enough to
/// pay for the two transposes.
pub(crate) fn channels_last(c: usize, ow: usize) -> bool {
    c >= 2 * ow
}

/// Images per GEMM: enough that the GEMM has at least [`MIN_COLUMNS`] columns (a 7x7 map alone
/// gives a 49-column GEMM, too thin for the microkernel), but keep images whole.
const MIN_COLUMNS: usize = 256;

thread_local! {
    /// Per-thread scratch for column matrices, kept across calls: no allocation, zeroing or page
    /// faults per step (they were ~8% of the DCGAN step).
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `f` on three scratch buffers of `sizes` floats whose contents are unspecified: every caller
/// writes a buffer in full before reading it.
pub(crate) fn with_scratch<R>(
    sizes: [usize; 3],
    f: impl FnOnce(&mut [f32], &mut [f32], &mut [f32]) -> R,
) -> R {
    let [a, b, c] = sizes;
    let split = |buf: &mut [f32]| {
        let (x, rest) = buf[..a + b + c].split_at_mut(a);
        let (y, z) = rest.split_at_mut(b);
        f(x, y, z)
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < a + b + c {
                buf.resize(a + b + c, 0.0);
            }
            split(&mut buf)
        }
        // Re-entered on this thread (rayon work stealing inside a parallel GEMM): fresh buffers.
        Err(_) => split(&mut vec![0.0f32; a + b + c]),
    })
}

/// Images per group: at least enough for [`MIN_COLUMNS`], then the size that balances the groups
/// over the threads best (64 images of 7x7: 8 groups of 8, not 10 of 6 and one of 4).
pub(crate) fn group_size(batch: usize, n: usize) -> usize {
    let batch = batch.max(1);
    let smallest = MIN_COLUMNS.div_ceil(n.max(1)).clamp(1, batch);
    let threads = rayon::current_num_threads().max(1);
    let makespan = |g: usize| batch.div_ceil(g).div_ceil(threads) * g; // images on the busiest thread
    (smallest..=batch.min(2 * smallest))
        .min_by_key(|&g| (makespan(g), g))
        .unwrap_or(smallest)
}

/// Groups per weight-gradient accumulator: one accumulator (a zeroed `[o, c·t]` buffer, then a
/// reduction) per thread rather than per rayon split.
pub(crate) fn accumulator_share(groups: usize) -> usize {
    groups.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// Spread image groups over the pool when there are enough of them; else let the GEMM use it.
pub(crate) fn inner_parallelism(groups: usize) -> Parallelism {
    if groups >= rayon::current_num_threads() {
        Parallelism::None
    } else {
        Parallelism::Rayon(0)
    }
}

/// `a [gi, o, n]` (images of a group) <-> `m [o, gi·n]` (the GEMM's layout).
pub(crate) fn images_to_columns(a: &[f32], m: &mut [f32], (o, n): (usize, usize)) {
    let ld = a.len() / o;
    for (i, img) in a.chunks_exact(o * n).enumerate() {
        for (r, row) in img.chunks_exact(n).enumerate() {
            m[r * ld + i * n..r * ld + (i + 1) * n].copy_from_slice(row);
        }
    }
}

pub(crate) fn columns_to_images(m: &[f32], a: &mut [f32], (o, n): (usize, usize)) {
    let ld = a.len() / o;
    for (i, img) in a.chunks_exact_mut(o * n).enumerate() {
        for (r, row) in img.chunks_exact_mut(n).enumerate() {
            row.copy_from_slice(&m[r * ld + i * n..r * ld + (i + 1) * n]);
        }
    }
}
