//! `genlab neighbours`: each generated sample beside its nearest training images (Euclidean
//! distance in model space), to show whether a model makes new images or recalls old ones.

use anyhow::{bail, Result};
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::Output;
use genlab_data::Split;
use genlab_train::pictures::{self, cannot, to_images};
use genlab_viz::Grid;
use std::path::{Path, PathBuf};

pub fn run(dir: &Path, n: usize, k: usize, seed: u64, out: Option<PathBuf>) -> Result<()> {
    let run = crate::run::open(dir)?;
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
    let samples = genlab_core::tensor::to_vec(sampler.sample(
        n,
        &mut rng_for(seed, 0, Stream::Eval),
        &run.device,
    )?);
    // The training set in model space (a fixed binarization where the run binarizes).
    let data = run.config.data.load(Split::Train)?;
    let mut train = data.gather(&(0..data.len()).collect::<Vec<_>>());
    let idx: Vec<usize> = (0..data.len()).collect();
    run.info.preprocess.for_evaluation().apply(
        &mut train,
        d,
        &idx,
        &mut rng_for(0, 0, Stream::Eval),
    );
    let mut cells = Vec::with_capacity(n * (k + 1) * d);
    let mut report = Vec::new();
    for s in samples.chunks(d) {
        let mut dist: Vec<(f32, usize)> = train
            .chunks(d)
            .enumerate()
            .map(|(i, t)| {
                (
                    s.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(),
                    i,
                )
            })
            .collect();
        let k = k.min(dist.len());
        dist.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
        dist[..k].sort_by(|a, b| a.0.total_cmp(&b.0));
        cells.extend_from_slice(s);
        for &(_, i) in &dist[..k] {
            cells.extend_from_slice(&train[i * d..(i + 1) * d]);
        }
        report.push(((dist[0].0 / d as f32).sqrt(), dist[0].1));
    }
    let cols = k.min(data.len()) + 1;
    let x = genlab_core::tensor::matrix(cells, n * cols, d, &run.device);
    let img = Grid {
        cols,
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
