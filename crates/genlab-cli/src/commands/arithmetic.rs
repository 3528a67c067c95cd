//! `genlab arithmetic`: vector arithmetic on latent codes (Radford et al. 2016, §6.3 and figure
//! 7). The codes of a few chosen samples per concept are averaged, as single samples are
//! unstable, and mean(A) - mean(B) + mean(C) is decoded, with small uniform jitter (±0.25) for
//! the rest of the result row. Samples are chosen by their index in the grid that
//! `genlab sample RUN --seed S` draws (row-major from 0), for models that sample by decoding
//! z ~ N(0, I).
//! Rows of the picture, captioned: the A samples, their mean's image in the last column; the
//! same for B and C; the result mean(A) - mean(B) + mean(C) in the last column, its jittered
//! neighbours left of it. Rows shorter than the widest stay blank where they end.

use anyhow::{bail, Result};
use genlab_core::model::cannot;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::Output;
use genlab_eval::pictures::{self, to_images};
use genlab_viz::Grid;
use rand::Rng;
use std::path::PathBuf;

/// Result cells beside the exact one, each jittered by U(-JITTER, JITTER) per coordinate.
const JITTER: f32 = 0.25;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (as `genlab train --out` made it).
    pub run: PathBuf,
    /// Indices of the A samples (e.g. smiling women), comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub a: Vec<usize>,
    /// Indices of the B samples (e.g. neutral women), comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub b: Vec<usize>,
    /// Indices of the C samples (e.g. neutral men), comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub c: Vec<usize>,
    /// The seed of the `genlab sample` grid the indices refer to.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output PNG (default RUN/arithmetic.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let (seed, out) = (args.seed, args.out);
    let groups: [&[usize]; 3] = [&args.a, &args.b, &args.c];
    let run = crate::run::open(&args.run)?;
    let model = run.model.as_ref();
    let latent = model.as_latent().ok_or_else(|| {
        cannot(
            model,
            "do latent arithmetic (it has no latent space)",
            "genlab sample",
        )
    })?;
    if run.info.kind != genlab_data::Kind::Images {
        bail!("arithmetic shows images; this run's data are points");
    }
    if groups.iter().any(|g| g.is_empty()) {
        bail!("--a, --b and --c each need at least one sample index (from `genlab sample RUN --seed {seed}`)");
    }
    let dim = latent.latent_dim();
    let max = groups.iter().flat_map(|g| g.iter()).copied().max().unwrap();
    // The same draw as `genlab sample --seed`: row i is sample i.
    let z = genlab_core::tensor::to_vec(latent.prior_sample(
        max + 1,
        &mut rng_for(seed, 0, Stream::Eval),
        &run.device,
    )?);
    let code = |i: usize| z[i * dim..(i + 1) * dim].to_vec();
    let mean = |g: &[usize]| {
        let mut m = vec![0.0f32; dim];
        for &i in g {
            m.iter_mut()
                .zip(code(i))
                .for_each(|(a, b)| *a += b / g.len() as f32);
        }
        m
    };
    // Each concept's samples, then its mean in the last column; the result row as wide.
    let cols = groups.iter().map(|g| g.len()).max().unwrap().max(3) + 1;
    let mut rows: Vec<Vec<f32>> = Vec::new(); // codes, `cols` per row; None cells are blanks
    let mut blank = Vec::new();
    for g in groups {
        for c in 0..cols - 1 {
            match g.get(c) {
                Some(&i) => rows.push(code(i)),
                None => {
                    blank.push(rows.len());
                    rows.push(vec![0.0; dim]);
                }
            }
        }
        rows.push(mean(g));
    }
    let (a, b, c) = (mean(groups[0]), mean(groups[1]), mean(groups[2]));
    let result: Vec<f32> = (0..dim).map(|j| a[j] - b[j] + c[j]).collect();
    let mut rng = rng_for(seed, 1, Stream::Eval);
    for _ in 1..cols {
        rows.push(
            result
                .iter()
                .map(|v| v + rng.random_range(-JITTER..JITTER))
                .collect(),
        );
    }
    rows.push(result);
    let n = rows.len();
    let x = latent.decode(genlab_core::tensor::matrix(
        rows.concat(),
        n,
        dim,
        &run.device,
    ))?;
    let images = to_images(x, &run.info);
    let mut col_labels = vec!["samples".to_string(); cols - 1];
    col_labels.push("mean".into());
    let mut row_labels: Vec<String> = ["A", "B", "C"]
        .iter()
        .zip(groups)
        .map(|(name, g)| {
            let idx: Vec<String> = g.iter().map(|i| i.to_string()).collect();
            format!("{name}: {}", idx.join(", "))
        })
        .collect();
    row_labels.push("A - B + C".into());
    let img = Grid {
        cols,
        title: run.about().title(&format!(
            "latent arithmetic on the samples of seed {seed}: mean(A) - mean(B) + mean(C) in the corner, ±{JITTER} jitter left of it"
        )),
        row_labels,
        col_labels,
        blank,
        ..Grid::default()
    }
    .render(&images);
    let out = run.dir.output(out, Output::Arithmetic)?;
    pictures::save_png(&out, &img)?;
    println!("rows: A samples and their mean | B | C | ±{JITTER} jitter, then mean(A) - mean(B) + mean(C)");
    println!("{}", out.display());
    Ok(())
}
