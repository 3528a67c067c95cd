//! The run directory, genlab's one exchange format. [`RunDir`] writes and reads it, and every
//! file name lives in this file.
//!
//! ```text
//! runs/<name>/
//!   config.toml                 fully resolved
//!   meta.json                   family, version, seed, backend, started, last step, data shape
//!   metrics.jsonl               one JSON object per logged step
//!   curves.png                  the losses of metrics.jsonl over steps, drawn when a run ends
//!   samples/step-000500.png     fixed noise, same z every time
//!   ckpt/step-000500/{<group>.safetensors, optim-<group>.safetensors, state.json}
//!   ckpt/best                   name of the best checkpoint (by `Model::selection`; absent when none)
//!   eval/step-000500.json       metric -> value
//!   eval/step-000500-live.json  the same of the live weights (`genlab eval --weights live`)
//!   samples.png, chain.png, ... what `genlab sample`, `interpolate`, ... write by default
//! ```
//! Every write is atomic (temp file + rename); a checkpoint directory is written under a temp
//! name and renamed into place, so a crash never leaves half a checkpoint. The files and folders
//! above the last line belong to `genlab train` (and `eval/` to `genlab eval`): no other output
//! may land on them, in this run or another ([`RunDir::output`], [`RunDir::refuse_owned`]).
//!
//! A process killed at any moment leaves a run that `--resume` continues to the same bytes as a
//! straight run (timings apart: `steps_per_sec`, `started_unix`); tests/faults.rs stops it at
//! each point of [`crate::fault`]. What makes that so:
//! - metrics.jsonl is the one file appended to, a whole line per write. The lines past the
//!   checkpoint a resume starts from are dropped ([`RunDir::truncate_metrics`]), and with them a
//!   torn last line (no newline): a line is written before its step's checkpoint, so a torn one
//!   always lies past it. Readers skip a torn last line too.
//! - Each checkpoint keeps the open metrics window ([`MetricsWindow`]), so the first line after
//!   a resume averages the same steps as the straight run's, wherever the checkpoint fell.
//! - What follows a checkpoint's rename (meta.json's last step, `ckpt/best`, pruning, removing
//!   the leftovers of interrupted writes) is [`RunDir::settle`], which a resume repeats. A pruned
//!   checkpoint is first renamed aside (`.old-step-N`), so it never lingers half-deleted.

use crate::config::{self, RunConfig};
use crate::family::{DataInfo, Family};
use crate::fault::{self, Point};
use crate::model::Model;
use crate::params::NamedTensors;
use anyhow::{anyhow, bail, Context, Result};
use burn::tensor::Device;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

const CONFIG: &str = "config.toml";
const META: &str = "meta.json";
const METRICS: &str = "metrics.jsonl";
const CURVES: &str = "curves.png";
const SAMPLES: &str = "samples";
const CKPT: &str = "ckpt";
const EVAL: &str = "eval";
const BEST: &str = "best";
const STATE: &str = "state.json";
const STEP_PREFIX: &str = "step-";
/// Prefix of a checkpoint folder being written (`ckpt/.tmp-step-N`).
const WRITING_PREFIX: &str = ".tmp-";
/// Prefix of a checkpoint folder being deleted (`ckpt/.old-step-N`).
const DELETING_PREFIX: &str = ".old-";
/// Prefix of the optimizer state of a group inside a checkpoint (`optim-<group>.safetensors`).
const OPTIM_PREFIX: &str = "optim-";
/// Prefix of the EMA weights of a group inside a checkpoint (`ema-<group>.safetensors`).
const EMA_PREFIX: &str = "ema-";
const SAFETENSORS: &str = "safetensors";

/// What training writes into a run, config.toml first; no other command may write over these.
const OWNED: [&str; 7] = [CONFIG, META, METRICS, CURVES, SAMPLES, CKPT, EVAL];

/// The pictures and files that commands other than `train` write into a run by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A grid of samples (`genlab sample`; the demo's 64 from fixed noise).
    Samples,
    /// `genlab sample --mean`: probabilities beside the draws of `samples.png`.
    SamplesMean,
    /// `genlab sample --weights live`: the live weights' draws beside the EMA's `samples.png`.
    SamplesLive,
    SamplesByClass,
    /// `genlab sample --label C`: one class, beside the per-class grid.
    SamplesOfClass,
    Chain,
    Filters,
    Density,
    /// `genlab sample --weights live` of a 2-D density: beside the EMA's `density.png`.
    DensityLive,
    Reconstructions,
    Translations,
    Interpolation,
    Manifold,
    Completions,
    Traverse,
    Invert,
    Arithmetic,
    Neighbours,
}

impl Output {
    pub fn file_name(self) -> &'static str {
        match self {
            Output::Samples => "samples.png",
            Output::SamplesMean => "samples-mean.png",
            Output::SamplesLive => "samples-live.png",
            Output::SamplesByClass => "samples-by-class.png",
            Output::SamplesOfClass => "samples-of-class.png",
            Output::Chain => "chain.png",
            Output::Filters => "filters.png",
            Output::Density => "density.png",
            Output::DensityLive => "density-live.png",
            Output::Reconstructions => "reconstructions.png",
            Output::Translations => "translations.png",
            Output::Interpolation => "interpolation.png",
            Output::Manifold => "manifold.png",
            Output::Completions => "completions.png",
            Output::Traverse => "traverse.png",
            Output::Invert => "invert.png",
            Output::Arithmetic => "arithmetic.png",
            Output::Neighbours => "neighbours.png",
        }
    }
}

/// What a command writes to an `--out` path, recognised in an existing file by its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Json,
    Csv,
    Npy,
    Html,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Png => "a PNG image",
            Format::Json => "JSON",
            Format::Csv => "a CSV table",
            Format::Npy => "a NumPy array",
            Format::Html => "an HTML page",
        }
    }

    /// Whether `head` (the first bytes of a file) is this format.
    fn holds(self, head: &[u8]) -> bool {
        match self {
            Format::Png => head.starts_with(b"\x89PNG\r\n\x1a\n"),
            Format::Npy => head.starts_with(b"\x93NUMPY"),
            Format::Html => {
                let t = head.trim_ascii_start();
                t.len() >= 9
                    && (t[..9].eq_ignore_ascii_case(b"<!doctype")
                        || t[..5].eq_ignore_ascii_case(b"<html"))
            }
            Format::Json => {
                let t = head.trim_ascii_start();
                t.starts_with(b"{") || t.starts_with(b"[")
            }
            // Text (the 512 bytes may end inside a character) whose first line has a comma.
            Format::Csv => {
                let text = match std::str::from_utf8(head) {
                    Ok(t) => t,
                    Err(e) if e.error_len().is_none() => {
                        std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
                    }
                    Err(_) => return false,
                };
                text.lines().next().is_some_and(|l| l.contains(','))
            }
        }
    }
}

/// Set by `--force`: commands may write over files that are not in their format and over a
/// run's own files.
static FORCE: AtomicBool = AtomicBool::new(false);

/// `--force` for this process.
pub fn set_force(force: bool) {
    FORCE.store(force, Ordering::Relaxed);
}

/// An error if writing `format` to `path` would replace a folder (never allowed) or, without
/// `--force`, an existing file that holds something else (a photo, notes, a config).
pub fn check_overwrite(path: &Path, format: Format) -> Result<()> {
    if path.is_dir() {
        bail!(
            "{} is a folder; give a file name for --out, e.g. {}",
            path.display(),
            path.join(match format {
                Format::Png => "out.png",
                Format::Json => "out.json",
                Format::Csv => "out.csv",
                Format::Npy => "out.npy",
                Format::Html => "report.html",
            })
            .display()
        );
    }
    if FORCE.load(Ordering::Relaxed) || !path.is_file() {
        return Ok(());
    }
    let mut head = [0u8; 512];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    if read > 0 && !format.holds(&head[..read]) {
        bail!(
            "{} exists and is not {}; writing {} there would destroy it: choose another --out, or pass --force",
            path.display(),
            format.name(),
            format.name()
        );
    }
    Ok(())
}

/// The files `step-NNNNNN.EXT` in `dir`: `(step, path)`, in no order.
fn step_files(dir: &Path, ext: &str) -> Vec<(u64, PathBuf)> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let step = path
                .file_stem()?
                .to_str()?
                .strip_prefix(STEP_PREFIX)?
                .parse()
                .ok()?;
            (path.extension()? == ext).then_some((step, path))
        })
        .collect()
}

fn step_name(step: u64) -> String {
    format!("{STEP_PREFIX}{step:06}")
}

/// The temp file that [`atomic_write`] writes `path` through.
fn temp_file(dir: &Path, path: &Path) -> PathBuf {
    dir.join(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_string_lossy()
    ))
}

/// The fault point between the temp file and the rename of a run's own file.
fn write_fault(path: &Path) -> Option<Point> {
    let name = path.file_name()?.to_str()?;
    let folder = path.parent().and_then(|p| p.file_name());
    match name {
        META => Some(Point::Meta),
        CURVES => Some(Point::Curves),
        _ if folder.is_some_and(|f| f == SAMPLES) => Some(Point::Samples),
        _ => None,
    }
}

/// Write `bytes` to `path` through a temp file in the same folder and a rename.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let tmp = temp_file(dir, path);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if let Some(point) = write_fault(path) {
            fault::reached(point);
        }
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow!("cannot write {}: {e}", path.display())
    })
}

/// meta.json
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub family: String,
    pub genlab_version: String,
    pub seed: u64,
    pub backend: String,
    /// Seconds since the Unix epoch.
    pub started_unix: u64,
    pub last_step: u64,
    /// What the model was built for, so `sample` needs no data.
    pub data_kind: genlab_data::Kind,
    pub data_shape: genlab_data::Shape,
    pub classes: Vec<String>,
    /// Tabular points reach the model as z-scores with these statistics (`data.standardize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standardization: Option<genlab_data::Standardization>,
    /// The inputs of an image-to-image task, so `translate` needs no data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<genlab_data::InputKind>,
    /// The first translation runs recorded only the inputs' shape (paired, then): read into
    /// `input` by [`RunDir::read_meta`], never written.
    #[serde(default, skip_serializing)]
    pub input_shape: Option<genlab_data::Shape>,
}

/// One line of metrics.jsonl: the means of the loss terms since the previous line (in the
/// family's order), the learning rate of each parameter group, the speed, and measurements that
/// are not losses (mode coverage, held-out loss). Written as
/// `{"step":..,"epoch":..,"losses":{..},"metrics":{..},"lr":{"gen":..},"steps_per_sec":..}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsLine {
    pub step: u64,
    pub epoch: f64,
    #[serde(with = "ordered")]
    pub losses: Vec<(String, f64)>,
    #[serde(default, with = "ordered", skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<(String, f64)>,
    pub lr: BTreeMap<String, f64>,
    pub steps_per_sec: f64,
}

/// The keys of the flat lines that genlab wrote before losses had their own object.
const FLAT_NOT_LOSSES: [&str; 4] = ["step", "epoch", "lr", "steps_per_sec"];

impl MetricsLine {
    /// Parse one line, typed or in the older flat format (losses beside `step`, `epoch`, one
    /// `lr` and `steps_per_sec`, in alphabetical order; its `lr` is kept under the key `all`).
    pub fn parse(line: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(line)?;
        if v.get("losses").is_some() {
            // Straight from the text: a `Value` would sort the losses by name.
            return Ok(serde_json::from_str(line)?);
        }
        let obj = v.as_object().ok_or_else(|| anyhow!("not a JSON object"))?;
        let number = |k: &str| obj.get(k).and_then(|x| x.as_f64());
        Ok(MetricsLine {
            step: obj
                .get("step")
                .and_then(|x| x.as_u64())
                .ok_or_else(|| anyhow!("no step"))?,
            epoch: number("epoch").unwrap_or(0.0),
            losses: obj
                .iter()
                .filter(|(k, _)| !FLAT_NOT_LOSSES.contains(&k.as_str()))
                .filter_map(|(k, x)| Some((k.clone(), x.as_f64()?)))
                .collect(),
            metrics: Vec::new(),
            lr: number("lr")
                .map(|lr| ("all".into(), lr))
                .into_iter()
                .collect(),
            steps_per_sec: number("steps_per_sec").unwrap_or(0.0),
        })
    }
}

/// `Vec<(String, f64)>` as a JSON object that keeps its order (serde_json's map sorts keys).
mod ordered {
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pairs: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(pairs.len()))?;
        for (k, v) in pairs {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, f64)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, f64)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry::<String, f64>()? {
                    out.push(pair);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// state.json inside a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CkptState {
    pub step: u64,
    /// Optimizer update counts per group.
    pub optim_t: BTreeMap<String, u64>,
    /// Best selection loss seen so far (infinite when the family selects none, see
    /// `Model::selection`; JSON writes that as null) and the checkpoint that holds it.
    #[serde(deserialize_with = "null_is_infinite")]
    pub best_loss: f64,
    pub best_step: u64,
    /// The metrics window open at this step (empty in checkpoints of older genlab).
    #[serde(default)]
    pub window: MetricsWindow,
}

/// The steps since the last metrics line, as a checkpoint keeps them: the sum of each loss term
/// over `steps` steps (in the family's order), and the main (first) loss of the last line, which
/// picks the best checkpoint. A resume carries on with them, so that its next line averages the
/// steps a straight run's would, however the cadences of lines and checkpoints interleave.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsWindow {
    pub steps: u64,
    #[serde(with = "ordered")]
    pub sums: Vec<(String, f64)>,
    /// None before the first line.
    pub last_main: Option<f64>,
}

/// JSON has no infinity: serde_json writes `f64::INFINITY` as null, which reads back as it.
fn null_is_infinite<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
}

pub struct Checkpoint {
    pub dir: PathBuf,
    pub params: NamedTensors,
    pub optim: NamedTensors,
    pub state: CkptState,
}

fn to_safetensors(t: &NamedTensors) -> Result<Vec<u8>> {
    let f32s = t.0.iter().map(|(k, (shape, v))| {
        let b: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        (k.clone(), Dtype::F32, shape.clone(), b)
    });
    let f64s = t.1.iter().map(|(k, (shape, v))| {
        let b: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        (k.clone(), Dtype::F64, shape.clone(), b)
    });
    let bytes: Vec<_> = f32s.chain(f64s).collect();
    let views: Vec<(String, TensorView)> = bytes
        .iter()
        .map(|(k, dt, s, b)| Ok((k.clone(), TensorView::new(*dt, s.clone(), b)?)))
        .collect::<Result<_, safetensors::SafeTensorError>>()?;
    Ok(safetensors::serialize(views, &None)?)
}

fn from_safetensors(path: &Path) -> Result<NamedTensors> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read checkpoint file {}", path.display()))?;
    params_from_bytes(&bytes, &format!("checkpoint file {}", path.display()))
}

/// Parameters from the bytes of a safetensors file (f32 and f64 tensors); `what` names the
/// file in errors ("checkpoint file runs/vae/ckpt/step-000500/model.safetensors").
pub fn params_from_bytes(bytes: &[u8], what: &str) -> Result<NamedTensors> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| anyhow!("{what} is truncated or corrupt ({e})"))?;
    let mut out = NamedTensors::default();
    for (name, view) in st.tensors() {
        let shape = view.shape().to_vec();
        match view.dtype() {
            Dtype::F32 => out.insert(
                name,
                shape,
                view.data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            Dtype::F64 => out.insert_f64(
                name,
                shape,
                view.data()
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            other => bail!("{what}: tensor {name} is {other:?}, expected F32 or F64"),
        }
    }
    Ok(out)
}

/// Which weights [`RunDir::load_model`] loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// The weights training updates: what `--resume` continues from.
    Live,
    /// The EMA weights where the run kept them (`train.ema_decay > 0`), else the live ones:
    /// what sampling and evaluation use.
    Averaged,
}

/// A model rebuilt from a run's config with a checkpoint loaded into it.
pub struct Loaded {
    pub model: Box<dyn Model>,
    pub checkpoint: Checkpoint,
    /// Whether the EMA weights were loaded (asked for, and the checkpoint keeps them).
    pub averaged: bool,
}

/// One run directory. Construct with [`RunDir::create`] (a new run), [`RunDir::open`] (an
/// existing one) or [`RunDir::at`] (a path, no I/O).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    pub fn at(root: impl Into<PathBuf>) -> Self {
        RunDir { root: root.into() }
    }

    /// Create the folder of a new run and write its config and meta. Errors if the folder
    /// cannot be created or written.
    pub fn create(root: &Path, config: &RunConfig, meta: &Meta) -> Result<Self> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create run directory {}", root.display()))?;
        let run = RunDir::at(root);
        run.write_config(config)?;
        run.write_meta(meta)?;
        Ok(run)
    }

    /// Open an existing run: its config and meta. Errors name the folder and the fix when it is
    /// not a run directory or a file is corrupt.
    pub fn open(root: &Path) -> Result<(Self, RunConfig, Meta)> {
        let run = RunDir::at(root);
        let config = run.read_config()?;
        let meta = run.read_meta()?;
        Ok((run, config, meta))
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn config_file(&self) -> PathBuf {
        self.root.join(CONFIG)
    }

    pub fn meta_file(&self) -> PathBuf {
        self.root.join(META)
    }

    pub fn metrics_file(&self) -> PathBuf {
        self.root.join(METRICS)
    }

    pub fn curves_file(&self) -> PathBuf {
        self.root.join(CURVES)
    }

    /// The fixed-noise sample grid written at `step`.
    pub fn samples_file(&self, step: u64) -> PathBuf {
        self.root
            .join(SAMPLES)
            .join(format!("{}.png", step_name(step)))
    }

    /// The metrics `genlab eval` computed for the checkpoint of `step`.
    pub fn eval_file(&self, step: u64) -> PathBuf {
        self.root
            .join(EVAL)
            .join(format!("{}.json", step_name(step)))
    }

    /// Where `genlab eval --weights live` writes its result at `step`: beside
    /// [`RunDir::eval_file`], named so that [`RunDir::latest_eval`] never takes it for the
    /// run's own (averaged) result.
    pub fn live_eval_file(&self, step: u64) -> PathBuf {
        self.root
            .join(EVAL)
            .join(format!("{}-live.json", step_name(step)))
    }

    /// The newest `genlab eval` result in the run: its step and JSON, if any.
    pub fn latest_eval(&self) -> Option<(u64, serde_json::Value)> {
        let (step, path) = step_files(&self.root.join(EVAL), "json")
            .into_iter()
            .max_by_key(|(step, _)| *step)?;
        let text = std::fs::read_to_string(path).ok()?;
        Some((step, serde_json::from_str(&text).ok()?))
    }

    /// The fixed-noise sample grids written in training, oldest first: `(step, png)`.
    pub fn sample_grids(&self) -> Vec<(u64, PathBuf)> {
        let mut grids = step_files(&self.root.join(SAMPLES), "png");
        grids.sort();
        grids
    }

    pub fn checkpoint_dir(&self, step: u64) -> PathBuf {
        self.root.join(CKPT).join(step_name(step))
    }

    /// Where a command writes `what`: `given` (from `--out`) or the default file in the run.
    /// Refuses a path that would write over a file or folder training owns, over a folder, or
    /// over a file that is not a PNG ([`Self::refuse_owned`]).
    pub fn output(&self, given: Option<PathBuf>, what: Output) -> Result<PathBuf> {
        let path = given.unwrap_or_else(|| self.root.join(what.file_name()));
        self.refuse_owned(&path, Format::Png)?;
        Ok(path)
    }

    /// An error if writing `format` to `path` would destroy something: `path` is, or lies
    /// inside, a file or folder that training or `genlab eval` owns in a run directory (this
    /// run's, or any other run's the path leads into: a folder holding both config.toml and
    /// meta.json), or it is a folder, or an existing file that is not `format`
    /// ([`check_overwrite`]). The path need not exist yet; symbolic links, `.` and `..` are
    /// resolved first. `--force` ([`set_force`]) lifts all but the folder check.
    pub fn refuse_owned(&self, path: &Path, format: Format) -> Result<()> {
        if FORCE.load(Ordering::Relaxed) {
            return check_overwrite(path, format);
        }
        let full = resolved(path);
        for dir in full.ancestors().skip(1) {
            if !(dir.join(CONFIG).is_file() && dir.join(META).is_file()) {
                continue;
            }
            let rest = full.strip_prefix(dir).unwrap_or(&full);
            let Some(first) = rest.components().next() else {
                continue;
            };
            let first = first.as_os_str().to_string_lossy();
            if OWNED.contains(&first.as_ref()) {
                bail!(
                    "{} belongs to the run in {} ({first} is written by genlab train and eval); choose another --out (or pass --force to overwrite it, losing what the run kept there)",
                    path.display(),
                    dir.display()
                );
            }
        }
        check_overwrite(path, format)
    }

    pub fn write_config(&self, config: &RunConfig) -> Result<()> {
        atomic_write(&self.config_file(), config.to_toml().as_bytes())
    }

    pub fn write_meta(&self, meta: &Meta) -> Result<()> {
        atomic_write(
            &self.meta_file(),
            serde_json::to_string_pretty(meta)?.as_bytes(),
        )
    }

    pub fn read_config(&self) -> Result<RunConfig> {
        let (dir, path) = (&self.root, self.config_file());
        if !dir.is_dir() {
            bail!("{} is not a run directory (no such folder); train one with `genlab train FAMILY --out {}`", dir.display(), dir.display());
        }
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{} is not a run directory: cannot read {}",
                dir.display(),
                path.display()
            )
        })?;
        let table: toml::Table = toml::from_str(&text)
            .map_err(|e| anyhow!("{} is corrupt: {}", path.display(), e.message()))?;
        RunConfig::from_table(&table).with_context(|| format!("in {}", path.display()))
    }

    pub fn read_meta(&self) -> Result<Meta> {
        let path = self.meta_file();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut meta: Meta = serde_json::from_str(&text)
            .with_context(|| format!("{} is corrupt", path.display()))?;
        // The first translation runs recorded only the inputs' shape: paired, then.
        if let (None, Some(shape)) = (meta.input, meta.input_shape.take()) {
            meta.input = Some(genlab_data::InputKind {
                shape,
                paired: true,
                hole: None,
            });
        }
        Ok(meta)
    }

    /// Record the newest checkpoint's step in meta.json. A missing or corrupt meta.json is an
    /// error: it would lose the data shape that `sample` rebuilds the model from.
    pub fn set_last_step(&self, step: u64) -> Result<()> {
        let mut meta = self.read_meta()?;
        meta.last_step = step;
        self.write_meta(&meta)
    }

    /// Checkpoint step numbers present in the run, oldest first (only complete ones).
    pub fn checkpoints(&self) -> Vec<(u64, PathBuf)> {
        checkpoints(&self.root)
    }

    /// True once training has saved a checkpoint here.
    pub fn has_checkpoint(&self) -> bool {
        !self.checkpoints().is_empty()
    }

    /// True when a start of training began here (config.toml, or the temp file it is written
    /// through) and never reached a checkpoint: it failed, or was killed, first.
    pub fn is_unstarted(&self) -> bool {
        let config = self.config_file();
        let begun = config.is_file() || temp_file(&self.root, &config).is_file();
        begun && !self.has_checkpoint()
    }

    /// Remove what a start that never reached a checkpoint left behind (the files training
    /// owns and the temp files they are written through), so that the folder can take a fresh
    /// start; other files stay. Refuses a run that has a checkpoint. config.toml goes last: a
    /// clear that is itself killed leaves a folder still seen as unstarted.
    pub fn clear_unstarted(&self) -> Result<()> {
        if self.has_checkpoint() {
            bail!(
                "{} holds checkpoints; continue it with --resume",
                self.root.display()
            );
        }
        for name in OWNED.into_iter().rev() {
            let p = self.root.join(name);
            for p in [p.clone(), temp_file(&self.root, &p)] {
                let removed = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else if p.exists() {
                    std::fs::remove_file(&p)
                } else {
                    Ok(())
                };
                removed.with_context(|| format!("cannot remove {}", p.display()))?;
            }
        }
        Ok(())
    }

    /// The newest checkpoint, or a message that says there is none.
    pub fn latest_checkpoint(&self) -> Result<PathBuf> {
        latest_checkpoint(&self.root)
    }

    /// Rebuild the run's model from its config (keys added to the family since the run was
    /// trained take their defaults) and load its newest checkpoint. The one loader behind
    /// `sample`, `eval` and `train --resume`.
    pub fn load_model(
        &self,
        family: &Family,
        config: &RunConfig,
        info: &DataInfo,
        device: &Device,
        weights: Weights,
    ) -> Result<Loaded> {
        let mut model_cfg = (family.default_model)();
        config::merge(
            &mut model_cfg,
            &config.model,
            &self.config_file().display().to_string(),
        )?;
        let mut model = (family.build)(&model_cfg, info, device)?;
        let dir = self.latest_checkpoint()?;
        let checkpoint = load_checkpoint(&dir, &model.groups()).with_context(|| {
            let earlier = self
                .checkpoints()
                .into_iter()
                .rev()
                .nth(1)
                .map(|(_, p)| {
                    format!(
                        "; the one before it is {}: delete the broken folder to use it",
                        p.display()
                    )
                })
                .unwrap_or_default();
            format!("cannot load checkpoint {}{earlier}", dir.display())
        })?;
        model.load_params(&checkpoint.params)?;
        let mut averaged = false;
        if weights == Weights::Averaged {
            if let Some(ema) = load_ema(&dir, &model.groups())? {
                // Weights without an average (batch-norm statistics) keep their saved values.
                let mut params = model.save_params();
                params.extend(ema);
                model.load_params(&params)?;
                averaged = true;
            }
        }
        Ok(Loaded {
            model,
            checkpoint,
            averaged,
        })
    }

    /// Append one line to metrics.jsonl, newline included, in one write.
    pub fn append_metrics(&self, line: &MetricsLine) -> Result<()> {
        let line = format!("{}\n", serde_json::to_string(line)?);
        let path = self.metrics_file();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let bytes = line.as_bytes();
        if fault::due(Point::MetricsTorn) {
            let _ = f.write_all(&bytes[..bytes.len() / 2]);
            fault::exit(Point::MetricsTorn);
        }
        f.write_all(bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        fault::reached(Point::Metrics);
        Ok(())
    }

    /// The complete lines of metrics.jsonl (numbered from 1), without a torn last line: one
    /// that a killed process left without its newline.
    fn metrics_lines(&self) -> Option<(PathBuf, Vec<(usize, String)>)> {
        let path = self.metrics_file();
        let text = std::fs::read_to_string(&path).ok()?;
        let complete = match text.rfind('\n') {
            Some(end) => &text[..=end],
            None => "",
        };
        let lines = complete.lines().map(str::to_string);
        Some((path, (1..).zip(lines).collect()))
    }

    /// Every line of metrics.jsonl, typed or flat; an empty list before the first line.
    /// Errors name the file and line of a corrupt line.
    pub fn read_metrics(&self) -> Result<Vec<MetricsLine>> {
        let Some((path, lines)) = self.metrics_lines() else {
            return Ok(Vec::new());
        };
        lines
            .iter()
            .map(|(i, l)| {
                MetricsLine::parse(l)
                    .with_context(|| format!("{} line {i} is corrupt", path.display()))
            })
            .collect()
    }

    /// Drop the metrics lines past `step`, and a torn last line (a resumed run rewrites what
    /// followed its checkpoint). A corrupt complete line is an error, not dropped.
    pub fn truncate_metrics(&self, step: u64) -> Result<()> {
        let Some((path, lines)) = self.metrics_lines() else {
            return Ok(());
        };
        let mut kept = String::new();
        for (i, l) in lines {
            let line = MetricsLine::parse(&l)
                .with_context(|| format!("{} line {i} is corrupt", path.display()))?;
            if line.step <= step {
                kept.push_str(&l);
                kept.push('\n');
            }
        }
        atomic_write(&path, kept.as_bytes())
    }

    /// Save a checkpoint atomically, then [`RunDir::settle`] the run on it.
    pub fn save_checkpoint(
        &self,
        params: &NamedTensors,
        groups: &[&str],
        optim: &NamedTensors,
        ema: Option<&NamedTensors>,
        state: &CkptState,
        keep_last: usize,
    ) -> Result<PathBuf> {
        let dest = write_checkpoint(&self.root, params, groups, optim, ema, state)?;
        fault::reached(Point::Ckpt);
        self.settle(state, keep_last)?;
        Ok(dest)
    }

    /// Bring the run in line with its newest checkpoint, whose state is `state`: meta.json's
    /// last step, `ckpt/best`, the checkpoints pruned to `keep_last` plus the best, and the
    /// leftovers of interrupted writes removed (`.tmp-step-N` and `.old-step-N` folders, a step
    /// folder without state.json). Every save ends with it, and `--resume` repeats it for the
    /// checkpoint it continues from, in case the process that saved it died halfway through.
    pub fn settle(&self, state: &CkptState, keep_last: usize) -> Result<()> {
        self.set_last_step(state.step)?;
        fault::reached(Point::Best);
        let ckpt = self.root.join(CKPT);
        let best = ckpt.join(BEST);
        // A run without a best (no loss measures quality, `Selection::None`) has no `best` file.
        let has_best = state.best_loss.is_finite();
        if has_best {
            atomic_write(&best, step_name(state.best_step).as_bytes())?;
        } else if best.exists() {
            std::fs::remove_file(&best)
                .with_context(|| format!("cannot remove {}", best.display()))?;
        }
        for entry in
            std::fs::read_dir(&ckpt).with_context(|| format!("cannot read {}", ckpt.display()))?
        {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let leftover = name.starts_with(WRITING_PREFIX)
                || name.starts_with(DELETING_PREFIX)
                || (name.starts_with(STEP_PREFIX) && path.is_dir() && !path.join(STATE).exists());
            if leftover {
                std::fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        let all = checkpoints(&self.root);
        let excess = all.len().saturating_sub(keep_last);
        for (step, dir) in all.into_iter().take(excess) {
            if !has_best || step != state.best_step {
                discard_checkpoint(&dir)?;
            }
        }
        Ok(())
    }
}

impl Meta {
    /// What the family needs to know about the data to rebuild the model, from the run alone.
    pub fn data_info(&self, config: &RunConfig) -> DataInfo {
        DataInfo {
            kind: self.data_kind,
            shape: self.data_shape,
            classes: self.classes.len(),
            preprocess: config.data.preprocess(),
            modes: config.data.modes(),
            standardization: self.standardization.clone(),
            input: self.input,
        }
    }
}

/// `path` made absolute with its nearest existing ancestor's symbolic links, `.` and `..`
/// resolved, and the rest (which does not exist yet) normalised by hand.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut base = absolute.as_path();
    let mut tail = Vec::new();
    let root = loop {
        if let Ok(real) = base.canonicalize() {
            break real;
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_os_string());
                base = parent;
            }
            _ => break base.to_path_buf(),
        }
    };
    let mut out = root;
    for name in tail.into_iter().rev() {
        match name.to_str() {
            Some("..") => {
                out.pop();
            }
            Some(".") => {}
            _ => out.push(name),
        }
    }
    out
}

fn params_file(dir: &Path, group: &str) -> PathBuf {
    dir.join(format!("{group}.{SAFETENSORS}"))
}

fn optim_file(dir: &Path, group: &str) -> PathBuf {
    dir.join(format!("{OPTIM_PREFIX}{group}.{SAFETENSORS}"))
}

fn ema_file(dir: &Path, group: &str) -> PathBuf {
    dir.join(format!("{EMA_PREFIX}{group}.{SAFETENSORS}"))
}

/// Checkpoint step numbers present in a run, oldest first (only complete ones).
fn checkpoints(run: &Path) -> Vec<(u64, PathBuf)> {
    let mut v: Vec<(u64, PathBuf)> = std::fs::read_dir(run.join(CKPT))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let step = name.strip_prefix(STEP_PREFIX)?.parse().ok()?;
            e.path().join(STATE).exists().then(|| (step, e.path()))
        })
        .collect();
    v.sort();
    v
}

/// Delete a checkpoint folder: renamed aside first, so that a crash halfway through the
/// deletion leaves no half checkpoint under a step name ([`RunDir::settle`] removes the rest).
fn discard_checkpoint(dir: &Path) -> Result<()> {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let aside = dir.with_file_name(format!("{DELETING_PREFIX}{name}"));
    std::fs::rename(dir, &aside).with_context(|| format!("cannot remove {}", dir.display()))?;
    fault::reached(Point::Prune);
    std::fs::remove_dir_all(&aside).with_context(|| format!("cannot remove {}", aside.display()))
}

/// Write a checkpoint into a temp folder and rename it into place.
fn write_checkpoint(
    run: &Path,
    params: &NamedTensors,
    groups: &[&str],
    optim: &NamedTensors,
    ema: Option<&NamedTensors>,
    state: &CkptState,
) -> Result<PathBuf> {
    let ckpt = run.join(CKPT);
    let name = step_name(state.step);
    let tmp = ckpt.join(format!("{WRITING_PREFIX}{name}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    for g in groups {
        atomic_write(&params_file(&tmp, g), &to_safetensors(&params.group(g))?)?;
        atomic_write(&optim_file(&tmp, g), &to_safetensors(&optim.group(g))?)?;
        if let Some(ema) = ema {
            atomic_write(&ema_file(&tmp, g), &to_safetensors(&ema.group(g))?)?;
        }
    }
    atomic_write(
        &tmp.join(STATE),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )?;
    fault::reached(Point::CkptFiles);
    let dest = ckpt.join(&name);
    if dest.exists() {
        discard_checkpoint(&dest)?;
    }
    std::fs::rename(&tmp, &dest)
        .with_context(|| format!("cannot move checkpoint into {}", dest.display()))?;
    Ok(dest)
}

pub fn load_checkpoint(dir: &Path, groups: &[&str]) -> Result<Checkpoint> {
    let state_path = dir.join(STATE);
    let text = std::fs::read_to_string(&state_path)
        .with_context(|| format!("checkpoint {} is incomplete: no {STATE}", dir.display()))?;
    let state: CkptState = serde_json::from_str(&text)
        .with_context(|| format!("{} is corrupt", state_path.display()))?;
    let mut params = NamedTensors::default();
    let mut optim = NamedTensors::default();
    for g in groups {
        params.extend(from_safetensors(&params_file(dir, g))?);
        optim.extend(from_safetensors(&optim_file(dir, g))?);
    }
    Ok(Checkpoint {
        dir: dir.to_path_buf(),
        params,
        optim,
        state,
    })
}

/// The EMA weights of a checkpoint, if it has them.
pub fn load_ema(dir: &Path, groups: &[&str]) -> Result<Option<NamedTensors>> {
    let mut out = NamedTensors::default();
    for g in groups {
        let path = ema_file(dir, g);
        if !path.exists() {
            return Ok(None);
        }
        out.extend(from_safetensors(&path)?);
    }
    Ok(Some(out))
}

/// The newest checkpoint of a run, or a message that says there is none.
fn latest_checkpoint(run: &Path) -> Result<PathBuf> {
    checkpoints(run)
        .pop()
        .map(|(_, p)| p)
        .ok_or_else(|| anyhow!("{} has no checkpoint (expected {}/{CKPT}/step-NNNNNN/{STATE}); train it first with `genlab train ... --out {}`", run.display(), run.display(), run.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(step: u64, best: u64) -> CkptState {
        CkptState {
            step,
            optim_t: BTreeMap::from([("model".into(), step)]),
            best_loss: 1.0,
            best_step: best,
            window: MetricsWindow::default(),
        }
    }

    /// A run folder with the meta.json that saving a checkpoint updates.
    fn run_with_meta(root: &Path) -> RunDir {
        let run = RunDir::at(root);
        let meta = Meta {
            family: "vae".into(),
            genlab_version: "0".into(),
            seed: 0,
            backend: "cpu".into(),
            started_unix: 0,
            last_step: 0,
            data_kind: genlab_data::Kind::Points,
            data_shape: genlab_data::Shape { c: 2, h: 1, w: 1 },
            classes: Vec::new(),
            standardization: None,
            input: None,
            input_shape: None,
        };
        run.write_meta(&meta).unwrap();
        run
    }

    #[test]
    fn a_translation_run_of_the_first_format_keeps_its_inputs_when_rewritten() {
        let tmp = tempfile::tempdir().unwrap();
        let run = run_with_meta(tmp.path());
        let mut m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.meta_file()).unwrap()).unwrap();
        m["input_shape"] = serde_json::json!({"c": 1, "h": 14, "w": 14});
        std::fs::write(run.meta_file(), m.to_string()).unwrap();
        let want = Some(genlab_data::InputKind {
            shape: genlab_data::Shape { c: 1, h: 14, w: 14 },
            paired: true,
            hole: None,
        });
        let meta = run.read_meta().unwrap();
        assert_eq!(meta.input, want);
        run.write_meta(&meta).unwrap();
        assert_eq!(
            run.read_meta().unwrap().input,
            want,
            "written back as `input`"
        );
    }

    #[test]
    fn checkpoints_round_trip_and_prune_to_keep_last_plus_best() {
        let run = tempfile::tempdir().unwrap();
        run_with_meta(run.path());
        let mut p = NamedTensors::default();
        p.insert("model/w".into(), vec![2], vec![1.5, -2.0]);
        for step in [10, 20, 30, 40] {
            RunDir::at(run.path())
                .save_checkpoint(
                    &p,
                    &["model"],
                    &NamedTensors::default(),
                    None,
                    &state(step, 10),
                    2,
                )
                .unwrap();
        }
        let steps: Vec<u64> = RunDir::at(run.path())
            .checkpoints()
            .iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(steps, vec![10, 30, 40]);
        let c = load_checkpoint(
            &RunDir::at(run.path()).latest_checkpoint().unwrap(),
            &["model"],
        )
        .unwrap();
        assert_eq!(c.params, p);
        assert_eq!(c.state, state(40, 10));
    }

    #[test]
    fn a_truncated_checkpoint_file_is_named_in_the_error() {
        let run = tempfile::tempdir().unwrap();
        run_with_meta(run.path());
        let mut p = NamedTensors::default();
        p.insert("model/w".into(), vec![2], vec![1.5, -2.0]);
        let dir = RunDir::at(run.path())
            .save_checkpoint(
                &p,
                &["model"],
                &NamedTensors::default(),
                None,
                &state(5, 5),
                2,
            )
            .unwrap();
        let f = dir.join("model.safetensors");
        let bytes = std::fs::read(&f).unwrap();
        std::fs::write(&f, &bytes[..bytes.len() - 3]).unwrap();
        let err = load_checkpoint(&dir, &["model"]).err().unwrap().to_string();
        assert!(
            err.contains("model.safetensors is truncated or corrupt"),
            "{err}"
        );
    }

    #[test]
    fn outputs_never_write_over_what_a_run_owns() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path();
        let run = RunDir::at(runs.join("a"));
        let other = RunDir::at(runs.join("b"));
        for r in [&run, &other] {
            std::fs::create_dir_all(r.path().join(CKPT)).unwrap();
            std::fs::write(r.config_file(), "").unwrap();
            std::fs::write(r.meta_file(), "{}").unwrap();
        }
        assert_eq!(
            run.output(None, Output::Samples).unwrap(),
            run.path().join("samples.png")
        );
        let refused = |p: PathBuf| {
            let err = run.output(Some(p.clone()), Output::Samples);
            let err = err.expect_err(&p.display().to_string()).to_string();
            assert!(err.contains("belongs to the run"), "{}: {err}", p.display());
        };
        for owned in [CONFIG, META, METRICS, CURVES] {
            refused(run.path().join(owned));
        }
        // Inside owned folders that do not exist yet, through `..`, and in another run.
        refused(run.path().join(CKPT).join("step-000050/model.safetensors"));
        refused(run.path().join(EVAL).join("step-000040.json"));
        refused(run.path().join(SAMPLES).join("../config.toml"));
        refused(other.path().join(CONFIG));
        refused(runs.join("a/../b/meta.json"));
        // Beside the run, or in a folder that is no run, is fine.
        for fine in [runs.join("c").join(CONFIG), run.path().join("mine.png")] {
            assert_eq!(
                run.output(Some(fine.clone()), Output::Samples).unwrap(),
                fine
            );
        }
    }

    #[test]
    fn a_corrupt_meta_is_an_error_not_silence() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::at(tmp.path());
        std::fs::write(run.meta_file(), "{ not json").unwrap();
        let err = run.set_last_step(10).unwrap_err().to_string();
        assert!(err.contains("meta.json is corrupt"), "{err}");
    }

    #[test]
    fn metrics_lines_keep_the_family_order_and_old_flat_lines_still_read() {
        let line = MetricsLine {
            step: 5,
            epoch: 0.5,
            losses: vec![("neg_elbo".into(), 3.0), ("kl".into(), 1.0)],
            metrics: Vec::new(),
            lr: BTreeMap::from([("model".into(), 1e-3)]),
            steps_per_sec: 2.0,
        };
        let text = serde_json::to_string(&line).unwrap();
        assert!(
            text.find("neg_elbo").unwrap() < text.find("kl").unwrap(),
            "{text}"
        );
        assert_eq!(MetricsLine::parse(&text).unwrap(), line);
        let flat =
            r#"{"d_loss":1.5,"epoch":0.1,"g_loss":0.5,"lr":0.001,"step":5,"steps_per_sec":9.0}"#;
        let old = MetricsLine::parse(flat).unwrap();
        assert_eq!(old.step, 5);
        assert_eq!(
            old.losses,
            vec![("d_loss".into(), 1.5), ("g_loss".into(), 0.5)]
        );
        assert_eq!(old.lr, BTreeMap::from([("all".into(), 0.001)]));
    }

    #[test]
    fn checkpoint_state_reads_back_every_float_to_the_bit() {
        // serde_json's default float parser can miss by an ulp (float_roundtrip fixes it); a
        // resumed run that read back another best loss or window sum would drift from the
        // straight run.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        for _ in 0..2000 {
            let x = f64::from_bits(rng.random::<u64>() >> 2);
            let mut s = state(7, 7);
            s.best_loss = x;
            s.window = MetricsWindow {
                steps: 3,
                sums: vec![("loss".into(), x * 3.0), ("kl".into(), x / 7.0)],
                last_main: Some(x + 1.0),
            };
            let text = serde_json::to_string_pretty(&s).unwrap();
            let back: CkptState = serde_json::from_str(&text).unwrap();
            assert_eq!(back.best_loss.to_bits(), x.to_bits(), "{text}");
            for ((_, a), (_, b)) in back.window.sums.iter().zip(&s.window.sums) {
                assert_eq!(a.to_bits(), b.to_bits(), "{text}");
            }
            assert_eq!(back, s);
        }
    }

    #[test]
    fn a_torn_last_metrics_line_is_skipped_and_dropped_by_a_resume() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::at(tmp.path());
        let line = |step| MetricsLine {
            step,
            epoch: 0.0,
            losses: vec![("loss".into(), 1.0 / step as f64)],
            metrics: Vec::new(),
            lr: BTreeMap::new(),
            steps_per_sec: 1.0,
        };
        for step in [5, 10, 15] {
            run.append_metrics(&line(step)).unwrap();
        }
        let whole = std::fs::read_to_string(run.metrics_file()).unwrap();
        let torn = r#"{"step":20,"epoch":0.0,"los"#;
        std::fs::write(run.metrics_file(), format!("{whole}{torn}")).unwrap();
        let steps = |run: &RunDir| -> Vec<u64> {
            run.read_metrics().unwrap().iter().map(|l| l.step).collect()
        };
        assert_eq!(steps(&run), vec![5, 10, 15]);
        run.truncate_metrics(10).unwrap();
        let text = std::fs::read_to_string(run.metrics_file()).unwrap();
        assert_eq!(
            text,
            whole
                .lines()
                .take(2)
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        );
        // A corrupt line that is not torn is an error, never dropped in silence.
        std::fs::write(run.metrics_file(), format!("{{oops\n{text}")).unwrap();
        let err = format!("{:#}", run.truncate_metrics(10).unwrap_err());
        assert!(err.contains("metrics.jsonl line 1 is corrupt"), "{err}");
    }

    #[test]
    fn settling_removes_what_interrupted_writes_left() {
        let tmp = tempfile::tempdir().unwrap();
        let run = run_with_meta(tmp.path());
        let mut p = NamedTensors::default();
        p.insert("model/w".into(), vec![1], vec![0.5]);
        for step in [10, 20, 30] {
            let s = state(step, 10);
            write_checkpoint(tmp.path(), &p, &["model"], &p, None, &s).unwrap();
        }
        let ckpt = tmp.path().join(CKPT);
        // A checkpoint being written, one being deleted, and one deleted halfway by an older
        // genlab (no state.json left).
        for leftover in [".tmp-step-000040", ".old-step-000005", "step-000001"] {
            std::fs::create_dir_all(ckpt.join(leftover)).unwrap();
            std::fs::write(ckpt.join(leftover).join("model.safetensors"), "x").unwrap();
        }
        run.settle(&state(30, 10), 1).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&ckpt)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        assert_eq!(left, vec!["best", "step-000010", "step-000030"]);
        assert_eq!(run.read_meta().unwrap().last_step, 30);
    }

    #[test]
    fn a_checkpoint_without_a_best_round_trips_and_writes_no_best_file() {
        let run = tempfile::tempdir().unwrap();
        let mut p = NamedTensors::default();
        p.insert("gen/w".into(), vec![1], vec![0.5]);
        let none = |step| CkptState {
            step,
            optim_t: BTreeMap::new(),
            best_loss: f64::INFINITY,
            best_step: 0,
            window: MetricsWindow::default(),
        };
        let dir = run_with_meta(run.path());
        for step in [10, 20, 30] {
            dir.save_checkpoint(&p, &["gen"], &NamedTensors::default(), None, &none(step), 1)
                .unwrap();
        }
        let steps: Vec<u64> = dir.checkpoints().iter().map(|c| c.0).collect();
        assert_eq!(steps, vec![30], "keep_last only, no best to keep");
        assert!(!run.path().join(CKPT).join(BEST).exists());
        let c = load_checkpoint(&dir.latest_checkpoint().unwrap(), &["gen"]).unwrap();
        assert_eq!(c.state.best_loss, f64::INFINITY);
    }
}
