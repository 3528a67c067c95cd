//! The sample-quality protocol of `genlab eval` (issue 21): N samples of a model against the
//! first N test examples (10,000 against Fashion-MNIST's 10,000 by default), both as the model
//! sees them (binarized for a model of bits) and then as the judge sees them, compared on the
//! judge's features: FID, KID, precision / recall, density / coverage, the Inception score on
//! its class probabilities, and memorisation against the training set. Point data (2-D toys,
//! tables) is compared on its own coordinates, without a judge. Everything the numbers depend
//! on is written into the result's `protocol`.

use super::{
    fid, inception_score, kid, memorization, prdc, Features, Memorization, DC_K, IS_SPLITS,
    KID_SUBSETS, KID_SUBSET_SIZE, PR_K,
};
use anyhow::{bail, Result};
use burn::tensor::Device;
use genlab_core::model::cannot;
use genlab_core::progress::Progress;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::{Batch, DataInfo, Draw, Judge, Model};
use genlab_data::{Dataset, Kind, Split};

/// The protocol's number of samples (and of real test examples).
pub const PROTOCOL_SAMPLES: usize = 10_000;
/// Below this many samples the estimates are too noisy to compare: a warning in the result.
const FEW_SAMPLES: usize = 2_000;
/// Rows per judge or sampler call.
const CHUNK: usize = 500;

/// A judge with the data description of its model space and its device.
pub struct JudgeRef<'a> {
    pub judge: &'a dyn Judge,
    pub info: &'a DataInfo,
    pub device: &'a Device,
    /// What the result records of it (name, hash, accuracy).
    pub id: serde_json::Value,
    /// True for the judge shipped for the data: only its results are on the protocol.
    pub shipped: bool,
}

/// The random stream of the sample-quality protocol's draws (`rng_for(seed, SAMPLE_STREAM,
/// Eval)`), far from the likelihood's per-chunk streams 0, 1, 2, ...
pub const SAMPLE_STREAM: u64 = 1 << 40;

/// What the numbers were computed on.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProtocolRecord {
    pub samples: usize,
    pub real: String,
    pub real_examples: usize,
    pub seed: u64,
    /// The judge (name, sha256, test_accuracy), or `coordinates` for point data.
    pub judge: serde_json::Value,
    pub features: usize,
    /// "binary draws" or "P(x = 1) per pixel" for a model of bits, else "values".
    pub samples_shown_as: String,
    pub k_precision_recall: usize,
    pub k_density_coverage: usize,
    pub kid_subsets: usize,
    pub kid_subset_size: usize,
    pub is_splits: usize,
    /// True when `samples` is the protocol's 10,000 (and as many real examples).
    pub standard: bool,
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SampleQuality {
    pub fid: f64,
    pub fid_rank: usize,
    pub kid: f64,
    pub kid_std: f64,
    pub precision: f64,
    pub recall: f64,
    pub density: f64,
    pub coverage: f64,
    /// Inception score on the judge's p(y | x); none for point data.
    pub is: Option<f64>,
    pub is_std: Option<f64>,
    /// None when the reference examples are training examples (data without a test split).
    pub memorization: Option<Memorization>,
    pub protocol: ProtocolRecord,
}

/// Model-space rows `[n, d]` of `from` as the judge's model space: through [0, 1] pixels.
fn to_judge_space(x: &[f32], from: &DataInfo, to: &DataInfo) -> Vec<f32> {
    x.iter()
        .map(|&v| to.preprocess.from_unit(from.preprocess.to_unit(v)))
        .collect()
}

/// A judge's class probabilities `[n, classes]` and the number of classes.
pub type Probabilities = (Vec<f64>, usize);

/// Features (and class probabilities with a judge) of model-space rows `x` of `from`.
pub fn features_of(
    x: &[f32],
    from: &DataInfo,
    judge: Option<&JudgeRef>,
    what: &str,
) -> Result<(Features, Option<Probabilities>)> {
    let d = from.shape.dim();
    let Some(j) = judge else {
        return Ok((
            Features::new(x.iter().map(|&v| v as f64).collect(), d)?,
            None,
        ));
    };
    let n = x.len() / d;
    let mut progress = Progress::new(what, n as u64);
    let (mut feats, mut probs, mut classes) = (Vec::new(), Vec::new(), 0);
    for rows in x.chunks(CHUNK * d) {
        let m = rows.len() / d;
        let t = genlab_core::tensor::matrix(to_judge_space(rows, from, j.info), m, d, j.device);
        feats.extend(
            genlab_core::tensor::to_vec(j.judge.features(t.clone())?)
                .into_iter()
                .map(f64::from),
        );
        let p = j.judge.probabilities(t)?;
        classes = p.dims()[1];
        probs.extend(genlab_core::tensor::to_vec(p).into_iter().map(f64::from));
        progress.inc(m as u64);
    }
    Ok((
        Features::new(feats, j.judge.feature_dim())?,
        Some((probs, classes)),
    ))
}

/// The first `n` examples of `data`, preprocessed as the model is evaluated (a fixed
/// binarization for a model of bits), as model-space rows.
pub fn model_space(data: &Dataset, n: usize, info: &DataInfo, device: &Device) -> Vec<f32> {
    let idx: Vec<usize> = (0..n.min(data.len())).collect();
    let pre = info.preprocess.for_evaluation();
    let batch = Batch::gather(data, &idx, &pre, &mut rng_for(0, 0, Stream::Eval), device);
    genlab_core::tensor::to_vec(batch.x)
}

/// `n` samples of `model` shown as `draw` says, in model space `[n, d]`, drawn in chunks of
/// [`CHUNK`] from one random stream: `genlab eval` and `genlab features` draw the same ones.
pub fn draw_samples(
    model: &dyn Model,
    info: &DataInfo,
    n: usize,
    draw: Draw,
    seed: u64,
    device: &Device,
) -> Result<Vec<f32>> {
    let sampler = model.as_sample().ok_or_else(|| {
        cannot(
            model,
            "sample, so its samples cannot be judged",
            "genlab eval RUN --samples 0",
        )
    })?;
    let d = info.shape.dim();
    let mut rng = rng_for(seed, SAMPLE_STREAM, Stream::Eval);
    let mut x = Vec::with_capacity(n * d);
    let mut progress = Progress::new("drawing samples", n as u64);
    while x.len() < n * d {
        let m = CHUNK.min(n - x.len() / d);
        x.extend(genlab_core::tensor::to_vec(
            draw.sample(sampler, m, &mut rng, device)?,
        ));
        progress.inc(m as u64);
    }
    refuse_diverged(&x, d, model.family())?;
    Ok(x)
}

/// Refuses samples (rows of `d` values in `x`) of which any holds NaN or an infinite value.
/// A sampler that overflowed (a flow's exp of a large scale, say) gives such values, which no
/// judge or classifier can score: said here, not by a metric's output downstream.
///
/// # Errors
/// How many of the samples of `family` diverged, and the command that shows them.
pub fn refuse_diverged(x: &[f32], d: usize, family: &str) -> Result<()> {
    let n = x.len() / d.max(1);
    let diverged = x
        .chunks(d.max(1))
        .filter(|r| r.iter().any(|v| !v.is_finite()))
        .count();
    if diverged > 0 {
        bail!(
            "{diverged} of the {n} samples of {family} hold NaN or infinite values: its sampler diverged, so no metric can score them (`genlab sample RUN -n 400` shows what the sampler draws)"
        );
    }
    Ok(())
}

/// `samples` draws of `model` (shown as `draw` says) against the first `samples` rows of
/// `real` (the `real_split` of the data), memorisation against `train` when `real` is held
/// out; a judge for images, coordinates for points.
#[allow(clippy::too_many_arguments)]
pub fn sample_quality(
    model: &dyn Model,
    info: &DataInfo,
    (real_data, real_split, train): (&Dataset, Split, &Dataset),
    judge: Option<&JudgeRef>,
    samples: usize,
    draw: Draw,
    seed: u64,
    device: &Device,
) -> Result<SampleQuality> {
    if info.kind == Kind::Images && judge.is_none() {
        bail!("judging image samples needs a judge: pass --judge RUN (a classifier run)");
    }
    if samples < DC_K + 1 {
        bail!(
            "--samples {samples} is too few: the metrics need at least {} (the protocol uses {PROTOCOL_SAMPLES})",
            DC_K + 1
        );
    }
    let x = draw_samples(model, info, samples, draw, seed, device)?;
    let real_rows = model_space(real_data, samples, info, device);
    let (fake, fake_p) = features_of(&x, info, judge, "judging samples")?;
    let split_name = format!("{real_split:?}").to_lowercase();
    let (real, _) = features_of(
        &real_rows,
        info,
        judge,
        &format!("judging {split_name} examples"),
    )?;
    let mut warnings = Vec::new();
    if real.n < samples {
        warnings.push(format!(
            "the {split_name} split has {} examples, fewer than the {samples} samples",
            real.n
        ));
    }
    if samples < FEW_SAMPLES {
        warnings.push(format!(
            "{samples} samples are fewer than {FEW_SAMPLES}: FID and KID are biased and noisy at this size; the protocol uses {PROTOCOL_SAMPLES}"
        ));
    }
    if draw == Draw::Probabilities {
        warnings.push("samples shown as P(x = 1) (--mean) are compared with binarized real images: not the protocol, which compares binary draws".into());
    }
    if judge.is_some_and(|j| !j.shipped) {
        warnings.push("a judge of your own (--judge): comparable only with results on the same judge (its sha256)".into());
    }
    // Memorisation needs held-out reference rows: none when they are training rows.
    let held_out = real_split == Split::Test;
    let m = if held_out {
        let train_rows = model_space(train, train.len(), info, device);
        let (train_f, _) = features_of(&train_rows, info, judge, "judging training examples")?;
        Some(memorization(&fake, &real, &train_f)?)
    } else {
        warnings.push(format!(
            "the real examples are the {split_name} split: no memorisation (it needs held-out examples; evaluate with --data on a separate test set)"
        ));
        None
    };
    let f = fid(&real, &fake)?;
    let k = kid(&real, &fake, KID_SUBSETS, KID_SUBSET_SIZE, seed)?;
    if k.subset_size == real.n && k.subset_size == fake.n {
        warnings.push(format!(
            "KID's subsets hold all {} rows of both sets, so its standard deviation over subsets is 0",
            k.subset_size
        ));
    }
    let p = prdc(&real, &fake, PR_K, DC_K)?;
    let is = match &fake_p {
        Some((probs, classes)) => Some(inception_score(probs, *classes, IS_SPLITS.min(samples))?),
        None => None,
    };
    Ok(SampleQuality {
        fid: f.fid,
        fid_rank: f.rank,
        kid: k.kid,
        kid_std: k.kid_std,
        precision: p.precision,
        recall: p.recall,
        density: p.density,
        coverage: p.coverage,
        is: is.as_ref().map(|s| s.is),
        is_std: is.as_ref().map(|s| s.is_std),
        memorization: m,
        protocol: ProtocolRecord {
            samples,
            real: split_name,
            real_examples: real.n,
            seed,
            judge: judge.map_or(serde_json::json!("coordinates"), |j| j.id.clone()),
            features: fake.d,
            samples_shown_as: match draw {
                Draw::Values => "values".into(),
                other => other.caption().into(),
            },
            k_precision_recall: PR_K,
            k_density_coverage: DC_K,
            kid_subsets: k.subsets,
            kid_subset_size: k.subset_size,
            is_splits: is.as_ref().map_or(0, |s| s.splits),
            standard: samples == PROTOCOL_SAMPLES
                && real.n == samples
                && held_out
                && draw != Draw::Probabilities
                && judge.is_none_or(|j| j.shipped),
            warnings,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;
    use genlab_core::{Losses, NamedTensors, Sample, StepCtx};
    use rand_chacha::ChaCha8Rng;

    /// Samples of 4 values, the third sample NaN where `diverge` says.
    struct Stub {
        diverge: bool,
    }

    impl Model for Stub {
        fn family(&self) -> &'static str {
            "stub"
        }
        fn groups(&self) -> Vec<&'static str> {
            vec![]
        }
        fn train_step(&mut self, _: &Batch, _: &mut StepCtx) -> Result<Losses> {
            unreachable!()
        }
        fn save_params(&self) -> NamedTensors {
            NamedTensors::default()
        }
        fn load_params(&mut self, _: &NamedTensors) -> Result<()> {
            Ok(())
        }
        fn as_sample(&self) -> Option<&dyn Sample> {
            Some(self)
        }
    }

    impl Sample for Stub {
        fn sample(&self, n: usize, _: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
            let mut x = vec![0.5f32; n * 4];
            if self.diverge {
                x[2 * 4 + 1] = f32::NAN;
            }
            Ok(genlab_core::tensor::matrix(x, n, 4, device))
        }
    }

    #[test]
    fn diverged_samples_are_named_not_judged() {
        let device = Device::default();
        let info = DataInfo {
            kind: Kind::Points,
            shape: genlab_data::Shape { c: 4, h: 1, w: 1 },
            classes: 1,
            preprocess: genlab_data::Preprocess {
                binarize: genlab_data::Binarize::None,
                scale: genlab_data::Scale::Unit,
                dequantize: false,
            },
            modes: None,
            standardization: None,
            input: None,
        };
        let ok = draw_samples(
            &Stub { diverge: false },
            &info,
            10,
            Draw::Values,
            0,
            &device,
        );
        assert_eq!(ok.unwrap().len(), 40);
        let err = draw_samples(&Stub { diverge: true }, &info, 10, Draw::Values, 0, &device)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("1 of the 10 samples of stub hold NaN or infinite values"),
            "{err}"
        );
    }
}
