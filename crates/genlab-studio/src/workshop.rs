//! The studio's model thread: the one place that holds trained models (for exploring) and GAN
//! Lab sessions. Requests hand it closures over a channel and await the answer, so decoding
//! never blocks the async runtime, and no model crosses threads (a model need not be `Send`).
//! One thread, not a pool: a browser asks for one picture at a time, the machine has two
//! cores, and a training job is a child process the operating system schedules beside it.

use crate::lab::Lab;
use anyhow::{anyhow, Context, Result};
use burn::tensor::Device;
use genlab_core::config::RunConfig;
use genlab_core::run_dir::{Meta, RunDir, Weights};
use genlab_core::{DataInfo, Model};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::SystemTime;

/// Trained models kept loaded: the runs a page explores at once.
const CACHED_MODELS: usize = 4;
/// Requests waiting for the model thread at most; more are refused as busy, so that no page
/// can queue unbounded work.
const WAITING: usize = 32;

/// A trained run's model, loaded as `genlab sample` loads it (averaged weights, inference
/// device).
pub struct Loaded {
    pub config: RunConfig,
    pub meta: Meta,
    pub info: DataInfo,
    pub model: Box<dyn Model>,
    pub device: Device,
    pub step: u64,
    /// The split completions come from, loaded on first use: (its name, the data).
    pub held_out: Option<(&'static str, genlab_data::Dataset)>,
    /// The checkpoint folder the weights come from: a newer one reloads.
    checkpoint: PathBuf,
    used: SystemTime,
}

/// What the model thread owns.
#[derive(Default)]
pub struct Shop {
    models: BTreeMap<PathBuf, Loaded>,
    pub labs: BTreeMap<u64, Lab>,
    pub next_lab: u64,
}

impl Shop {
    /// The model of the run in `dir` at its newest checkpoint, loaded once and kept.
    pub fn model(&mut self, dir: &Path) -> Result<&mut Loaded> {
        let run = RunDir::at(dir);
        let newest = run.latest_checkpoint()?;
        let fresh = self.models.get(dir).is_some_and(|m| m.checkpoint == newest);
        if !fresh {
            let loaded = load(dir)?;
            if self.models.len() >= CACHED_MODELS && !self.models.contains_key(dir) {
                let oldest = self
                    .models
                    .iter()
                    .min_by_key(|(_, m)| m.used)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    self.models.remove(&k);
                }
            }
            self.models.insert(dir.to_path_buf(), loaded);
        }
        let m = self.models.get_mut(dir).expect("just inserted");
        m.used = SystemTime::now();
        Ok(m)
    }
}

/// Rebuild a run's model as `genlab sample` does (the run's own config, averaged weights).
fn load(dir: &Path) -> Result<Loaded> {
    let (run, config, meta) = RunDir::open(dir)?;
    let family = genlab_models::find(&config.family)?;
    let info = meta.data_info(&config);
    let device = genlab_core::device::inference_device(&Device::default());
    let loaded = run
        .load_model(family, &config, &info, &device, Weights::Averaged)
        .with_context(|| format!("cannot load the model of {}", dir.display()))?;
    Ok(Loaded {
        config,
        meta,
        info,
        model: loaded.model,
        device,
        step: loaded.checkpoint.state.step,
        held_out: None,
        checkpoint: loaded.checkpoint.dir,
        used: SystemTime::now(),
    })
}

type Work = Box<dyn FnOnce(&mut Shop) + Send>;

/// The handle requests use: send work, await its answer.
pub struct Workshop {
    tx: Mutex<mpsc::SyncSender<Work>>,
}

impl std::fmt::Debug for Workshop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Workshop")
    }
}

impl Workshop {
    /// Start the model thread.
    pub fn start() -> Self {
        let (tx, rx) = mpsc::sync_channel::<Work>(WAITING);
        std::thread::Builder::new()
            .name("genlab-studio-models".into())
            .spawn(move || {
                let mut shop = Shop::default();
                for work in rx {
                    // A panicking model must not take the thread (and every later request)
                    // with it: the request gets an error instead.
                    let _ =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut shop)));
                }
            })
            .expect("the studio can start a thread");
        Self { tx: Mutex::new(tx) }
    }

    /// Run `f` on the model thread and await its result.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Shop) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let work: Work = Box::new(move |shop| {
            // The page that asked has gone: skip the work.
            if reply.is_closed() {
                return;
            }
            let _ = reply.send(f(shop));
        });
        let sent = self
            .tx
            .lock()
            .map_err(|_| anyhow!("the model thread is gone"))?
            .try_send(work);
        match sent {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => {
                anyhow::bail!("the studio's model thread is busy ({WAITING} requests waiting); try again in a moment")
            }
            Err(mpsc::TrySendError::Disconnected(_)) => anyhow::bail!("the model thread is gone"),
        }
        answer.await.map_err(|_| {
            anyhow!("the model failed while answering (a panic); see the server's log")
        })?
    }
}
