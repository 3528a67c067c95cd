//! genlab's model families, one per file; file name == CLI name == configs/ folder.

pub mod autoencoder;
pub mod iwae;
mod registry;
pub mod vae;

pub use registry::find;

/// Every family genlab knows. Drives `genlab models`, CLI help, docs and the smoke tests.
pub const FAMILIES: &[&genlab_core::Family] = &[&autoencoder::FAMILY, &vae::FAMILY, &iwae::FAMILY];
