//! `genlab demo`: a small VAE on the built-in shapes, then its pictures. Needs no files.

use super::interpolate::InterpMode;
use super::Status;
use super::{sample, train};
use anyhow::Result;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::Output;
use genlab_eval::pictures;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Run directory (default runs/demo, or runs/demo-N if that exists).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Training steps.
    #[arg(long)]
    pub steps: Option<u64>,
}

pub fn run(args: Args) -> Result<Status> {
    let Args { out, steps } = args;
    let family = genlab_models::find("vae")?;
    let out = out.unwrap_or_else(|| super::fresh_dir("demo"));
    if out.exists()
        && std::fs::read_dir(&out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        anyhow::bail!(
            "{} already holds a run; choose another --out",
            out.display()
        );
    }
    let args = demo_args(family, "demo", steps, &out, false);
    let config = train::resolve(family, &args)?;
    let started = std::time::Instant::now();
    if let Status::Interrupted = train::train_run(family, &config, &out, false, false)? {
        return Ok(Status::Interrupted);
    }
    let run = crate::run::open(&out)?;
    let samples = run.dir.output(None, Output::Samples)?;
    pictures::save_png(
        &samples,
        &pictures::sample_picture(
            run.model.as_ref(),
            &run.info,
            64,
            (&run.about(), "fixed noise"),
            genlab_core::Draw::for_model(run.model.as_ref(), false),
            &mut rng_for(config.seed, 0, Stream::FixedNoise),
            &run.device,
        )?,
    )?;
    let recon = run.dir.output(None, Output::Reconstructions)?;
    pictures::save_png(&recon, &super::reconstruct::picture(&run, 32)?)?;
    let interp = super::interpolate::write(
        &run,
        8,
        10,
        InterpMode::Slerp,
        &run.dir.output(None, Output::Interpolation)?,
    )?;
    println!(
        "VAE done in {:.0} s; pictures:",
        started.elapsed().as_secs_f64()
    );
    for p in [samples, recon].iter().chain(&interp) {
        println!("  {}", p.display());
    }
    if let Some((_, ranges)) = pictures::curves_picture(&run.dir, &run.config.family)? {
        let ranges: Vec<String> = ranges
            .iter()
            .map(|(k, first, last)| format!("{k} {first:.1} -> {last:.1}"))
            .collect();
        println!(
            "  {}  ({})",
            run.dir.curves_file().display(),
            ranges.join(", ")
        );
    }
    println!("metrics: {}", run.dir.metrics_file().display());
    let status = classical(&out)?;
    if let Status::Done = status {
        println!("demo finished in {:.0} s", started.elapsed().as_secs_f64());
    }
    Ok(status)
}

/// Three classical models: a Gaussian per shapes class (samples by class, a second), a Gaussian
/// mixture fitted by EM to the ring of 8 (samples over the true modes and the density, a
/// second) and an RBM on shapes (Gibbs chains from noise, about 15 s).
fn classical(out: &std::path::Path) -> Result<Status> {
    for (name, preset, picture) in [
        ("class-gaussian", "demo", Output::SamplesByClass),
        ("gmm", "default", Output::Samples),
        ("rbm", "demo", Output::Chain),
    ] {
        let family = genlab_models::find(name)?;
        let dir = out.join(name);
        let args = demo_args(family, preset, None, &dir, true);
        let config = train::resolve(family, &args)?;
        if let Status::Interrupted = train::train_run(family, &config, &dir, false, true)? {
            return Ok(Status::Interrupted);
        }
        let opts = sample::Args {
            run: dir.clone(),
            n: 64,
            out: Some(dir.join(picture.file_name())),
            seed: config.seed,
            label: None,
            per_class: (name == "class-gaussian").then_some(8),
            chain: name == "rbm",
            filters: false,
            mean: Default::default(),
            weights: Default::default(),
        };
        print!("{name}: ");
        sample::run(opts)?;
        if name == "rbm" {
            let opts = sample::Args {
                run: dir.clone(),
                n: 100,
                out: Some(dir.join(Output::Filters.file_name())),
                seed: config.seed,
                label: None,
                per_class: None,
                chain: false,
                filters: true,
                mean: Default::default(),
                weights: Default::default(),
            };
            print!("{name}: ");
            sample::run(opts)?;
        }
    }
    Ok(Status::Done)
}

/// Training arguments for one of the demo's runs: a preset, optionally other steps, a folder.
fn demo_args(
    family: &'static genlab_core::Family,
    preset: &str,
    steps: Option<u64>,
    out: &std::path::Path,
    quiet: bool,
) -> train::Args {
    train::Args {
        family,
        data: None,
        preset: Some(preset.into()),
        config: None,
        sets: Vec::new(),
        steps,
        out: Some(out.to_path_buf()),
        seed: None,
        resume: false,
        data_dir: None,
        quiet,
        print_config: false,
    }
}
