//! The GAN Lab view (after Kahng et al. 2018, "GAN Lab"): a GAN on a 2-D toy set, stepped by
//! hand. Each step is one discriminator update, one generator update, or one step of the
//! family's own schedule (`train_step`), through the family's [`Adversarial`] capability; the
//! view is the real and generated points, the discriminator's output on a grid behind them, the
//! generator's gradient as arrows on its points, and mode coverage. Games and learning rates
//! change between steps; learning rates stay where they are set (a playground has no last step
//! for a schedule to decay towards). Only the built-in 2-D sets are drawn. Every action is
//! appended to `lab/lab-TIME-ID.jsonl` under the runs folder: a playground records what was
//! done, and is not a run that resumes bit for bit.
//!
//! [`Adversarial`]: genlab_core::Adversarial

use anyhow::{anyhow, bail, Context, Result};
use burn::tensor::{Device, Tensor};
use genlab_core::config::{self, RunConfig};
use genlab_core::optim::Optimizers;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::tensor::{matrix, normal, to_vec};
use genlab_core::{Batch, DataInfo, Losses, Model, StepCtx};
use genlab_data::{Dataset, Kind, Split};
use genlab_nn::gan_loss::GanLoss;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The sets the lab draws (built in: no file is read).
pub const TOY_SETS: [&str; 5] = [
    "toy:ring8",
    "toy:grid25",
    "toy:moons",
    "toy:swissroll",
    "toy:checkerboard",
];

/// Generated and real points drawn.
pub const SHOWN: usize = 512;
/// Cells per side of the discriminator's heat map.
pub const HEAT: usize = 48;
/// Steps one request may take (a "play" tick of the page asks for a few).
pub const MOST_STEPS: u64 = 200;

/// What `POST /api/lab` asks for.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewLab {
    /// A GAN family the lab can step (`gan`, `lsgan`, `wgan`, `sngan`, `wgan-gp`).
    pub family: String,
    /// A 2-D toy set: `toy:ring8`, `toy:grid25`, `toy:moons`, ...
    #[serde(default = "default_data")]
    pub data: String,
    /// The family's preset (the first one that draws on points when absent).
    #[serde(default)]
    pub preset: Option<String>,
    #[serde(default)]
    pub seed: u64,
}

fn default_data() -> String {
    "toy:ring8".into()
}

/// One step's kind.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    /// One discriminator update; G fixed.
    Disc,
    /// One generator update; D fixed.
    Gen,
    /// One step of the family's own schedule (D, and G every `d_steps`).
    Both,
}

/// A change between steps: any of the game and the two learning rates.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub game: Option<String>,
    /// New learning rates by parameter group (`gen`, `disc`; `model` for one player).
    #[serde(default)]
    pub lr: std::collections::BTreeMap<String, f64>,
}

pub struct Lab {
    pub id: u64,
    family: &'static str,
    spec: String,
    seed: u64,
    model: Box<dyn Model>,
    optim: Optimizers,
    data: Dataset,
    info: DataInfo,
    device: Device,
    batch_size: usize,
    /// D updates per G update in the family's own schedule (`model.d_steps`).
    d_steps: u64,
    /// The model's parameter groups, each with its learning rate.
    groups: Vec<&'static str>,
    /// A step's losses were not numbers: the weights are lost.
    diverged: bool,
    /// Steps taken of each kind, and in all (the step number of the RNG streams).
    steps: u64,
    disc_steps: u64,
    gen_steps: u64,
    /// The fixed latent codes whose images are the points shown.
    z: Tensor<2>,
    /// Real points shown (fixed).
    real: Vec<f32>,
    /// x0, x1, y0, y1 of the view.
    extent: [f32; 4],
    losses: Vec<(String, f64)>,
    log: PathBuf,
}

impl Lab {
    /// A fresh GAN of `family`'s preset on the 2-D set `spec`; the log goes under `root/lab`.
    pub fn new(id: u64, root: &Path, new: &NewLab) -> Result<Self> {
        let family = genlab_models::find(&new.family)?;
        let Some(&(_, lab_preset)) = labbable().iter().find(|(f, _)| *f == family.name) else {
            bail!(
                "{} is neither a GAN nor a density model the lab can draw on points; it can draw: {}",
                family.name,
                labbable_names().join(", ")
            );
        };
        // Only the built-in 2-D sets: a page must not make the server read files.
        if !TOY_SETS.contains(&new.data.as_str()) {
            bail!(
                "the GAN lab draws 2-D points, but {} is not one of its sets; use {}",
                new.data,
                TOY_SETS.join(", ")
            );
        }
        let mut table = family.preset_config(new.preset.as_deref().unwrap_or(lab_preset))?;
        // Points as they are: a preset for images may binarize, dequantize or rescale.
        for (key, value) in [
            ("data.binarize", toml::Value::String("none".into())),
            ("data.dequantize", toml::Value::Boolean(false)),
            ("data.scale", toml::Value::String("unit".into())),
        ] {
            config::set_value(&mut table, key, value)?;
        }
        // Constant learning rates: a playground has no last step for a schedule to reach.
        for group in family.groups {
            for (key, value) in [
                ("schedule", toml::Value::String("constant".into())),
                ("warmup_steps", toml::Value::Integer(0)),
                ("decay_start", toml::Value::Integer(0)),
            ] {
                config::set_value(&mut table, &format!("optim.{group}.{key}"), value)?;
            }
        }
        config::set_value(
            &mut table,
            "data.spec",
            toml::Value::String(new.data.clone()),
        )?;
        let seed =
            i64::try_from(new.seed).map_err(|_| anyhow!("seed {} is too large", new.seed))?;
        config::set_value(&mut table, "seed", toml::Value::Integer(seed))?;
        let cfg = RunConfig::from_table(&table)?;
        let data = cfg.data.load(Split::Train)?;
        if data.kind != Kind::Points || data.shape.dim() != 2 {
            bail!("{} does not hold 2-D points", new.data);
        }
        let info = DataInfo::new(&data, &cfg.data);
        let device = genlab_core::device::training_device(cfg.seed);
        let mut model = (family.build)(&cfg.model, &info, &device)?;
        // Initialise every parameter now: burn initialises lazily, and a frozen copy made for
        // the first view (D's heat map) would otherwise initialise the shared parameters
        // without gradients, and the first update would find nothing to train.
        let _ = model.save_params();
        let optim = Optimizers::new(&cfg.optim, cfg.train.steps);
        let latent = match model.as_adversarial() {
            Some(adv) => adv.noise_dim(),
            None => model
                .as_latent()
                .ok_or_else(|| anyhow!("{} has no latent codes to draw", family.name))?
                .latent_dim(),
        };
        let groups = model.groups();
        let mut rng = rng_for(cfg.seed, 0, Stream::FixedNoise);
        let z = normal([SHOWN, latent], &mut rng, &device);
        let idx: Vec<usize> = (0..SHOWN)
            .map(|_| rng.random_range(0..data.len()))
            .collect();
        let real = data.gather(&idx);
        let extent = view_of(&real);
        let dir = root.join("lab");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        // Named by the time and id: a restarted server (ids from 0 again) never overwrites an
        // earlier lab's record.
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let log = dir.join(format!("lab-{started}-{id}.jsonl"));
        let lab = Self {
            id,
            family: family.name,
            spec: new.data.clone(),
            seed: cfg.seed,
            model,
            optim,
            data,
            info,
            device,
            batch_size: cfg.train.batch_size,
            d_steps: cfg
                .model
                .get("d_steps")
                .and_then(toml::Value::as_integer)
                .map_or(1, |k| k.max(1) as u64),
            groups,
            diverged: false,
            steps: 0,
            disc_steps: 0,
            gen_steps: 0,
            z,
            real,
            extent,
            losses: Vec::new(),
            log,
        };
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lab.log)
            .with_context(|| format!("cannot create {}", lab.log.display()))?;
        lab.record(json!({ "new": new, "config": cfg.to_toml() }))?;
        Ok(lab)
    }

    /// Take `n` steps of one kind. The record holds the steps taken, also when one fails.
    pub fn step(&mut self, which: Which, n: u64) -> Result<()> {
        if n == 0 || n > MOST_STEPS {
            bail!("steps: 1 to {MOST_STEPS} per request, found {n}");
        }
        let before = self.steps;
        let result = (0..n).try_for_each(|_| self.one_step(which));
        let taken = self.steps - before;
        let error = result.as_ref().err().map(|e| format!("{e:#}"));
        self.record(json!({ "step": which, "n": taken, "steps": self.steps, "error": error }))?;
        result
    }

    fn one_step(&mut self, which: Which) -> Result<()> {
        if self.diverged {
            bail!("this lab diverged (its weights are no longer numbers); start a new lab, with lower learning rates");
        }
        let mut rng = rng_for(self.seed, self.steps, Stream::Shuffle);
        let idx: Vec<usize> = (0..self.batch_size)
            .map(|_| rng.random_range(0..self.data.len()))
            .collect();
        let pre = self.info.preprocess;
        let batch = Batch::gather(&self.data, &idx, &pre, &mut rng, &self.device);
        let total = self.optim.total_steps;
        let mut ctx = StepCtx::new(
            self.steps,
            total,
            self.seed,
            self.device.clone(),
            &mut self.optim,
        );
        let losses: Losses = match which {
            Which::Both => self.model.train_step(&batch, &mut ctx)?,
            Which::Disc => adversarial(&mut self.model)?.step_disc(&batch, &mut ctx)?,
            Which::Gen => adversarial(&mut self.model)?.step_gen(&batch, &mut ctx)?,
        };
        match which {
            Which::Disc => self.disc_steps += 1,
            Which::Gen => self.gen_steps += 1,
            Which::Both => {
                // The family's schedule: G after every `d_steps`-th D update.
                self.disc_steps += 1;
                self.gen_steps += u64::from((self.steps + 1).is_multiple_of(self.d_steps));
            }
        }
        self.steps += 1;
        if let Some(bad) = losses.non_finite() {
            self.diverged = true;
            bail!(
                "{bad} is no longer a number after step {}: the game diverged and the weights with it; start a new lab, with lower learning rates",
                self.steps
            );
        }
        for (k, v) in losses.0 {
            match self.losses.iter_mut().find(|(name, _)| *name == k) {
                Some(slot) => slot.1 = v,
                None => self.losses.push((k, v)),
            }
        }
        Ok(())
    }

    /// Apply a change of game or learning rates.
    pub fn change(&mut self, change: &Change) -> Result<()> {
        // Every field checked before any is applied.
        for (group, &lr) in &change.lr {
            if !self.groups.contains(&group.as_str()) {
                bail!(
                    "lr: {} has no parameter group `{group}`; its groups are {}",
                    self.family,
                    self.groups.join(", ")
                );
            }
            if !(lr > 0.0 && lr.is_finite()) {
                bail!("optim.{group}.lr: must be a positive number, found {lr}");
            }
        }
        if let Some(game) = &change.game {
            let games = adversarial(&mut self.model)?.games();
            if !games.contains(&game.as_str()) {
                bail!(
                    "{} cannot play the game `{game}` here; it can play: {}",
                    self.family,
                    games.join(", ")
                );
            }
        }
        if let Some(game) = &change.game {
            adversarial(&mut self.model)?.set_game(game)?;
        }
        for (group, &lr) in &change.lr {
            self.optim.set_lr(group, lr)?;
        }
        self.record(json!({ "change": change, "steps": self.steps }))
    }

    /// Everything the page draws.
    /// Everything the page draws. For a GAN: D's output on a grid, G's points for the fixed
    /// noise and the arrows of its gradient. For a density model: the density (or its bound)
    /// on the grid, the decoded fixed codes, and the latent grid's lines mapped to data space.
    pub fn view(&mut self) -> Result<Value> {
        let [x0, x1, y0, y1] = self.extent;
        let grid: Vec<f32> = (0..HEAT)
            .flat_map(|r| {
                // Row 0 is the top of the picture: the largest y.
                let y = y1 - (r as f32 + 0.5) / HEAT as f32 * (y1 - y0);
                (0..HEAT).flat_map(move |c| [x0 + (c as f32 + 0.5) / HEAT as f32 * (x1 - x0), y])
            })
            .collect();
        let grid_t = matrix(grid, HEAT * HEAT, 2, &self.device);
        let mut lines = Vec::new();
        let (fake, heat, arrows, games, scale) = match self.model.as_adversarial() {
            Some(adv) => {
                let fake = to_vec(adv.generate(self.z.clone())?);
                let heat = adv.critic(grid_t)?;
                let arrows = to_vec(adv.generator_gradient(self.z.clone())?);
                let games = adv.games();
                let logistic = GanLoss::parse(games[0]).is_some_and(|g| g.is_logistic());
                let scale = if logistic { "probability" } else { "score" };
                (fake, heat, arrows, games, scale)
            }
            None => {
                let latent = self.model.as_latent().expect("drawable");
                let fake = to_vec(latent.decode(self.z.clone())?);
                lines = latent_lines(latent, &self.device)?;
                let lik = self.model.as_likelihood().expect("drawable");
                let mut rng = rng_for(self.seed, self.steps, Stream::Eval);
                let ll = lik.log_likelihood(grid_t, 1, &mut rng)?;
                let heat: Vec<f32> = ll.iter().map(|&l| l.exp() as f32).collect();
                let scale = match lik.bound(1) {
                    genlab_core::Bound::Exact => "density",
                    _ => "density bound",
                };
                (fake, heat, Vec::new(), Vec::new(), scale)
            }
        };
        let coverage = self.info.modes.as_ref().map(|m| {
            let (per_mode, n) = genlab_eval::coverage_of(&fake, &m.centers, m.sigma);
            let hq: usize = per_mode.iter().sum();
            json!({
                "captured": per_mode.iter().filter(|&&c| c > 0).count(),
                "modes": m.centers.len(),
                "high_quality": hq as f64 / n.max(1) as f64,
                "centers": m.centers,
            })
        });
        let lr: serde_json::Map<String, Value> = self
            .groups
            .iter()
            .map(|g| (g.to_string(), json!(self.optim.lr(g, self.steps))))
            .collect();
        Ok(json!({
            "id": self.id,
            "family": self.family,
            "data": self.spec,
            "players": if self.model.as_adversarial().is_some() { 2 } else { 1 },
            "steps": self.steps,
            "disc_steps": self.disc_steps,
            "gen_steps": self.gen_steps,
            "extent": self.extent,
            "real": self.real,
            "fake": fake,
            "arrows": arrows,
            "lines": lines,
            "heat": { "n": HEAT, "values": heat },
            "scale": scale,
            "probability": scale == "probability",
            "coverage": coverage,
            "losses": self.losses.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "games": games,
            "lr": lr,
            "log": self.log.file_name().map(|f| format!("lab/{}", f.to_string_lossy())),
        }))
    }

    fn record(&self, what: Value) -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot write {}", self.log.display()))?;
        let line = format!("{}\n", what);
        f.write_all(line.as_bytes())
            .with_context(|| format!("cannot write {}", self.log.display()))
    }
}

fn adversarial(model: &mut Box<dyn Model>) -> Result<&mut dyn genlab_core::Adversarial> {
    let family = model.family();
    model.as_adversarial().ok_or_else(|| {
        anyhow!("{family} has one player: it has no D or G step of its own; use step")
    })
}

/// Whether the lab can draw `model`: a GAN that steps one player at a time, or a model with a
/// density (exact or bounded) and a latent space to map through.
fn drawable(model: &mut Box<dyn Model>) -> bool {
    model.as_adversarial().is_some()
        || (model.as_likelihood().is_some() && model.as_latent().is_some())
}

/// The families the lab draws on 2-D points, each with the preset it uses there: the first
/// (default first) whose model builds on the ring of 8 and is a GAN or a density model with a
/// latent space (flows; the VAE's `ring8` preset). Found once.
pub fn labbable() -> Vec<(&'static str, &'static str)> {
    static LIST: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    LIST.get_or_init(find_labbable).clone()
}

/// The names of [`labbable`], for messages.
pub fn labbable_names() -> Vec<&'static str> {
    labbable().into_iter().map(|(f, _)| f).collect()
}

fn find_labbable() -> Vec<(&'static str, &'static str)> {
    let device = genlab_core::device::training_device(0);
    let mut data_cfg = genlab_core::config::DataConfig::default();
    let Ok(spec) = "toy:ring8".parse() else {
        return Vec::new();
    };
    data_cfg.spec = spec;
    let Ok(data) = data_cfg.load(Split::Train) else {
        return Vec::new();
    };
    let info = DataInfo::new(&data, &data_cfg);
    // (GAN or not, family, preset): the GANs listed first.
    let mut found: Vec<(bool, &'static str, &'static str)> = genlab_models::FAMILIES
        .iter()
        .filter_map(|f| {
            f.presets.iter().map(|p| p.0).find_map(|p| {
                let model = f.preset_config(p).ok()?.get("model")?.as_table()?.clone();
                let mut m = (f.build)(&model, &info, &device).ok()?;
                drawable(&mut m).then(|| (m.as_adversarial().is_some(), f.name, p))
            })
        })
        .collect();
    found.sort_by_key(|(gan, _, _)| !gan);
    found.into_iter().map(|(_, f, p)| (f, p)).collect()
}

/// Lines of the latent grid, mapped to data space: nine lines of constant z1 and nine of
/// constant z0 in [-2, 2] (the other codes 0), 41 points each from -2.5 to 2.5; each line its
/// (x, y) pairs. A flow bends this grid into the data's shape.
fn latent_lines(latent: &dyn genlab_core::LatentDecode, device: &Device) -> Result<Vec<Vec<f32>>> {
    const LINES: usize = 9;
    const POINTS: usize = 41;
    let dim = latent.latent_dim();
    let axes = dim.min(2);
    let mut codes = Vec::with_capacity(axes * LINES * POINTS * dim);
    for axis in 0..axes {
        for l in 0..LINES {
            let fixed = -2.0 + 4.0 * l as f32 / (LINES - 1) as f32;
            for p in 0..POINTS {
                let along = -2.5 + 5.0 * p as f32 / (POINTS - 1) as f32;
                let mut z = vec![0.0f32; dim];
                z[axis] = along;
                if dim > 1 {
                    z[1 - axis] = fixed;
                }
                codes.extend(z);
            }
        }
    }
    let x = to_vec(latent.decode(matrix(codes, axes * LINES * POINTS, dim, device))?);
    Ok(x.chunks(2 * POINTS).map(<[f32]>::to_vec).collect())
}

/// The square view around points (x, y pairs), with a margin of a fifth on each side.
fn view_of(points: &[f32]) -> [f32; 4] {
    let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for p in points.chunks_exact(2) {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let half = 0.7 * (x1 - x0).max(y1 - y0).max(1e-3);
    [cx - half, cx + half, cy - half, cy + half]
}

/// What `POST /api/lab/step` asks for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAsk {
    pub id: u64,
    pub which: Which,
    #[serde(default = "one")]
    pub n: u64,
}

fn one() -> u64 {
    1
}

/// What `POST /api/lab/change` asks for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeAsk {
    pub id: u64,
    #[serde(flatten)]
    pub change: Change,
}

/// What `GET /api/lab` asks for.
#[derive(Deserialize)]
pub struct LabQuery {
    pub id: u64,
}

/// Labs kept at once: a new one past this replaces the oldest.
const LABS: usize = 4;

pub mod routes {
    //! The GAN Lab's endpoints: create, step, change, look.

    use super::*;
    use crate::guard::refuse;
    use crate::Studio;
    use axum::extract::{Query, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::Json;
    use std::sync::Arc;

    fn answer(r: Result<Value>) -> Response {
        match r {
            Ok(v) => Json(v).into_response(),
            Err(e) => refuse(StatusCode::BAD_REQUEST, format!("{e:#}")),
        }
    }

    /// `POST /api/lab` with a [`NewLab`]: a fresh GAN, and its view.
    pub async fn create(State(studio): State<Arc<Studio>>, Json(new): Json<NewLab>) -> Response {
        let root = studio.root.clone();
        answer(
            studio
                .workshop
                .run(move |shop| {
                    let id = shop.next_lab;
                    let lab = Lab::new(id, &root, &new)?;
                    shop.next_lab += 1;
                    if shop.labs.len() >= LABS {
                        let oldest = *shop.labs.keys().next().expect("labs");
                        shop.labs.remove(&oldest);
                    }
                    shop.labs.entry(id).or_insert(lab).view()
                })
                .await,
        )
    }

    fn lab(shop: &mut crate::workshop::Shop, id: u64) -> Result<&mut Lab> {
        shop.labs
            .get_mut(&id)
            .ok_or_else(|| anyhow!("no lab {id}: it ended with the server, or was replaced by newer ones; start a new one"))
    }

    /// `POST /api/lab/step` with a [`StepAsk`]: take steps, return the view.
    pub async fn step(State(studio): State<Arc<Studio>>, Json(ask): Json<StepAsk>) -> Response {
        answer(
            studio
                .workshop
                .run(move |shop| {
                    let lab = lab(shop, ask.id)?;
                    lab.step(ask.which, ask.n)?;
                    lab.view()
                })
                .await,
        )
    }

    /// `POST /api/lab/change` with a [`ChangeAsk`]: another game or learning rate.
    pub async fn change(State(studio): State<Arc<Studio>>, Json(ask): Json<ChangeAsk>) -> Response {
        answer(
            studio
                .workshop
                .run(move |shop| {
                    let lab = lab(shop, ask.id)?;
                    lab.change(&ask.change)?;
                    lab.view()
                })
                .await,
        )
    }

    /// `GET /api/lab?id=N`: the view, unchanged.
    pub async fn look(State(studio): State<Arc<Studio>>, Query(q): Query<LabQuery>) -> Response {
        answer(
            studio
                .workshop
                .run(move |shop| lab(shop, q.id)?.view())
                .await,
        )
    }

    /// `GET /api/lab/families`: the families the lab can step and the 2-D sets.
    pub async fn families() -> Json<Value> {
        Json(json!({
            "families": labbable_names(),
            "data": TOY_SETS,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(family: &str) -> (tempfile::TempDir, Lab) {
        let dir = tempfile::tempdir().unwrap();
        let new = NewLab {
            family: family.into(),
            data: "toy:ring8".into(),
            preset: None,
            seed: 3,
        };
        let lab = Lab::new(0, dir.path(), &new).unwrap();
        (dir, lab)
    }

    fn numbers(v: &Value, key: &str) -> Vec<f64> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    fn heat(v: &Value) -> Vec<f64> {
        numbers(&v["heat"], "values")
    }

    #[test]
    fn step_d_changes_the_heat_map_only_and_step_g_moves_the_points_only() {
        let families = labbable_names();
        for want in [
            "gan", "lsgan", "wgan", "wgan-gp", "sngan", "cgan", "acgan", "infogan", "bigan",
        ] {
            assert!(families.contains(&want), "{want} missing from {families:?}");
        }
        for family in families {
            let (_d, mut lab) = lab(family);
            let v0 = lab.view().unwrap();
            if v0["players"] == 1 {
                continue;
            }
            assert_eq!(heat(&v0).len(), HEAT * HEAT);
            assert_eq!(numbers(&v0, "fake").len(), 2 * SHOWN);
            lab.step(Which::Disc, 1).unwrap();
            let v1 = lab.view().unwrap();
            assert!(
                heat(&v0) != heat(&v1),
                "{family}: D's update changes its map"
            );
            assert!(
                numbers(&v0, "fake") == numbers(&v1, "fake"),
                "{family}: G fixed"
            );
            assert!(numbers(&v0, "real") == numbers(&v1, "real"));
            lab.step(Which::Gen, 1).unwrap();
            let v2 = lab.view().unwrap();
            assert!(
                numbers(&v1, "fake") != numbers(&v2, "fake"),
                "{family}: G moved"
            );
            // BiGAN's map is D read at (x, E(x)), and its G step trains E too.
            if family != "bigan" {
                assert!(heat(&v1) == heat(&v2), "{family}: D fixed");
            }
            assert_eq!(
                (v2["disc_steps"].as_u64(), v2["gen_steps"].as_u64()),
                (Some(1), Some(1))
            );
        }
    }

    #[test]
    fn the_arrows_point_where_the_discriminator_calls_points_real() {
        // Non-saturating game: L_G = -log D(x), so a small move along -dL_G/dx raises D.
        let (_d, mut lab) = lab("gan");
        lab.step(Which::Disc, 20).unwrap();
        let adv = adversarial(&mut lab.model).unwrap();
        let fake = to_vec(adv.generate(lab.z.clone()).unwrap());
        let x = matrix(fake.clone(), SHOWN, 2, &lab.device);
        let arrows = to_vec(adv.generator_gradient(lab.z.clone()).unwrap());
        let moved: Vec<f32> = fake
            .iter()
            .zip(&arrows)
            .map(|(p, g)| p + 1e-3 * g)
            .collect();
        let before = adv.critic(x).unwrap();
        let after = adv.critic(matrix(moved, SHOWN, 2, &lab.device)).unwrap();
        let rose = before.iter().zip(&after).filter(|(b, a)| a > b).count();
        assert!(rose > SHOWN * 9 / 10, "D rose at {rose} of {SHOWN} points");
    }

    #[test]
    fn games_and_learning_rates_change_between_steps_and_are_recorded() {
        let (dir, mut lab) = lab("gan");
        let change = Change {
            game: Some("least_squares".into()),
            lr: [("gen".to_string(), 5e-4)].into(),
        };
        lab.change(&change).unwrap();
        lab.step(Which::Both, 2).unwrap();
        let v = lab.view().unwrap();
        assert_eq!(v["games"][0], "least_squares");
        assert_eq!(v["probability"], false, "a least-squares D gives scores");
        assert!((v["lr"]["gen"].as_f64().unwrap() - 5e-4).abs() < 1e-6);
        // The gan preset has no Lipschitz critic: no Wasserstein game.
        let e = lab
            .change(&Change {
                game: Some("wasserstein".into()),
                ..Change::default()
            })
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot play the game `wasserstein`") && e.contains("hinge"),
            "{e}"
        );
        let e = lab
            .change(&Change {
                lr: [("disc".to_string(), -1.0)].into(),
                ..Change::default()
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("optim.disc.lr"), "{e}");
        let log = std::fs::read_to_string(dir.path().join(v["log"].as_str().unwrap())).unwrap();
        let lines: Vec<Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{log}");
        assert_eq!(lines[0]["new"]["family"], "gan");
        assert_eq!(lines[1]["change"]["game"], "least_squares");
        assert_eq!(
            (lines[2]["step"].as_str(), lines[2]["n"].as_u64()),
            (Some("both"), Some(2))
        );
    }

    #[test]
    fn a_family_or_data_the_lab_cannot_draw_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let ask = |family: &str, data: &str| {
            let new = NewLab {
                family: family.into(),
                data: data.into(),
                preset: None,
                seed: 0,
            };
            Lab::new(0, dir.path(), &new).err().unwrap().to_string()
        };
        let e = ask("pixelcnn", "toy:ring8");
        assert!(
            e.contains("pixelcnn is neither a GAN nor a density model")
                && e.contains("wgan-gp")
                && e.contains("realnvp"),
            "{e}"
        );
        let e = ask("gan", "shapes");
        assert!(
            e.contains("not one of its sets") && e.contains("toy:grid25"),
            "{e}"
        );
        let e = ask("gan", "csv:/etc/passwd");
        assert!(e.contains("not one of its sets"), "{e}");
        assert!(ask("no-such", "toy:ring8").contains("no-such"));
    }

    #[test]
    fn flows_and_the_vae_show_their_density_and_their_latent_grid_bent_into_the_data() {
        let families = labbable_names();
        for family in ["realnvp", "glow", "vae"] {
            assert!(
                families.contains(&family),
                "{family} missing from {families:?}"
            );
            let (_d, mut lab) = lab(family);
            let v0 = lab.view().unwrap();
            assert_eq!(v0["players"], 1);
            assert_eq!(v0["lines"].as_array().unwrap().len(), 18, "{family}");
            assert!(heat(&v0).iter().all(|&p| p >= 0.0), "{family}: a density");
            let e = lab.step(Which::Disc, 1).unwrap_err().to_string();
            assert!(e.contains("one player") && e.contains("use step"), "{e}");
            lab.step(Which::Both, 5).unwrap();
            let v1 = lab.view().unwrap();
            assert!(
                heat(&v0) != heat(&v1),
                "{family}: training moves the density"
            );
            assert!(
                numbers(&v0, "fake") != numbers(&v1, "fake"),
                "{family}: and the samples"
            );
            assert_eq!(v1["steps"], 5);
        }
    }

    #[test]
    fn steps_before_and_after_a_view() {
        let (_d, mut lab) = lab("gan");
        lab.view().unwrap();
        lab.step(Which::Disc, 1).unwrap();
        lab.view().unwrap();
        lab.step(Which::Disc, 1).unwrap();
        lab.step(Which::Both, 3).unwrap();
        lab.step(Which::Gen, 3).unwrap();
    }
}
