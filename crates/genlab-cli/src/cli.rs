//! The command line: one variant per verb, whose arguments live in `commands/<verb>.rs`.
//! Every flag's doc comment is its `--help`.

use crate::commands::{
    arithmetic, bench, compare, complete, data, demo, eval, features, gmm_select, interpolate,
    invert, models, neighbours, reconstruct, report, runs, sample, score, serve, train, translate,
    traverse,
};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "genlab",
    version,
    about = "Train, sample, evaluate and compare classic deep generative models"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// For commands that write files: write over existing files that are not what the command
    /// writes (a photo, notes) and over files a run owns. A folder is never replaced.
    #[arg(long, global = true)]
    pub force: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// List the model families with their capabilities, presets and papers.
    Models(models::Args),
    /// Train a model; writes a run directory (config, checkpoints, metrics, sample grids).
    Train(train::Args),
    /// List the runs under a folder (default runs/), newest first: family, data, step, last
    /// loss and the newest eval's headline number.
    Runs(runs::Args),
    /// Draw samples from a trained run into a PNG grid.
    Sample(sample::Args),
    /// Fill in a hidden part of held-out images (densities: conditioning, e.g. the RBM's clamped
    /// Gibbs sampling; GANs: masked inversion). Writes the masked inputs, several completions
    /// and the originals side by side.
    Complete(complete::Args),
    /// Show test images above their reconstructions.
    Reconstruct(reconstruct::Args),
    /// Translate images with an image-to-image model (pix2pix, CycleGAN, DiscoGAN, SRResNet,
    /// SRGAN, context encoder): inputs, outputs and, where known, the targets, in rows.
    Translate(translate::Args),
    /// Decode paths between latent codes of test images (rows) in a PNG; a 2-D latent also
    /// gets a manifold grid.
    Interpolate(interpolate::Args),
    /// Find latent codes whose images match given ones (GANs, BiGAN, VAEs): gradient descent on
    /// z from several random starts. Writes [target, best, each start] rows and the codes.
    Invert(invert::Args),
    /// Latent vector arithmetic (DCGAN figure 7): mean(A) - mean(B) + mean(C), where A, B, C are
    /// sample indices in the grid `genlab sample RUN --seed S` draws.
    Arithmetic(arithmetic::Args),
    /// InfoGAN codes: rows = categorical code, columns = one continuous code swept.
    Traverse(traverse::Args),
    /// Each sample beside its nearest training images: memorization or not.
    Neighbours(neighbours::Args),
    /// Evaluate a run on test data: likelihood (nats, bits/dim, bound kind), reconstruction,
    /// and sample quality on a judge's features (FID, KID, precision/recall, density/coverage,
    /// Inception score, memorisation).
    Eval(eval::Args),
    /// Write a judge's features of a run's samples or of a data set to .npy.
    Features(features::Args),
    /// FID, KID, precision/recall, density/coverage of two feature files (.npy).
    Score(score::Args),
    /// Rank runs on one protocol: family, data, steps, training time, parameters, NLL and
    /// bits/dim with the bound kind, FID, KID, precision, recall, density, coverage, class rate,
    /// CAS. Runs measured differently are listed but not ranked together, and the notes say why.
    Compare(compare::Args),
    /// Write one self-contained HTML report of runs: the leaderboard, training curves, sample
    /// grids and pictures, a page per model; nothing in it loads from the network.
    Report(report::Args),
    /// The local web studio: every run under a folder, live training curves, sample grids over
    /// time (http://127.0.0.1:7878/ by default).
    Serve(serve::Args),
    /// Speed benchmarks: ms per training step of the workloads in bench/ (W1 VAE, W2 DCGAN,
    /// W3 PixelCNN-lite). bench/run.sh runs them beside PyTorch.
    #[command(args_conflicts_with_subcommands = true)]
    Bench(bench::Args),
    /// Inspect datasets.
    Data(data::Args),
    /// Fit a Gaussian mixture for every K in a range and pick K by BIC; writes bic.png and
    /// gmm-select.json.
    GmmSelect(gmm_select::Args),
    /// Train and picture four models on built-in data, no files needed (about a minute on 2
    /// CPU cores).
    ///
    /// 1. a VAE on the procedural `shapes` (3,000 steps): samples.png (64 binary draws from
    ///    fixed noise), reconstructions.png (test images above their reconstructions),
    ///    interpolation.png (spherical paths between encoded test images), curves.png (each
    ///    loss term over training, and the bound on 1,000 held-out test images beside the
    ///    training one) and metrics.jsonl, in runs/demo (or --out);
    /// 2. class-gaussian: a low-rank Gaussian per shapes class, class-gaussian/samples-by-class.png
    ///    (one row per class);
    /// 3. gmm: a Gaussian mixture fitted by EM to the ring of 8 Gaussians, gmm/samples.png
    ///    (over the true modes) and gmm/density.png (its log-density);
    /// 4. rbm: an RBM on shapes, rbm/chain.png (Gibbs chains from noise) and rbm/filters.png
    ///    (the weights of 100 hidden units).
    ///
    /// Every run directory can then be used with sample, eval, interpolate and the others.
    #[command(verbatim_doc_comment)]
    Demo(demo::Args),
}

/// Which weights of a run to use, as `--weights` names them.
#[derive(Clone, Copy, Default, ValueEnum)]
pub enum WeightsArg {
    /// The exponential moving average of the weights (`train.ema_decay > 0`), where the run
    /// keeps one; else the live weights.
    #[default]
    Averaged,
    /// The weights training updates (what `--resume` continues from).
    Live,
}

impl From<WeightsArg> for genlab_core::run_dir::Weights {
    fn from(w: WeightsArg) -> Self {
        match w {
            WeightsArg::Averaged => genlab_core::run_dir::Weights::Averaged,
            WeightsArg::Live => genlab_core::run_dir::Weights::Live,
        }
    }
}

/// A dataset split, as `--split` names it.
#[derive(Clone, Copy, ValueEnum)]
pub enum SplitArg {
    Train,
    Test,
}

impl From<SplitArg> for genlab_data::Split {
    fn from(s: SplitArg) -> Self {
        match s {
            SplitArg::Train => genlab_data::Split::Train,
            SplitArg::Test => genlab_data::Split::Test,
        }
    }
}
