//! Classical density models: Gaussian mixtures (EM and variational), class-conditional
//! Gaussians, and the energy-based RBM and DBN. `mixture.rs` (with `kmeans.rs`, its
//! initialisation) is the f64 Gaussian-mixture library the mixture families share;
//! `variational.rs` is bgmm's variational posterior, kept apart from the family as gmm's
//! mixture is.

pub mod bgmm;
pub mod class_gaussian;
pub mod dbn;
pub mod gmm;
pub mod kmeans;
pub mod mixture;
pub mod rbm;
pub mod variational;
