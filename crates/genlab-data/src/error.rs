use std::path::PathBuf;

/// Every way loading data can fail, each with the fix in its message.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("Fashion-MNIST not found: {path} does not exist.\n  fix: `apt-get install -y dataset-fashion-mnist`, or point --data-dir / GENLAB_DATA at a folder holding train-images-idx3-ubyte(.gz) and the other three IDX files")]
    FashionMnistMissing { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid IDX file: {problem}")]
    BadIdx { path: PathBuf, problem: String },
    #[error("{path}: no IDX file named {stem} or {stem}.gz (expected the standard MNIST layout: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)")]
    IdxMissing { path: PathBuf, stem: String },
    #[error("{path} holds no PNG or JPEG images")]
    EmptyFolder { path: PathBuf },
    #[error("{path}: image {found_w}x{found_h} differs from the first image's {want_w}x{want_h}; resize them all alike, or set data.image_size to resize on load")]
    MixedSizes {
        path: PathBuf,
        want_w: u32,
        want_h: u32,
        found_w: u32,
        found_h: u32,
    },
    #[error("cannot decode image {path}: {problem}")]
    BadImage { path: PathBuf, problem: String },
    #[error("unknown data spec `{spec}`; valid: fashion-mnist, idx:DIR, folder:DIR, pairs:DIR (A/ and B/ matched by file name), csv:FILE, npy:FILE, shapes, colour-shapes, toy:ring8, toy:grid25, toy:moons, toy:swissroll, toy:checkerboard; image-to-image tasks wrap an image spec: edges:SPEC, downscale(2):SPEC, hole:SPEC, noisy:SPEC, grey:SPEC")]
    UnknownSpec { spec: String },
    #[error("unknown toy set `{name}`; valid: ring8, grid25, moons, swissroll, checkerboard")]
    UnknownToy { name: String },
    #[error("{path}: {problem}")]
    BadTable { path: PathBuf, problem: String },
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
