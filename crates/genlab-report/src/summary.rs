//! Run summaries: what a run directory holds, read from its files without loading a model.
//! One row per run for `genlab runs`, `genlab compare`, `genlab report` and the web studio
//! (`genlab serve`), so the same number is never computed two ways.

use genlab_core::run_dir::{MetricsLine, RunDir};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Folders searched below a folder of runs: runs/FAMILY and the demo's runs/demo/FAMILY.
pub const SEARCH_DEPTH: usize = 3;

/// What one run holds.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub path: PathBuf,
    pub family: String,
    /// The data spec, e.g. `fashion-mnist`, `toy:ring8`.
    pub data: String,
    /// What the model was built for: `CxHxW` for images, `D` for points.
    pub shape: String,
    /// Steps done and planned.
    pub step: u64,
    pub steps: u64,
    pub seed: u64,
    /// Seconds since the Unix epoch.
    pub started_unix: u64,
    /// Training time in seconds: steps done over the trainer's average steps/s (start-up,
    /// evaluation and pauses left out).
    pub train_seconds: Option<f64>,
    /// Trainable values in the newest checkpoint (optimiser state, EMA copies and batch-norm
    /// running statistics left out).
    pub parameters: Option<u64>,
    /// The last logged value of each loss term, in the family's order.
    pub last_losses: Vec<(String, f64)>,
    /// The newest `genlab eval` result.
    pub eval: Option<Eval>,
}

/// The numbers of one `genlab eval` result that runs are compared on.
#[derive(Clone, Debug, Serialize)]
pub struct Eval {
    pub step: u64,
    pub file: PathBuf,
    /// -log p(x) in nats per example, bits per dimension (of the projection for a projected
    /// density), the bound kind and whether the density is of discrete or continuous values.
    pub nll_nats: Option<f64>,
    pub bits_per_dim: Option<f64>,
    /// `exact`, `lower bound` (an ELBO or IWAE bound: NLL is an upper bound), `estimate`,
    /// `projected` (a density of a PCA projection, not of the pixels).
    pub bound: Option<String>,
    /// `discrete` or `continuous`.
    pub density: Option<String>,
    /// The likelihood's data: its split, binarization and scale (two NLLs compare only on equal
    /// data).
    pub likelihood_data: Option<Value>,
    pub fid: Option<f64>,
    pub kid: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub density_score: Option<f64>,
    pub coverage: Option<f64>,
    pub inception_score: Option<f64>,
    /// The share of a conditional model's samples that a classifier assigns to the class asked.
    pub class_rate: Option<f64>,
    /// Classification accuracy on real test images of a classifier trained on samples.
    pub cas: Option<f64>,
    /// Mode coverage on toy mixtures: modes captured of all.
    pub modes: Option<(f64, f64)>,
    pub mse_per_pixel: Option<f64>,
    /// The data spec the evaluation ran on (`genlab eval --data` may differ from training's).
    pub evaluated_data: Option<String>,
    /// Examples the likelihood was averaged over.
    pub n_examples: Option<f64>,
    /// The classifier run that measured the class rate.
    pub classifier: Option<String>,
    /// CAS's protocol (its classifier's steps, samples), as recorded.
    pub cas_protocol: Option<Value>,
    /// The sample-quality protocol (judge, samples, split, seed, ...), as recorded.
    pub protocol: Option<Value>,
    /// Why sample quality was not computed, when eval said so.
    pub no_quality: Option<String>,
    /// Which weights were evaluated: `ema` (the average of `train.ema_decay`) or `live`; absent
    /// in evaluations older than the key.
    pub weights: Option<String>,
}

impl Eval {
    /// The typed view of an eval JSON object.
    pub fn from_json(step: u64, file: PathBuf, v: &Value) -> Self {
        let f = |k: &str| v.get(k).and_then(Value::as_f64);
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        let projected = f("bits_per_projected_dim");
        Self {
            step,
            file,
            nll_nats: f("nll_nats"),
            bits_per_dim: f("bits_per_dim").or(projected),
            bound: match projected {
                Some(_) => Some("projected".into()),
                None => s("bound").map(|b| b.replace('_', " ")),
            },
            density: s("kind"),
            likelihood_data: v.get("data").cloned(),
            fid: f("fid"),
            kid: f("kid"),
            precision: f("precision"),
            recall: f("recall"),
            density_score: f("density"),
            coverage: f("coverage"),
            inception_score: f("is"),
            class_rate: f("label_accuracy_by_classifier"),
            cas: f("cas"),
            modes: f("modes_captured").zip(f("modes_total")),
            mse_per_pixel: f("mse_per_pixel"),
            evaluated_data: v
                .get("data")
                .and_then(|d| d.get("spec"))
                .and_then(Value::as_str)
                .map(String::from),
            n_examples: f("n_examples"),
            classifier: s("classifier"),
            cas_protocol: v.get("cas_protocol").cloned(),
            protocol: v.get("protocol").cloned(),
            no_quality: s("sample_quality"),
            weights: s("weights"),
        }
    }
}

impl RunSummary {
    /// Read the run at `path`; errors say what is missing or corrupt.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let (run, config, meta) = RunDir::open(path)?;
        let metrics = run.read_metrics().unwrap_or_default();
        let last = metrics.last();
        let train_seconds = last
            .filter(|l| l.steps_per_sec > 0.0)
            .map(|l| l.step as f64 / l.steps_per_sec);
        let eval = run
            .latest_eval()
            .map(|(step, v)| Eval::from_json(step, run.eval_file(step), &v));
        Ok(Self {
            path: path.to_path_buf(),
            family: config.family,
            data: config.data.spec.to_string(),
            shape: match meta.data_kind {
                genlab_data::Kind::Images => {
                    let sh = meta.data_shape;
                    format!("{}x{}x{}", sh.c, sh.h, sh.w)
                }
                genlab_data::Kind::Points => meta.data_shape.dim().to_string(),
            },
            step: meta.last_step,
            steps: config.train.steps,
            seed: meta.seed,
            started_unix: meta.started_unix,
            train_seconds,
            parameters: run.latest_checkpoint().ok().and_then(|d| parameters(&d)),
            last_losses: last.map(|l| l.losses.clone()).unwrap_or_default(),
            eval,
        })
    }

    /// The run's name as given on the command line (its path).
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The numbers an evaluation leads with: FID when measured, and bits/dim (of a projection
    /// for a projected density), else NLL, else modes captured, else reconstruction error.
    pub fn headline(&self) -> Vec<(String, f64)> {
        let Some(e) = &self.eval else {
            return vec![];
        };
        let mut out = Vec::new();
        if let Some(f) = e.fid {
            out.push(("fid".to_string(), f));
        }
        let bits = match e.bound.as_deref() {
            Some("projected") => "bits_per_projected_dim",
            _ => "bits_per_dim",
        };
        let first = [
            (bits, e.bits_per_dim),
            ("nll_nats", e.nll_nats),
            ("modes_captured", e.modes.map(|m| m.0)),
            ("mse_per_pixel", e.mse_per_pixel),
        ]
        .into_iter()
        .find_map(|(k, v)| v.map(|v| (k.to_string(), v)));
        out.extend(first);
        out
    }

    /// Every line of the run's metrics.jsonl (empty when it has none).
    pub fn metrics(&self) -> Vec<MetricsLine> {
        RunDir::at(&self.path).read_metrics().unwrap_or_default()
    }

    /// The training curves from metrics.jsonl (losses and the measurements beside them) as
    /// SVG charts, one per series (`genlab report`, the studio's run page).
    pub fn curves(&self) -> Vec<String> {
        let mut series: Vec<genlab_viz::Series> = Vec::new();
        for l in &self.metrics() {
            for (name, v) in l.losses.iter().chain(&l.metrics) {
                match series.iter_mut().find(|(n, _)| n == name) {
                    Some((_, pts)) => pts.push((l.step as f64, *v)),
                    None => series.push((name.clone(), vec![(l.step as f64, *v)])),
                }
            }
        }
        genlab_viz::svg::curves(&series)
    }

    /// The fixed-noise sample grids, oldest first: `(step, png)`.
    pub fn sample_grids(&self) -> Vec<(u64, PathBuf)> {
        RunDir::at(&self.path).sample_grids()
    }

    /// Pictures the user made from the run (`genlab interpolate`, `reconstruct`, ...): the PNGs
    /// in the run folder itself, by name.
    pub fn pictures(&self) -> Vec<PathBuf> {
        let mut pics: Vec<PathBuf> = std::fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
            .collect();
        pics.sort();
        pics
    }
}

/// Trainable values in a checkpoint folder: every tensor of the parameter groups' safetensors
/// files, less optimiser state (`optim-*`), EMA copies (`ema-*`) and batch-norm running
/// statistics.
pub fn parameters(ckpt: &Path) -> Option<u64> {
    let mut total = 0u64;
    let mut any = false;
    for entry in std::fs::read_dir(ckpt).ok()? {
        let path = entry.ok()?.path();
        let name = path.file_name()?.to_str()?.to_string();
        if !name.ends_with(".safetensors") || name.starts_with("optim") || name.starts_with("ema") {
            continue;
        }
        let bytes = std::fs::read(&path).ok()?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).ok()?;
        for (tensor, info) in meta.tensors() {
            if tensor.contains("running_") {
                continue;
            }
            total += info.shape.iter().product::<usize>() as u64;
            any = true;
        }
    }
    any.then_some(total)
}

/// Run directories (config.toml and meta.json) at most `depth` levels below `dir`, in path
/// order.
pub fn find_runs(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, depth, &mut out);
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let run = RunDir::at(dir);
    if run.config_file().is_file() && run.meta_file().is_file() {
        out.push(dir.to_path_buf());
    }
    if depth == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        walk(&sub, depth - 1, out);
    }
}

/// The runs named on a command line (each argument a run directory or a folder of runs), each
/// once, in the order given; and a note for each run found in a folder that could not be read
/// (it is left out). Errors name an argument that is neither, a folder without runs, and a run
/// named directly that cannot be read.
pub fn collect(args: &[PathBuf]) -> anyhow::Result<(Vec<RunSummary>, Vec<String>)> {
    let mut paths: Vec<(PathBuf, bool)> = Vec::new();
    for a in args {
        if RunDir::at(a).config_file().is_file() {
            paths.push((a.clone(), true));
            continue;
        }
        if !a.is_dir() {
            anyhow::bail!(
                "{} is neither a run directory nor a folder of runs (genlab train writes runs/FAMILY by default)",
                a.display()
            );
        }
        let found = find_runs(a, SEARCH_DEPTH);
        if found.is_empty() {
            anyhow::bail!(
                "no runs under {}: a run directory holds config.toml and meta.json (train one with `genlab train FAMILY`)",
                a.display()
            );
        }
        paths.extend(found.into_iter().map(|p| (p, false)));
    }
    let mut seen = std::collections::HashSet::new();
    let (mut runs, mut skipped) = (Vec::new(), Vec::new());
    for (path, named) in paths {
        if !seen.insert(path.canonicalize().unwrap_or_else(|_| path.clone())) {
            continue;
        }
        match RunSummary::read(&path) {
            Ok(r) => runs.push(r),
            Err(e) if named => return Err(e),
            Err(e) => skipped.push(format!("{} left out: {e:#}", path.display())),
        }
    }
    Ok((runs, skipped))
}
