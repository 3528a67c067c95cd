//! genlab's model families in lineage folders, one family per file; file name == CLI name ==
//! configs/ folder (see registry.rs).

pub mod autoencoders;
pub mod autoregressive;
pub mod classical;
pub mod flows;
pub mod gans;
mod registry;

pub use registry::find;

use autoencoders::{autoencoder, iwae, vae};
use autoregressive::{fvsbn, gated_pixelcnn, made, nade, pixelcnn, pixelcnn_pp};
use classical::{bgmm, class_gaussian, dbn, gmm, rbm};
use flows::{glow, maf, realnvp};
use gans::{acgan, bigan, cgan, dcgan, gan, infogan, lsgan, sngan, wgan, wgan_gp};
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
