//! `genlab report RUN... | DIR --out report.html`: one self-contained HTML file (genlab-report):
//! the leaderboard, then a page per model with its numbers, curves, sample grids and pictures.

use anyhow::Result;
use genlab_core::run_dir::{atomic_write, check_overwrite, Format};
use genlab_report::html;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Run directories, or folders of runs (searched three levels deep).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(long, default_value = "report.html")]
    pub out: PathBuf,
    /// The page's title.
    #[arg(long, default_value = "genlab report")]
    pub title: String,
    /// Rank by (as `genlab compare --by`).
    #[arg(long)]
    pub by: Option<String>,
}

pub fn run(a: Args) -> Result<()> {
    let (runs, board) = genlab_report::gather(&a.runs, a.by.as_deref())?;
    let page = html::report(&runs, &board, &a.title);
    check_overwrite(&a.out, Format::Html)?;
    atomic_write(&a.out, page.as_bytes())?;
    println!(
        "{}: {} runs, {:.1} MB, self-contained (open it in a browser)",
        a.out.display(),
        runs.len(),
        page.len() as f64 / 1e6
    );
    Ok(())
}
