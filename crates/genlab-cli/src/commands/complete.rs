//! `genlab complete`: hide part of held-out images and let the model fill it in. Rows: the
//! masked input, several completions, the original.

use crate::cli::MaskArg;
use anyhow::{bail, Result};
use burn::tensor::Tensor;
use genlab_core::model::cannot;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::Output;
use genlab_eval::pictures::{self, to_images};
use genlab_viz::Grid;
use std::path::{Path, PathBuf};

pub fn run(
    dir: &Path,
    mask: MaskArg,
    n: usize,
    samples: usize,
    out: Option<PathBuf>,
    seed: u64,
) -> Result<()> {
    let run = crate::run::open(dir)?;
    let model = run.model.as_ref();
    let completer = model
        .as_complete()
        .ok_or_else(|| cannot(model, "complete a masked image", "genlab sample RUN"))?;
    let shape = run.info.shape;
    if run.info.kind != genlab_data::Kind::Images {
        bail!(
            "genlab complete works on images; {} was trained on points",
            dir.display()
        );
    }
    if let MaskArg::Box {
        row,
        col,
        height,
        width,
    } = mask
    {
        if row + height > shape.h || col + width > shape.w {
            bail!(
                "mask box rows {row}..{} and columns {col}..{} fall outside the {}x{} image of {}; keep ROW + HEIGHT <= {} and COL + WIDTH <= {}",
                row + height,
                col + width,
                shape.h,
                shape.w,
                dir.display(),
                shape.h,
                shape.w
            );
        }
    }
    let known: Vec<f32> = (0..shape.c)
        .flat_map(|_| (0..shape.h).flat_map(move |y| (0..shape.w).map(move |x| (y, x))))
        .map(|(y, x)| {
            let hidden = match mask {
                MaskArg::BottomHalf => y >= shape.h / 2,
                MaskArg::TopHalf => y < shape.h / 2,
                MaskArg::LeftHalf => x < shape.w / 2,
                MaskArg::RightHalf => x >= shape.w / 2,
                MaskArg::Box {
                    row,
                    col,
                    height,
                    width,
                } => (row..row + height).contains(&y) && (col..col + width).contains(&x),
                MaskArg::Center => {
                    (shape.h / 4..shape.h * 3 / 4).contains(&y)
                        && (shape.w / 4..shape.w * 3 / 4).contains(&x)
                }
            };
            if hidden {
                0.0
            } else {
                1.0
            }
        })
        .collect();
    let batch = run.held_out_batch(|len| (0..n.min(len)).collect())?;
    let x = batch.x; // [n, d]
    let [rows, d] = x.dims();
    let known = Tensor::<1>::from_floats(known.as_slice(), &run.device)
        .unsqueeze::<2>()
        .repeat_dim(0, rows); // [n, d]
    let mut rng = rng_for(seed, 0, Stream::Eval);
    // Masked input shown with the hidden part at mid-grey.
    let shown = x.clone() * known.clone() + (known.clone().neg() + 1.0) * 0.5;
    let mut columns = vec![shown];
    for _ in 0..samples {
        columns.push(completer.complete(x.clone(), known.clone(), &mut rng)?);
    }
    columns.push(x);
    let cols = columns.len();
    let all = Tensor::stack::<3>(columns, 1).reshape([rows * cols, d]);
    let img = Grid {
        cols,
        ..Grid::default()
    }
    .render(&to_images(all, &run.info));
    let out = run.dir.output(out, Output::Completions)?;
    pictures::save_png(&out, &img)?;
    println!("{}", out.display());
    Ok(())
}
