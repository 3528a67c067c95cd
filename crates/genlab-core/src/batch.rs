//! One minibatch in model space, gathered from a dataset.

use burn::tensor::{Device, Int, Tensor, TensorData};
use genlab_data::{Dataset, Preprocess};
use rand_chacha::ChaCha8Rng;

/// One minibatch in model space (after preprocessing).
pub struct Batch {
    /// The examples, `[b, c*h*w]`.
    pub x: Tensor<2>,
    /// Class labels `[b]` of labelled data.
    pub y: Option<Tensor<1, Int>>,
}

impl Batch {
    /// Gather the examples `idx` of `data`, preprocess them (`rng` draws dynamic binarization
    /// and dequantization noise) and upload them to `device`.
    pub fn gather(
        data: &Dataset,
        idx: &[usize],
        preprocess: &Preprocess,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Batch {
        let d = data.shape.dim();
        let mut x = data.gather(idx);
        preprocess.apply(&mut x, d, idx, rng);
        let y = data.labels(idx).map(|y| {
            Tensor::from_data(
                TensorData::new(
                    y.into_iter().map(|v| v as i64).collect::<Vec<_>>(),
                    [idx.len()],
                ),
                device,
            )
        });
        Batch {
            x: crate::tensor::matrix(x, idx.len(), d, device),
            y,
        }
    }
}
