//! Image-to-image translation: models that map an input image to an output image, trained on
//! the paired tasks of genlab-data (`edges:SPEC`, `downscale(F):SPEC`, ...).

pub mod context_encoder;
pub mod cyclegan;
pub mod discogan;
pub mod pix2pix;
pub mod srgan;
pub mod srresnet;

use burn::tensor::{Tensor, TensorData};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// The rows of `a` in a random order from `rng`: an unpaired model trained on a paired task
/// (`edges:SPEC`) never sees a pair.
pub(crate) fn unpair(a: Tensor<2>, rng: &mut ChaCha8Rng) -> Tensor<2> {
    let n = a.dims()[0];
    let mut order: Vec<i64> = (0..n as i64).collect();
    order.shuffle(rng);
    let idx = Tensor::from_data(TensorData::new(order, [n]), &a.device());
    a.select(0, idx)
}
