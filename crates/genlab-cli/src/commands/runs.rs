//! `genlab runs [DIR]`: every run under a folder, newest first, with what it trained on, how
//! far it got, its last losses and its headline metric.

use anyhow::{bail, Result};
use genlab_core::run_dir::RunDir;
use std::path::{Path, PathBuf};

/// Folders searched below DIR: runs/FAMILY and the demo's runs/demo/FAMILY.
const DEPTH: usize = 3;

#[derive(clap::Args)]
pub struct Args {
    /// Folder holding run directories (searched three levels deep).
    #[arg(default_value = "runs")]
    pub dir: PathBuf,
    /// Print one JSON object per run, one per line.
    #[arg(long)]
    pub json: bool,
}

/// What one run holds, read from its files (no model is loaded).
struct Summary {
    path: PathBuf,
    family: String,
    data: String,
    step: u64,
    steps: u64,
    started_unix: u64,
    /// The family's main loss term and its last logged value.
    loss: Option<(String, f64)>,
    /// The newest eval's headline: (name, value, unit).
    headline: Option<(String, f64)>,
}

pub fn run(args: Args) -> Result<()> {
    if !args.dir.is_dir() {
        bail!(
            "{} is not a folder; give the folder your runs are in (genlab train writes runs/FAMILY by default)",
            args.dir.display()
        );
    }
    let mut found = Vec::new();
    find_runs(&args.dir, DEPTH, &mut found);
    let mut runs: Vec<Summary> = found.iter().filter_map(|p| summary(p)).collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.started_unix));
    if args.json {
        for r in &runs {
            let v = serde_json::json!({
                "run": r.path, "family": r.family, "data": r.data, "step": r.step,
                "steps": r.steps, "started_unix": r.started_unix,
                "loss": r.loss.as_ref().map(|(k, v)| serde_json::json!({ k: v })),
                "headline": r.headline.as_ref().map(|(k, v)| serde_json::json!({ k: v })),
            });
            println!("{v}");
        }
        return Ok(());
    }
    if runs.is_empty() {
        println!("no runs under {}", args.dir.display());
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|r| {
            [
                r.path.display().to_string(),
                r.family.clone(),
                r.data.clone(),
                format!("{}/{}", r.step, r.steps),
                r.loss
                    .as_ref()
                    .map_or("-".into(), |(k, v)| format!("{k} {v:.4}")),
                r.headline
                    .as_ref()
                    .map_or("(no eval)".into(), |(k, v)| format!("{k} {v:.4}")),
            ]
        })
        .collect();
    let head = ["RUN", "FAMILY", "DATA", "STEP", "LAST LOSS", "EVAL"];
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .max()
                .unwrap_or(0)
                .max(head[i].len())
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ")
    };
    println!("{}  STARTED", line(&head.map(String::from)));
    for (row, r) in rows.iter().zip(&runs) {
        println!("{}  {}", line(row), age(now.saturating_sub(r.started_unix)));
    }
    Ok(())
}

/// Run directories (config.toml and meta.json) at most `depth` levels below `dir`.
fn find_runs(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
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
        find_runs(&sub, depth - 1, out);
    }
}

/// A run's summary, or None when its files cannot be read (it is then not listed).
fn summary(path: &Path) -> Option<Summary> {
    let (run, config, meta) = RunDir::open(path).ok()?;
    let loss = run
        .read_metrics()
        .ok()
        .and_then(|lines| lines.last().cloned())
        .and_then(|l| l.losses.first().cloned());
    let headline = run.latest_eval().and_then(|(_, v)| headline(&v));
    Some(Summary {
        path: path.to_path_buf(),
        family: config.family,
        data: config.data.spec.to_string(),
        step: meta.last_step,
        steps: config.train.steps,
        started_unix: meta.started_unix,
        loss,
        headline,
    })
}

/// The number an eval leads with: bits/dim, else NLL, else mode coverage, else the
/// reconstruction error.
fn headline(eval: &serde_json::Value) -> Option<(String, f64)> {
    [
        "bits_per_dim",
        "bits_per_projected_dim",
        "nll_nats",
        "modes_captured",
        "mse_per_pixel",
    ]
    .iter()
    .find_map(|k| eval.get(*k)?.as_f64().map(|v| (k.to_string(), v)))
}

/// `3 min ago`, `2 h ago`, `5 d ago`.
fn age(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    }
}
