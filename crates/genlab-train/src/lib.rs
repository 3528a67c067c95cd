//! The training loop, shared by every family, and the pictures a run leaves behind.
//! Depends on genlab-core's traits, never on genlab-models.

pub mod batches;
pub mod pictures;
mod trainer;

pub use trainer::{train, Outcome, TrainOptions};
