//! `genlab data info`: what a dataset holds, and a picture of it.

use crate::cli::SplitArg;
use anyhow::Result;
use clap::Subcommand;
use genlab_data::{Kind, Split};
use genlab_eval::pictures::save_png;
use genlab_viz::{Grid, Images};
use std::path::PathBuf;

/// Where `data info` writes its pictures unless `--out` says otherwise, beside the runs.
const DATA_DIR: &str = "runs/data";

/// Examples shown in the grid of images (point data draws every row: a histogram, a scatter or
/// a pairs plot).
const GRID: usize = 64;
/// Pairs shown for an image-to-image task.
const PAIRS: usize = 24;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: DataCommand,
}

#[derive(Subcommand)]
pub enum DataCommand {
    /// Size, shape, classes and pixel statistics of a dataset, and a PNG of it: a grid of
    /// examples, or for points a histogram (1 column), scatter (2) or pairs plot (more).
    Info(InfoArgs),
}

#[derive(clap::Args)]
pub struct InfoArgs {
    /// Data spec: fashion-mnist, idx:DIR, folder:DIR, shapes, toy:ring8, toy:grid25, toy:moons,
    /// toy:swissroll, toy:checkerboard.
    pub spec: genlab_data::DataSpec,
    /// Which split to describe.
    #[arg(long, value_enum, default_value_t = SplitArg::Train)]
    pub split: SplitArg,
    /// Where to write the picture (default runs/data/SPEC.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Folder of the Fashion-MNIST files.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Folder images: auto (the files' own), 1 (grey) or 3 (RGB), as data.channels.
    #[arg(long, default_value = "auto", value_parser = parse_channels)]
    pub channels: genlab_data::Channels,
    /// CSV header: auto, true or false, as data.header.
    #[arg(long, value_enum, default_value_t = HeaderArg::Auto)]
    pub header: HeaderArg,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum HeaderArg {
    Auto,
    True,
    False,
}

impl From<HeaderArg> for genlab_data::Header {
    fn from(h: HeaderArg) -> Self {
        match h {
            HeaderArg::Auto => Self::Auto,
            HeaderArg::True => Self::True,
            HeaderArg::False => Self::False,
        }
    }
}

fn parse_channels(s: &str) -> Result<genlab_data::Channels, String> {
    match s {
        "auto" => Ok(genlab_data::Channels::Auto),
        "1" => Ok(genlab_data::Channels::Grey),
        "3" => Ok(genlab_data::Channels::Rgb),
        _ => Err(format!("must be auto, 1 or 3, found {s}")),
    }
}

pub fn run(args: Args) -> Result<()> {
    match args.command {
        DataCommand::Info(info_args) => info(info_args),
    }
}

fn info(args: InfoArgs) -> Result<()> {
    let InfoArgs {
        spec,
        split,
        out,
        data_dir,
        channels,
        header,
        json,
    } = args;
    let header = header.into();
    let split: Split = split.into();
    let started = std::time::Instant::now();
    let options = genlab_data::LoadOptions {
        data_dir: data_dir.as_deref(),
        channels,
        header,
        ..Default::default()
    };
    let data = genlab_data::load(&spec, split, &options)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    for s in &data.skipped {
        eprintln!("not data, skipped: {s}");
    }
    for note in &data.notes {
        eprintln!("note: {note}");
    }
    let n = data.len();
    let mean = data.x.iter().map(|&v| v as f64).sum::<f64>() / data.x.len() as f64;
    let std = (data
        .x
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / data.x.len() as f64)
        .sqrt();
    let (min, max) = data
        .x
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let mut counts = vec![0usize; data.classes.len()];
    for &y in data.y.iter().flatten() {
        if let Some(c) = counts.get_mut(y as usize) {
            *c += 1;
        }
    }
    let safe = spec.to_string().replace([':', '/'], "_");
    let out = out.unwrap_or_else(|| PathBuf::from(DATA_DIR).join(format!("{safe}.png")));
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
    }
    let shown = GRID.min(n);
    let split_name = format!("{split:?}").to_lowercase();
    let img = match (&data.input, data.kind) {
        // An image-to-image task: rows of inputs above their targets.
        (Some(inputs), _) => {
            let shown = shown.min(PAIRS).min(inputs.len());
            let input = genlab_eval::pictures::inputs_as_images(
                &inputs.x[..shown * inputs.shape.dim()],
                inputs.shape,
                data.shape,
            );
            let target = Images::new(
                data.x[..shown * data.shape.dim()].to_vec(),
                shown,
                data.shape.c,
                data.shape.h,
                data.shape.w,
            );
            let i = inputs.shape;
            let title = format!(
                "{spec} · {split_name} split · the first {shown} of {n} {} · input {}x{}x{} ({}), target {}x{}x{}",
                if inputs.paired { "pairs" } else { "targets, beside inputs of the other domain" },
                i.c, i.h, i.w, inputs.caption, data.shape.c, data.shape.h, data.shape.w
            );
            genlab_eval::pictures::paired_rows(&[(&input, "input"), (&target, "target")], 8, title)
        }
        (None, Kind::Images) => Grid {
            title: format!("{spec} · {split_name} split · the first {shown} of {n} examples"),
            ..Grid::default()
        }
        .render(&Images::new(
            data.x[..shown * data.shape.dim()].to_vec(),
            shown,
            data.shape.c,
            data.shape.h,
            data.shape.w,
        )),
        (None, Kind::Points) => {
            // The values as given (f64 for tables, so large columns keep their spread).
            let values = data
                .raw
                .clone()
                .unwrap_or_else(|| data.x.iter().map(|&v| v as f64).collect());
            let title = format!("{spec} · {split_name} split · {n} rows");
            let modes = spec.modes().map(|m| m.centers).unwrap_or_default();
            let points = genlab_viz::Points::new(&values, data.shape.dim(), title)
                .with_modes(&modes)
                .with_names(&data.columns);
            genlab_viz::points_png(&points)
        }
    };
    genlab_core::run_dir::check_overwrite(&out, genlab_core::run_dir::Format::Png)?;
    save_png(&out, &img)?;
    let mut info = serde_json::json!({
        "spec": spec, "split": split, "examples": n, "kind": data.kind,
        "classes": data.classes, "class_counts": counts, "notes": data.notes,
        "min": min, "max": max, "load_ms": (load_ms * 10.0).round() / 10.0, "picture": out,
    });
    let fields = info.as_object_mut().unwrap();
    match data.kind {
        Kind::Images => {
            fields.insert(
                "shape".into(),
                serde_json::json!([data.shape.c, data.shape.h, data.shape.w]),
            );
            fields.insert("channels".into(), data.shape.c.into());
            fields.insert("pixel_mean".into(), mean.into());
            fields.insert("pixel_std".into(), std.into());
            fields.insert("binary".into(), data.binary.into());
        }
        Kind::Points => {
            // Per column, in f64, and what `data.standardize = "auto"` does with them.
            let d = data.shape.dim();
            let values = data
                .raw
                .clone()
                .unwrap_or_else(|| data.x.iter().map(|&v| v as f64).collect());
            let stats = genlab_data::Standardization::fit(&values, d);
            let in_unit = values.iter().all(|v| (0.0..=1.0).contains(v));
            let (lo, hi) = values
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
            fields.insert("min".into(), lo.into());
            fields.insert("max".into(), hi.into());
            fields.insert("columns".into(), d.into());
            fields.insert("column_mean".into(), stats.mean.into());
            fields.insert("column_std".into(), stats.std.into());
            let decision = match (data.raw.is_some(), in_unit) {
                (true, false) => "z-scores per column (values outside [0, 1]); data.standardize = \"off\" keeps them as given",
                (true, true) => "as given (every value in [0, 1]); data.standardize = \"on\" makes z-scores",
                (false, _) => "as given (built-in points)",
            };
            fields.insert("standardize_auto".into(), decision.into());
        }
    }
    if json {
        println!("{info}");
    } else {
        // Notes were printed above, as they happened.
        for (k, v) in info
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "notes")
        {
            println!("{k:<16} {}", shown_value(v));
        }
    }
    Ok(())
}

/// A value on one line of the table: strings without quotes, long lists cut after eight.
fn shown_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.len() > 8 => {
            let head: Vec<String> = items.iter().take(8).map(|i| i.to_string()).collect();
            format!("[{}, ... ({} values)]", head.join(", "), items.len())
        }
        other => other.to_string(),
    }
}
