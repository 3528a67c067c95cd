//! The Adam/AdamW update as one pass over each parameter on the flex CPU backend.
//!
//! Written with tensor ops, one Adam step is ~14 passes over the parameter (each `mul_scalar`,
//! `add`, `sqrt`, `div` reads and writes a full buffer); for the MLP VAE of W1 that was ~10% of
//! the training step. Here each element is read and written once, in the same arithmetic order
//! as the tensor form (so runs stay deterministic and resumable bit for bit):
//!
//! ```text
//! g ← g + l2·θ          m ← β1·m + (1-β1)·g          v ← β2·v + (1-β2)·g²
//! θ ← decay·θ - lr · (m / bc1) / (sqrt(v / bc2) + eps)
//! ```

use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Dispatch, DispatchDevice, ExtensionType};
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

/// The scalars of one step (bias corrections already computed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    /// `1 - β1` and `1 - β2`, rounded from f64 as the tensor form's scalars are.
    pub one_minus_beta1: f32,
    pub one_minus_beta2: f32,
    pub eps: f32,
    /// `1 - β1^t` and `1 - β2^t`.
    pub bc1: f32,
    pub bc2: f32,
    /// Adam's L2 penalty folded into the gradient (0 for none).
    pub l2: f32,
    /// AdamW's decoupled decay factor `1 - lr·wd` on θ (1 for none).
    pub decay: f32,
}

/// The new θ, m and v, each its own contiguous buffer.
#[derive(ExtensionType)]
pub struct AdamState<B: Backend> {
    pub theta: FloatTensor<B>,
    pub m: FloatTensor<B>,
    pub v: FloatTensor<B>,
}

#[backend_extension(Flex)]
pub trait FusedAdam: Backend {
    /// `θ, g, m, v [n]` -> the new θ, m and v.
    fn fused_adam(
        theta: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: AdamStep,
    ) -> AdamState<Self>;
}

const CHUNK: usize = 1 << 13;

impl FusedAdam for Flex {
    fn fused_adam(
        theta: FlexTensor,
        grad: FlexTensor,
        m: FlexTensor,
        v: FlexTensor,
        s: AdamStep,
    ) -> AdamState<Flex> {
        let ts = [theta, grad, m, v].map(|t| {
            assert_eq!(t.dtype(), DType::F32, "fused_adam: only f32 tensors");
            t.to_contiguous()
        });
        let [theta, grad, m, v] = ts
            .each_ref()
            .map(|t| t.as_slice::<f32>().expect("contiguous"));
        let n = theta.len();
        let (mut out_theta, mut out_m, mut out_v) =
            (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
        let (new_theta, new_m, new_v) = (&mut out_theta, &mut out_m, &mut out_v);
        new_theta
            .par_chunks_mut(CHUNK)
            .zip(new_m.par_chunks_mut(CHUNK).zip(new_v.par_chunks_mut(CHUNK)))
            .enumerate()
            .for_each(|(k, (nt, (nm, nv)))| {
                let r = k * CHUNK..k * CHUNK + nt.len();
                let inputs = theta[r.clone()].iter().zip(&grad[r.clone()]);
                let inputs = inputs.zip(m[r.clone()].iter().zip(&v[r]));
                let outputs = nt.iter_mut().zip(nm.iter_mut().zip(nv.iter_mut()));
                for ((nt, (nm, nv)), ((&t, &g), (&m, &v))) in outputs.zip(inputs) {
                    let g = if s.l2 != 0.0 { g + t * s.l2 } else { g };
                    let m = m * s.beta1 + g * s.one_minus_beta1;
                    let v = v * s.beta2 + g * g * s.one_minus_beta2;
                    let denom = (v / s.bc2).sqrt() + s.eps;
                    let t = if s.decay != 1.0 { t * s.decay } else { t };
                    *nt = t - m / s.bc1 / denom * s.lr;
                    (*nm, *nv) = (m, v);
                }
            });
        let tensor = |data: Vec<f32>| FlexTensor::from_data(TensorData::new(data, [n]));
        AdamState {
            theta: tensor(out_theta),
            m: tensor(out_m),
            v: tensor(out_v),
        }
    }
}

/// One Adam step on flex: `Some((θ, m, v))`; `None` on another backend (use the tensor form).
pub fn adam_step(
    theta: Tensor<1>,
    grad: Tensor<1>,
    m: Tensor<1>,
    v: Tensor<1>,
    step: AdamStep,
) -> Option<(Tensor<1>, Tensor<1>, Tensor<1>)> {
    // Slots restored from a checkpoint may sit on the autodiff device: the step is not
    // differentiated, so work on the inner tensors.
    let [theta, grad, m, v] = [theta, grad, m, v].map(Tensor::inner);
    if !matches!(theta.device().as_dispatch(), DispatchDevice::Flex(_)) {
        return None;
    }
    let out = <Dispatch as FusedAdam>::fused_adam(
        theta.into_dispatch(),
        grad.into_dispatch(),
        m.into_dispatch(),
        v.into_dispatch(),
        step,
    );
    Some((
        Tensor::from_dispatch(out.theta),
        Tensor::from_dispatch(out.m),
        Tensor::from_dispatch(out.v),
    ))
}
