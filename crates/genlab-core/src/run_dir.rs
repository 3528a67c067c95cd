//! The run directory, genlab's one exchange format. Every file name lives here.
//!
//! ```text
//! runs/<name>/
//!   config.toml                 fully resolved
//!   meta.json                   family, version, seed, backend, started, last step
//!   metrics.jsonl               one JSON object per logged step
//!   curves.png                  the losses of metrics.jsonl over steps, drawn when a run ends
//!   samples/step-000500.png     fixed noise, same z every time
//!   ckpt/step-000500/{<group>.safetensors, optim-<group>.safetensors, state.json}
//!   ckpt/best                   name of the best checkpoint (lowest logged main loss)
//!   eval/step-000500.json       metric -> value
//! ```
//! Every write is atomic (temp file + rename); a checkpoint directory is written under a temp
//! name and renamed into place, so a crash never leaves half a checkpoint.

use crate::params::NamedTensors;
use anyhow::{anyhow, bail, Context, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const CONFIG: &str = "config.toml";
pub const META: &str = "meta.json";
pub const METRICS: &str = "metrics.jsonl";
/// Training curves drawn from metrics.jsonl when a run ends.
pub const CURVES: &str = "curves.png";
pub const SAMPLES: &str = "samples";
pub const CKPT: &str = "ckpt";
pub const EVAL: &str = "eval";
pub const BEST: &str = "best";
pub const STATE: &str = "state.json";
/// Prefix of the EMA weights of a group inside a checkpoint (`ema-<group>.safetensors`).
pub const EMA_PREFIX: &str = "ema-";

pub fn step_name(step: u64) -> String {
    format!("step-{step:06}")
}

/// Write `bytes` to `path` through a temp file in the same folder and a rename.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_string_lossy()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
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
}

/// state.json inside a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CkptState {
    pub step: u64,
    /// Optimizer update counts per group.
    pub optim_t: BTreeMap<String, u64>,
    /// Best main loss seen so far and the checkpoint that holds it.
    pub best_loss: f64,
    pub best_step: u64,
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
    let st = SafeTensors::deserialize(&bytes).map_err(|e| {
        anyhow!(
            "checkpoint file {} is truncated or corrupt ({e})",
            path.display()
        )
    })?;
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
            other => bail!(
                "checkpoint file {}: tensor {name} is {other:?}, expected F32 or F64",
                path.display()
            ),
        }
    }
    Ok(out)
}

/// Checkpoint step numbers present in a run, oldest first (only complete ones).
pub fn checkpoints(run: &Path) -> Vec<(u64, PathBuf)> {
    let mut v: Vec<(u64, PathBuf)> = std::fs::read_dir(run.join(CKPT))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let step = name.strip_prefix("step-")?.parse().ok()?;
            e.path().join(STATE).exists().then(|| (step, e.path()))
        })
        .collect();
    v.sort();
    v
}

/// Save a checkpoint atomically and prune to `keep_last` plus the best.
pub fn save_checkpoint(
    run: &Path,
    params: &NamedTensors,
    groups: &[&str],
    optim: &NamedTensors,
    ema: Option<&NamedTensors>,
    state: &CkptState,
    keep_last: usize,
) -> Result<PathBuf> {
    let ckpt = run.join(CKPT);
    let name = step_name(state.step);
    let tmp = ckpt.join(format!(".tmp-{name}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    for g in groups {
        atomic_write(
            &tmp.join(format!("{g}.safetensors")),
            &to_safetensors(&params.group(g))?,
        )?;
        atomic_write(
            &tmp.join(format!("optim-{g}.safetensors")),
            &to_safetensors(&optim.group(g))?,
        )?;
        if let Some(ema) = ema {
            atomic_write(
                &tmp.join(format!("{EMA_PREFIX}{g}.safetensors")),
                &to_safetensors(&ema.group(g))?,
            )?;
        }
    }
    atomic_write(
        &tmp.join(STATE),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )?;
    let dest = ckpt.join(&name);
    if dest.exists() {
        std::fs::remove_dir_all(&dest)
            .with_context(|| format!("cannot replace {}", dest.display()))?;
    }
    std::fs::rename(&tmp, &dest)
        .with_context(|| format!("cannot move checkpoint into {}", dest.display()))?;
    atomic_write(&ckpt.join(BEST), step_name(state.best_step).as_bytes())?;
    let all = checkpoints(run);
    let excess = all.len().saturating_sub(keep_last);
    for (step, dir) in all.into_iter().take(excess) {
        if step != state.best_step {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
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
        params.extend(from_safetensors(&dir.join(format!("{g}.safetensors")))?);
        optim.extend(from_safetensors(
            &dir.join(format!("optim-{g}.safetensors")),
        )?);
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
        let path = dir.join(format!("{EMA_PREFIX}{g}.safetensors"));
        if !path.exists() {
            return Ok(None);
        }
        out.extend(from_safetensors(&path)?);
    }
    Ok(Some(out))
}

/// The newest checkpoint of a run, or a message that says there is none.
pub fn latest_checkpoint(run: &Path) -> Result<PathBuf> {
    checkpoints(run)
        .pop()
        .map(|(_, p)| p)
        .ok_or_else(|| anyhow!("{} has no checkpoint (expected {}/{CKPT}/step-NNNNNN/{STATE}); train it first with `genlab train ... --out {}`", run.display(), run.display(), run.display()))
}

/// Append one line to metrics.jsonl.
pub fn append_metrics(run: &Path, line: &serde_json::Value) -> Result<()> {
    let path = run.join(METRICS);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    writeln!(f, "{line}").with_context(|| format!("cannot write {}", path.display()))
}

/// Drop metrics lines past `step` (a resumed run rewrites what followed its checkpoint).
pub fn truncate_metrics(run: &Path, step: u64) -> Result<()> {
    let path = run.join(METRICS);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["step"].as_u64())
                .is_some_and(|s| s <= step)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    atomic_write(&path, kept.as_bytes())
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
        }
    }

    #[test]
    fn checkpoints_round_trip_and_prune_to_keep_last_plus_best() {
        let run = tempfile::tempdir().unwrap();
        let mut p = NamedTensors::default();
        p.insert("model/w".into(), vec![2], vec![1.5, -2.0]);
        for step in [10, 20, 30, 40] {
            save_checkpoint(
                run.path(),
                &p,
                &["model"],
                &NamedTensors::default(),
                None,
                &state(step, 10),
                2,
            )
            .unwrap();
        }
        let steps: Vec<u64> = checkpoints(run.path()).iter().map(|c| c.0).collect();
        assert_eq!(steps, vec![10, 30, 40]);
        let c = load_checkpoint(&latest_checkpoint(run.path()).unwrap(), &["model"]).unwrap();
        assert_eq!(c.params, p);
        assert_eq!(c.state, state(40, 10));
    }

    #[test]
    fn a_truncated_checkpoint_file_is_named_in_the_error() {
        let run = tempfile::tempdir().unwrap();
        let mut p = NamedTensors::default();
        p.insert("model/w".into(), vec![2], vec![1.5, -2.0]);
        let dir = save_checkpoint(
            run.path(),
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
}
