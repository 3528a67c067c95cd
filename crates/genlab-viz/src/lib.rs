//! Pixels in, pictures out. Knows no tensors: callers hand over `[n, c, h, w]` values in [0, 1].

mod curve;
mod density;
mod grid;
mod scatter;

pub use curve::{lines_png, panels_png, Series};
pub use density::{density_grid, density_png, SIZE as DENSITY_SIZE};
pub use grid::{Grid, Images};
pub use scatter::scatter_png;

/// Encode to PNG in memory, so callers can write atomically.
pub fn png_bytes(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encoding an in-memory RGB image as PNG cannot fail");
    out.into_inner()
}
