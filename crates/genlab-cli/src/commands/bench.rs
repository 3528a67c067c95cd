//! `genlab bench`: the speed workloads beside PyTorch, and `bench gmm|rbm` beside
//! scikit-learn; the benchmarks themselves live in the genlab-bench crate.

use super::gmm_select::CovarianceArg;
use anyhow::Result;
use clap::Subcommand;
use genlab_bench::Workload;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub classical: Option<BenchCommand>,
    /// Comma-separated workloads.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "w1,w2,w3")]
    pub workloads: Vec<Workload>,
    /// Timed steps per workload (after 3 warm-up steps).
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    #[arg(long)]
    pub json: bool,
}

/// The classical models beside scikit-learn (bench/sklearn_classical.py makes the files).
#[derive(Subcommand)]
pub enum BenchCommand {
    /// EM from given means for a fixed number of iterations; prints one JSON line.
    Gmm {
        /// Data, a 2-D float64 .npy file.
        #[arg(long)]
        x: PathBuf,
        /// Initial means, a `[K, d]` .npy file.
        #[arg(long)]
        means: PathBuf,
        /// full, tied, diag or spherical.
        #[arg(long, value_enum, default_value = "full")]
        covariance: CovarianceArg,
        #[arg(long, default_value_t = 50)]
        iters: usize,
        #[arg(long, default_value_t = 1e-6)]
        reg: f64,
        #[arg(long)]
        json: bool,
    },
    /// PCD-1 RBM epochs on binary .npy rows; prints time per epoch and test likelihoods.
    Rbm {
        #[arg(long)]
        train: PathBuf,
        #[arg(long)]
        test: PathBuf,
        #[arg(long, default_value_t = 500)]
        hidden: usize,
        #[arg(long, default_value_t = 100)]
        batch: usize,
        #[arg(long, default_value_t = 1)]
        epochs: usize,
        #[arg(long, default_value_t = 0.01)]
        lr: f64,
        /// AIS intermediate distributions (Salakhutdinov & Murray: 14,500).
        #[arg(long, default_value_t = 14_500)]
        ais_betas: usize,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> Result<()> {
    match args.classical {
        Some(BenchCommand::Gmm {
            x,
            means,
            covariance,
            iters,
            reg,
            json: _,
        }) => genlab_bench::classical::gmm(&x, &means, covariance.into(), iters, reg),
        Some(BenchCommand::Rbm {
            train,
            test,
            hidden,
            batch,
            epochs,
            lr,
            ais_betas,
            json: _,
        }) => genlab_bench::classical::rbm(&train, &test, hidden, batch, epochs, lr, ais_betas),
        None => speed(&args.workloads, args.steps, args.json),
    }
}

/// Each workload's median ms per step: a line each, or one JSON object.
fn speed(workloads: &[Workload], steps: usize, json: bool) -> Result<()> {
    let mut results = serde_json::Map::new();
    for w in workloads {
        let median = w.median_ms(steps)?;
        if !json {
            println!("{:<4} {median:>9.2} ms/step (median of {steps})", w.name());
        }
        results.insert(w.name().into(), median.into());
    }
    if json {
        println!("{}", serde_json::Value::Object(results));
    }
    Ok(())
}
