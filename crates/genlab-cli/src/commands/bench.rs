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
    /// Comma-separated workloads: w1 = a training step of an MLP VAE 784-400-20 (batch 128), w2
    /// = of a DCGAN at 28x28, w3 = of a small PixelCNN; bench/RESULTS.md has them beside
    /// PyTorch.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "w1,w2,w3")]
    pub workloads: Vec<Workload>,
    /// Timed steps per workload (after 3 warm-up steps).
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Print one JSON object per workload instead of the table.
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
        /// EM iterations (no convergence test: both sides run the same number).
        #[arg(long, default_value_t = 50)]
        iters: usize,
        /// Added to every variance, as scikit-learn's reg_covar.
        #[arg(long, default_value_t = 1e-6)]
        reg: f64,
        /// Print one JSON line.
        #[arg(long)]
        json: bool,
    },
    /// PCD-1 RBM epochs on binary .npy rows; prints time per epoch and test likelihoods.
    Rbm {
        /// Training rows, a 2-D .npy of 0/1 values.
        #[arg(long)]
        train: PathBuf,
        /// Test rows, a 2-D .npy of 0/1 values.
        #[arg(long)]
        test: PathBuf,
        /// Hidden units.
        #[arg(long, default_value_t = 500)]
        hidden: usize,
        /// Rows per minibatch.
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Passes over the training rows.
        #[arg(long, default_value_t = 1)]
        epochs: usize,
        /// Learning rate of the PCD updates.
        #[arg(long, default_value_t = 0.01)]
        lr: f64,
        /// AIS intermediate distributions (Salakhutdinov & Murray: 14,500).
        #[arg(long, default_value_t = 14_500)]
        ais_betas: usize,
        /// Print one JSON line.
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
            println!(
                "{:<4} {:<30} {median:>9.2} ms/step (median of {steps})",
                w.name(),
                w.describe()
            );
        }
        results.insert(w.name().into(), median.into());
    }
    if json {
        println!("{}", serde_json::Value::Object(results));
    }
    Ok(())
}
