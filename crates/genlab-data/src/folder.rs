//! A folder of PNG/JPEG images, optionally one subfolder per class. Images are converted to
//! grayscale or RGB and, when `size` is given, resized (Lanczos) to `size x size`.
//!
//! What is data: image files (`.png`, `.jpg`, `.jpeg`, any case) directly in the folder, or, when
//! it holds none, in its subfolders, one class per subfolder in name order. What is not, and is
//! reported in `Dataset::skipped`: hidden entries (a name starting with `.`: `.ipynb_checkpoints/`
//! that Jupyter saves beside notebooks, `.git/`, `.DS_Store`, macOS `._name.png` resource forks),
//! `__MACOSX/` folders that macOS archives unpack, and subfolders holding no images (they would
//! be classes without examples). Other files (`labels.csv`, `Thumbs.db`) are not images and are
//! passed over silently.

use crate::{Channels, DataError, Dataset, Kind, Shape};
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

/// Folder names of a train/test layout (compared in lower case).
const SPLIT_NAMES: [&str; 6] = ["train", "training", "test", "testing", "val", "valid"];

/// Hidden entries and archive metadata: never data.
fn not_data(p: &Path) -> Option<&'static str> {
    let name = p.file_name()?.to_string_lossy();
    if name.starts_with('.') {
        Some("hidden")
    } else if name == "__MACOSX" {
        Some("macOS archive metadata")
    } else {
        None
    }
}

/// The entries of `dir` in name order, without what is not data (noted in `skipped`).
fn sorted_entries(dir: &Path, skipped: &mut Vec<String>) -> Result<Vec<PathBuf>, DataError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    v.retain(|p| match not_data(p) {
        Some(why) => {
            skipped.push(format!("{} ({why})", p.display()));
            false
        }
        None => true,
    });
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

/// The largest side [`decode_upload`] decodes, in pixels.
pub const UPLOAD_MAX_SIDE: u32 = 4096;

/// Image bytes from a user (the studio's uploads): PNG or JPEG decoded in memory with limits
/// (each side at most [`UPLOAD_MAX_SIDE`], at most 256 MiB of decoded pixels, so a small file
/// cannot claim huge memory), resized to `size` (w, h) with a triangle filter, as `channels`
/// pixels in [0, 1] (`[c, h, w]`). Nothing is written anywhere. Errors name the problem.
pub fn decode_upload(
    bytes: &[u8],
    channels: usize,
    size: (u32, u32),
) -> Result<Vec<f32>, DataError> {
    let bad = |problem: String| DataError::BadImage {
        path: "upload".into(),
        problem,
    };
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(UPLOAD_MAX_SIDE);
    limits.max_image_height = Some(UPLOAD_MAX_SIDE);
    limits.max_alloc = Some(256 << 20);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| {
        bad(format!(
            "not a PNG or JPEG image that fits the limits ({e})"
        ))
    })?;
    let img = img.resize_exact(size.0, size.1, image::imageops::FilterType::Triangle);
    Ok(pixels(&img, channels))
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

/// `pairs:DIR`: the images of `DIR/A` (inputs) and `DIR/B` (targets) matched by file name, a
/// paired image-to-image task from the user's own pictures. Every image needs its partner:
/// unmatched names are an error that lists them. `channels` and `size` apply to both folders.
pub(crate) fn load_pairs(
    dir: &Path,
    channels: Channels,
    size: Option<u32>,
) -> Result<Dataset, DataError> {
    let mut skipped = Vec::new();
    let mut names = |side: &str| -> Result<Vec<String>, DataError> {
        let d = dir.join(side);
        if !d.is_dir() {
            return Err(DataError::Invalid(format!(
                "pairs:{}: no folder {side}/ in it; pairs:DIR takes DIR/A/ (inputs) and DIR/B/ (targets), matched by file name",
                dir.display()
            )));
        }
        Ok(sorted_entries(&d, &mut skipped)?
            .into_iter()
            .filter(|p| is_image(p))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
            .collect())
    };
    let (a, b) = (names("A")?, names("B")?);
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter().filter(|n| !y.contains(n)).cloned().collect()
    };
    let (only_a, only_b) = (only(&a, &b), only(&b, &a));
    if !only_a.is_empty() || !only_b.is_empty() || a.is_empty() {
        let list = |v: &[String]| {
            let shown: Vec<&str> = v.iter().take(5).map(String::as_str).collect();
            let more = if v.len() > 5 {
                format!(", and {} more", v.len() - 5)
            } else {
                String::new()
            };
            format!("{}{more}", shown.join(", "))
        };
        let mut why = Vec::new();
        if a.is_empty() {
            why.push("A/ holds no PNG or JPEG images".to_string());
        }
        if !only_a.is_empty() {
            why.push(format!(
                "{} in A/ without a partner in B/ ({})",
                only_a.len(),
                list(&only_a)
            ));
        }
        if !only_b.is_empty() {
            why.push(format!(
                "{} in B/ without a partner in A/ ({})",
                only_b.len(),
                list(&only_b)
            ));
        }
        return Err(DataError::Invalid(format!(
            "pairs:{}: {}; every image in A/ needs one of the same file name in B/",
            dir.display(),
            why.join("; ")
        )));
    }
    let inputs = load(&dir.join("A"), channels, size)?;
    let mut data = load(&dir.join("B"), channels, size)?;
    data.name = format!("pairs:{}", dir.display());
    data.notes.extend(inputs.notes);
    data.input = Some(crate::Inputs {
        shape: inputs.shape,
        x: inputs.x,
        caption: "A/".into(),
        paired: true,
        hole: None,
    });
    Ok(data)
}

/// `channels`: grey, RGB, or auto (RGB when any image has colour); `size` resizes every image to
/// a square. Colour dropped to grey is noted with how to keep it.
pub(crate) fn load(
    dir: &Path,
    channels: Channels,
    size: Option<u32>,
) -> Result<Dataset, DataError> {
    if !dir.is_dir() {
        return Err(DataError::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
        ));
    }
    let mut skipped = Vec::new();
    let entries = sorted_entries(dir, &mut skipped)?;
    let subdirs: Vec<&PathBuf> = entries.iter().filter(|p| p.is_dir()).collect();
    let mut files: Vec<(PathBuf, u32)> = entries
        .iter()
        .filter(|p| is_image(p))
        .map(|p| (p.clone(), 0))
        .collect();
    let mut classes = Vec::new();
    if files.is_empty() && !subdirs.is_empty() {
        for &sub in &subdirs {
            let images: Vec<PathBuf> = sorted_entries(sub, &mut skipped)?
                .into_iter()
                .filter(|p| is_image(p))
                .collect();
            if images.is_empty() {
                if SPLIT_NAMES.contains(
                    &sub.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .to_ascii_lowercase()
                        .as_str(),
                ) {
                    continue;
                }
                skipped.push(format!("{} (no images: not a class)", sub.display()));
                continue;
            }
            let c = classes.len() as u32;
            classes.push(sub.file_name().unwrap().to_string_lossy().to_string());
            files.extend(images.into_iter().map(|p| (p, c)));
        }
    }
    if files.is_empty() {
        // A split layout (train/, test/, each with class folders): name the folder to give.
        let splits: Vec<String> = subdirs
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
            .filter(|n| SPLIT_NAMES.contains(&n.to_ascii_lowercase().as_str()))
            .collect();
        if !splits.is_empty() {
            let pick = |prefix: &str| {
                let found = splits
                    .iter()
                    .find(|n| n.to_ascii_lowercase().starts_with(prefix));
                found.unwrap_or(&splits[0]).clone()
            };
            let (train, test) = (pick("train"), pick("t"));
            return Err(DataError::Invalid(format!(
                "{} holds split folders ({}) rather than images or class folders; train on one, e.g. --data folder:{}, and evaluate on another with `genlab eval RUN --data folder:{} --split train`",
                dir.display(),
                splits.join(", "),
                dir.join(train).display(),
                dir.join(test).display()
            )));
        }
        return Err(DataError::EmptyFolder {
            path: dir.to_path_buf(),
        });
    }
    // Both renderings as bytes until the channel count is known (auto needs every file).
    let (mut grey, mut rgb) = (Vec::new(), Vec::new());
    let mut coloured = 0;
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
        coloured += img.color().has_color() as usize;
        if channels != Channels::Rgb {
            grey.extend(img.to_luma8().into_raw());
        }
        if channels != Channels::Grey {
            let rgb8 = img.to_rgb8();
            rgb.extend((0..3).flat_map(|c| rgb8.pixels().map(move |p| p.0[c])));
        }
    }
    let mut notes = Vec::new();
    let c = match channels {
        Channels::Grey => 1,
        Channels::Rgb => 3,
        Channels::Auto if coloured > 0 => 3,
        Channels::Auto => 1,
    };
    if c == 1 && coloured > 0 {
        notes.push(format!(
            "{}: {coloured} of {} images have colour, loaded as grey because data.channels = 1; set data.channels = \"auto\" (or 3) to keep colour",
            dir.display(),
            files.len()
        ));
    } else if c == 3 && channels == Channels::Auto {
        notes.push(format!(
            "{}: {coloured} of {} images have colour, loaded as RGB (data.channels = \"auto\"); set data.channels = 1 for grey",
            dir.display(),
            files.len()
        ));
    }
    let bytes = if c == 1 { grey } else { rgb };
    let (w, h) = first.unwrap();
    let labelled = !classes.is_empty();
    Ok(Dataset {
        name: format!("folder:{}", dir.display()),
        kind: Kind::Images,
        shape: Shape {
            c,
            h: h as usize,
            w: w as usize,
        },
        x: bytes.into_iter().map(|b| b as f32 / 255.0).collect(),
        y: labelled.then(|| files.iter().map(|(_, c)| *c).collect()),
        classes,
        binary: false,
        skipped,
        notes,
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

    fn png(path: &Path, v: u8) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::GrayImage::from_pixel(4, 4, image::Luma([v]))
            .save(path)
            .unwrap();
    }

    #[test]
    fn pairs_are_matched_by_file_name_in_paths_with_odd_characters() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("my pairs (v2) [x]:y");
        for (name, v) in [("b.png", 20u8), ("a.png", 10)] {
            png(&d.join("A").join(name), v);
            png(&d.join("B").join(name), v + 100);
        }
        let spec: crate::DataSpec = format!("pairs:{}", d.display()).parse().unwrap();
        let data = crate::load(&spec, crate::Split::Train, &Default::default()).unwrap();
        let input = data.input.as_ref().unwrap();
        // Sorted by name: a, then b; each input beside its own target.
        assert_eq!((input.example(0)[0] * 255.0).round(), 10.0);
        assert_eq!((data.example(0)[0] * 255.0).round(), 110.0);
        assert_eq!((input.example(1)[0] * 255.0).round(), 20.0);
        png(&d.join("A/c.png"), 0);
        png(&d.join("B/d.png"), 0);
        let err = crate::load(&spec, crate::Split::Train, &Default::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1 in A/ without a partner in B/ (c.png)")
                && err.contains("1 in B/ without a partner in A/ (d.png)"),
            "{err}"
        );
        let err = crate::load(
            &format!("pairs:{}", tmp.path().display()).parse().unwrap(),
            crate::Split::Train,
            &Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no folder A/"), "{err}");
    }

    #[test]
    fn hidden_folders_and_archive_metadata_are_not_classes() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        png(&d.join("boot/a.png"), 10);
        png(&d.join("coat/b.png"), 200);
        png(&d.join("coat/c.PNG"), 200);
        // Jupyter's checkpoints, a macOS archive's metadata and resource fork, an empty folder.
        png(&d.join(".ipynb_checkpoints/x.png"), 0);
        png(&d.join("__MACOSX/coat/._b.png"), 0);
        std::fs::write(d.join("coat/._b.png"), b"not a png").unwrap();
        std::fs::create_dir_all(d.join("notes")).unwrap();
        let data = load(d, Channels::Grey, None).unwrap();
        assert_eq!(data.classes, vec!["boot", "coat"]);
        assert_eq!(data.y, Some(vec![0, 1, 1]));
        let skipped = data.skipped.join("\n");
        for s in [
            ".ipynb_checkpoints (hidden)",
            "__MACOSX (macOS",
            "._b.png (hidden)",
            "notes (no images",
        ] {
            assert!(skipped.contains(s), "{s} not reported: {skipped}");
        }
    }

    fn rgb(path: &Path, c: [u8; 3]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::RgbImage::from_pixel(4, 4, image::Rgb(c))
            .save(path)
            .unwrap();
    }

    #[test]
    fn channels_auto_keeps_colour_and_grey_says_it_drops_it() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        rgb(&d.join("a.png"), [255, 0, 0]);
        png(&d.join("b.png"), 128);
        let auto = load(d, Channels::Auto, None).unwrap();
        assert_eq!(auto.shape.c, 3);
        // Red stays red; the grey image is replicated over the three channels.
        assert_eq!(auto.example(0)[0], 1.0);
        assert_eq!(auto.example(0)[16], 0.0);
        assert_eq!(auto.example(1)[0], auto.example(1)[32]);
        assert!(auto.notes[0].contains("1 of 2 images have colour, loaded as RGB"));
        let grey = load(d, Channels::Grey, None).unwrap();
        assert_eq!(grey.shape.c, 1);
        assert!(
            grey.notes[0].contains("loaded as grey because data.channels = 1")
                && grey.notes[0].contains("data.channels = \"auto\""),
            "{:?}",
            grey.notes
        );
        // Grey files stay one channel, with nothing to say.
        std::fs::remove_file(d.join("a.png")).unwrap();
        let only_grey = load(d, Channels::Auto, None).unwrap();
        assert_eq!(only_grey.shape.c, 1);
        assert!(only_grey.notes.is_empty());
    }

    #[test]
    fn a_train_test_layout_names_the_folder_to_give() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        png(&d.join("train/boot/a.png"), 10);
        png(&d.join("test/boot/b.png"), 10);
        let e = load(d, Channels::Auto, None).err().unwrap().to_string();
        assert!(e.contains("split folders (test, train)"), "{e}");
        assert!(
            e.contains(&format!("--data folder:{}", d.join("test").display())),
            "{e}"
        );
        // Given the split, its class folders are the classes.
        let train = load(&d.join("train"), Channels::Auto, None).unwrap();
        assert_eq!(train.classes, vec!["boot"]);
    }
}
