//! `genlab neighbours`: each generated sample beside its nearest training images
//! (`genlab_eval::nearest`, Euclidean distance in model space).

use anyhow::{bail, Result};
use genlab_core::model::cannot;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::Output;
use genlab_data::Split;
use genlab_eval::pictures::{self, to_images};
use genlab_viz::Grid;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (as `genlab train --out` made it).
    pub run: PathBuf,
    /// Samples (rows).
    #[arg(short, default_value_t = 8)]
    pub n: usize,
    /// Nearest training images per sample.
    #[arg(short, default_value_t = 5)]
    pub k: usize,
    /// Seed of the samples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output PNG (default RUN/neighbours.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub mean: super::MeanArg,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        run,
        n,
        k,
        seed,
        out,
        mean,
    } = args;
    let run = crate::run::open(&run)?;
    let model = run.model.as_ref();
    let sampler = model
        .as_sample()
        .ok_or_else(|| cannot(model, "sample", "genlab reconstruct"))?;
    if run.info.kind != genlab_data::Kind::Images {
        bail!("neighbours shows images; this run's data are points (genlab sample draws them over the data)");
    }
    if n == 0 || k == 0 {
        bail!("-n and -k must be at least 1");
    }
    let d = run.info.shape.dim();
    let draw = mean.draw(model);
    let samples = genlab_core::tensor::to_vec(draw.sample(
        sampler,
        n,
        &mut rng_for(seed, 0, Stream::Eval),
        &run.device,
    )?);
    // The training set in model space (a fixed binarization where the run binarizes).
    let data = run.load_data(Split::Train)?;
    let mut train = data.gather(&(0..data.len()).collect::<Vec<_>>());
    let idx: Vec<usize> = (0..data.len()).collect();
    run.info.preprocess.for_evaluation().apply(
        &mut train,
        d,
        &idx,
        &mut rng_for(0, 0, Stream::Eval),
    );
    let nearest = genlab_eval::nearest(&samples, &train, d, k);
    let mut cells = Vec::with_capacity(n * (k + 1) * d);
    let mut report = Vec::new();
    for (s, near) in samples.chunks(d).zip(&nearest) {
        cells.extend_from_slice(s);
        for &(_, i) in near {
            cells.extend_from_slice(&train[i * d..(i + 1) * d]);
        }
        report.push(((near[0].0 / d as f32).sqrt(), near[0].1));
    }
    let cols = k.min(data.len()) + 1;
    let x = genlab_core::tensor::matrix(cells, n * cols, d, &run.device);
    let mut col_labels = vec!["sample".to_string()];
    col_labels.extend(std::iter::repeat_n(
        "nearest training images".to_string(),
        cols - 1,
    ));
    let img = Grid {
        cols,
        title: run.about().title(&format!(
            "{} (seed {seed}) and their nearest training images (Euclidean)",
            genlab_eval::pictures::samples_caption(n, draw)
        )),
        row_header: "rms to nearest".into(),
        row_labels: report.iter().map(|(rms, _)| format!("{rms:.3}")).collect(),
        col_labels,
        ..Grid::default()
    }
    .render(&to_images(x, &run.info));
    let out = run.dir.output(out, Output::Neighbours)?;
    pictures::save_png(&out, &img)?;
    for (i, (rms, j)) in report.iter().enumerate() {
        println!("sample {i}: nearest training image {j}, rms distance {rms:.4}");
    }
    println!(
        "rows: a sample, then its {} nearest training images",
        cols - 1
    );
    println!("{}", out.display());
    Ok(())
}
