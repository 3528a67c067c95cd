//! Test log-likelihood in nats per example and bits per dimension, with the kind of bound.
//! A projected density (a mixture on PCA components) reports bits per projected dimension
//! instead, since its nats are not a likelihood of the data's d values.
//!
//! bits/dim = nll / (d ln 2). For dequantized 8-bit data modelled as a density on [0, 1]^d, the
//! discrete likelihood of the 256-level pixels is reported: nll_256 = nll + d ln 256 (the
//! change of variables from [0, 1] to [0, 256]; d ln 128 from [-1, 1]), as in RealNVP and
//! PixelCNN++ papers. It is an upper bound on the NLL of the 8-bit pixels (a lower bound on
//! log P, marked so), which models of the 256 levels themselves (PixelCNN's softmax,
//! PixelCNN++'s discretized logistic) give exactly: the two are ranked together, as the papers
//! compare them.

use anyhow::{bail, Result};
use burn::tensor::Device;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::{Bound, DataInfo, Model};
use genlab_data::{Binarize, Dataset, Kind, Scale};
use serde::Serialize;

/// Rows per forward pass; with k samples a pass holds rows * k examples.
const ROWS_PER_PASS: usize = 2048;

#[derive(Clone, Debug, Serialize)]
pub struct LikelihoodReport {
    /// Mean negative log-likelihood per example, nats.
    pub nll_nats: f64,
    /// nll / (d ln 2) over the data's d dimensions; absent for a projected density.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits_per_dim: Option<f64>,
    /// A projected density (`Bound::Projected`): the dimension it lives in, and nll over it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected_dims: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits_per_projected_dim: Option<f64>,
    /// Standard error of nll_nats over examples.
    pub nll_stderr: f64,
    pub bound: Bound,
    /// `discrete` (probabilities of binary or 8-bit values: comparable across families on the
    /// same data) or `continuous` (a density: can be negative, never compared with discrete).
    pub kind: LikelihoodKind,
    /// One sentence saying what the number is, for a reader without the docs.
    pub meaning: String,
    /// Importance samples of an estimate or bound; absent for exact likelihoods, which are
    /// computed once whatever `-k` says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    pub n_examples: usize,
    /// Tabular points modelled as z-scores: log |det dz/dx| (nats) added to every log p(z), so
    /// that nll_nats is of the data as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_jacobian: Option<f64>,
    /// Negative log-likelihood of each example in nats, dataset order (`genlab eval --scores`).
    #[serde(skip)]
    pub per_example_nll: Vec<f64>,
}

/// What to do when a model of binary data meets point data that is not 0/1: point data cannot
/// be binarized by genlab (`data.binarize` is for pixels), so name the family's real-valued
/// setting or the user's own thresholding.
fn real_valued_fix(lik: &dyn genlab_core::Likelihood) -> String {
    let own = "or threshold the file's values to 0/1 yourself";
    match lik.for_real_values() {
        Some(setting) => format!("set {setting} to model real values, {own}"),
        None => format!("choose a family for real values (`genlab models`), {own}"),
    }
}

/// Train-time check that `data` (preprocessed per `info`) lies where the model's likelihood is
/// defined: a model of binary data takes values in [0, 1] (bits, or pixel intensities read as
/// probabilities while training). Errors name the data's range and a fix the data's kind
/// accepts.
pub fn check_data_fits(model: &dyn Model, info: &DataInfo, data: &Dataset) -> Result<()> {
    let Some(lik) = model.as_likelihood() else {
        return Ok(());
    };
    if !lik.needs_binary_data() || info.preprocess.is_binary() {
        return Ok(());
    }
    let to_model = |v: f32| info.preprocess.from_unit(v);
    let (lo, hi) = data.x.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| {
        (a.min(to_model(v)), b.max(to_model(v)))
    });
    if lo >= 0.0 && hi <= 1.0 {
        return Ok(());
    }
    // Standardised data: say the range of the values as given.
    let (lo, hi) = match (&data.raw, &data.standardization) {
        (Some(raw), Some(_)) => raw
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v))),
        _ => (lo as f64, hi as f64),
    };
    let fix = match data.kind {
        Kind::Images => {
            "set data.scale = \"unit\" (pixels in [0, 1]) and data.binarize = \"dynamic\""
                .to_string()
        }
        Kind::Points => real_valued_fix(lik),
    };
    bail!(
        "{} models binary data (values in [0, 1]), but {} ranges from {lo} to {hi}; {fix}",
        model.family(),
        data.name,
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LikelihoodKind {
    Discrete,
    Continuous,
}

/// What a likelihood of `data` under preprocessing `pre` is, and a sentence saying so.
/// `levels`: the model's likelihood is a mass over 8-bit levels
/// ([`genlab_core::Likelihood::models_8bit_levels`]).
fn kind_of(
    pre: &genlab_data::Preprocess,
    data: &Dataset,
    bound: Bound,
    levels: bool,
) -> (LikelihoodKind, String) {
    let how = match bound {
        Bound::Exact => "exact",
        Bound::LowerBound => "a lower bound on log p(x) (the NLL is an upper bound)",
        Bound::Estimate => "an estimate",
        Bound::Projected => "of the data projected on its principal components",
    };
    if pre.is_binary() || data.binary {
        let text = format!(
            "discrete: -log P(x) of binary pixels in nats per example, {how}; comparable with other discrete likelihoods on the same binarization"
        );
        (LikelihoodKind::Discrete, text)
    } else if pre.dequantize || levels {
        let text = format!(
            "discrete: -log P(x) of 8-bit pixels (256 levels) in nats per example, {how}; comparable across families on the same data"
        );
        (LikelihoodKind::Discrete, text)
    } else {
        let text = format!(
            "continuous: -log p(x) of a density in nats per example, {how}; can be negative, depends on the data's units, and is never comparable with a discrete likelihood"
        );
        (LikelihoodKind::Continuous, text)
    }
}

/// What turns -log p(x) of a density of dequantized pixels into -log P of their 8-bit levels:
/// -log of the volume of one example's bins, d ln 256 on [0, 1] (each bin 1/256 wide) and d ln 128
/// on [-1, 1] (2/256 wide); 0 for data that is not dequantized.
fn bin_nats(pre: &genlab_data::Preprocess, d: usize) -> f64 {
    match (pre.dequantize && !pre.is_binary(), pre.scale) {
        (false, _) => 0.0,
        (true, Scale::Unit) => d as f64 * 256f64.ln(),
        (true, Scale::Symmetric) => d as f64 * 128f64.ln(),
    }
}

pub fn likelihood(
    model: &dyn Model,
    info: &DataInfo,
    data: &Dataset,
    k: usize,
    seed: u64,
    device: &Device,
) -> Result<LikelihoodReport> {
    let Some(lik) = model.as_likelihood() else {
        bail!(
            "{} has no likelihood; `genlab eval` reports its reconstruction error instead",
            model.family()
        );
    };
    if lik.needs_binary_data() && info.preprocess.binarize == Binarize::None && !data.binary {
        let fix = match data.kind {
            Kind::Images => "train and evaluate with --set data.binarize=dynamic (evaluation then uses a fixed static binarization)".to_string(),
            Kind::Points => real_valued_fix(lik),
        };
        bail!(
            "{} models binary data, but this data is not 0/1, so its numbers would not be a likelihood; {fix}",
            model.family()
        );
    }
    let pre = info.preprocess.for_evaluation();
    let d = info.shape.dim();
    // A likelihood that does not use importance samples is computed once.
    let once = !lik.uses_k();
    let k = if once { 1 } else { k };
    let rows = (ROWS_PER_PASS / k.max(1)).max(1);
    let mut all = Vec::with_capacity(data.len());
    let label = match once {
        true => format!("{}: log-likelihood", model.family()),
        false => format!("{}: log-likelihood, k = {k}", model.family()),
    };
    let mut progress = genlab_core::progress::Progress::new(&label, data.len() as u64);
    for (chunk, start) in (0..data.len()).step_by(rows).enumerate() {
        let idx: Vec<usize> = (start..(start + rows).min(data.len())).collect();
        let mut rng = rng_for(seed, chunk as u64, Stream::Eval);
        let mut x = data.gather(&idx);
        pre.apply(&mut x, d, &idx, &mut rng);
        let x = genlab_core::tensor::matrix(x, idx.len(), d, device);
        all.extend(lik.log_likelihood(x, k, &mut rng)?);
        progress.inc(idx.len() as u64);
    }
    // log p(x) = log p(z) + log |det dz/dx| for data standardised on load.
    let log_jacobian = data.standardization.as_ref().map(|s| s.log_jacobian());
    if let Some(j) = log_jacobian {
        all.iter_mut().for_each(|v| *v += j);
    }
    let n = all.len() as f64;
    let discrete = bin_nats(&pre, d);
    let per_example_nll: Vec<f64> = all.iter().map(|v| discrete - v).collect();
    let mut nll = -all.iter().sum::<f64>() / n;
    let var = all.iter().map(|v| (-v - nll).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    nll += discrete;
    // A density of uniformly dequantized pixels, E_u[log p(x + u)], is a lower bound on the
    // log-probability of the 8-bit pixels, however exact the density (Theis, van den Oord &
    // Bethge 2016, sec. 3.1; Ho et al. 2019, eq. 3).
    let bound = match lik.bound(k) {
        Bound::Exact if pre.dequantize && !pre.is_binary() => Bound::LowerBound,
        b => b,
    };
    let (kind, meaning) = kind_of(&pre, data, bound, lik.models_8bit_levels());
    let projected_dims = (bound == Bound::Projected)
        .then(|| lik.projected_dims())
        .flatten();
    let bits = |dims: usize| nll / (dims as f64 * std::f64::consts::LN_2);
    Ok(LikelihoodReport {
        nll_nats: nll,
        bits_per_dim: (bound != Bound::Projected).then(|| bits(d)),
        projected_dims,
        bits_per_projected_dim: projected_dims.map(bits),
        nll_stderr: (var / n).sqrt(),
        bound,
        kind,
        meaning,
        k: (!once).then_some(k),
        n_examples: all.len(),
        log_jacobian,
        per_example_nll,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use genlab_data::Preprocess;

    #[test]
    fn bin_nats_follow_the_scale_so_a_density_gives_one_discrete_nll() {
        let pre = |dequantize, scale, binarize| Preprocess {
            binarize,
            scale,
            dequantize,
        };
        let d = 784;
        let unit = bin_nats(&pre(true, Scale::Unit, Binarize::None), d);
        let symmetric = bin_nats(&pre(true, Scale::Symmetric, Binarize::None), d);
        assert!((unit - d as f64 * 256f64.ln()).abs() < 1e-9);
        // y = 2x - 1: p_y(y) = p_x(x) / 2^d, so -log p_y + bin_nats(symmetric) must equal
        // -log p_x + bin_nats(unit), the same probability of the same 8-bit pixels.
        let minus_log_px = 1234.5;
        let minus_log_py = minus_log_px + d as f64 * 2f64.ln();
        assert!((minus_log_px + unit - (minus_log_py + symmetric)).abs() < 1e-9);
        // Nothing to add where no density of dequantized pixels is scored.
        assert_eq!(bin_nats(&pre(false, Scale::Unit, Binarize::None), d), 0.0);
        assert_eq!(bin_nats(&pre(true, Scale::Unit, Binarize::Static), d), 0.0);
    }
}
