//! How a data spec is read: the `data.*` keys that the loaders themselves use.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// `data.header`: whether a CSV's first row names its columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Header {
    /// Decided from the file (see `table.rs`) and printed with how to override it.
    #[default]
    Auto,
    True,
    False,
}

/// `data.channels`: `"auto"` (the files' own count: 3 when any image has colour), 1 (grey) or
/// 3 (RGB). Written into a run's config.toml resolved to the count it loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Channels {
    #[default]
    Auto,
    Grey,
    Rgb,
}

impl Channels {
    /// The resolved setting for data of `c` channels.
    pub fn count(c: usize) -> Self {
        if c == 3 {
            Self::Rgb
        } else {
            Self::Grey
        }
    }
}

impl Serialize for Channels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Auto => s.serialize_str("auto"),
            Self::Grey => s.serialize_u64(1),
            Self::Rgb => s.serialize_u64(3),
        }
    }
}

impl<'de> Deserialize<'de> for Channels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(i64),
            Text(String),
        }
        let bad = |found: String| {
            serde::de::Error::custom(format!(
                "data.channels must be \"auto\", 1 or 3, found {found}"
            ))
        };
        match Raw::deserialize(d)? {
            Raw::Count(1) => Ok(Self::Grey),
            Raw::Count(3) => Ok(Self::Rgb),
            Raw::Text(t) if t == "auto" => Ok(Self::Auto),
            Raw::Count(n) => Err(bad(n.to_string())),
            Raw::Text(t) => Err(bad(format!("\"{t}\""))),
        }
    }
}

/// Everything a loader needs besides the spec and split.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions<'a> {
    /// Folder of the Fashion-MNIST files (None: GENLAB_DATA or the Debian path).
    pub data_dir: Option<&'a Path>,
    pub channels: Channels,
    /// Resize folder images to this square size.
    pub image_size: Option<u32>,
    pub header: Header,
}
