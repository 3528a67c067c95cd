//! `genlab runs [DIR]`: every run under a folder, newest first, with what it trained on, how
//! far it got, its last losses and its headline metric.

use anyhow::{bail, Result};
use genlab_report::summary::{find_runs, RunSummary, SEARCH_DEPTH};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Folder holding run directories (searched three levels deep).
    #[arg(default_value = "runs")]
    pub dir: PathBuf,
    /// Print one JSON object per run, one per line.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    if !args.dir.is_dir() {
        bail!(
            "{} is not a folder; give the folder your runs are in (genlab train writes runs/FAMILY by default)",
            args.dir.display()
        );
    }
    // A run whose files cannot be read is not listed.
    let mut runs: Vec<RunSummary> = find_runs(&args.dir, SEARCH_DEPTH)
        .iter()
        .filter_map(|p| RunSummary::read(p).ok())
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.started_unix));
    if args.json {
        for r in &runs {
            let v = serde_json::json!({
                "run": r.path, "family": r.family, "data": r.data, "step": r.step,
                "steps": r.steps, "started_unix": r.started_unix,
                "loss": r.last_losses.first().map(|(k, v)| serde_json::json!({ k: v })),
                "headline": headline_json(&r.headline()),
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
                r.name(),
                r.family.clone(),
                r.data.clone(),
                format!("{}/{}", r.step, r.steps),
                r.last_losses
                    .first()
                    .map_or("-".into(), |(k, v)| format!("{k} {v:.4}")),
                match r.headline() {
                    h if h.is_empty() => "(no eval)".into(),
                    h => h
                        .iter()
                        .map(|(k, v)| match k.as_str() {
                            "modes_captured" => format!("modes_captured {v}"),
                            _ => format!("{k} {v:.4}"),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            ]
        })
        .collect();
    let header: Vec<String> = [
        "RUN",
        "FAMILY",
        "DATA",
        "STEP",
        "LAST LOSS",
        "EVAL",
        "STARTED",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .zip(&runs)
        .map(|(row, r)| {
            let mut row = row.to_vec();
            row.push(age(now.saturating_sub(r.started_unix)));
            row
        })
        .collect();
    print!("{}", genlab_report::leaderboard::aligned(&header, &rows));
    Ok(())
}

/// The headline as `{name: value, ...}`, or null.
fn headline_json(h: &[(String, f64)]) -> serde_json::Value {
    match h {
        [] => serde_json::Value::Null,
        h => h
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
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
