//! The loop: batches -> `Model::train_step` -> metrics, sample pictures, checkpoints. It knows no
//! family; everything family-specific happens behind the trait.

use crate::batches::Batches;
use anyhow::{bail, Result};
use burn::tensor::Device;
use genlab_core::config::RunConfig;
use genlab_core::optim::Optimizers;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::run_dir::{Checkpoint, CkptState, RunDir};
use genlab_core::{DataInfo, Losses, Model, StepCtx};
use genlab_data::Dataset;
use genlab_eval::pictures;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Number of images in the fixed-noise sample grid.
const SAMPLE_GRID: usize = 64;
/// Examples in the reconstruction picture of models that cannot sample.
const RECON_GRID: usize = 32;

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
    /// True modes of a toy set, drawn under its scatter plots, and their standard deviation:
    /// at every sample cadence the log shows the mode coverage, with an alarm when it falls.
    pub toy_modes: Vec<[f32; 2]>,
    pub toy_sigma: f32,
}

#[derive(Debug)]
pub struct Outcome {
    /// Steps completed in total (including before a resume).
    pub step: u64,
    pub interrupted: bool,
    pub last_losses: Losses,
    pub checkpoint: Option<PathBuf>,
}

/// Train `model` per `cfg` on `data`, writing everything into `opts.out`.
pub fn train(
    model: &mut dyn Model,
    cfg: &RunConfig,
    info: &DataInfo,
    data: &Dataset,
    device: &Device,
    opts: &TrainOptions,
) -> Result<Outcome> {
    let run = &opts.run;
    let total = cfg.train.steps;
    let groups = model.groups();
    let mut optim = Optimizers::new(&cfg.optim, total).with_ema(cfg.train.ema_decay);
    // Most modes captured so far (toy sets with known modes).
    let mut best_modes = 0usize;
    let mut state = CkptState {
        step: 0,
        optim_t: Default::default(),
        best_loss: f64::INFINITY,
        best_step: 0,
    };
    if let Some(ckpt) = &opts.resume_from {
        optim.load_state(&ckpt.optim, &ckpt.state.optim_t, device)?;
        state = ckpt.state.clone();
        run.truncate_metrics(state.step)?;
        say(
            opts,
            &format!("resuming {} from step {}", run.path().display(), state.step),
        );
    }
    if state.step >= total {
        say(
            opts,
            &format!(
                "{} is already at step {} of {total}; raise --steps to train further",
                run.path().display(),
                state.step
            ),
        );
        return Ok(Outcome {
            step: state.step,
            interrupted: false,
            last_losses: Losses::default(),
            checkpoint: run.latest_checkpoint().ok(),
        });
    }

    let batch_size = if model.full_batch() {
        data.len()
    } else {
        cfg.train.batch_size
    };
    let mut batches = Batches::new(data, info.preprocess, cfg.seed, batch_size);
    let bar = progress_bar(opts, state.step, total);
    let mut window = Window::default();
    let mut last = Losses::default();
    let mut checkpoint = None;
    let started = Instant::now();
    let start_step = state.step;
    let mut finished = total;
    for step in state.step..total {
        if opts.interrupt.load(Ordering::SeqCst) {
            state.step = step;
            let dir = save(
                model,
                &optim,
                run,
                &mut state,
                window.main_mean(),
                cfg.train.keep_last,
            )?;
            bar.abandon();
            return Ok(Outcome {
                step,
                interrupted: true,
                last_losses: last,
                checkpoint: Some(dir),
            });
        }
        let batch = batches.batch(step, device);
        let mut ctx = StepCtx::new(step, total, cfg.seed, device.clone(), &mut optim);
        let losses = model.train_step(&batch, &mut ctx)?;
        if let Some(term) = losses.non_finite() {
            bar.abandon();
            let keep = run
                .latest_checkpoint()
                .map(|p| format!("the last good checkpoint is {}", p.display()))
                .unwrap_or_else(|_| "no checkpoint was written yet".into());
            bail!(
                "training diverged: loss term `{term}` is {} at step {}; {keep}. Lower the learning rate (optim.{}.lr) or enable clipping (optim.{}.clip_grad_norm = 1) in {}, then continue with `genlab train {} --out {} --resume`",
                losses.0.iter().find(|(k, _)| k == term).unwrap().1,
                step + 1,
                groups[0],
                groups[0],
                run.config_file().display(),
                model.family(),
                run.path().display()
            );
        }
        if (step + 1) % batches.per_epoch() == 0 {
            model.end_epoch(step / batches.per_epoch())?;
        }
        let done = step + 1;
        let stop = model.converged();
        window.add(&losses);
        last = losses;
        bar.set_position(done);
        if done % cfg.train.log_every == 0 || done == total || stop {
            let rate = (done - start_step) as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let line = window.to_json(done, optim.lr(groups[0], step), rate, batches.per_epoch());
            run.append_metrics(&line)?;
            let msg = window.summary();
            if opts.progress {
                bar.set_message(msg);
            } else {
                say(
                    opts,
                    &format!("step {done}/{total}  {msg}  {rate:.1} steps/s"),
                );
            }
            window.roll();
        }
        if done % cfg.train.sample_every == 0 || done == total || stop {
            // With an EMA, pictures show the averaged weights; the live ones come back exactly.
            // Weights the optimizer does not average (batch-norm statistics, spectral-norm
            // vectors) keep their live values.
            let live = optim.ema_params().map(|ema| {
                let live = model.save_params();
                let mut averaged = live.clone();
                averaged.extend(ema);
                (live, averaged)
            });
            if let Some((_, averaged)) = &live {
                model.load_params(averaged)?;
            }
            write_samples(model, info, data, cfg.seed, done, run, device, opts)?;
            watch_modes(model, cfg.seed, done, device, opts, &mut best_modes)?;
            if let Some((params, _)) = &live {
                model.load_params(params)?;
            }
        }
        if done % cfg.train.checkpoint_every == 0 || done == total || stop {
            state.step = done;
            checkpoint = Some(save(
                model,
                &optim,
                run,
                &mut state,
                window.last_main,
                cfg.train.keep_last,
            )?);
        }
        if stop {
            say(opts, &format!("converged at step {done}"));
            finished = done;
            break;
        }
    }
    bar.finish_and_clear();
    if let Some((img, _)) = pictures::curves_picture(run)? {
        pictures::save_png(&run.curves_file(), &img)?;
    }
    Ok(Outcome {
        step: finished,
        interrupted: false,
        last_losses: last,
        checkpoint,
    })
}

fn save(
    model: &dyn Model,
    optim: &Optimizers,
    run: &RunDir,
    state: &mut CkptState,
    main_loss: f64,
    keep_last: usize,
) -> Result<PathBuf> {
    if main_loss.is_finite() && main_loss < state.best_loss {
        state.best_loss = main_loss;
        state.best_step = state.step;
    }
    let (tensors, counts) = optim.save_state();
    state.optim_t = counts;
    run.set_last_step(state.step)?;
    run.save_checkpoint(
        &model.save_params(),
        &model.groups(),
        &tensors,
        optim.ema_params().as_ref(),
        state,
        keep_last,
    )
}

/// Mode coverage of 2,500 fixed-noise samples (genlab_eval's protocol) on toy sets with known
/// modes, logged; an alarm (even with `quiet`) when coverage falls below 3/4 of its best.
fn watch_modes(
    model: &dyn Model,
    seed: u64,
    step: u64,
    device: &Device,
    opts: &TrainOptions,
    best: &mut usize,
) -> Result<()> {
    if opts.toy_modes.is_empty() || model.full_batch() {
        return Ok(());
    }
    let infer = genlab_core::device::inference_device(device);
    let Some(c) =
        genlab_eval::mode_coverage(model, &opts.toy_modes, opts.toy_sigma, 2500, seed, &infer)?
    else {
        return Ok(());
    };
    let line = format!(
        "step {step}: modes {}/{}, high quality {:.1}%",
        c.modes_captured,
        c.modes_total,
        100.0 * c.high_quality_fraction
    );
    // Collapse: under three quarters of the best coverage so far (small wobbles are normal
    // early on, when a few stray samples decide whether a mode counts).
    if 4 * c.modes_captured < 3 * *best {
        eprintln!(
            "ALARM {line}: coverage fell from {} modes (mode collapse); see the samples/ scatter plots",
            *best
        );
    } else {
        say(opts, &line);
    }
    *best = (*best).max(c.modes_captured);
    Ok(())
}

/// Fixed-noise samples (same z every time), else reconstructions of fixed training examples.
#[allow(clippy::too_many_arguments)]
fn write_samples(
    model: &dyn Model,
    info: &DataInfo,
    data: &Dataset,
    seed: u64,
    step: u64,
    run: &RunDir,
    device: &Device,
    opts: &TrainOptions,
) -> Result<()> {
    let infer = genlab_core::device::inference_device(device);
    let img = if model.as_sample().is_some() {
        pictures::sample_picture(
            model,
            info,
            SAMPLE_GRID,
            &mut rng_for(seed, 0, Stream::FixedNoise),
            &infer,
            &opts.toy_modes,
        )?
    } else if model.as_reconstruct().is_some() && info.kind == genlab_data::Kind::Images {
        let idx: Vec<usize> = (0..RECON_GRID.min(data.len())).collect();
        let batch = genlab_core::Batch::gather(
            data,
            &idx,
            &info.preprocess,
            &mut rng_for(seed, 0, Stream::FixedNoise),
            &infer,
        );
        pictures::reconstruction_picture(model, info, batch.x, 8)?
    } else {
        return Ok(());
    };
    pictures::save_png(&run.samples_file(step), &img)
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

/// Means of the losses since the last log line.
#[derive(Default)]
struct Window {
    sums: Vec<(String, f64)>,
    count: usize,
    last_main: f64,
}

impl Window {
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
    fn main_mean(&self) -> f64 {
        self.means().first().map(|m| m.1).unwrap_or(self.last_main)
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
    fn to_json(&self, step: u64, lr: f64, rate: f64, per_epoch: u64) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("step".into(), step.into());
        m.insert("epoch".into(), (step as f64 / per_epoch as f64).into());
        for (k, v) in self.means() {
            m.insert(k, v.into());
        }
        m.insert("lr".into(), lr.into());
        m.insert("steps_per_sec".into(), rate.into());
        serde_json::Value::Object(m)
    }
}
