//! Data spec strings, parsed once and loaded the same way by every command.

use crate::{folder, idx, shapes, table, toy, DataError, Dataset, ToyKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the Debian package `dataset-fashion-mnist` puts its files.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";
const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];
/// Sizes of the built-in generated sets: (train, test).
const SHAPES_SIZES: (usize, usize) = (12_000, 2_000);
const TOY_SIZES: (usize, usize) = (20_000, 5_000);
/// Fixed data seeds so that generated sets are the same for every run; test differs from train.
const TRAIN_DATA_SEED: u64 = 1;
const TEST_DATA_SEED: u64 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    #[default]
    Train,
    Test,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DataSpec {
    FashionMnist,
    Idx(PathBuf),
    Folder(PathBuf),
    Csv(PathBuf),
    Npy(PathBuf),
    Shapes,
    Toy(ToyKind),
}

impl DataSpec {
    /// The true modes of a toy mixture with discrete modes (ring of 8, grid of 25).
    pub fn modes(&self) -> Option<crate::toy::Modes> {
        match self {
            DataSpec::Toy(kind) => crate::toy::toy_modes(*kind),
            _ => None,
        }
    }

    pub fn parse(spec: &str) -> Result<Self, DataError> {
        Ok(match spec.split_once(':') {
            None if spec == "fashion-mnist" => Self::FashionMnist,
            None if spec == "shapes" => Self::Shapes,
            Some(("idx", dir)) => Self::Idx(dir.into()),
            Some(("folder", dir)) => Self::Folder(dir.into()),
            Some(("csv", file)) => Self::Csv(file.into()),
            Some(("npy", file)) => Self::Npy(file.into()),
            Some(("toy", name)) => Self::Toy(ToyKind::parse(name)?),
            _ => return Err(DataError::UnknownSpec { spec: spec.into() }),
        })
    }
}

/// Load one split of the dataset named by `spec`.
pub fn load(
    spec: &str,
    split: Split,
    data_dir: Option<&Path>,
    channels: usize,
    image_size: Option<u32>,
) -> Result<Dataset, DataError> {
    let test = split == Split::Test;
    let seed = if test {
        TEST_DATA_SEED
    } else {
        TRAIN_DATA_SEED
    };
    let pick = |sizes: (usize, usize)| if test { sizes.1 } else { sizes.0 };
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    match DataSpec::parse(spec)? {
        DataSpec::FashionMnist => {
            let dir = data_dir
                .map(Path::to_path_buf)
                .or_else(|| std::env::var_os("GENLAB_DATA").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from(FASHION_MNIST_DIR));
            if !dir.exists() {
                return Err(DataError::FashionMnistMissing { path: dir });
            }
            let classes = FASHION_CLASSES.iter().map(|s| s.to_string()).collect();
            idx::load_pair(&dir, prefix, "fashion-mnist", classes)
        }
        DataSpec::Idx(dir) => {
            let mut d = idx::load_pair(&dir, prefix, spec, Vec::new())?;
            d.name = spec.to_string();
            Ok(d)
        }
        DataSpec::Folder(dir) => {
            if split == Split::Test {
                return Err(DataError::Invalid(format!(
                    "{spec} has no test split; evaluate with --split train, or give a separate folder of test images"
                )));
            }
            folder::load(&dir, channels.max(1), image_size)
        }
        DataSpec::Csv(file) | DataSpec::Npy(file) => {
            if test {
                return Err(DataError::Invalid(format!(
                    "{spec} is one file with no test split; evaluate on another file with `--data {}:TEST_FILE --split train`",
                    &spec[..3]
                )));
            }
            if spec.starts_with("csv") {
                table::load_csv(&file, spec)
            } else {
                table::load_npy(&file, spec)
            }
        }
        DataSpec::Shapes => Ok(shapes::generate(pick(SHAPES_SIZES), seed)),
        DataSpec::Toy(kind) => Ok(toy::generate(kind, pick(TOY_SIZES), seed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fashion_mnist_says_how_to_install_it() {
        let err = load(
            "fashion-mnist",
            Split::Train,
            Some(Path::new("/nonexistent/fm")),
            1,
            None,
        )
        .err()
        .unwrap();
        assert!(
            err.to_string()
                .contains("apt-get install -y dataset-fashion-mnist"),
            "{err}"
        );
    }

    #[test]
    fn unknown_specs_list_the_valid_ones() {
        let err = DataSpec::parse("cifar").err().unwrap();
        assert!(err
            .to_string()
            .contains("fashion-mnist, idx:DIR, folder:DIR, csv:FILE"));
    }

    #[test]
    fn train_and_test_splits_differ() {
        let a = load("shapes", Split::Train, None, 1, None).unwrap();
        let b = load("shapes", Split::Test, None, 1, None).unwrap();
        assert_ne!(a.example(0), b.example(0));
        assert_eq!(b.len(), 2000);
    }
}
