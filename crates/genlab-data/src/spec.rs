//! Data spec strings, parsed once and loaded the same way by every command.

use crate::{folder, idx, shapes, table, toy, DataError, Dataset, LoadOptions, Task, ToyKind};
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

/// A data spec such as `shapes`, `toy:ring8` or `folder:DIR`. Parsed once ([`FromStr`]) and
/// written back exactly as given ([`Display`](std::fmt::Display)), which is also how serde
/// reads and writes it: `spec = "shapes"` in config.toml.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSpec {
    FashionMnist,
    Idx(PathBuf),
    Folder(PathBuf),
    /// `pairs:DIR`: DIR/A and DIR/B matched by file name, a paired task from the user's images.
    Pairs(PathBuf),
    Csv(PathBuf),
    Npy(PathBuf),
    Shapes,
    /// The shapes in colour on coloured ground (`colour-shapes`): built-in colour images.
    ColourShapes,
    Toy(ToyKind),
    /// A paired image-to-image task made from another spec (`edges:fashion-mnist`).
    Task(Task, Box<DataSpec>),
}

impl DataSpec {
    /// The true modes of a toy mixture with discrete modes (ring of 8, grid of 25).
    pub fn modes(&self) -> Option<crate::toy::Modes> {
        match self {
            DataSpec::Toy(kind) => crate::toy::toy_modes(*kind),
            _ => None,
        }
    }

    /// The data a task is made from (`fashion-mnist` for `edges:fashion-mnist`); the spec
    /// itself for any other.
    pub fn base(&self) -> &DataSpec {
        match self {
            DataSpec::Task(_, inner) => inner.base(),
            other => other,
        }
    }

    /// One grammar for every spec: `NAME`, `NAME:REST` or `NAME(ARGS):REST`. The head before the
    /// first `:` never holds a path and REST is taken whole, so paths keep their colons, spaces
    /// and brackets (`downscale(2):folder:C:/my pictures (old)/[1]`).
    pub fn parse(spec: &str) -> Result<Self, DataError> {
        if let Some((head, rest)) = spec.split_once(':') {
            let (name, args) = match head.split_once('(') {
                Some((name, args)) if args.ends_with(')') => (name, Some(&args[..args.len() - 1])),
                _ => (head, None),
            };
            if let Some(task) = Task::parse(name, args) {
                return Ok(Self::Task(task?, Box::new(Self::parse(rest)?)));
            }
        }
        Ok(match spec.split_once(':') {
            None if spec == "fashion-mnist" => Self::FashionMnist,
            None if spec == "shapes" => Self::Shapes,
            None if spec == "colour-shapes" => Self::ColourShapes,
            Some(("idx", dir)) => Self::Idx(dir.into()),
            Some(("folder", dir)) => Self::Folder(dir.into()),
            Some(("pairs", dir)) => Self::Pairs(dir.into()),
            Some(("csv", file)) => Self::Csv(file.into()),
            Some(("npy", file)) => Self::Npy(file.into()),
            Some(("toy", name)) => Self::Toy(ToyKind::parse(name)?),
            _ => return Err(DataError::UnknownSpec { spec: spec.into() }),
        })
    }
}

impl std::str::FromStr for DataSpec {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, DataError> {
        Self::parse(s)
    }
}

impl std::fmt::Display for DataSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = |prefix: &str, p: &Path, f: &mut std::fmt::Formatter<'_>| {
            write!(f, "{prefix}:{}", p.display())
        };
        match self {
            Self::FashionMnist => f.write_str("fashion-mnist"),
            Self::Shapes => f.write_str("shapes"),
            Self::Idx(dir) => path("idx", dir, f),
            Self::Folder(dir) => path("folder", dir, f),
            Self::Pairs(dir) => path("pairs", dir, f),
            Self::Csv(file) => path("csv", file, f),
            Self::Npy(file) => path("npy", file, f),
            Self::Toy(kind) => write!(f, "toy:{}", kind.name()),
            Self::ColourShapes => f.write_str("colour-shapes"),
            Self::Task(task, inner) => write!(f, "{}:{inner}", task.head()),
        }
    }
}

impl Serialize for DataSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DataSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Load one split of the dataset named by `spec`.
pub fn load(spec: &DataSpec, split: Split, options: &LoadOptions) -> Result<Dataset, DataError> {
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
    let name = spec.to_string();
    match spec {
        DataSpec::FashionMnist => {
            let dir = options
                .data_dir
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
            let mut d = idx::load_pair(dir, prefix, &name, Vec::new())?;
            d.name = name;
            Ok(d)
        }
        DataSpec::Folder(dir) => {
            if split == Split::Test {
                return Err(DataError::Invalid(format!(
                    "{name} has no test split; evaluate with --split train, or give a separate folder of test images"
                )));
            }
            folder::load(dir, options.channels, options.image_size)
        }
        DataSpec::Pairs(dir) => {
            if split == Split::Test {
                return Err(DataError::Invalid(format!(
                    "{name} has no test split; evaluate with --split train, or on a second folder of pairs with --data pairs:TEST_DIR --split train"
                )));
            }
            folder::load_pairs(dir, options.channels, options.image_size)
        }
        DataSpec::Csv(_) | DataSpec::Npy(_) if test => Err(DataError::Invalid(format!(
            "{name} is one file with no test split; evaluate on another file with `--data {}:TEST_FILE --split train`",
            &name[..3]
        ))),
        DataSpec::Csv(file) => table::load_csv(file, &name, options.header),
        DataSpec::Npy(file) => table::load_npy(file, &name),
        DataSpec::Shapes => Ok(shapes::generate(pick(SHAPES_SIZES), seed)),
        DataSpec::ColourShapes => Ok(shapes::generate_colour(pick(SHAPES_SIZES), seed)),
        DataSpec::Task(task, inner) => task.apply(load(inner, split, options)?, test),
        DataSpec::Toy(kind) => Ok(toy::generate(*kind, pick(TOY_SIZES), seed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fashion_mnist_says_how_to_install_it() {
        let err = load(
            &DataSpec::FashionMnist,
            Split::Train,
            &LoadOptions {
                data_dir: Some(Path::new("/nonexistent/fm")),
                ..LoadOptions::default()
            },
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
            .contains("fashion-mnist, idx:DIR, folder:DIR, pairs:DIR"));
    }

    #[test]
    fn specs_print_exactly_as_given() {
        for text in [
            "fashion-mnist",
            "shapes",
            "idx:/data/fm",
            "folder:my \"odd\" \\images/",
            "csv:x.csv",
            "npy:../a b.npy",
            "toy:ring8",
            "toy:grid25",
            "toy:moons",
            "toy:swissroll",
            "toy:checkerboard",
            "colour-shapes",
            "edges:fashion-mnist",
            "edges(0.3):shapes",
            "downscale(4):folder:C:/my pictures (old)/[1]:x",
            "hole(12):noisy(0.5):idx:/data/a b",
            "grey:folder:/p/q(1)",
            "pairs:/data/my pairs (2):x",
        ] {
            let spec: DataSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
        }
    }

    #[test]
    fn task_specs_keep_the_whole_path() {
        let spec: DataSpec = "downscale(4):folder:C:/my pictures (old)/[1]:x"
            .parse()
            .unwrap();
        let DataSpec::Task(Task::Downscale(4), inner) = spec else {
            panic!("{spec:?}")
        };
        assert_eq!(
            *inner,
            DataSpec::Folder("C:/my pictures (old)/[1]:x".into())
        );
        // A folder whose name looks like a task is still a folder.
        let spec: DataSpec = "folder:edges(2):x".parse().unwrap();
        assert_eq!(spec, DataSpec::Folder("edges(2):x".into()));
    }

    #[test]
    fn train_and_test_splits_differ() {
        let a = load(&DataSpec::Shapes, Split::Train, &LoadOptions::default()).unwrap();
        let b = load(&DataSpec::Shapes, Split::Test, &LoadOptions::default()).unwrap();
        assert_ne!(a.example(0), b.example(0));
        assert_eq!(b.len(), 2000);
    }
}
