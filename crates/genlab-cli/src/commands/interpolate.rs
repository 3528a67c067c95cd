//! `genlab interpolate`: decoded paths between latent codes of test images.

use anyhow::Result;
use clap::ValueEnum;
use genlab_core::run_dir::Output;
use genlab_eval::pictures;
use std::path::{Path, PathBuf};

/// Step between the chosen test examples: a prime, so that pairs mix classes in any layout.
const PAIR_STRIDE: usize = 7919;
/// Side of the manifold grid of a 2-D latent.
const MANIFOLD_SIDE: usize = 20;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (as `genlab train --out` made it).
    pub run: PathBuf,
    /// Number of interpolation rows.
    #[arg(long, default_value_t = 8)]
    pub rows: usize,
    /// Images per row, ends included.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Path between codes: slerp (spherical, for Gaussian latents) or lerp (straight line).
    #[arg(long, value_enum, default_value_t = InterpMode::Slerp)]
    pub mode: InterpMode,
    /// Output PNG (default RUN/interpolation.png; a 2-D latent also writes manifold.png beside it).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum InterpMode {
    Lerp,
    Slerp,
}

pub fn run(args: Args) -> Result<()> {
    let run = crate::run::open(&args.run)?;
    let out = run.dir.output(args.out, Output::Interpolation)?;
    for path in write(&run, args.rows, args.steps, args.mode, &out)? {
        println!("{}", path.display());
    }
    Ok(())
}

/// Interpolate between the codes of pairs of test images; also a manifold for a 2-D latent.
pub fn write(
    run: &crate::run::OpenRun,
    rows: usize,
    steps: usize,
    mode: InterpMode,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let latent = run.model.as_latent().ok_or_else(|| {
        genlab_core::model::cannot(
            run.model.as_ref(),
            "interpolate (it has no latent space)",
            "genlab sample",
        )
    })?;
    if steps < 2 {
        anyhow::bail!("--steps must be at least 2 (the two ends), found {steps}");
    }
    // Pairs of different examples, spread over the set so that classes mix; for models without
    // an encoder (GANs), pairs of codes drawn from the prior.
    let batch = run.held_out_batch(|len| {
        (0..2 * rows)
            .map(|i| (i * PAIR_STRIDE + 13) % len)
            .collect()
    })?;
    let dim = latent.latent_dim();
    let (z, between) = match latent.encode(batch.x) {
        Ok(z) => (
            genlab_core::tensor::to_vec(z),
            "the codes of two held-out images",
        ),
        Err(_) => {
            println!(
                "{} has no encoder: interpolating between random codes",
                run.model.family()
            );
            let z = genlab_core::tensor::normal(
                [2 * rows, dim],
                &mut genlab_core::rng::rng_for(0, 0, genlab_core::rng::Stream::Eval),
                &run.device,
            );
            (genlab_core::tensor::to_vec(z), "two codes from the prior")
        }
    };
    let pairs: Vec<(Vec<f32>, Vec<f32>)> = (0..rows)
        .map(|r| {
            (
                z[2 * r * dim..(2 * r + 1) * dim].to_vec(),
                z[(2 * r + 1) * dim..(2 * r + 2) * dim].to_vec(),
            )
        })
        .collect();
    let spherical = matches!(mode, InterpMode::Slerp) && latent.gaussian_prior();
    let about = run.about();
    // A model of bits decodes probabilities: said so.
    let decoded = match run.model.binary() {
        true => ", P(x = 1) per pixel",
        false => "",
    };
    let title = about.title(&format!("{rows} interpolations between {between}{decoded}"));
    let img = pictures::interpolation_picture(
        latent,
        &run.info,
        &pairs,
        steps,
        spherical,
        title,
        &run.device,
    )?;
    pictures::save_png(out, &img)?;
    let mut written = vec![out.to_path_buf()];
    if dim == 2 {
        let path = out.with_file_name(Output::Manifold.file_name());
        run.dir
            .refuse_owned(&path, genlab_core::run_dir::Format::Png)?;
        pictures::save_png(
            &path,
            &pictures::manifold_picture(
                latent,
                &run.info,
                MANIFOLD_SIDE,
                (&about, decoded),
                &run.device,
            )?,
        )?;
        written.push(path);
    }
    Ok(written)
}
