//! Datasets for genlab. Every dataset is named by a spec string (`fashion-mnist`, `idx:DIR`,
//! `folder:DIR`, `csv:FILE`, `npy:FILE`, `toy:ring8`, `shapes`) and loads into one in-memory [`Dataset`].
//! This crate knows no tensors and no models.

mod dataset;
mod error;
mod folder;
pub use folder::{decode_upload, read_image, UPLOAD_MAX_SIDE};
mod idx;
mod options;
mod preprocess;
mod shapes;
mod spec;
mod standardize;
mod table;
mod tasks;
mod toy;

pub use dataset::{Dataset, Kind, Shape};
pub use error::DataError;
pub use options::{Channels, Header, LoadOptions};
pub use preprocess::{Binarize, Preprocess, Scale, STATIC_BINARIZATION_SEED};
pub use spec::{load, DataSpec, Split, FASHION_MNIST_DIR};
pub use standardize::{Standardization, Standardize};
pub use table::{npy_bytes, read_npy};
pub use tasks::{area_average, luminance, Hole, InputKind, Inputs, Task};
pub use toy::{toy_modes, Modes, ToyKind};
