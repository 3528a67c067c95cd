//! `genlab traverse`: InfoGAN's figure 2. One row per value of the categorical code, one
//! continuous code swept from -range to range across the columns, the noise and the other codes
//! fixed, so that what each code controls shows at a glance.

use anyhow::{bail, Result};
use genlab_core::model::cannot;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::Output;
use genlab_eval::pictures::{self, to_images};
use genlab_viz::Grid;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (as `genlab train --out` made it).
    pub run: PathBuf,
    /// Which continuous code to sweep (0-based).
    #[arg(long, default_value_t = 0)]
    pub code: usize,
    /// Columns.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Sweep from -range to range (codes were trained on [-1, 1]).
    #[arg(long, default_value_t = 2.0)]
    pub range: f64,
    /// Seed of the noise held fixed along each row.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output PNG (default RUN/traverse.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(o: Args) -> Result<()> {
    let run = crate::run::open(&o.run)?;
    let model = run.model.as_ref();
    let codes = model.as_codes().ok_or_else(|| {
        cannot(
            model,
            "traverse codes (it has no structured latent codes)",
            "genlab interpolate RUN",
        )
    })?;
    let (k, m) = (codes.categories().max(1), codes.continuous());
    if m > 0 && o.code >= m {
        bail!(
            "--code {} is out of range: this model has {m} continuous codes (0..{})",
            o.code,
            m - 1
        );
    }
    if o.steps < 2 {
        bail!("--steps must be at least 2, found {}", o.steps);
    }
    let cols = if m == 0 { 1 } else { o.steps };
    let rows = k;
    let device = &run.device;
    // One noise vector for the whole grid.
    let z1 = genlab_core::tensor::to_vec(genlab_core::tensor::normal(
        [1, codes.noise_dim()],
        &mut rng_for(o.seed, 0, Stream::Eval),
        device,
    ));
    let mut z = Vec::new();
    let mut cat = Vec::new();
    let mut cont = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            z.extend_from_slice(&z1);
            cat.push(r as u32);
            let t = if cols == 1 {
                0.0
            } else {
                c as f64 / (cols - 1) as f64
            };
            for j in 0..m {
                cont.push(if j == o.code {
                    (-o.range + 2.0 * o.range * t) as f32
                } else {
                    0.0
                });
            }
        }
    }
    let n = rows * cols;
    let x = codes.decode_codes(
        genlab_core::tensor::matrix(z, n, codes.noise_dim(), device),
        if codes.categories() > 0 { &cat } else { &[] },
        genlab_core::tensor::matrix(cont, n, m, device),
    )?;
    if run.info.kind != genlab_data::Kind::Images {
        bail!("traverse draws image grids; this run's data are points (use genlab sample)");
    }
    let value = |c: usize| -o.range + 2.0 * o.range * c as f64 / (cols - 1).max(1) as f64;
    let (col_header, col_labels) = if m == 0 {
        (String::new(), Vec::new())
    } else {
        (
            format!("continuous code {}", o.code),
            (0..cols).map(|c| pictures::short(value(c))).collect(),
        )
    };
    let (row_header, row_labels) = if codes.categories() == 0 {
        (String::new(), Vec::new())
    } else {
        (
            "category".to_string(),
            (0..rows).map(|r| r.to_string()).collect(),
        )
    };
    let img = Grid {
        cols,
        title: run.about().title(&format!(
            "what the codes control; the noise fixed (seed {}), the other codes at 0",
            o.seed
        )),
        col_header,
        col_labels,
        row_header,
        row_labels,
        ..Grid::default()
    }
    .render(&to_images(x, &run.info));
    let out = run.dir.output(o.out, Output::Traverse)?;
    pictures::save_png(&out, &img)?;
    println!(
        "rows: categorical code 0..{}; columns: continuous code {} from {} to {}",
        rows - 1,
        o.code,
        -o.range,
        o.range
    );
    println!("{}", out.display());
    Ok(())
}
