//! genlab's fast CPU ops, as burn backend extensions: a forward kernel on burn's `flex` CPU
//! backend plus a hand-written `Backward` for autodiff, each falling back to burn's own ops on
//! any other backend. burn's generic versions spent more time copying than computing; each
//! file's comment gives the measurement that justified it, and its tests compare values and
//! gradients with burn's ops. This crate depends on no other genlab crate.

pub mod fused;
pub mod fused_adam;
pub mod fused_bn;
pub mod fused_categorical;
mod gemm;
pub mod gemm_conv;
mod gemm_conv_kernels;
mod gemm_conv_nhwc;
pub mod lanes;
pub mod par;
pub mod vexp;

pub use ::gemm::Parallelism;
/// The strided f32 GEMM the convolution kernels share (also fast generation's).
pub use gemm::sgemm;
