//! Image-to-image translation: models that map an input image to an output image, trained on
//! the paired tasks of genlab-data (`edges:SPEC`, `downscale(F):SPEC`, ...).

pub mod context_encoder;
pub mod cyclegan;
pub mod discogan;
pub mod pix2pix;
pub mod srgan;
pub mod srresnet;
