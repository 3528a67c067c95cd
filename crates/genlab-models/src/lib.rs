//! genlab's model families in lineage folders, one family per file; file name == CLI name ==
//! configs/ folder (see registry.rs).

pub mod autoencoders;
pub mod autoregressive;
pub mod classical;
pub mod flows;
pub mod gans;
pub mod judges;
mod registry;
#[cfg(test)]
mod testing;
pub mod translation;

pub use registry::{find, FAMILIES};
