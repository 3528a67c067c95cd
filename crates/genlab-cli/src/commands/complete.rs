//! `genlab complete`: hide part of held-out images and let the model fill it in. Rows: the
//! masked input, several completions, the original.
//!
//! Models with a density complete by conditioning ([`genlab_core::model::Complete`]); models
//! that only decode latents (GANs, BiGAN, VAEs without it) by masked inversion (Yeh et al. 2017):
//! the code whose image best fits the known part, from several random starts, its decoding
//! pasted into the hole ([`genlab_eval::invert`] with [`genlab_eval::Fit::Masked`]).

use anyhow::{bail, Context, Result};
use burn::tensor::Tensor;
use genlab_core::model::{cannot, Complete};
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::Output;
use genlab_core::tensor::{matrix, to_vec};
use genlab_core::LatentDecode;
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
    /// Masked inversion (models without a density, such as GANs): Adam steps on z.
    #[arg(long, default_value_t = 500)]
    pub steps: usize,
    /// Masked inversion: Adam's learning rate on z.
    #[arg(long, default_value_t = 0.05)]
    pub lr: f64,
    /// Score the completions as well as drawing them: the first completion of each of the -n
    /// held-out images (masked inversion: the best fit of the known part), its known part kept,
    /// against the original as the model sees it (binarized for models of binary data):
    /// `l1`, `psnr`, `ssim` over the whole image in [0, 1], as `genlab eval` scores the
    /// `hole:SPEC` task, beside the `mean` baseline (the hidden part filled with the mean
    /// training image). Prints one JSON object; the picture shows the first 8 images.
    #[arg(long)]
    pub json: bool,
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
    /// The mask as `--mask` takes it: "bottom-half", "box:3,3,1,1".
    fn arg(&self) -> String {
        match self {
            Self::BottomHalf => "bottom-half".into(),
            Self::TopHalf => "top-half".into(),
            Self::LeftHalf => "left-half".into(),
            Self::RightHalf => "right-half".into(),
            Self::Center => "center".into(),
            Self::Box {
                row,
                col,
                height,
                width,
            } => format!("box:{row},{col},{height},{width}"),
        }
    }

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
        steps,
        lr,
        json,
    } = args;
    let dir = dir.as_path();
    let run = crate::run::open(dir)?;
    let model = run.model.as_ref();
    let how = match (model.as_complete(), model.as_latent()) {
        (Some(c), _) => How::Condition(c),
        (None, Some(l)) => How::Invert(l),
        (None, None) => {
            return Err(cannot(
                model,
                "complete a masked image (it has neither a density to condition nor a latent space to search)",
                "genlab sample RUN",
            ))
        }
    };
    if samples == 0 || n == 0 {
        bail!("-n and --samples must be at least 1");
    }
    if matches!(how, How::Invert(_)) && (steps == 0 || lr.is_nan() || lr <= 0.0) {
        bail!("--steps and --lr must be positive");
    }
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
    let known_values: Vec<f32> = (0..shape.c)
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
    let known = Tensor::<1>::from_floats(known_values.as_slice(), &run.device)
        .unsqueeze::<2>()
        .repeat_dim(0, rows); // [n, d]
    let mut rng = rng_for(seed, 0, Stream::Eval);
    // Masked input shown with the hidden part at mid-grey.
    let shown = x.clone() * known.clone() + (known.clone().neg() + 1.0) * 0.5;
    let mut columns = vec![shown];
    let mut caption = draw.caption().to_string();
    match how {
        How::Condition(completer) => {
            for _ in 0..samples {
                columns.push(draw.complete(completer, x.clone(), known.clone(), &mut rng)?);
            }
        }
        How::Invert(latent) => {
            // One random start per completion, best fit of the known part first.
            let cfg = genlab_eval::InversionConfig {
                steps,
                lr,
                restarts: samples,
                seed,
                fit: genlab_eval::Fit::Masked(known_values.clone()),
            };
            let found = genlab_eval::invert(latent, &to_vec(x.clone()), d, None, &cfg, &run.device)
                .with_context(|| format!("cannot invert through {}", model.family()))?;
            for rank in 0..samples {
                let rows_of: Vec<f32> = (0..rows)
                    .flat_map(|i| {
                        let mut starts: Vec<usize> = (0..samples).collect();
                        starts.sort_by(|&a, &b| {
                            found.error[a * rows + i].total_cmp(&found.error[b * rows + i])
                        });
                        let row = starts[rank] * rows + i;
                        found.x[row * d..(row + 1) * d].to_vec()
                    })
                    .collect();
                let decoded = matrix(rows_of, rows, d, &run.device);
                // Known values kept, the hole filled from G(z).
                columns.push(x.clone() * known.clone() + decoded * (known.clone().neg() + 1.0));
            }
            caption = format!(
                "masked inversion, {steps} Adam steps per start, best fit of the known part first"
            );
        }
    }
    let scores = json
        .then(|| score(&run, &columns[1], &x, &known_values, &mask))
        .transpose()?;
    columns.push(x);
    let rows = if json { rows.min(8) } else { rows };
    let columns: Vec<Tensor<2>> = columns.into_iter().map(|c| c.narrow(0, 0, rows)).collect();
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
            match caption.as_str() {
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
    match scores {
        Some(mut scores) => {
            scores.insert("picture".into(), out.display().to_string().into());
            println!("{}", serde_json::Value::Object(scores));
        }
        None => println!("{}", out.display()),
    }
    Ok(())
}

/// `--json`: the completions `filled` (`[n, d]`, model space, known part kept) against the
/// originals `x`, beside the hidden part filled with the mean training image; all in [0, 1].
fn score(
    run: &crate::run::OpenRun,
    filled: &Tensor<2>,
    x: &Tensor<2>,
    known: &[f32],
    mask: &MaskArg,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let pre = run.info.preprocess.for_evaluation();
    let unit = |t: &Tensor<2>| -> Vec<f32> {
        to_vec(t.clone())
            .into_iter()
            .map(|v| pre.to_unit(v))
            .collect()
    };
    let (filled, originals) = (unit(filled), unit(x));
    let train = run.load_data(genlab_data::Split::Train)?;
    let d = known.len();
    let mut mean = vec![0.0f64; d];
    for i in 0..train.len() {
        for (m, &v) in mean.iter_mut().zip(train.example(i)) {
            *m += v as f64;
        }
    }
    let mean_filled: Vec<f32> = originals
        .chunks(d)
        .flat_map(|o| {
            o.iter()
                .zip(known)
                .zip(&mean)
                .map(|((&v, &k), &m)| {
                    if k > 0.0 {
                        v
                    } else {
                        (m / train.len() as f64) as f32
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut out = serde_json::Map::new();
    out.insert("mask".into(), mask.arg().into());
    out.insert("n_examples".into(), (originals.len() / d).into());
    let s = run.info.shape;
    genlab_eval::translation::paired_scores(&filled, &originals, s, "", &mut out);
    genlab_eval::translation::paired_scores(&mean_filled, &originals, s, "_mean", &mut out);
    Ok(out)
}

/// How a model fills a hole.
enum How<'a> {
    /// Conditioning its density on the known part.
    Condition(&'a dyn Complete),
    /// Searching its latent space for a code that fits the known part.
    Invert(&'a dyn LatentDecode),
}
