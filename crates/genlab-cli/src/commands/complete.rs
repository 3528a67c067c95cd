//! `genlab complete`: hide part of held-out images and let the model fill it in. Rows: the
//! masked input, several completions, the original.

use anyhow::{bail, Result};
use burn::tensor::Tensor;
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
    /// Which part to hide: bottom-half, top-half, left-half, right-half, center, or
    /// box:ROW,COL,HEIGHT,WIDTH (pixels).
    #[arg(long, default_value = "bottom-half")]
    pub mask: MaskArg,
    /// Images (rows).
    #[arg(short, default_value_t = 8)]
    pub n: usize,
    /// Completions per image.
    #[arg(long, default_value_t = 4)]
    pub samples: usize,
    /// Output PNG (default RUN/completions.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the masked images' choice and of the completions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub mean: super::MeanArg,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaskArg {
    BottomHalf,
    TopHalf,
    LeftHalf,
    RightHalf,
    Center,
    /// Rows `row..row + height`, columns `col..col + width`.
    Box {
        row: usize,
        col: usize,
        height: usize,
        width: usize,
    },
}

impl MaskArg {
    /// What is hidden, in words: "the bottom half", "rows 14..28 x columns 0..28".
    fn name(&self) -> String {
        match self {
            Self::BottomHalf => "the bottom half".into(),
            Self::TopHalf => "the top half".into(),
            Self::LeftHalf => "the left half".into(),
            Self::RightHalf => "the right half".into(),
            Self::Center => "the centre".into(),
            Self::Box {
                row,
                col,
                height,
                width,
            } => format!(
                "rows {row}..{} x columns {col}..{}",
                row + height,
                col + width
            ),
        }
    }
}

impl std::str::FromStr for MaskArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "bottom-half" => Self::BottomHalf,
            "top-half" => Self::TopHalf,
            "left-half" => Self::LeftHalf,
            "right-half" => Self::RightHalf,
            "center" => Self::Center,
            _ => {
                let usage = "expected bottom-half, top-half, left-half, right-half, center or box:ROW,COL,HEIGHT,WIDTH";
                let body = s
                    .strip_prefix("box:")
                    .ok_or_else(|| format!("unknown mask `{s}`: {usage}"))?;
                let v: Vec<usize> = body
                    .split(',')
                    .map(|p| p.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("mask `{s}`: {usage} (four whole numbers)"))?;
                let [row, col, height, width] = v[..] else {
                    return Err(format!("mask `{s}`: {usage} (four whole numbers)"));
                };
                if height == 0 || width == 0 {
                    return Err(format!(
                        "mask `{s}` hides nothing: height and width must be at least 1"
                    ));
                }
                Self::Box {
                    row,
                    col,
                    height,
                    width,
                }
            }
        })
    }
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        run: dir,
        mask,
        n,
        samples,
        out,
        seed,
        mean,
    } = args;
    let dir = dir.as_path();
    let run = crate::run::open(dir)?;
    let model = run.model.as_ref();
    let completer = model
        .as_complete()
        .ok_or_else(|| cannot(model, "complete a masked image", "genlab sample RUN"))?;
    let draw = mean.draw(model);
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
        columns.push(draw.complete(completer, x.clone(), known.clone(), &mut rng)?);
    }
    columns.push(x);
    let cols = columns.len();
    let all = Tensor::stack::<3>(columns, 1).reshape([rows * cols, d]);
    let mut col_labels = vec!["masked input".to_string()];
    col_labels.extend(std::iter::repeat_n("completions".to_string(), samples));
    col_labels.push("original".into());
    let img = Grid {
        cols,
        title: run.about().title(&format!(
            "completions of {rows} held-out images, {} hidden (grey){}",
            mask.name(),
            match draw.caption() {
                "" => String::new(),
                what => format!("; {what}"),
            }
        )),
        col_labels,
        ..Grid::default()
    }
    .render(&to_images(all, &run.info));
    let out = run.dir.output(out, Output::Completions)?;
    pictures::save_png(&out, &img)?;
    println!("{}", out.display());
    Ok(())
}
