//! `genlab features`: the judge's features of a run's samples or of a data set, as a float64
//! `.npy` file, so that anyone can recompute FID and the other metrics with their own tools
//! (`genlab score` reads them back).

use crate::cli::SplitArg;
use anyhow::{bail, Result};
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::{atomic_write, check_overwrite, Format};
use genlab_core::Batch;
use genlab_data::{DataSpec, Kind};
use genlab_eval::quality::features_of;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A run directory (features of its samples) or a data spec (features of its examples).
    pub source: String,
    /// Output .npy file: float64 `[n, features]`.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the judge's class probabilities p(y | x) `[n, classes]` here (.npy).
    #[arg(long)]
    pub probs: Option<PathBuf>,
    /// The judge: a classifier run, or `fashion-mnist` for the shipped Fashion-MNIST judge (the
    /// default on Fashion-MNIST data; name it to judge other 28x28 gray images with it).
    #[arg(long)]
    pub judge: Option<PathBuf>,
    /// Samples of a run (or the first N examples of data).
    #[arg(long, default_value_t = genlab_eval::quality::PROTOCOL_SAMPLES)]
    pub samples: usize,
    /// The split of a data spec.
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    pub split: SplitArg,
    /// With a RUN: features of its evaluation examples (the first --samples), preprocessed as
    /// `genlab eval` compares them with the samples (binarized for a model of bits).
    #[arg(long)]
    pub real: bool,
    /// Seed of the samples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub mean: super::MeanArg,
}

pub fn run(a: Args) -> Result<()> {
    if a.samples == 0 {
        bail!("--samples must be at least 1");
    }
    let as_run = PathBuf::from(&a.source);
    let (rows, info, spec) = if as_run.join("config.toml").is_file() {
        let run = crate::run::open(&as_run)?;
        // The run's evaluation examples as `genlab eval` compares against them, or its
        // samples drawn as eval draws them (the same ones for the same seed).
        let x = if a.real {
            let data = run.load_data(run.config.data.eval_split)?;
            genlab_eval::quality::model_space(&data, a.samples, &run.info, &run.device)
        } else {
            let draw = a.mean.draw(run.model.as_ref());
            let model = run.model.as_ref();
            genlab_eval::quality::draw_samples(
                model,
                &run.info,
                a.samples,
                draw,
                a.seed,
                &run.device,
            )?
        };
        (x, run.info.clone(), run.config.data.spec.clone())
    } else {
        let spec: DataSpec = a.source.parse().map_err(|e| {
            anyhow::anyhow!(
                "{} is neither a run directory nor a data spec: {e}",
                a.source
            )
        })?;
        let config = genlab_core::config::DataConfig {
            spec: spec.clone(),
            ..Default::default()
        };
        let data = config.load(a.split.into())?;
        let info = genlab_core::DataInfo::new(&data, &config);
        let idx: Vec<usize> = (0..a.samples.min(data.len())).collect();
        let device = genlab_core::device::inference_device(&Default::default());
        let batch = Batch::gather(
            &data,
            &idx,
            &info.preprocess,
            &mut rng_for(0, 0, Stream::Eval),
            &device,
        );
        (genlab_core::tensor::to_vec(batch.x), info, spec)
    };
    let judge = match info.kind {
        Kind::Images => Some(crate::judge::resolve(a.judge.as_deref(), &spec)?),
        Kind::Points => None,
    };
    if let Some(j) = &judge {
        j.check_shape(&info)?;
    }
    let judge_ref = judge.as_ref().map(|j| j.as_ref());
    let (feats, probs) = features_of(&rows, &info, judge_ref.as_ref(), "judging")?;
    check_overwrite(&a.out, Format::Npy)?;
    atomic_write(&a.out, &genlab_data::npy_bytes(&feats.x, feats.n, feats.d))?;
    println!("{}: {} x {}", a.out.display(), feats.n, feats.d);
    match (&a.probs, probs) {
        (Some(path), Some((p, classes))) => {
            check_overwrite(path, Format::Npy)?;
            atomic_write(path, &genlab_data::npy_bytes(&p, feats.n, classes))?;
            println!("{}: {} x {classes}", path.display(), feats.n);
        }
        (Some(_), None) => {
            bail!("--probs needs a judge: point data is compared on its coordinates")
        }
        _ => {}
    }
    if let Some(j) = &judge {
        eprintln!("judge {} (sha256 {})", j.id.name, j.id.sha256);
    }
    Ok(())
}
