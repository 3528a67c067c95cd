//! Autoregressive models: FVSBN, NADE, MADE and the PixelCNN family.

pub mod fvsbn;
pub mod gated_pixelcnn;
pub mod made;
pub mod nade;
pub mod pixelcnn;
pub mod pixelcnn_pp;
pub mod raster;
