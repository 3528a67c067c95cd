//! What is done with a trained model: metrics (one per file), pictures, inversion and nearest
//! neighbours. Each takes a model through its capability traits; none knows a family.

mod classify;
mod invert;
mod likelihood;
mod modes;
mod neighbours;
pub mod pictures;
pub mod quality;
mod reconstruction;
pub mod translation;

pub use classify::{accuracy, judged_class_rate};
pub use invert::{invert, Fit, Inversion, InversionConfig};
pub use likelihood::{check_data_fits, likelihood, LikelihoodKind, LikelihoodReport};
pub use modes::{
    collapse_alarm, coverage_of, label_accuracy, mode_coverage, reverse_kl, ModeCoverage,
    ModeProtocol,
};
pub use neighbours::nearest;
pub use reconstruction::{reconstruction, ReconstructionReport};
