//! One minibatch in model space, gathered from a dataset.

use burn::tensor::{Device, Int, Tensor, TensorData};
use genlab_data::{Dataset, Preprocess};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One minibatch in model space (after preprocessing).
pub struct Batch {
    /// The examples, `[b, c*h*w]`.
    pub x: Tensor<2>,
    /// Class labels `[b]` of labelled data.
    pub y: Option<Tensor<1, Int>>,
    /// The inputs of an image-to-image task `[b, c_in*h_in*w_in]` (its own shape, see
    /// [`genlab_data::Inputs`]), in the same value range as `x`: row i translates to row i of
    /// `x`.
    pub input: Option<Tensor<2>>,
}

impl Batch {
    /// Inputs `idx` of an image-to-image task `[idx.len(), c_in*h_in*w_in]` in model space
    /// (rows of the input domain itself, also for unpaired domains), for pictures and
    /// translation; None for data without inputs.
    pub fn inputs(
        data: &Dataset,
        idx: &[usize],
        preprocess: &Preprocess,
        device: &Device,
    ) -> Option<Tensor<2>> {
        let inputs = data.input.as_ref()?;
        let values = idx
            .iter()
            .flat_map(|&i| inputs.example(i))
            .map(|&v| genlab_data::Scale::Unit.convert(v, preprocess.scale))
            .collect();
        Some(crate::tensor::matrix(
            values,
            idx.len(),
            inputs.shape.dim(),
            device,
        ))
    }

    /// A batch of examples alone (no labels, no inputs).
    pub fn of(x: Tensor<2>) -> Self {
        Batch {
            x,
            y: None,
            input: None,
        }
    }
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
        // Inputs are images in [0, 1]: the data's scale applies, binarization and dequantization
        // (which model x's distribution) do not.
        let input = data.input.as_ref().map(|inputs| {
            // Unpaired domains: inputs drawn uniformly from `rng`, independent of `idx`.
            let rows: Vec<usize> = match inputs.paired {
                true => idx.to_vec(),
                false => idx
                    .iter()
                    .map(|_| rng.random_range(0..inputs.len()))
                    .collect(),
            };
            let values = rows
                .iter()
                .flat_map(|&i| inputs.example(i))
                .map(|&v| genlab_data::Scale::Unit.convert(v, preprocess.scale))
                .collect();
            crate::tensor::matrix(values, idx.len(), inputs.shape.dim(), device)
        });
        Batch {
            x: crate::tensor::matrix(x, idx.len(), d, device),
            y,
            input,
        }
    }
}
