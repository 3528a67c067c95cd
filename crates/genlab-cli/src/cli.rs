//! Every flag's doc comment is its `--help`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "genlab",
    version,
    about = "Train, sample, evaluate and compare classic deep generative models"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// List the model families with their capabilities, presets and papers.
    Models {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Train a model; writes a run directory (config, checkpoints, metrics, sample grids).
    Train(TrainArgs),
    /// Draw samples from a trained run into a PNG grid.
    Sample {
        /// Run directory.
        run: PathBuf,
        /// Number of samples.
        #[arg(short, default_value_t = 64)]
        n: usize,
        /// Output PNG (default RUN/sample.png).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed of the noise.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Class-conditional models: draw every sample from this class (0-based).
        #[arg(long, conflicts_with = "per_class")]
        label: Option<u32>,
        /// Class-conditional models: a grid with one row per class, this many per row.
        #[arg(long)]
        per_class: Option<usize>,
        /// Gibbs-sampled models (rbm, dbn): rows are chains from noise, columns snapshots over
        /// time.
        #[arg(long, conflicts_with_all = ["label", "per_class", "filters"])]
        chain: bool,
        /// First-layer weights as images (rbm, dbn), each scaled to its own range; -n of them.
        #[arg(long, conflicts_with_all = ["label", "per_class"])]
        filters: bool,
    },
    /// Fill in a hidden part of held-out images (RBM: clamped Gibbs sampling). Writes the
    /// masked inputs, several completions and the originals side by side.
    Complete {
        run: PathBuf,
        /// Which part to hide: bottom-half, top-half, left-half, right-half, center, or
        /// box:ROW,COL,HEIGHT,WIDTH (pixels).
        #[arg(long, default_value = "bottom-half")]
        mask: MaskArg,
        /// Images (rows).
        #[arg(short, default_value_t = 8)]
        n: usize,
        /// Completions per image.
        #[arg(long, default_value_t = 4)]
        samples: usize,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Show test images above their reconstructions.
    Reconstruct {
        run: PathBuf,
        /// Number of test images.
        #[arg(short, default_value_t = 32)]
        n: usize,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Decode paths between latent codes of test images (rows) in a PNG; a 2-D latent also
    /// gets a manifold grid.
    Interpolate {
        run: PathBuf,
        /// Number of interpolation rows.
        #[arg(long, default_value_t = 8)]
        rows: usize,
        /// Images per row, ends included.
        #[arg(long, default_value_t = 10)]
        steps: usize,
        #[arg(long, value_enum, default_value_t = InterpMode::Slerp)]
        mode: InterpMode,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Find latent codes whose images match given ones (GANs, BiGAN, VAEs): gradient descent on
    /// z from several random starts. Writes [target, best, each start] rows and the codes.
    Invert {
        run: PathBuf,
        /// PNG/JPEG images of the model's size.
        images: Vec<PathBuf>,
        /// Also invert these held-out test examples (0-based).
        #[arg(long, value_delimiter = ',')]
        index: Vec<usize>,
        /// Also invert these of the model's own samples (indices in the grid `genlab sample
        /// --seed S` draws): a check with a known answer.
        #[arg(long, value_delimiter = ',')]
        sample: Vec<usize>,
        /// Gradient steps.
        #[arg(long, default_value_t = 500)]
        steps: usize,
        /// Adam learning rate on z.
        #[arg(long, default_value_t = 0.05)]
        lr: f64,
        /// Random starts; the best one is kept.
        #[arg(long, default_value_t = 4)]
        restarts: usize,
        /// Start from these codes instead (JSON as `genlab invert` writes it).
        #[arg(long)]
        init: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output PNG (default RUN/invert.png; the codes go beside it as .json).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Latent vector arithmetic (DCGAN figure 7): mean(A) - mean(B) + mean(C), where A, B, C are
    /// sample indices in the grid `genlab sample RUN --seed S` draws.
    Arithmetic {
        run: PathBuf,
        #[arg(long, value_delimiter = ',', required = true)]
        a: Vec<usize>,
        #[arg(long, value_delimiter = ',', required = true)]
        b: Vec<usize>,
        #[arg(long, value_delimiter = ',', required = true)]
        c: Vec<usize>,
        /// The seed of the `genlab sample` grid the indices refer to.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// InfoGAN codes: rows = categorical code, columns = one continuous code swept.
    Traverse {
        run: PathBuf,
        /// Which continuous code to sweep (0-based).
        #[arg(long, default_value_t = 0)]
        code: usize,
        /// Columns.
        #[arg(long, default_value_t = 10)]
        steps: usize,
        /// Sweep from -range to range (codes were trained on [-1, 1]).
        #[arg(long, default_value_t = 2.0)]
        range: f64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Each sample beside its nearest training images: memorization or not.
    Neighbours {
        run: PathBuf,
        /// Samples (rows).
        #[arg(short, default_value_t = 8)]
        n: usize,
        /// Nearest training images per sample.
        #[arg(short, default_value_t = 5)]
        k: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Evaluate a run on test data: likelihood (nats, bits/dim, bound kind) and reconstruction.
    Eval {
        run: PathBuf,
        /// Data spec to evaluate on (default: the run's own data).
        #[arg(long)]
        data: Option<String>,
        /// Split (default: the run's data.eval_split, normally test).
        #[arg(long, value_enum)]
        split: Option<SplitArg>,
        /// Importance samples for the likelihood estimate (1 = the training bound).
        #[arg(short, long, default_value_t = 1000)]
        k: usize,
        /// Evaluate on the first N examples only.
        #[arg(short, long)]
        n: Option<usize>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// A run that classifies (e.g. class-gaussian on the same data): report the fraction of
        /// this conditional model's samples of each class that it assigns to that class.
        #[arg(long)]
        classifier: Option<PathBuf>,
        /// Write each example's test NLL (nats) and bits/dim to this CSV, for histograms
        /// (e.g. in- against out-of-distribution data).
        #[arg(long)]
        scores: Option<PathBuf>,
    },
    /// Speed benchmarks: ms per training step of the workloads in bench/ (W1 VAE, W2 DCGAN,
    /// W3 PixelCNN-lite). bench/run.sh runs them beside PyTorch.
    #[command(args_conflicts_with_subcommands = true)]
    Bench {
        #[command(subcommand)]
        classical: Option<BenchCommand>,
        /// Comma-separated workloads.
        #[arg(long, default_value = "w1,w2,w3")]
        workloads: String,
        /// Timed steps per workload (after 3 warm-up steps).
        #[arg(long, default_value_t = 20)]
        steps: usize,
        #[arg(long)]
        json: bool,
    },
    /// Inspect datasets.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Fit a Gaussian mixture for every K in a range and pick K by BIC; writes bic.png and
    /// gmm-select.json.
    GmmSelect {
        /// Data spec (csv:FILE, npy:FILE, toy:ring8, fashion-mnist, ...).
        #[arg(long)]
        data: String,
        /// Components to try: a range `1..20` (inclusive) or a list `2,4,8`.
        #[arg(long, default_value = "1..12")]
        k: String,
        /// Covariance types to compare, comma-separated: full, tied, diag, spherical.
        #[arg(long, default_value = "full")]
        covariance: String,
        /// Project on this many principal components first (0 = no PCA).
        #[arg(long, default_value_t = 0)]
        pca: usize,
        /// k-means restarts per K; the best log-likelihood is kept.
        #[arg(long, default_value_t = 1)]
        n_init: usize,
        #[arg(long, default_value_t = 100)]
        max_iter: usize,
        #[arg(long, default_value_t = 1e-3)]
        tol: f64,
        #[arg(long, default_value_t = 1e-6)]
        reg_covar: f64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output folder (default gmm-select/).
        #[arg(long, default_value = "gmm-select")]
        out: PathBuf,
        /// Folder of the Fashion-MNIST files.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Train a small VAE on the built-in shapes and write samples, interpolations and
    /// reconstructions (under a minute on 2 CPU cores).
    Demo {
        /// Run directory (default runs/demo, or runs/demo-N if that exists).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Training steps.
        #[arg(long)]
        steps: Option<u64>,
    },
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
        #[arg(long, default_value = "full")]
        covariance: String,
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

#[derive(Subcommand)]
pub enum DataCommand {
    /// Size, shape, classes and pixel statistics of a dataset, and a grid PNG of examples.
    Info {
        /// Data spec: fashion-mnist, idx:DIR, folder:DIR, shapes, toy:ring8, toy:grid25, toy:moons,
        /// toy:swissroll, toy:checkerboard.
        spec: String,
        #[arg(long, value_enum, default_value_t = SplitArg::Train)]
        split: SplitArg,
        /// Where to write the grid PNG (default SPEC-grid.png in the current folder).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Folder of the Fashion-MNIST files.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct TrainArgs {
    /// Model family (see `genlab models`).
    pub family: String,
    /// Data spec (sets data.spec).
    #[arg(long)]
    pub data: Option<String>,
    /// Preset from configs/FAMILY/ (default: `default`).
    #[arg(long)]
    pub preset: Option<String>,
    /// TOML config file merged over the preset.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override one config key, e.g. --set model.latent_dim=2 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Total training steps (sets train.steps; may change on --resume).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Run directory (default runs/FAMILY, or runs/FAMILY-N if that exists).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of initialisation, batches and noise.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Continue the run in --out from its newest checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Folder of the Fashion-MNIST files (sets data.data_dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Log lines only, no progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaskArg {
    BottomHalf,
    TopHalf,
    LeftHalf,
    RightHalf,
    Center,
    /// Rows `row..row + height`, columns `col..col + width`.
    Box {
        row: usize,
        col: usize,
        height: usize,
        width: usize,
    },
}

impl std::str::FromStr for MaskArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "bottom-half" => Self::BottomHalf,
            "top-half" => Self::TopHalf,
            "left-half" => Self::LeftHalf,
            "right-half" => Self::RightHalf,
            "center" => Self::Center,
            _ => {
                let usage = "expected bottom-half, top-half, left-half, right-half, center or box:ROW,COL,HEIGHT,WIDTH";
                let body = s
                    .strip_prefix("box:")
                    .ok_or_else(|| format!("unknown mask `{s}`: {usage}"))?;
                let v: Vec<usize> = body
                    .split(',')
                    .map(|p| p.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("mask `{s}`: {usage} (four whole numbers)"))?;
                let [row, col, height, width] = v[..] else {
                    return Err(format!("mask `{s}`: {usage} (four whole numbers)"));
                };
                if height == 0 || width == 0 {
                    return Err(format!(
                        "mask `{s}` hides nothing: height and width must be at least 1"
                    ));
                }
                Self::Box {
                    row,
                    col,
                    height,
                    width,
                }
            }
        })
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum InterpMode {
    Lerp,
    Slerp,
}

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
