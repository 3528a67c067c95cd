//! Reconstruction error: mean squared and mean absolute error per value. Images are compared on
//! the [0, 1] pixel scale, points in their own units (standardised tabular data mapped back to
//! the values as given); neither is ever clipped, so an error the model makes outside the
//! data's range counts in full.

use anyhow::{bail, Result};
use burn::tensor::Device;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::{DataInfo, Model};
use genlab_data::{Dataset, Scale};
use serde::Serialize;

const ROWS_PER_PASS: usize = 1024;

#[derive(Clone, Debug, Serialize)]
pub struct ReconstructionReport {
    pub mse_per_pixel: f64,
    pub mae_per_pixel: f64,
    pub n_examples: usize,
}

pub fn reconstruction(
    model: &dyn Model,
    info: &DataInfo,
    data: &Dataset,
    seed: u64,
    device: &Device,
) -> Result<ReconstructionReport> {
    let Some(rec) = model.as_reconstruct() else {
        bail!(
            "{} cannot reconstruct; try `genlab eval` for its likelihood",
            model.family()
        );
    };
    let pre = info.preprocess.for_evaluation();
    let d = info.shape.dim();
    let (mut se, mut ae) = (0.0f64, 0.0f64);
    for (chunk, start) in (0..data.len()).step_by(ROWS_PER_PASS).enumerate() {
        let idx: Vec<usize> = (start..(start + ROWS_PER_PASS).min(data.len())).collect();
        let mut x = data.gather(&idx);
        pre.apply(
            &mut x,
            d,
            &idx,
            &mut rng_for(seed, chunk as u64, Stream::Eval),
        );
        let mut x_hat = genlab_core::tensor::to_vec(
            rec.reconstruct(genlab_core::tensor::matrix(x.clone(), idx.len(), d, device))?,
        );
        if let Some(s) = &data.standardization {
            s.invert(&mut x);
            s.invert(&mut x_hat);
        }
        // Model space to the pixel scale: affine, unclipped (points are already on Unit).
        let unit = |v: f32| pre.scale.convert(v, Scale::Unit) as f64;
        for (a, b) in x.iter().zip(&x_hat) {
            let (a, b) = (unit(*a), unit(*b));
            se += (a - b).powi(2);
            ae += (a - b).abs();
        }
    }
    let count = (data.len() * d) as f64;
    Ok(ReconstructionReport {
        mse_per_pixel: se / count,
        mae_per_pixel: ae / count,
        n_examples: data.len(),
    })
}
