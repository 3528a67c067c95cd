//! Scatter plot of 2-D points over optional reference points (e.g. true modes), as a PNG.

use image::{Rgb, RgbImage};

const SIZE: u32 = 480;
const BG: Rgb<u8> = Rgb([250, 250, 250]);
const POINT: Rgb<u8> = Rgb([31, 119, 180]);
const REF: Rgb<u8> = Rgb([214, 39, 40]);
const AXIS: Rgb<u8> = Rgb([200, 200, 200]);

/// Plot `points` (x, y pairs) and `refs` (red rings) on a square canvas covering `[-extent, extent]^2`.
pub fn scatter_png(points: &[f32], refs: &[[f32; 2]], extent: f32) -> RgbImage {
    let mut img = RgbImage::from_pixel(SIZE, SIZE, BG);
    let to_px = |v: f32| ((v / extent + 1.0) * 0.5 * (SIZE - 1) as f32).round() as i64;
    for i in 0..SIZE {
        img.put_pixel(i, SIZE / 2, AXIS);
        img.put_pixel(SIZE / 2, i, AXIS);
    }
    // `hole` > 0 draws a ring, so that reference marks never hide the points inside them.
    let mut dot = |x: i64, y: i64, r: i64, hole: i64, c: Rgb<u8>| {
        for dy in -r..=r {
            for dx in -r..=r {
                let (px, py) = (x + dx, SIZE as i64 - 1 - (y + dy));
                let d2 = dx * dx + dy * dy;
                if d2 <= r * r
                    && d2 >= hole * hole
                    && (0..SIZE as i64).contains(&px)
                    && (0..SIZE as i64).contains(&py)
                {
                    img.put_pixel(px as u32, py as u32, c);
                }
            }
        }
    };
    for p in points.chunks_exact(2) {
        dot(to_px(p[0]), to_px(p[1]), 1, 0, POINT);
    }
    for r in refs {
        dot(to_px(r[0]), to_px(r[1]), 7, 5, REF);
    }
    img
}
