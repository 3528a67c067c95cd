//! A folder of PNG/JPEG images, optionally one subfolder per class. Images are converted to
//! grayscale or RGB and, when `size` is given, resized (Lanczos) to `size x size`.

use crate::{DataError, Dataset, Kind, Shape};
use std::path::{Path, PathBuf};

fn is_image(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("png" | "jpg" | "jpeg")
    )
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

/// Pixels in [0, 1], channel-major `[c, h, w]` as the models expect; `channels` 1 or 3.
fn pixels(img: &image::DynamicImage, channels: usize) -> Vec<f32> {
    if channels == 1 {
        img.to_luma8()
            .into_raw()
            .into_iter()
            .map(|b| b as f32 / 255.0)
            .collect()
    } else {
        let rgb = img.to_rgb8();
        (0..3)
            .flat_map(|c| rgb.pixels().map(move |p| p.0[c] as f32 / 255.0))
            .collect()
    }
}

/// One PNG/JPEG file as pixels in [0, 1] (`[c, h, w]`) with its shape.
pub fn read_image(path: &Path, channels: usize) -> Result<(Vec<f32>, Shape), DataError> {
    let img = image::open(path).map_err(|e| DataError::BadImage {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    let shape = Shape {
        c: channels,
        h: img.height() as usize,
        w: img.width() as usize,
    };
    Ok((pixels(&img, channels), shape))
}

/// `channels` is 1 (grayscale) or 3 (RGB); `size` resizes every image to a square.
pub(crate) fn load(dir: &Path, channels: usize, size: Option<u32>) -> Result<Dataset, DataError> {
    if !dir.is_dir() {
        return Err(DataError::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
        ));
    }
    let entries = sorted_entries(dir)?;
    let subdirs: Vec<&PathBuf> = entries.iter().filter(|p| p.is_dir()).collect();
    let mut files: Vec<(PathBuf, u32)> = entries
        .iter()
        .filter(|p| is_image(p))
        .map(|p| (p.clone(), 0))
        .collect();
    let mut classes = Vec::new();
    if files.is_empty() && !subdirs.is_empty() {
        for (c, sub) in subdirs.iter().enumerate() {
            classes.push(sub.file_name().unwrap().to_string_lossy().to_string());
            for p in sorted_entries(sub)?.into_iter().filter(|p| is_image(p)) {
                files.push((p, c as u32));
            }
        }
    }
    if files.is_empty() {
        return Err(DataError::EmptyFolder {
            path: dir.to_path_buf(),
        });
    }
    let mut x = Vec::new();
    let mut first: Option<(u32, u32)> = None;
    for (path, _) in &files {
        let img = image::open(path).map_err(|e| DataError::BadImage {
            path: path.clone(),
            problem: e.to_string(),
        })?;
        let img = match size {
            Some(s) => img.resize_exact(s, s, image::imageops::FilterType::Lanczos3),
            None => img,
        };
        let (w, h) = (img.width(), img.height());
        match first {
            None => first = Some((w, h)),
            Some((fw, fh)) if (fw, fh) != (w, h) => {
                return Err(DataError::MixedSizes {
                    path: path.clone(),
                    want_w: fw,
                    want_h: fh,
                    found_w: w,
                    found_h: h,
                })
            }
            _ => {}
        }
        x.extend(pixels(&img, channels));
    }
    let (w, h) = first.unwrap();
    let labelled = !classes.is_empty();
    Ok(Dataset {
        name: format!("folder:{}", dir.display()),
        kind: Kind::Images,
        shape: Shape {
            c: channels,
            h: h as usize,
            w: w as usize,
        },
        x,
        y: labelled.then(|| files.iter().map(|(_, c)| *c).collect()),
        classes,
        binary: false,
    }
    .mark_binary())
}
