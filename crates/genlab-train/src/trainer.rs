//! The loop: batches -> `Model::train_step` -> metrics, sample pictures, checkpoints. It knows no
//! family; everything family-specific happens behind the trait. [`train`] reads top to bottom
//! as nanoGPT's loop does: each cadence is one named method of [`Loop`].
//!
//! A resume continues bit for bit: batches and noise are drawn from (seed, step), the
//! checkpoint holds the optimizer state and the open metrics window, and a resume first settles
//! the run on its checkpoint (genlab_core::run_dir's doc says how a killed process is caught
//! up). The `step` fault point of [`genlab_core::fault`] lies between a step and its writes.

use crate::batches::Batches;
use anyhow::Result;
use burn::tensor::Device;
use genlab_core::config::RunConfig;
use genlab_core::fault::{self, Point};
use genlab_core::optim::Optimizers;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::{Checkpoint, CkptState, MetricsLine, MetricsWindow, RunDir};
use genlab_core::runaway::RunawayWatch;
use genlab_core::{DataInfo, Draw, Losses, Model, Selection, StepCtx};
use genlab_data::Dataset;
use genlab_eval::pictures;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Raw point data whose largest magnitude exceeds this is named as a divergence's likely cause.
const UNIT_SCALE: f32 = 100.0;

/// Number of images in the fixed-noise sample grid.
const SAMPLE_GRID: usize = 64;
/// Examples in the reconstruction picture of models that cannot sample.
const RECON_GRID: usize = 32;
/// Samples drawn for the mode coverage logged on toy sets (VEEGAN and PacGAN used 2,500).
const MODE_SAMPLES: usize = 2500;

pub struct TrainOptions {
    pub run: RunDir,
    /// The checkpoint to continue from (its parameters are already in the model): optimizer
    /// state, step and best loss.
    pub resume_from: Option<Checkpoint>,
    /// Set by Ctrl-C: save a checkpoint and stop.
    pub interrupt: Arc<AtomicBool>,
    /// A progress bar (terminal) instead of log lines.
    pub progress: bool,
    pub quiet: bool,
    /// Fixed held-out examples (preprocessed for evaluation, on the inference device) on which
    /// [`Model::held_out`] is measured at the sample cadence; None = off.
    pub held_out: Option<genlab_core::Batch>,
}

#[derive(Debug)]
pub struct Outcome {
    /// Steps completed in total (including before a resume).
    pub step: u64,
    pub interrupted: bool,
    pub last_losses: Losses,
    pub checkpoint: Option<PathBuf>,
}

/// Train `model` per `cfg` on `data`, writing everything into `opts.run`.
pub fn train(
    model: &mut dyn Model,
    cfg: &RunConfig,
    info: &DataInfo,
    data: &Dataset,
    device: &Device,
    opts: &TrainOptions,
) -> Result<Outcome> {
    let mut l = Loop::new(model, cfg, info, data, device, opts)?;
    let total = cfg.train.steps;
    // A run that converged stopped before `total`: resuming it must not take another step.
    if l.state.step >= total || (opts.resume_from.is_some() && l.model.converged()) {
        return l.already_done();
    }
    let every = |n: u64, done: u64, stop: bool| done.is_multiple_of(n) || done == total || stop;
    for step in l.state.step..total {
        if opts.interrupt.load(Ordering::SeqCst) {
            return l.interrupted(step);
        }
        l.step(step)?;
        fault::reached(Point::Step);
        let (done, stop) = (step + 1, l.model.converged());
        if every(cfg.train.sample_every, done, stop) {
            l.pictures(done)?;
        }
        // A step that measured something (mode coverage) logs its line too.
        if every(cfg.train.log_every, done, stop) || !l.pending_metrics.is_empty() {
            l.log(done)?;
        }
        if every(cfg.train.checkpoint_every, done, stop) {
            l.checkpoint(done)?;
        }
        if stop {
            say(opts, &format!("converged at step {done}"));
            return l.finish(done);
        }
    }
    l.finish(total)
}

/// Everything one training run carries from step to step.
struct Loop<'a> {
    model: &'a mut dyn Model,
    cfg: &'a RunConfig,
    info: &'a DataInfo,
    data: &'a Dataset,
    device: &'a Device,
    opts: &'a TrainOptions,
    optim: Optimizers,
    state: CkptState,
    batches: Batches<'a>,
    bar: ProgressBar,
    window: Window,
    last: Losses,
    checkpoint: Option<PathBuf>,
    started: Instant,
    start_step: u64,
    /// Most modes captured so far (toy sets with known modes), read back from metrics.jsonl
    /// on resume so that the alarm judges alike.
    best_modes: usize,
    /// Measurements of this step (mode coverage) for its metrics line.
    pending_metrics: Vec<(String, f64)>,
    /// Finite losses that grow without bound are divergences too.
    runaway: RunawayWatch,
}

impl<'a> Loop<'a> {
    /// Optimizers, batches and state, continued from `opts.resume_from` when given.
    fn new(
        model: &'a mut dyn Model,
        cfg: &'a RunConfig,
        info: &'a DataInfo,
        data: &'a Dataset,
        device: &'a Device,
        opts: &'a TrainOptions,
    ) -> Result<Self> {
        let total = cfg.train.steps;
        let mut optim = Optimizers::new(&cfg.optim, total).with_ema(cfg.train.ema_decay);
        let state = resume(opts, &mut optim, device, cfg.train.keep_last)?;
        let batch_size = if model.full_batch() {
            data.len()
        } else {
            cfg.train.batch_size
        };
        Ok(Loop {
            runaway: RunawayWatch::new(model.unbounded_terms()),
            batches: Batches::new(data, info.preprocess, cfg.seed, batch_size),
            bar: progress_bar(opts, state.step, total),
            start_step: state.step,
            model,
            cfg,
            info,
            data,
            device,
            opts,
            optim,
            window: Window::from_state(&state.window),
            state,
            last: Losses::default(),
            checkpoint: None,
            started: Instant::now(),
            best_modes: best_modes(opts),
            pending_metrics: Vec::new(),
        })
    }

    /// A resume with nothing left to train; the curves are drawn again, in case the process
    /// that took the last step died before it drew them.
    fn already_done(&self) -> Result<Outcome> {
        let run = &self.opts.run;
        let (step, total) = (self.state.step, self.cfg.train.steps);
        let msg = if step < total {
            format!("{} converged at step {step}", run.path().display())
        } else {
            format!(
                "{} is already at step {step} of {total}",
                run.path().display()
            )
        };
        say(self.opts, &format!("{msg}; raise --steps to train further"));
        self.write_curves()?;
        Ok(Outcome {
            step: self.state.step,
            interrupted: false,
            last_losses: Losses::default(),
            checkpoint: run.latest_checkpoint().ok(),
        })
    }

    /// Ctrl-C: a checkpoint of the steps done so far, then stop.
    fn interrupted(mut self, step: u64) -> Result<Outcome> {
        self.state.step = step;
        let dir = self.save(self.window.main_mean())?;
        self.bar.abandon();
        Ok(Outcome {
            step,
            interrupted: true,
            last_losses: self.last,
            checkpoint: Some(dir),
        })
    }

    /// One step of the family's own update; a non-finite loss stops the run with the term, the
    /// step and the fix.
    fn step(&mut self, step: u64) -> Result<()> {
        let batch = self.batches.batch(step, self.device);
        let total = self.cfg.train.steps;
        let mut ctx = StepCtx::new(
            step,
            total,
            self.cfg.seed,
            self.device.clone(),
            &mut self.optim,
        );
        let losses = self.model.train_step(&batch, &mut ctx)?;
        if let Some(term) = losses.non_finite() {
            self.bar.abandon();
            let value = losses.0.iter().find(|(k, _)| k == term).unwrap().1;
            return Err(self.divergence(&format!("loss term `{term}` is {value}"), step));
        }
        if let Some(r) = self.runaway.check(&losses) {
            self.bar.abandon();
            return Err(self.divergence(&r.to_string(), step));
        }
        let per_epoch = self.batches.per_epoch();
        if (step + 1).is_multiple_of(per_epoch) {
            self.model.end_epoch(step / per_epoch)?;
        }
        self.window.add(&losses);
        self.last = losses;
        self.bar.set_position(step + 1);
        Ok(())
    }

    /// `what` went wrong at `step`: the error with the last good checkpoint and the fix.
    fn divergence(&self, what: &str, step: u64) -> anyhow::Error {
        let run = &self.opts.run;
        let keep = run
            .latest_checkpoint()
            .map(|p| format!("the last good checkpoint is {}", p.display()))
            .unwrap_or_else(|_| "no checkpoint was written yet".into());
        // Which group a term diverged through is the family's business: name every group.
        let keys = |key: &str| -> String {
            let groups = self.model.groups();
            let keys: Vec<String> = groups.iter().map(|g| format!("optim.{g}.{key}")).collect();
            keys.join(" / ")
        };
        // Raw point data far from unit scale is the likeliest cause: say so first.
        let largest = self.data.x.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = if self.data.kind == genlab_data::Kind::Points
            && self.data.standardization.is_none()
            && largest > UNIT_SCALE
        {
            format!(" the data's values reach {largest}, while neural families train on values of order 1: set data.standardize = \"auto\" (z-scores; likelihoods stay of the data as given);")
        } else {
            String::new()
        };
        anyhow::anyhow!(
            "training diverged: {what} at step {};{scale} {keep}. Lower the learning rate ({}) or enable clipping ({} = 1) in {}, then continue with `genlab train {} --out {} --resume`",
            step + 1,
            keys("lr"),
            keys("clip_grad_norm"),
            run.config_file().display(),
            self.model.family(),
            run.path().display()
        )
    }

    /// A metrics line with the means since the last one, and the same on the terminal.
    fn log(&mut self, done: u64) -> Result<()> {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = (done - self.start_step) as f64 / elapsed;
        let per_epoch = self.batches.per_epoch();
        let lr = self
            .model
            .groups()
            .iter()
            .map(|g| (g.to_string(), self.optim.lr(g, done - 1)))
            .collect();
        let mut line = self.window.line(done, lr, rate, per_epoch);
        line.metrics = std::mem::take(&mut self.pending_metrics);
        self.opts.run.append_metrics(&line)?;
        let msg = self.window.summary();
        if self.opts.progress {
            self.bar.set_message(msg);
        } else {
            let total = self.cfg.train.steps;
            say(
                self.opts,
                &format!("step {done}/{total}  {msg}  {rate:.1} steps/s"),
            );
        }
        self.window.roll();
        Ok(())
    }

    /// The fixed-noise samples of this step and, on toy sets, the mode coverage. With an EMA,
    /// pictures show the averaged weights; the live ones come back exactly. Weights the
    /// optimizer does not average (batch-norm statistics, spectral-norm vectors) keep their
    /// live values.
    fn pictures(&mut self, done: u64) -> Result<()> {
        let live = self.optim.ema_params().map(|ema| {
            let live = self.model.save_params();
            let mut averaged = live.clone();
            averaged.extend(ema);
            (live, averaged)
        });
        if let Some((_, averaged)) = &live {
            self.model.load_params(averaged)?;
        }
        self.write_samples(done)?;
        self.watch_modes(done)?;
        self.measure_held_out(done)?;
        if let Some((params, _)) = &live {
            self.model.load_params(params)?;
        }
        Ok(())
    }

    fn checkpoint(&mut self, done: u64) -> Result<()> {
        self.state.step = done;
        self.checkpoint = Some(self.save(self.window.last_main)?);
        Ok(())
    }

    /// The curves of the whole run, and the outcome.
    fn finish(self, step: u64) -> Result<Outcome> {
        self.bar.finish_and_clear();
        self.write_curves()?;
        Ok(Outcome {
            step,
            interrupted: false,
            last_losses: self.last,
            checkpoint: self.checkpoint,
        })
    }

    fn write_curves(&self) -> Result<()> {
        if let Some((img, _)) = pictures::curves_picture(&self.opts.run, self.model.family())? {
            pictures::save_png(&self.opts.run.curves_file(), &img)?;
        }
        Ok(())
    }

    /// A checkpoint of `self.state.step`; `main_loss` (none before the first metrics line)
    /// decides whether it is the best so far.
    fn save(&mut self, main_loss: Option<f64>) -> Result<PathBuf> {
        let state = &mut self.state;
        match (self.model.selection(), main_loss) {
            (Selection::FirstLoss, Some(loss)) if loss.is_finite() && loss < state.best_loss => {
                state.best_loss = loss;
                state.best_step = state.step;
            }
            (Selection::FirstLoss, _) => {}
            // Also forgets a best that an older genlab chose by the discriminator's loss.
            (Selection::None, _) => {
                state.best_loss = f64::INFINITY;
                state.best_step = 0;
            }
        }
        let (tensors, counts) = self.optim.save_state();
        state.optim_t = counts;
        state.window = self.window.state();
        self.opts.run.save_checkpoint(
            &self.model.save_params(),
            &self.model.groups(),
            &tensors,
            self.optim.ema_params().as_ref(),
            state,
            self.cfg.train.keep_last,
        )
    }

    /// Mode coverage of fixed-noise samples (genlab_eval's protocol) on toy sets with known
    /// modes, logged; an alarm (even with `quiet`) when coverage falls below 3/4 of its best.
    fn watch_modes(&mut self, step: u64) -> Result<()> {
        let Some(modes) = &self.info.modes else {
            return Ok(());
        };
        if self.model.full_batch() {
            return Ok(());
        }
        let infer = genlab_core::device::inference_device(self.device);
        let (model, seed) = (&*self.model, self.cfg.seed);
        let Some(c) = genlab_eval::mode_coverage(
            model,
            &modes.centers,
            modes.sigma,
            MODE_SAMPLES,
            seed,
            &infer,
        )?
        else {
            return Ok(());
        };
        let line = format!(
            "step {step}: modes {}/{}, high quality {:.1}%",
            c.modes_captured,
            c.modes_total,
            100.0 * c.high_quality_fraction
        );
        let progress = step as f64 / self.cfg.train.steps as f64;
        match genlab_eval::collapse_alarm(&c, self.best_modes, progress) {
            Some(why) => eprintln!("ALARM {line}: {why}; see the samples/ scatter plots"),
            None => say(self.opts, &line),
        }
        self.best_modes = self.best_modes.max(c.modes_captured);
        // Into this step's metrics line, so that curves.png draws coverage over training.
        self.pending_metrics.extend([
            ("modes_captured".into(), c.modes_captured as f64),
            ("high_quality_fraction".into(), c.high_quality_fraction),
        ]);
        Ok(())
    }

    /// The family's loss on the fixed held-out examples, into this step's metrics line as
    /// `held_out_NAME`, so that curves.png draws it beside the training loss.
    fn measure_held_out(&mut self, step: u64) -> Result<()> {
        let Some(batch) = &self.opts.held_out else {
            return Ok(());
        };
        let mut rng = rng_for(self.cfg.seed, 0, Stream::Eval);
        let losses = self.model.held_out(batch, &mut rng)?;
        if losses.0.is_empty() {
            return Ok(());
        }
        let shown: Vec<String> = losses
            .0
            .iter()
            .map(|(k, v)| format!("{k} {v:.4}"))
            .collect();
        let n = batch.x.dims()[0];
        say(
            self.opts,
            &format!("step {step}: held-out {} ({n} examples)", shown.join(", ")),
        );
        let terms = losses
            .0
            .into_iter()
            .map(|(k, v)| (format!("held_out_{k}"), v));
        self.pending_metrics.extend(terms);
        Ok(())
    }

    /// Fixed-noise samples (same z every time; a model of bits shows drawn bits), else
    /// reconstructions of fixed training examples.
    fn write_samples(&self, step: u64) -> Result<()> {
        let (model, info) = (&*self.model, self.info);
        let infer = genlab_core::device::inference_device(self.device);
        let mut rng = rng_for(self.cfg.seed, 0, Stream::FixedNoise);
        let about = pictures::About::new(model.family(), self.opts.run.path(), step);
        let img = if model.as_sample().is_some() {
            let (caption, draw) = ((&about, "fixed noise"), Draw::for_model(model, false));
            pictures::sample_picture(model, info, SAMPLE_GRID, caption, draw, &mut rng, &infer)?
        } else if model.as_translate().is_some() {
            // Fixed training pairs: the same inputs, and dropout masks, at every step.
            let idx: Vec<usize> = (0..RECON_GRID.min(self.data.len())).collect();
            let batch =
                genlab_core::Batch::gather(self.data, &idx, &info.preprocess, &mut rng, &infer);
            let input = batch
                .input
                .ok_or_else(|| anyhow::anyhow!("a translator's data has inputs"))?;
            let what = self
                .data
                .input
                .as_ref()
                .map(|i| i.caption.as_str())
                .unwrap_or("inputs");
            let caption = (&about, "fixed training pairs", what);
            pictures::translation_picture(model, info, input, Some(batch.x), 8, caption, &mut rng)?
        } else if model.as_reconstruct().is_some() && info.kind == genlab_data::Kind::Images {
            let idx: Vec<usize> = (0..RECON_GRID.min(self.data.len())).collect();
            let batch =
                genlab_core::Batch::gather(self.data, &idx, &info.preprocess, &mut rng, &infer);
            let caption = (&about, "fixed training images");
            pictures::reconstruction_picture(model, info, batch.x, 8, caption)?
        } else {
            return Ok(());
        };
        pictures::save_png(&self.opts.run.samples_file(step), &img)
    }
}

/// The most modes any metrics line of the run recorded (0 for a new run).
fn best_modes(opts: &TrainOptions) -> usize {
    let lines = opts.run.read_metrics().unwrap_or_default();
    lines
        .iter()
        .flat_map(|l| &l.metrics)
        .filter(|(k, _)| k == "modes_captured")
        .map(|(_, v)| *v as usize)
        .max()
        .unwrap_or(0)
}

/// The state to start from: step 0, or the checkpoint's step with its optimizer state loaded,
/// the metrics lines after it dropped and the run settled on it.
fn resume(
    opts: &TrainOptions,
    optim: &mut Optimizers,
    device: &Device,
    keep_last: usize,
) -> Result<CkptState> {
    let Some(ckpt) = &opts.resume_from else {
        return Ok(CkptState {
            step: 0,
            optim_t: Default::default(),
            best_loss: f64::INFINITY,
            best_step: 0,
            window: MetricsWindow::default(),
        });
    };
    optim.load_state(&ckpt.optim, &ckpt.state.optim_t, device)?;
    opts.run.truncate_metrics(ckpt.state.step)?;
    opts.run.settle(&ckpt.state, keep_last)?;
    let run = opts.run.path().display();
    say(
        opts,
        &format!("resuming {run} from step {}", ckpt.state.step),
    );
    Ok(ckpt.state.clone())
}

fn say(opts: &TrainOptions, msg: &str) {
    if !opts.quiet {
        eprintln!("{msg}");
    }
}

fn progress_bar(opts: &TrainOptions, pos: u64, total: u64) -> ProgressBar {
    if !opts.progress || opts.quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total).with_position(pos);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} eta {eta} {msg}")
            .expect("valid template"),
    );
    bar
}

/// Running sums of each loss term since the last metrics line.
struct Window {
    sums: Vec<(String, f64)>,
    count: u64,
    /// The main loss of the last line; none before the first.
    last_main: Option<f64>,
}

impl Window {
    /// The window a checkpoint kept.
    fn from_state(w: &MetricsWindow) -> Self {
        Window {
            sums: w.sums.clone(),
            count: w.steps,
            last_main: w.last_main,
        }
    }
    /// What a checkpoint keeps.
    fn state(&self) -> MetricsWindow {
        MetricsWindow {
            steps: self.count,
            sums: self.sums.clone(),
            last_main: self.last_main,
        }
    }

    fn add(&mut self, l: &Losses) {
        if self.sums.is_empty() {
            self.sums = l.0.iter().map(|(k, _)| (k.clone(), 0.0)).collect();
        }
        for ((_, s), (_, v)) in self.sums.iter_mut().zip(&l.0) {
            *s += v;
        }
        self.count += 1;
    }
    fn means(&self) -> Vec<(String, f64)> {
        self.sums
            .iter()
            .map(|(k, s)| (k.clone(), s / self.count.max(1) as f64))
            .collect()
    }
    fn main_mean(&self) -> Option<f64> {
        self.means().first().map(|m| m.1).or(self.last_main)
    }
    fn roll(&mut self) {
        self.last_main = self.main_mean();
        self.sums.clear();
        self.count = 0;
    }
    fn summary(&self) -> String {
        self.means()
            .iter()
            .map(|(k, v)| format!("{k} {v:.4}"))
            .collect::<Vec<_>>()
            .join("  ")
    }
    fn line(
        &self,
        step: u64,
        lr: std::collections::BTreeMap<String, f64>,
        steps_per_sec: f64,
        per_epoch: u64,
    ) -> MetricsLine {
        MetricsLine {
            step,
            epoch: step as f64 / per_epoch as f64,
            losses: self.means(),
            metrics: Vec::new(),
            lr,
            steps_per_sec,
        }
    }
}
