//! The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a magic
//! number `0 0 type ndim`, `ndim` big-endian u32 sizes, then the raw bytes. Files may be gzipped.
//! Written by hand: it is twenty lines and no crate reads it with errors as precise as these.

use crate::{DataError, Dataset, Kind, Shape};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

const UBYTE: u8 = 0x08;

/// One IDX array of unsigned bytes.
pub(crate) struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Find `stem` or `stem.gz` in `dir`.
pub(crate) fn find(dir: &Path, stem: &str) -> Result<PathBuf, DataError> {
    for name in [stem.to_string(), format!("{stem}.gz")] {
        let p = dir.join(name);
        if p.exists() {
            return Ok(p);
        }
    }
    Err(DataError::IdxMissing {
        path: dir.to_path_buf(),
        stem: stem.to_string(),
    })
}

pub(crate) fn read(path: &Path) -> Result<IdxArray, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| bad(path, format!("gzip stream is corrupt or truncated ({e})")))?;
        out
    } else {
        raw
    };
    parse(path, &bytes)
}

fn bad(path: &Path, problem: String) -> DataError {
    DataError::BadIdx {
        path: path.to_path_buf(),
        problem,
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<IdxArray, DataError> {
    if bytes.len() < 4 {
        return Err(bad(
            path,
            format!(
                "expected at least a 4-byte header, found {} bytes",
                bytes.len()
            ),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(
            path,
            format!(
                "expected magic 00 00 xx xx, found {:02x} {:02x}",
                bytes[0], bytes[1]
            ),
        ));
    }
    if bytes[2] != UBYTE {
        return Err(bad(
            path,
            format!(
                "expected element type 0x08 (unsigned byte), found 0x{:02x}",
                bytes[2]
            ),
        ));
    }
    let ndim = bytes[3] as usize;
    let header = 4 + 4 * ndim;
    if ndim == 0 || bytes.len() < header {
        return Err(bad(
            path,
            format!(
                "header declares {ndim} dimensions but the file has {} bytes",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let want: usize = dims.iter().product();
    let found = bytes.len() - header;
    if found != want {
        return Err(bad(
            path,
            format!("dimensions {dims:?} need {want} data bytes, found {found} (file truncated or corrupt)"),
        ));
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// Load `{prefix}-images-idx3-ubyte` and `{prefix}-labels-idx1-ubyte` from `dir`.
pub(crate) fn load_pair(
    dir: &Path,
    prefix: &str,
    name: &str,
    classes: Vec<String>,
) -> Result<Dataset, DataError> {
    let img_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let lab_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = read(&img_path)?;
    let labels = read(&lab_path)?;
    if images.dims.len() != 3 {
        return Err(bad(
            &img_path,
            format!("expected 3 dimensions [n, h, w], found {:?}", images.dims),
        ));
    }
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(bad(
            &lab_path,
            format!(
                "expected {} labels to match the images, found dimensions {:?}",
                images.dims[0], labels.dims
            ),
        ));
    }
    let n_classes = labels.data.iter().copied().max().unwrap_or(0) as usize + 1;
    let classes = if classes.len() >= n_classes {
        classes
    } else {
        (0..n_classes).map(|c| c.to_string()).collect()
    };
    let x = images.data.iter().map(|&b| b as f32 / 255.0).collect();
    Ok(Dataset {
        name: name.to_string(),
        kind: Kind::Images,
        shape: Shape {
            c: 1,
            h: images.dims[1],
            w: images.dims[2],
        },
        x,
        y: Some(labels.data.iter().map(|&b| b as u32).collect()),
        classes,
        binary: false,
        skipped: Vec::new(),
        notes: Vec::new(),
        raw: None,
        standardization: None,
        columns: Vec::new(),
        input: None,
    }
    .mark_binary())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, UBYTE, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn parses_a_well_formed_array() {
        let a = parse(Path::new("x"), &idx_bytes(&[2, 2], &[1, 2, 3, 4])).unwrap();
        assert_eq!(a.dims, vec![2, 2]);
        assert_eq!(a.data, vec![1, 2, 3, 4]);
    }

    #[test]
    fn reports_expected_and_found_bytes_when_truncated() {
        let err = parse(Path::new("x"), &idx_bytes(&[2, 2], &[1, 2, 3]))
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(msg.contains("need 4 data bytes, found 3"), "{msg}");
    }

    #[test]
    fn rejects_a_wrong_magic_number() {
        let err = parse(Path::new("x"), &[1, 2, 3, 4, 5]).err().unwrap();
        assert!(err.to_string().contains("expected magic"));
    }
}
