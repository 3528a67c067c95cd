//! Classification accuracies: a model's own Bayes-rule classifier on labelled data, and the
//! class rate of a class-conditional sampler as judged by another run's classifier.

use anyhow::Result;
use burn::tensor::Device;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::{Batch, Classify, DataInfo, SampleGiven};
use genlab_data::Dataset;

/// Examples classified per batch.
const CHUNK: usize = 1000;

/// Share of `data`'s examples that `classifier` (argmax of p(y | x)) puts in their labelled
/// class; `None` for unlabelled data.
pub fn accuracy(
    classifier: &dyn Classify,
    info: &DataInfo,
    data: &Dataset,
    seed: u64,
    device: &Device,
) -> Result<Option<f64>> {
    let Some(y) = data.y.as_ref() else {
        return Ok(None);
    };
    let pre = info.preprocess.for_evaluation();
    let mut correct = 0usize;
    for chunk in (0..data.len()).collect::<Vec<_>>().chunks(CHUNK) {
        let b = Batch::gather(
            data,
            chunk,
            &pre,
            &mut rng_for(seed, 0, Stream::Eval),
            device,
        );
        let pred = classifier.classify(b.x)?;
        correct += chunk.iter().zip(pred).filter(|(&i, p)| y[i] == *p).count();
    }
    Ok(Some(correct as f64 / data.len() as f64))
}

/// The share of `per_class` samples of each class from `sampler` (model space of `info`) that
/// `judge` (model space of `judge_info`, on `judge_device`) assigns to that class.
pub fn judged_class_rate(
    sampler: &dyn SampleGiven,
    info: &DataInfo,
    judge: &dyn Classify,
    judge_info: &DataInfo,
    per_class: usize,
    seed: u64,
    (device, judge_device): (&Device, &Device),
) -> Result<f64> {
    let labels: Vec<u32> = (0..sampler.classes() as u32)
        .flat_map(|c| std::iter::repeat_n(c, per_class))
        .collect();
    let mut rng = rng_for(seed, 3, Stream::Eval);
    let x = sampler.sample_given(&labels, &mut rng, device)?;
    let (from, to) = (info.preprocess.scale, judge_info.preprocess.scale);
    let v: Vec<f32> = genlab_core::tensor::to_vec(x)
        .into_iter()
        .map(|v| from.convert(v, to))
        .collect();
    let x = genlab_core::tensor::matrix(v, labels.len(), info.shape.dim(), judge_device);
    let pred = judge.classify(x)?;
    let correct = pred.iter().zip(&labels).filter(|(p, l)| p == l).count();
    Ok(correct as f64 / labels.len() as f64)
}
