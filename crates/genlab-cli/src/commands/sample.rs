//! `genlab sample`: a grid of samples; `--label` / `--per-class` for class-conditional models,
//! `--chain` for a strip of Gibbs chains over time (RBM, DBN), `--filters` for first-layer
//! weights as images.

use anyhow::{bail, Result};
use burn::tensor::Tensor;
use genlab_core::model::cannot;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::Output;
use genlab_eval::pictures::{self, to_images};
use genlab_viz::Grid;
use std::path::PathBuf;

/// Snapshots of a Gibbs chain after its starting noise; the last is the model's full run.
const CHAIN_FRAMES: usize = 11;

#[derive(clap::Args)]
pub struct Args {
    /// Run directory.
    pub run: PathBuf,
    /// Number of samples (point data: at least 2000, drawn as a histogram, scatter or pairs
    /// plot in the data's units).
    #[arg(short, default_value_t = 64)]
    pub n: usize,
    /// Output PNG (default RUN/samples.png; samples-mean.png with --mean, samples-by-class.png
    /// with --per-class, samples-of-class.png with --label, samples-live.png with --weights
    /// live, chain.png, filters.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Class-conditional models: draw every sample from this class, by number (0-based) or
    /// name (`Dress`, any case).
    #[arg(long, conflicts_with = "per_class")]
    pub label: Option<String>,
    /// Class-conditional models: a grid with one row per class, this many per row.
    #[arg(long)]
    pub per_class: Option<usize>,
    /// Gibbs-sampled models (rbm, dbn): rows are chains, columns the noise they start from
    /// and snapshots over time, captioned with their Gibbs step.
    #[arg(long, conflicts_with_all = ["label", "per_class", "filters"])]
    pub chain: bool,
    /// First-layer weights as images (rbm, dbn), each scaled to its own range; -n of them.
    #[arg(long, conflicts_with_all = ["label", "per_class"])]
    pub filters: bool,
    #[command(flatten)]
    pub mean: super::MeanArg,
    /// Which weights draw: `averaged` (the EMA of `train.ema_decay`, where the run keeps one)
    /// or `live` (the weights training updates), to see what the average buys with the same
    /// noise. Live draws go to samples-live.png by default and say so in their title.
    #[arg(long, value_enum, default_value_t, conflicts_with_all = ["chain", "filters", "label", "per_class", "mean"])]
    pub weights: crate::cli::WeightsArg,
}

pub fn run(o: Args) -> Result<()> {
    let live = matches!(o.weights, crate::cli::WeightsArg::Live);
    let run = crate::run::open_with(&o.run, o.weights.into())?;
    let mut rng = rng_for(o.seed, 0, Stream::Eval);
    let model = run.model.as_ref();
    let about = run.about();
    // Which weights drew, where a run keeps two kinds.
    let noise = match (live, run.averaged) {
        (true, _) => format!("seed {}, live weights", o.seed),
        (false, true) => format!("seed {}, EMA weights", o.seed),
        (false, false) => format!("seed {}", o.seed),
    };
    let draw = o.mean.draw(model);
    let (img, default_name) = if o.filters {
        let w = model
            .filters()
            .ok_or_else(|| cannot(model, "show filters", "genlab sample RUN"))?;
        let [units, d] = w.dims();
        let shown = o.n.min(units);
        // Each filter scaled to [0, 1] on its own: mid-grey is 0 only if the filter is symmetric.
        let mut v = genlab_core::tensor::to_vec(w);
        v.truncate(shown * d);
        for f in v.chunks_mut(d) {
            let (lo, hi) = f
                .iter()
                .fold((f32::MAX, f32::MIN), |a, &x| (a.0.min(x), a.1.max(x)));
            f.iter_mut()
                .for_each(|x| *x = (*x - lo) / (hi - lo).max(1e-12));
        }
        let s = run.info.shape;
        let images = genlab_viz::Images::new(v, shown, s.c, s.h, s.w);
        let grid = Grid {
            cols: (shown as f64).sqrt().ceil() as usize,
            title: about.title(&format!(
                "first-layer weights of {shown} hidden units, each scaled to its own range"
            )),
            ..Grid::default()
        };
        (grid.render(&images), Output::Filters)
    } else if o.chain {
        let chain = model
            .as_chain()
            .ok_or_else(|| cannot(model, "run Gibbs chains", "genlab sample RUN"))?;
        // Rows: chains; columns: the noise they start from, then snapshots spaced so that the
        // last is the model's full sampling run.
        let frames = CHAIN_FRAMES;
        let every = (chain.sampling_steps().max(frames) / frames).max(1);
        let snaps = chain.chain(o.n.min(16), frames, every, &mut rng, &run.device)?;
        let snaps: Vec<_> = snaps.into_iter().map(|s| draw.show(s, &mut rng)).collect();
        let (rows, cols) = (snaps[0].dims()[0], snaps.len());
        // [cols, rows, d] -> [rows, cols, d] so that each row is one chain.
        let all = Tensor::stack::<3>(snaps, 1).reshape([rows * cols, run.info.shape.dim()]);
        let grid = Grid {
            cols,
            title: about.title(&format!(
                "{rows} Gibbs chains from noise ({noise}), {} every {}",
                match draw {
                    genlab_core::Draw::Bits => "v drawn from p(v | h)",
                    _ => "E[v | h]",
                },
                match every {
                    1 => "step".to_string(),
                    n => format!("{n} steps"),
                }
            )),
            col_header: "Gibbs step".into(),
            col_labels: (0..cols)
                .map(|k| match k {
                    0 => "noise".to_string(),
                    k => (k * every).to_string(),
                })
                .collect(),
            ..Grid::default()
        };
        (grid.render(&to_images(all, &run.info)), Output::Chain)
    } else if o.label.is_some() || o.per_class.is_some() {
        let given = model
            .as_sample_given()
            .ok_or_else(|| cannot(model, "sample given a label", "genlab sample RUN"))?;
        let classes = given.classes();
        let labels: Vec<u32> = match (&o.label, o.per_class) {
            (Some(l), _) => vec![class_index(&run, l, classes)?; o.n],
            (None, Some(k)) => (0..classes as u32).flat_map(|c| vec![c; k]).collect(),
            _ => unreachable!(),
        };
        let x = draw.sample_given(given, &labels, &mut rng, &run.device)?;
        let cols = o.per_class.unwrap_or(8);
        let grid = match o.per_class {
            Some(k) => Grid {
                cols,
                title: about.title(&format!(
                    "{} of each class ({noise})",
                    pictures::samples_caption(k, draw)
                )),
                row_header: "class".into(),
                row_labels: (0..classes).map(|c| run.class_name(c)).collect(),
                ..Grid::default()
            },
            None => Grid {
                cols,
                title: about.title(&format!(
                    "{} of class {} ({noise})",
                    pictures::samples_caption(o.n, draw),
                    run.class_name(labels.first().map_or(0, |&c| c as usize))
                )),
                ..Grid::default()
            },
        };
        let name = match o.per_class {
            Some(_) => Output::SamplesByClass,
            None => Output::SamplesOfClass,
        };
        (grid.render(&to_images(x, &run.info)), name)
    } else {
        // Probabilities go beside the draws, not over them.
        let name = match (draw, live) {
            (genlab_core::Draw::Probabilities, _) => Output::SamplesMean,
            (_, true) => Output::SamplesLive,
            _ => Output::Samples,
        };
        let caption = (&about, noise.as_str());
        let (img, density) = pictures::sample_and_density_pictures(
            model,
            &run.info,
            o.n,
            caption,
            draw,
            &mut rng,
            &run.device,
        )?;
        // 2-D models with a likelihood: the density beside the samples, on the same axes. Both
        // paths are checked before either is written.
        if let Some(map) = density {
            let density = match live {
                true => Output::DensityLive,
                false => Output::Density,
            };
            let path = match &o.out {
                Some(p) => p.with_file_name(density.file_name()),
                None => run.dir.path().join(density.file_name()),
            };
            run.dir
                .refuse_owned(&path, genlab_core::run_dir::Format::Png)?;
            run.dir.output(o.out.clone(), name)?;
            pictures::save_png(&path, &map)?;
            println!("{}", path.display());
        }
        (img, name)
    };
    let out = run.dir.output(o.out, default_name)?;
    pictures::save_png(&out, &img)?;
    println!("{}", out.display());
    Ok(())
}

/// `--label` as a class index: a number below `classes`, or a class name in any case.
fn class_index(run: &crate::run::OpenRun, label: &str, classes: usize) -> Result<u32> {
    let by_name = run
        .meta
        .classes
        .iter()
        .position(|c| c.eq_ignore_ascii_case(label));
    match (label.parse::<usize>(), by_name) {
        (_, Some(i)) => Ok(i as u32),
        (Ok(i), None) if i < classes => Ok(i as u32),
        _ => bail!(
            "--label {label} is not a class of {}: it was trained on {classes} classes (0..{}){}",
            run.config.family,
            classes - 1,
            class_names(run)
        ),
    }
}

fn class_names(run: &crate::run::OpenRun) -> String {
    if run.meta.classes.is_empty() {
        return String::new();
    }
    let names: Vec<String> = run
        .meta
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{i} {c}"))
        .collect();
    format!(": {}", names.join(", "))
}
