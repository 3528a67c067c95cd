//! Generative adversarial networks: the original GAN and its variants.

pub mod acgan;
pub mod bigan;
pub mod cgan;
pub mod dcgan;
pub mod gan;
pub mod infogan;
pub mod kit;
pub mod lsgan;
pub mod sngan;
pub mod wgan;
pub mod wgan_gp;
