//! `genlab invert`: find the latent code whose image is closest to a given one, for any model
//! that decodes latents (GANs, BiGAN, VAEs), with `genlab_eval::invert`.
//! Writes rows of [target, best reconstruction, one per restart] and the codes as JSON.

use anyhow::{anyhow, bail, Context, Result};
use genlab_core::model::cannot;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::atomic_write;
use genlab_core::run_dir::Output;
use genlab_eval::pictures::{self, to_images};
use genlab_viz::Grid;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (as `genlab train --out` made it).
    pub run: PathBuf,
    /// PNG/JPEG images of the model's size.
    pub images: Vec<PathBuf>,
    /// Also invert these held-out test examples (0-based).
    #[arg(long, value_delimiter = ',')]
    pub index: Vec<usize>,
    /// Also invert these of the model's own samples (indices in the grid `genlab sample
    /// --seed S` draws): a check with a known answer.
    #[arg(long, value_delimiter = ',')]
    pub sample: Vec<usize>,
    /// Gradient steps.
    #[arg(long, default_value_t = 500)]
    pub steps: usize,
    /// Adam learning rate on z.
    #[arg(long, default_value_t = 0.05)]
    pub lr: f64,
    /// Random starts; the best one is kept.
    #[arg(long, default_value_t = 4)]
    pub restarts: usize,
    /// Start from these codes instead (JSON as `genlab invert` writes it).
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Seed of the random starts (and of the --sample grid).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output PNG (default RUN/invert.png; the codes go beside it as .json).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(o: Args) -> Result<()> {
    let run = crate::run::open(&o.run)?;
    let model = run.model.as_ref();
    let latent = model.as_latent().ok_or_else(|| {
        cannot(
            model,
            "invert images (it has no latent space to search)",
            "genlab reconstruct",
        )
    })?;
    let dim = latent.latent_dim();
    let shape = run.info.shape;
    let d = shape.dim();
    if o.steps == 0 || o.restarts == 0 || o.lr.is_nan() || o.lr <= 0.0 {
        bail!("--steps, --restarts and --lr must be positive");
    }
    // Targets in model space, [n, d].
    let mut targets: Vec<f32> = Vec::new();
    for path in &o.images {
        let (px, found) = genlab_data::read_image(path, shape.c)?;
        if (found.h, found.w) != (shape.h, shape.w) {
            bail!(
                "{} is {}x{} pixels, but this model was trained on {}x{} images; resize it to {}x{} first",
                path.display(), found.w, found.h, shape.w, shape.h, shape.w, shape.h
            );
        }
        targets.extend(px.into_iter().map(|v| run.info.preprocess.from_unit(v)));
    }
    if !o.sample.is_empty() {
        // The model's own samples (as `genlab sample --seed` draws them): a known answer.
        let max = *o.sample.iter().max().unwrap();
        let z = latent.prior_sample(max + 1, &mut rng_for(o.seed, 0, Stream::Eval), &run.device)?;
        let x = genlab_core::tensor::to_vec(latent.decode(z)?);
        for &i in &o.sample {
            targets.extend_from_slice(&x[i * d..(i + 1) * d]);
        }
    }
    if !o.index.is_empty() {
        let batch = run.held_out_batch(|len| o.index.iter().map(|&i| i % len).collect())?;
        targets.extend(genlab_core::tensor::to_vec(batch.x));
    }
    let n = targets.len() / d;
    if n == 0 {
        bail!("nothing to invert: give image files (PNG/JPEG), --index N of a test example or --sample N of the model's own");
    }
    // Starting codes: one per image from --init, else N(0, I) per restart.
    let init: Option<Vec<f32>> = match &o.init {
        Some(path) => {
            let init = read_codes(path, dim)?;
            if init.len() != n {
                bail!(
                    "{} holds {} codes for {n} images",
                    path.display(),
                    init.len()
                );
            }
            Some(init.into_iter().flatten().collect())
        }
        None => None,
    };
    let r = o.restarts;
    let cfg = genlab_eval::InversionConfig {
        steps: o.steps,
        lr: o.lr,
        restarts: r,
        seed: o.seed,
        fit: genlab_eval::Fit::Squared,
    };
    let found = genlab_eval::invert(latent, &targets, d, init.as_deref(), &cfg, &run.device)
        .with_context(|| format!("cannot invert through {}", model.family()))?;
    let (x, z) = (&found.x, &found.z);
    // Picture rows: target | best | every restart.
    let mut cells = Vec::new();
    for i in 0..n {
        cells.extend_from_slice(&targets[i * d..(i + 1) * d]);
        let b = found.best_row(i);
        cells.extend_from_slice(&x[b * d..(b + 1) * d]);
        for k in 0..r {
            let row = k * n + i;
            cells.extend_from_slice(&x[row * d..(row + 1) * d]);
        }
    }
    let cols = 2 + r;
    let t = genlab_core::tensor::matrix(cells, n * cols, d, &run.device);
    let img = if run.info.kind == genlab_data::Kind::Images {
        let mut col_labels = vec!["target".to_string(), "best".to_string()];
        col_labels.extend(std::iter::repeat_n("each random start".to_string(), r));
        Grid {
            cols,
            title: run.about().title(&format!(
                "inversion: the code whose image is nearest each target, {} Adam steps from {r} starts",
                o.steps
            )),
            row_header: "best mse".into(),
            row_labels: (0..n)
                .map(|i| match found.error[found.best_row(i)] {
                    mse if mse < 1e-3 => format!("{mse:.2e}"),
                    mse => format!("{mse:.4}"),
                })
                .collect(),
            col_labels,
            ..Grid::default()
        }
        .render(&to_images(t, &run.info))
    } else {
        bail!("invert shows images; this run's data are points")
    };
    let out = run.dir.output(o.out, Output::Invert)?;
    // The codes go beside the picture; neither may land on a run's own files.
    let json = out.with_extension("json");
    run.dir
        .refuse_owned(&json, genlab_core::run_dir::Format::Json)?;
    pictures::save_png(&out, &img)?;
    let codes: Vec<Vec<f32>> = (0..n)
        .map(|i| {
            let row = found.best_row(i);
            z[row * dim..(row + 1) * dim].to_vec()
        })
        .collect();
    let doc = serde_json::json!({
        "latent_dim": dim,
        "codes": codes,
        "mse": (0..n).map(|i| found.error[found.best_row(i)]).collect::<Vec<_>>(),
        "steps": o.steps, "lr": o.lr, "restarts": r, "seed": o.seed,
    });
    atomic_write(&json, serde_json::to_string_pretty(&doc)?.as_bytes())?;
    for i in 0..n {
        println!(
            "image {i}: mse {:.5} (model space), best of {r} starts",
            found.error[found.best_row(i)]
        );
    }
    println!("{}\n{}", out.display(), json.display());
    Ok(())
}

/// Codes from a JSON file as `genlab invert` writes it: `{"codes": [[...], ...]}`.
pub fn read_codes(path: &Path, dim: usize) -> Result<Vec<Vec<f32>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("{} is not JSON: {e}", path.display()))?;
    let codes: Vec<Vec<f32>> = serde_json::from_value(doc["codes"].clone()).map_err(|_| {
        anyhow!(
            "{} has no \"codes\": [[numbers], ...] list (as `genlab invert` writes)",
            path.display()
        )
    })?;
    if let Some((i, c)) = codes.iter().enumerate().find(|(_, c)| c.len() != dim) {
        bail!(
            "{}: code {i} has {} values, but this model's latent size is {dim}; codes from another model do not fit",
            path.display(),
            c.len()
        );
    }
    Ok(codes)
}
