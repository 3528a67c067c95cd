use anyhow::Result;
use genlab_core::rng::{rng_for, Stream};
use genlab_data::Split;
use genlab_train::{batches::make_batch, pictures};
use std::path::{Path, PathBuf};

/// Columns of the reconstruction picture.
const COLS: usize = 8;

pub fn run(dir: &Path, n: usize, out: Option<PathBuf>) -> Result<()> {
    let run = crate::run::open(dir)?;
    let img = picture(&run, n)?;
    let out = out.unwrap_or_else(|| run.dir.join("reconstructions.png"));
    pictures::save_png(&out, &img)?;
    println!("{}", out.display());
    Ok(())
}

/// The first `n` test images above their reconstructions.
pub fn picture(run: &crate::run::OpenRun, n: usize) -> Result<image::RgbImage> {
    let data = run
        .config
        .data
        .load(Split::Test)
        .or_else(|_| run.config.data.load(Split::Train))?;
    let idx: Vec<usize> = (0..n.min(data.len())).collect();
    let mut pre = run.info.preprocess;
    if pre.binarize == genlab_data::Binarize::Dynamic {
        pre.binarize = genlab_data::Binarize::Static;
    }
    let batch = make_batch(
        &data,
        &idx,
        &pre,
        &mut rng_for(0, 0, Stream::Eval),
        &run.device,
    );
    pictures::reconstruction_picture(run.model.as_ref(), &run.info, batch.x, COLS)
}
