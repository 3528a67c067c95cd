//! genlab's model families, one per file; file name == CLI name == configs/ folder.

pub mod acgan;
pub mod autoencoder;
pub mod bgmm;
pub mod bigan;
pub mod cgan;
pub mod class_gaussian;
pub mod dbn;
pub mod dcgan;
pub mod fvsbn;
pub mod gan;
pub mod gated_pixelcnn;
pub mod glow;
pub mod gmm;
pub mod infogan;
pub mod iwae;
pub mod lsgan;
pub mod made;
pub mod maf;
pub mod nade;
pub mod pixelcnn;
pub mod pixelcnn_pp;
pub mod rbm;
pub mod realnvp;
mod registry;
pub mod sngan;
pub mod vae;
pub mod wgan;
pub mod wgan_gp;

pub use registry::find;

/// Every family genlab knows. Drives `genlab models`, CLI help, docs and the smoke tests.
pub const FAMILIES: &[&genlab_core::Family] = &[
    &autoencoder::FAMILY,
    &vae::FAMILY,
    &iwae::FAMILY,
    &gmm::FAMILY,
    &bgmm::FAMILY,
    &class_gaussian::FAMILY,
    &rbm::FAMILY,
    &dbn::FAMILY,
    &gan::FAMILY,
    &lsgan::FAMILY,
    &wgan::FAMILY,
    &wgan_gp::FAMILY,
    &dcgan::FAMILY,
    &sngan::FAMILY,
    &cgan::FAMILY,
    &acgan::FAMILY,
    &infogan::FAMILY,
    &bigan::FAMILY,
    &fvsbn::FAMILY,
    &nade::FAMILY,
    &made::FAMILY,
    &pixelcnn::FAMILY,
    &gated_pixelcnn::FAMILY,
    &pixelcnn_pp::FAMILY,
    &realnvp::FAMILY,
    &maf::FAMILY,
    &glow::FAMILY,
];
