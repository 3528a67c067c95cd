//! The training loop, shared by every family, and its minibatches.
//! Depends on genlab-core's traits, never on genlab-models.

pub mod batches;
mod trainer;

pub use trainer::{train, Outcome, TrainOptions};
