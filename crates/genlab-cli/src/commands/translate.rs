//! `genlab translate`: run a translator (pix2pix) on inputs. Rows: input, output, and the
//! target where the answer is known (the run's own task, or another task spec).

use anyhow::{bail, Context, Result};
use genlab_core::model::cannot;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::Output;
use genlab_data::{DataSpec, Shape, Split};
use genlab_eval::pictures;
use std::path::{Path, PathBuf};

/// Columns of the picture.
const COLS: usize = 8;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory of a translator (as `genlab train pix2pix --out` made it).
    pub run: PathBuf,
    /// What to translate: an image file, a folder of images, or a task spec such as
    /// `edges:fashion-mnist` (its test pairs, with their targets). Default: the run's own task,
    /// test split.
    pub input: Option<String>,
    /// Number of inputs.
    #[arg(short, default_value_t = 16)]
    pub n: usize,
    /// Seed of the model's noise (pix2pix's dropout masks).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output PNG (default RUN/translations.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// `ab` translates inputs (domain A) to outputs; `ba` goes back, for models that learn
    /// both directions (CycleGAN): the inputs are then images of the output domain.
    #[arg(long, value_enum, default_value_t = Direction::Ab)]
    pub direction: Direction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Direction {
    Ab,
    Ba,
}

pub fn run(args: Args) -> Result<()> {
    let run = crate::run::open(&args.run)?;
    let Some(tr) = run.model.as_translate() else {
        return Err(cannot(run.model.as_ref(), "translate", "genlab sample"));
    };
    let about = run.about();
    let mut rng = rng_for(args.seed, 0, Stream::Eval);
    let pre = run.info.preprocess.for_evaluation();
    if args.direction == Direction::Ba {
        return backwards(&run, &args, &mut rng);
    }
    let want = tr.input_shape();
    let (input, target, of, caption) = match &args.input {
        Some(given) if Path::new(given).exists() => {
            let (x, n) = read_inputs(Path::new(given), want, args.n)?;
            let x = x.into_iter().map(|v| pre.from_unit(v)).collect();
            let input = genlab_core::tensor::matrix(x, n, want.dim(), &run.device);
            (
                input,
                None,
                format!("images from {given}"),
                "no targets".to_string(),
            )
        }
        given => {
            let spec: DataSpec = match given {
                Some(text) => text.parse().with_context(|| {
                    format!("`{text}` is neither an existing file or folder nor a data spec")
                })?,
                None => run.config.data.spec.clone(),
            };
            let data = genlab_core::config::DataConfig {
                spec: spec.clone(),
                ..run.config.data.clone()
            };
            // Data without a test split (folders, pairs:DIR) shows its training pairs, and says so.
            let (data, split) = match data.load(Split::Test) {
                Ok(d) => (d, "test"),
                Err(_) => (data.load(Split::Train)?, "training"),
            };
            let Some(inputs) = &data.input else {
                bail!("{spec} has no inputs to translate: give an image-to-image task such as `edges:fashion-mnist`, an image file or a folder of images");
            };
            if inputs.shape != want || data.shape != run.info.shape {
                bail!(
                    "{spec} pairs {} inputs with {} targets, but this model translates {} to {}: give a task of the run's own kind (`{}`)",
                    show(inputs.shape), show(data.shape), show(want), show(run.info.shape), run.config.data.spec
                );
            }
            let idx: Vec<usize> = (0..args.n.min(inputs.len())).collect();
            let input =
                genlab_core::Batch::inputs(&data, &idx, &pre, &run.device).expect("inputs checked");
            let caption = inputs.caption.clone();
            if inputs.paired {
                let batch = genlab_core::Batch::gather(&data, &idx, &pre, &mut rng, &run.device);
                (
                    input,
                    Some(batch.x),
                    format!("{split} pairs of {spec}"),
                    caption,
                )
            } else {
                (input, None, format!("{split} inputs of {spec}"), caption)
            }
        }
    };
    let img = pictures::translation_picture(
        run.model.as_ref(),
        &run.info,
        input,
        target,
        COLS,
        (&about, &of, &caption),
        &mut rng,
    )?;
    let out = run.dir.output(args.out, Output::Translations)?;
    pictures::save_png(&out, &img)?;
    println!("{}", out.display());
    Ok(())
}

/// `--direction ba`: images of the output domain (the run's test targets, or files) through
/// the model's way back, and forth again.
fn backwards(
    run: &crate::run::OpenRun,
    args: &Args,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Result<()> {
    let tr = run.model.as_translate().expect("checked by the caller");
    let s = run.info.shape;
    let pre = run.info.preprocess.for_evaluation();
    let (x, n, of) = match &args.input {
        Some(given) if Path::new(given).exists() => {
            let (x, n) = read_inputs(Path::new(given), s, args.n)?;
            (x, n, format!("images from {given}"))
        }
        Some(text) => bail!("--direction ba takes images of the output domain: a file or a folder, not `{text}` (without INPUT it uses the run's own test targets)"),
        None => {
            let data = run.load_data(Split::Test).or_else(|_| run.load_data(Split::Train))?;
            let n = args.n.min(data.len());
            (data.x[..n * s.dim()].to_vec(), n, format!("test images of {}", run.config.data.spec))
        }
    };
    let x = genlab_core::tensor::matrix(
        x.into_iter().map(|v| pre.from_unit(v)).collect(),
        n,
        s.dim(),
        &run.device,
    );
    let Some(back) = tr.translate_back(x.clone(), rng) else {
        bail!("{} translates one way only (A -> B); --direction ba needs a model of both directions such as cyclegan", run.config.family);
    };
    let back = back?;
    let forth = tr.translate(back.clone(), rng)?;
    let unit = |t: burn::tensor::Tensor<2>| -> Vec<f32> {
        genlab_core::tensor::to_vec(t)
            .into_iter()
            .map(|v| pre.to_unit(v))
            .collect()
    };
    let a = tr.input_shape();
    let input = genlab_viz::Images::new(unit(x), n, s.c, s.h, s.w);
    let output = pictures::inputs_as_images(&unit(back), a, s);
    let round = genlab_viz::Images::new(unit(forth), n, s.c, s.h, s.w);
    let title = run.about().title(&format!("B -> A: {n} {of}"));
    let img = pictures::paired_rows(
        &[
            (&input, "input"),
            (&output, "output"),
            (&round, "round trip"),
        ],
        COLS,
        title,
    );
    let out = run.dir.output(args.out.clone(), Output::Translations)?;
    pictures::save_png(&out, &img)?;
    println!("{}", out.display());
    Ok(())
}

fn show(s: Shape) -> String {
    format!("{}x{}x{}", s.c, s.h, s.w)
}

/// Up to `n` images of shape `want` from a file or a folder (sorted by name), values in [0, 1].
fn read_inputs(path: &Path, want: Shape, n: usize) -> Result<(Vec<f32>, usize)> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            // Hidden files (macOS `._x.png` forks, editors' backups) are not pictures.
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
            })
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    ["png", "jpg", "jpeg"].contains(&e.to_ascii_lowercase().as_str())
                })
            })
            .collect();
        v.sort();
        v.truncate(n);
        v
    } else {
        vec![path.to_path_buf()]
    };
    if files.is_empty() {
        bail!("{} holds no PNG or JPEG images", path.display());
    }
    let mut x = Vec::with_capacity(files.len() * want.dim());
    for f in &files {
        let (v, s) = genlab_data::read_image(f, want.c)?;
        if (s.h, s.w) != (want.h, want.w) {
            bail!(
                "{} is {}x{} pixels, but this model translates {}x{} inputs; resize it first",
                f.display(),
                s.w,
                s.h,
                want.w,
                want.h
            );
        }
        x.extend(v);
    }
    Ok((x, files.len()))
}
