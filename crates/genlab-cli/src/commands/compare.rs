//! `genlab compare RUN... | DIR`: one leaderboard of runs on one protocol (genlab-report's
//! run summaries and ranking): a terminal table, `--json` or `--csv`.

use anyhow::Result;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Run directories, or folders of runs (searched three levels deep).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Rank by: fid, kid, nll, precision, recall, density, coverage, class_rate or cas
    /// (default: fid when a run has one, else nll).
    #[arg(long)]
    pub by: Option<String>,
    /// Print the leaderboard as JSON (each run's summary with its rank and group, and notes).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the table as CSV.
    #[arg(long)]
    pub csv: bool,
}

pub fn run(a: Args) -> Result<()> {
    let (runs, board) = genlab_report::gather(&a.runs, a.by.as_deref())?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&board.json(&runs))?);
    } else if a.csv {
        print!("{}", board.csv(&runs));
        for n in &board.notes {
            eprintln!("note: {n}");
        }
    } else {
        print!("{}", board.text(&runs));
    }
    Ok(())
}
