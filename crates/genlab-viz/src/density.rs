//! Density of a 2-D model as a heat map over `[-extent, extent]^2`, with optional reference
//! points (true modes) as thin red rings drawn around (not over) them; same canvas size as
//! `scatter_png`, so that the two can be shown side by side.

use image::{Rgb, RgbImage};

pub const SIZE: u32 = 480;
const REF: Rgb<u8> = Rgb([214, 39, 40]);
/// Log-densities more than this many nats below the peak are drawn as the background colour.
pub const LOG_RANGE: f32 = 12.0;
/// Viridis at 0, 1/4, 1/2, 3/4, 1 (matplotlib), interpolated linearly in between.
const VIRIDIS: [[f32; 3]; 5] = [
    [68.0, 1.0, 84.0],
    [59.0, 82.0, 139.0],
    [33.0, 145.0, 140.0],
    [94.0, 201.0, 98.0],
    [253.0, 231.0, 37.0],
];

/// The `res x res` grid points (x, y pairs, row by row from the top) at which to evaluate the
/// log-density for [`density_png`].
pub fn density_grid(res: usize, extent: f32) -> Vec<f32> {
    let at = |i: usize| -extent + (i as f32 + 0.5) * 2.0 * extent / res as f32;
    (0..res)
        .flat_map(|r| (0..res).flat_map(move |c| [at(c), at(res - 1 - r)]))
        .collect()
}

fn viridis(t: f32) -> Rgb<u8> {
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f32;
    let c = |k: usize| (VIRIDIS[i][k] * (1.0 - f) + VIRIDIS[i + 1][k] * f).round() as u8;
    Rgb([c(0), c(1), c(2)])
}

/// Heat map of `log_density` (one value per point of `density_grid(res, extent)`), on a log
/// scale spanning the top `LOG_RANGE` nats; non-finite values are background.
pub fn density_png(log_density: &[f32], res: usize, extent: f32, refs: &[[f32; 2]]) -> RgbImage {
    assert_eq!(log_density.len(), res * res, "one value per grid point");
    let peak = log_density
        .iter()
        .cloned()
        .filter(|v| v.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    let mut img = RgbImage::new(SIZE, SIZE);
    for py in 0..SIZE {
        for px in 0..SIZE {
            let (r, c) = (
                py as usize * res / SIZE as usize,
                px as usize * res / SIZE as usize,
            );
            let v = log_density[r * res + c];
            let t = if v.is_finite() {
                1.0 - (peak - v) / LOG_RANGE
            } else {
                0.0
            };
            img.put_pixel(px, py, viridis(t));
        }
    }
    let to_px = |v: f32| ((v / extent + 1.0) * 0.5 * (SIZE - 1) as f32).round() as i64;
    for m in refs {
        let (x, y) = (to_px(m[0]), SIZE as i64 - 1 - to_px(m[1]));
        for dy in -14i64..=14 {
            for dx in -14i64..=14 {
                let d2 = dx * dx + dy * dy;
                let (qx, qy) = (x + dx, y + dy);
                if (169..=196).contains(&d2)
                    && (0..SIZE as i64).contains(&qx)
                    && (0..SIZE as i64).contains(&qy)
                {
                    img.put_pixel(qx as u32, qy as u32, REF);
                }
            }
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_bright_and_far_tails_are_background() {
        // One Gaussian bump at (1, 1): brightest near its pixel, darkest in the far corner.
        let (res, extent) = (64, 4.0);
        let grid = density_grid(res, extent);
        let logp: Vec<f32> = grid
            .chunks(2)
            .map(|p| -((p[0] - 1.0).powi(2) + (p[1] - 1.0).powi(2)) / (2.0 * 0.25))
            .collect();
        let img = density_png(&logp, res, extent, &[]);
        let at = |x: f32, y: f32| {
            let px = ((x / extent + 1.0) * 0.5 * SIZE as f32) as u32;
            let py = ((1.0 - (y / extent + 1.0) * 0.5) * SIZE as f32) as u32;
            *img.get_pixel(px.min(SIZE - 1), py.min(SIZE - 1))
        };
        assert_eq!(at(1.0, 1.0), viridis(1.0), "peak at (1, 1), y pointing up");
        assert_eq!(at(-3.9, -3.9), viridis(0.0));
        assert_ne!(at(1.0, -1.0), viridis(1.0));
    }
}
