//! Autoencoders: the deterministic autoencoder, the VAE and the IWAE.

pub mod autoencoder;
pub mod iwae;
pub mod vae;
