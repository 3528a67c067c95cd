//! Classification accuracy score (Ravuri & Vinyals 2019): train a classifier on a conditional
//! model's labelled samples only, then test it on real test images. A model whose samples of
//! class c look like class c, and cover its variety, trains a classifier that generalises to
//! real data; one that draws a few modes per class does not.
//!
//! The samples go to a temporary IDX data set (the MNIST file layout genlab reads as `idx:DIR`)
//! and the `classifier` family trains on them through `genlab train`'s own path, with its
//! default preset's network and a pinned budget ([`CAS_STEPS`] unless `--cas-steps` says
//! otherwise, recorded in the result).

use anyhow::{bail, Result};
use genlab_core::rng::{rng_for, Stream};
use genlab_core::{Batch, Draw};
use genlab_data::Dataset;

/// The pinned budget: 1,500 steps of 128 (about 19 passes over 10,000 samples).
pub const CAS_STEPS: u64 = 1500;
/// Labelled samples drawn, evenly over the classes.
const CAS_SAMPLES: usize = 10_000;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Cas {
    pub cas: f64,
    pub cas_protocol: serde_json::Value,
}

/// IDX bytes: magic `0 0 0x08 ndim`, big-endian sizes, then `u8` values.
fn idx_bytes(dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(values);
    out
}

/// CAS of the run's conditional sampler on `test` (evaluated as the run evaluates data).
pub fn cas(
    run: &crate::run::OpenRun,
    test: &Dataset,
    draw: Draw,
    steps: u64,
    seed: u64,
) -> Result<Cas> {
    let given = run.model.as_sample_given().ok_or_else(|| {
        genlab_core::model::cannot(
            run.model.as_ref(),
            "sample given a label, so it has no CAS",
            "genlab eval RUN",
        )
    })?;
    let s = run.info.shape;
    if run.info.kind != genlab_data::Kind::Images || s.c != 1 {
        bail!(
            "CAS trains a classifier on one-channel images; this run's data are {}x{}x{}",
            s.c,
            s.h,
            s.w
        );
    }
    let classes = given.classes();
    let labels: Vec<u32> = (0..CAS_SAMPLES).map(|i| (i % classes) as u32).collect();
    let mut rng = rng_for(seed, genlab_eval::quality::SAMPLE_STREAM + 1, Stream::Eval);
    let mut x = Vec::with_capacity(CAS_SAMPLES * s.dim());
    let mut progress =
        genlab_core::progress::Progress::new("drawing labelled samples", CAS_SAMPLES as u64);
    for chunk in labels.chunks(500) {
        let drawn = draw.sample_given(given, chunk, &mut rng, &run.device)?;
        x.extend(genlab_core::tensor::to_vec(drawn));
        progress.inc(chunk.len() as u64);
    }
    drop(progress);
    // A NaN would be cast to a black pixel and trained on: refused, as the other metrics do.
    genlab_eval::quality::refuse_diverged(&x, s.dim(), run.model.family())?;
    let pixels: Vec<u8> = x
        .into_iter()
        .map(|v| (run.info.preprocess.to_unit(v).clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("samples");
    std::fs::create_dir_all(&data)?;
    let (n, h, w) = (CAS_SAMPLES as u32, s.h as u32, s.w as u32);
    std::fs::write(
        data.join("train-images-idx3-ubyte"),
        idx_bytes(&[n, h, w], &pixels),
    )?;
    let y: Vec<u8> = labels.iter().map(|&c| c as u8).collect();
    std::fs::write(data.join("train-labels-idx1-ubyte"), idx_bytes(&[n], &y))?;
    // The classifier's default network, on the samples, for the pinned budget.
    let family = genlab_models::find("classifier")?;
    let args = crate::commands::train::Args {
        family,
        data: Some(genlab_data::DataSpec::Idx(data)),
        preset: None,
        config: None,
        sets: vec![
            "train.held_out=0".into(),
            format!("train.sample_every={steps}"),
            format!("train.checkpoint_every={steps}"),
        ],
        steps: Some(steps),
        out: None,
        seed: Some(seed),
        resume: false,
        data_dir: None,
        quiet: true,
        print_config: false,
    };
    let config = crate::commands::train::resolve(family, &args)?;
    let out = tmp.path().join("classifier");
    eprintln!("CAS: training a classifier on {CAS_SAMPLES} labelled samples for {steps} steps");
    if let crate::commands::Status::Interrupted =
        crate::commands::train::train_run(family, &config, &out, false, true)?
    {
        bail!("interrupted while training the CAS classifier");
    }
    let judge = crate::run::open(&out)?;
    let classify = judge.model.as_classify().expect("a classifier classifies");
    // Real test images as the run evaluates them (binarized for a model of bits), in [0, 1].
    let idx: Vec<usize> = (0..test.len()).collect();
    let pre = run.info.preprocess.for_evaluation();
    let mut right = 0usize;
    let truth = test
        .y
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("CAS needs labelled test data"))?;
    for chunk in idx.chunks(1000) {
        let b = Batch::gather(
            test,
            chunk,
            &pre,
            &mut rng_for(seed, 0, Stream::Eval),
            &run.device,
        );
        let unit: Vec<f32> = genlab_core::tensor::to_vec(b.x)
            .into_iter()
            .map(|v| run.info.preprocess.to_unit(v))
            .collect();
        let x = genlab_core::tensor::matrix(unit, chunk.len(), s.dim(), &judge.device);
        let predicted = classify.classify(x)?;
        right += chunk
            .iter()
            .zip(predicted)
            .filter(|(&i, p)| truth[i] == *p)
            .count();
    }
    Ok(Cas {
        cas: right as f64 / test.len().max(1) as f64,
        cas_protocol: serde_json::json!({
            "samples": CAS_SAMPLES, "classes": classes, "classifier": "classifier --preset default (network only)",
            "steps": steps, "batch_size": config.train.batch_size, "standard": steps == CAS_STEPS,
            "test_examples": test.len(), "seed": seed,
        }),
    })
}
