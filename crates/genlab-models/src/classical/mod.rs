//! Classical density models: Gaussian mixtures (EM and variational), class-conditional
//! Gaussians, and the energy-based RBM and DBN.

pub mod bgmm;
pub mod class_gaussian;
pub mod dbn;
pub mod gmm;
pub mod rbm;
