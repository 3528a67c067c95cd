//! Moving values between the host and tensors, and drawing noise from host RNGs.

use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// `[rows, cols]` tensor from a row-major host buffer.
pub fn matrix(values: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// Standard normal noise of the given shape, drawn from `rng`.
pub fn normal<const D: usize>(shape: [usize; D], rng: &mut impl Rng, device: &Device) -> Tensor<D> {
    let n = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    Tensor::from_data(TensorData::new(v, shape), device)
}

/// Uniform noise on [0, 1) of the given shape, drawn from `rng`.
pub fn uniform<const D: usize>(
    shape: [usize; D],
    rng: &mut impl Rng,
    device: &Device,
) -> Tensor<D> {
    let n = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random::<f32>()).collect();
    Tensor::from_data(TensorData::new(v, shape), device)
}

/// Bits drawn independently with the probabilities `p` (any shape, values in [0, 1]): 1 where
/// a uniform draw from `rng` falls below `p`.
pub fn bernoulli<const D: usize>(p: Tensor<D>, rng: &mut impl Rng) -> Tensor<D> {
    let u = uniform(p.dims(), rng, &p.device());
    p.greater(u).float()
}

/// Copy a tensor's values to the host.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("genlab tensors are f32")
}

pub fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f32>() as f64
}

/// Integer labels (class indices) as `u32`s.
pub fn labels(t: burn::tensor::Tensor<1, burn::tensor::Int>) -> Vec<u32> {
    t.into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .expect("integer labels")
        .into_iter()
        .map(|c| c as u32)
        .collect()
}

/// One-hot rows `[labels.len(), k]`, built on the host (labels are a handful of integers).
pub fn one_hot(labels: &[u32], k: usize, device: &Device) -> Tensor<2> {
    let mut v = vec![0.0f32; labels.len() * k];
    for (i, &c) in labels.iter().enumerate() {
        v[i * k + c as usize] = 1.0;
    }
    matrix(v, labels.len(), k, device)
}
