//! Reading genlab's pictures back: where the title band, the captions and the cells of a grid
//! are, found on the pixels alone (the text is ink on white, the cells grey images framed by
//! gutters of the same ink, in runs far longer than any glyph's).
#![allow(dead_code)] // each test file uses some of these

use image::RgbImage;
use std::path::Path;
use std::process::{Command, Output};

/// Run the built `genlab` in `cwd`.
pub fn genlab(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genlab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("genlab runs")
}

/// Asserts success; returns stdout.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "genlab failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Asserts success; returns stderr (notes, progress, the done line).
pub fn ok_stderr(out: &Output) -> String {
    ok(out);
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Asserts exit code 2, no panic, and that stderr contains every needle; returns stderr.
pub fn fails_with(out: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "expected exit 2, stderr: {err}");
    assert!(
        !err.contains("panicked"),
        "panic instead of an error: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "stderr lacks `{n}`: {err}");
    }
    err
}

/// Text and gutters.
pub const INK: [u8; 3] = [40, 40, 48];
pub const BG: [u8; 3] = [255, 255, 255];
/// A 28x28 image at scale 2 and one gutter.
pub const CELL: u32 = 58;
/// Margin of the title's text, as on every picture.
pub const PAD: u32 = 8;

pub fn open(path: &Path) -> RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

/// Pixels of ink in columns `xs` and rows `ys`.
pub fn ink(img: &RgbImage, xs: std::ops::Range<u32>, ys: std::ops::Range<u32>) -> usize {
    ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0 == INK)
        .count()
}

/// The title band: 8 white rows, then a line of ink starting 8 pixels from the left edge.
pub fn assert_title(img: &RgbImage, what: &str) {
    assert!(
        (0..PAD).all(|y| (0..img.width()).all(|x| img.get_pixel(x, y).0 == BG)),
        "{what}: the top margin is not white"
    );
    let line = ink(img, 0..img.width(), PAD..PAD + 8);
    assert!(line > 40, "{what}: no title text ({line} pixels of ink)");
    let first = (0..img.width())
        .find(|&x| (PAD..PAD + 8).any(|y| img.get_pixel(x, y).0 == INK))
        .unwrap();
    assert!(first <= PAD + 3, "{what}: the title starts at x = {first}");
}

/// The block of cells of a grid picture: (left, top, width, height), from its image pixels
/// (grey: red, green and blue equal, not white) and its gutters (ink in runs at least a cell
/// wide).
pub fn cells(img: &RgbImage) -> (u32, u32, u32, u32) {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    let mut mark = |x: u32, y: u32| {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    };
    for y in 0..img.height() {
        let mut run = 0;
        for x in 0..img.width() {
            let p = img.get_pixel(x, y).0;
            if p[0] == p[1] && p[1] == p[2] && p != BG {
                mark(x, y);
            }
            run = if p == INK { run + 1 } else { 0 };
            if run == CELL - 2 {
                mark(x + 1 - run, y);
            }
            if run >= CELL - 2 {
                mark(x, y);
            }
        }
    }
    assert!(x0 <= x1, "no cells in the picture");
    (x0, y0, x1 + 1 - x0, y1 + 1 - y0)
}

/// A grid of `rows` x `cols` cells of 28x28 images at scale 2 under a title band: the cells
/// at the bottom of the picture, nothing but white and ink (title, captions) above them and
/// left of them. Returns the cells' block.
pub fn assert_grid(img: &RgbImage, rows: u32, cols: u32, what: &str) -> (u32, u32, u32, u32) {
    assert_cells(img, (rows, cols), (CELL, 2), what)
}

/// [`assert_grid`] for cells `pitch` pixels apart with outer gutters of `edge` pixels.
pub fn assert_cells(
    img: &RgbImage,
    (rows, cols): (u32, u32),
    (pitch, edge): (u32, u32),
    what: &str,
) -> (u32, u32, u32, u32) {
    assert_title(img, what);
    let b = cells(img);
    assert_eq!(
        (b.2, b.3),
        (cols * pitch + edge, rows * pitch + edge),
        "{what}: cells {b:?} in a {}x{} picture",
        img.width(),
        img.height()
    );
    assert_eq!(b.1 + b.3, img.height(), "{what}: the cells end the picture");
    assert!(b.1 >= 24, "{what}: no room for a title above the cells");
    for y in 0..img.height() {
        for x in 0..img.width() {
            if y < b.1 || x < b.0 {
                let p = img.get_pixel(x, y).0;
                assert!(p == BG || p == INK, "{what}: ({x}, {y}) is {p:?}, not text");
            }
        }
    }
    b
}

/// Captions left of each of the block's `rows` rows of `pitch` pixels.
pub fn assert_row_captions(img: &RgbImage, b: (u32, u32, u32, u32), rows: u32, pitch: u32) {
    assert!(b.0 > 0, "no room left of the cells for row captions");
    for r in 0..rows {
        let ys = b.1 + r * pitch..b.1 + (r + 1) * pitch;
        assert!(ink(img, 0..b.0, ys) > 10, "row {r} has no caption");
    }
}

/// Captions above each of the block's `cols` columns of `pitch` pixels (`every` second,
/// third, ... of them where they are too wide for their columns), under the title's line.
pub fn assert_col_captions(
    img: &RgbImage,
    b: (u32, u32, u32, u32),
    cols: u32,
    pitch: u32,
    every: u32,
) {
    for c in (0..cols).step_by(every as usize) {
        let xs = b.0 + c * pitch..b.0 + (c + 1) * pitch;
        assert!(ink(img, xs, PAD + 12..b.1) > 5, "column {c} has no caption");
    }
}

/// The image pixels of a grid picture, without its title and captions.
pub fn cell_pixels(img: &RgbImage) -> RgbImage {
    let b = cells(img);
    image::imageops::crop_imm(img, b.0, b.1, b.2, b.3).to_image()
}
