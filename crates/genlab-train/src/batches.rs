//! Minibatches that depend only on (seed, step): each epoch is a fresh permutation seeded by
//! (seed, epoch), so a resumed run sees exactly the batches the straight run saw.

use genlab_core::rng::{rng_for, Stream};
use genlab_core::Batch;
use genlab_data::{Dataset, Preprocess};
use rand::seq::SliceRandom;

pub struct Batches<'a> {
    data: &'a Dataset,
    preprocess: Preprocess,
    seed: u64,
    batch_size: usize,
    epoch: Option<(u64, Vec<usize>)>,
}

impl<'a> Batches<'a> {
    pub fn new(data: &'a Dataset, preprocess: Preprocess, seed: u64, batch_size: usize) -> Self {
        Self {
            data,
            preprocess,
            seed,
            batch_size: batch_size.min(data.len()),
            epoch: None,
        }
    }

    /// Full batches per epoch (the last partial batch is dropped).
    pub fn per_epoch(&self) -> u64 {
        (self.data.len() / self.batch_size).max(1) as u64
    }

    /// Dataset indices of the batch of `step`.
    pub fn indices(&mut self, step: u64) -> Vec<usize> {
        let epoch = step / self.per_epoch();
        if self.epoch.as_ref().map(|e| e.0) != Some(epoch) {
            let mut perm: Vec<usize> = (0..self.data.len()).collect();
            perm.shuffle(&mut rng_for(self.seed, epoch, Stream::Shuffle));
            self.epoch = Some((epoch, perm));
        }
        let pos = (step % self.per_epoch()) as usize * self.batch_size;
        self.epoch.as_ref().unwrap().1[pos..pos + self.batch_size].to_vec()
    }

    /// The preprocessed batch of `step` on `device`.
    pub fn batch(&mut self, step: u64, device: &burn::tensor::Device) -> Batch {
        let idx = self.indices(step);
        Batch::gather(
            self.data,
            &idx,
            &self.preprocess,
            &mut rng_for(self.seed, step, Stream::Preprocess),
            device,
        )
    }
}
