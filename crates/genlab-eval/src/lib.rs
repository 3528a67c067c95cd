//! Metrics, one per file. Each takes a model through its capability traits and a dataset.

mod likelihood;
mod modes;
mod reconstruction;

pub use likelihood::{likelihood, LikelihoodReport};
pub use modes::{
    coverage_of, label_accuracy, mode_coverage, reverse_kl, ModeCoverage, ModeProtocol,
};
pub use reconstruction::{reconstruction, ReconstructionReport};
