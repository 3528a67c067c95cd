//! Pixels in, pictures out. Knows no tensors: callers hand over `[n, c, h, w]` values in [0, 1]
//! for image grids and `[n, d]` values in the data's own units for point pictures.

mod axis;
mod curve;
mod density;
mod draw;
mod grid;
mod points;
pub mod svg;

pub use axis::{extent, Span};
pub use curve::{lines_png, panels_png, Series};
pub use density::{density_grid, density_png, LOG_RANGE};
pub use grid::{Grid, Images};
pub use points::{points_png, Points, MAX_SCATTER, PAIRS};

/// Encode to PNG in memory, so callers can write atomically.
pub fn png_bytes(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encoding an in-memory RGB image as PNG cannot fail");
    out.into_inner()
}
