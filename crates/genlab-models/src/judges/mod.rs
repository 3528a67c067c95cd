//! Judges: networks that score generative models' samples rather than generate.

pub mod classifier;
pub mod shipped;
