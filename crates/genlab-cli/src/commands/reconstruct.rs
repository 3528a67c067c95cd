//! `genlab reconstruct`: test images above their reconstructions.

use anyhow::Result;
use genlab_core::run_dir::Output;
use genlab_eval::pictures;
use std::path::PathBuf;

/// Columns of the reconstruction picture.
const COLS: usize = 8;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (as `genlab train --out` made it).
    pub run: PathBuf,
    /// Number of test images.
    #[arg(short, default_value_t = 32)]
    pub n: usize,
    /// Output PNG (default RUN/reconstructions.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let run = crate::run::open(&args.run)?;
    let img = picture(&run, args.n)?;
    let out = run.dir.output(args.out, Output::Reconstructions)?;
    pictures::save_png(&out, &img)?;
    println!("{}", out.display());
    Ok(())
}

/// The first `n` test images above their reconstructions.
pub fn picture(run: &crate::run::OpenRun, n: usize) -> Result<image::RgbImage> {
    let batch = run.held_out_batch(|len| (0..n.min(len)).collect())?;
    let about = run.about();
    let caption = (&about, "held-out images");
    pictures::reconstruction_picture(run.model.as_ref(), &run.info, batch.x, COLS, caption)
}
