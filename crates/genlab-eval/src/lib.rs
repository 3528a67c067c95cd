//! Metrics, one per file. Each takes a model through its capability traits and a dataset.

mod likelihood;
mod reconstruction;

pub use likelihood::{likelihood, LikelihoodReport};
pub use reconstruction::{reconstruction, ReconstructionReport};
