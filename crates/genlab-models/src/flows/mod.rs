//! Normalizing flows: RealNVP, Glow and MAF.

pub mod flow;
pub mod glow;
pub mod maf;
pub mod realnvp;
