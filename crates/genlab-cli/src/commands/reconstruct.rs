use anyhow::Result;
use genlab_core::run_dir::Output;
use genlab_eval::pictures;
use std::path::{Path, PathBuf};

/// Columns of the reconstruction picture.
const COLS: usize = 8;

pub fn run(dir: &Path, n: usize, out: Option<PathBuf>) -> Result<()> {
    let run = crate::run::open(dir)?;
    let img = picture(&run, n)?;
    let out = run.dir.output(out, Output::Reconstructions)?;
    pictures::save_png(&out, &img)?;
    println!("{}", out.display());
    Ok(())
}

/// The first `n` test images above their reconstructions.
pub fn picture(run: &crate::run::OpenRun, n: usize) -> Result<image::RgbImage> {
    let batch = run.held_out_batch(|len| (0..n.min(len)).collect())?;
    pictures::reconstruction_picture(run.model.as_ref(), &run.info, batch.x, COLS)
}
