//! Output buffers filled in parallel.
//!
//! `vec![0.0; n]` zeroes the whole buffer on the calling thread before a parallel loop
//! overwrites it: on a 2-core DCGAN step that serial `memset` was 7.6% of all CPU time, spent
//! while the pool waited. [`par_fill`] zeroes each chunk on the thread that then writes it,
//! while it is in cache.

use rayon::prelude::*;
use std::mem::MaybeUninit;

/// `n` floats, written chunk by chunk in parallel: `fill(k, out)` gets the `k`-th chunk of
/// `chunk` floats (the last may be shorter), zeroed.
pub fn par_fill(n: usize, chunk: usize, fill: impl Fn(usize, &mut [f32]) + Sync) -> Vec<f32> {
    let mut v: Vec<f32> = Vec::with_capacity(n);
    v.spare_capacity_mut()[..n]
        .par_chunks_mut(chunk.max(1))
        .enumerate()
        .for_each(|(k, out)| {
            out.fill(MaybeUninit::new(0.0));
            // SAFETY: every element of `out` was initialised on the line above, and
            // `MaybeUninit<f32>` has the layout of `f32`.
            let out = unsafe { &mut *(out as *mut [MaybeUninit<f32>] as *mut [f32]) };
            fill(k, out);
        });
    // SAFETY: the chunks cover `..n`, and each was initialised above.
    unsafe { v.set_len(n) };
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_is_filled_once_in_place() {
        let v = par_fill(10, 4, |k, out| {
            for (i, x) in out.iter_mut().enumerate() {
                *x += (k * 4 + i) as f32; // starts from zero
            }
        });
        assert_eq!(v, (0..10).map(|i| i as f32).collect::<Vec<_>>());
        assert!(par_fill(0, 4, |_, _| unreachable!()).is_empty());
    }
}
