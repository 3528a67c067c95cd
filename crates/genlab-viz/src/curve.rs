//! Training curves: one line per named series over steps, auto-scaled, as a PNG.
//! Drawn by hand (no axis labels, which would need a font): the y range is printed by callers.

use image::{Rgb, RgbImage};

const W: u32 = 640;
const H: u32 = 360;
const MARGIN: u32 = 16;
const BG: Rgb<u8> = Rgb([255, 255, 255]);
const GRID: Rgb<u8> = Rgb([225, 225, 230]);
/// Matplotlib's tab10 colours, and their names for a legend printed beside the picture.
const COLOURS: [[u8; 3]; 4] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40]];
pub const COLOUR_NAMES: [&str; 4] = ["blue", "orange", "green", "red"];

/// `series` = (name, [(step, value)]). Each series is scaled to its own range so that terms of
/// different size (reconstruction vs KL) are all visible; returns the picture and each range.
pub fn curve_png(series: &[(String, Vec<(f64, f64)>)]) -> (RgbImage, Vec<(String, f64, f64)>) {
    let mut img = RgbImage::from_pixel(W, H, BG);
    for i in 0..=4 {
        let y = MARGIN + i * (H - 2 * MARGIN) / 4;
        for x in MARGIN..W - MARGIN {
            img.put_pixel(x, y, GRID);
        }
    }
    let steps = series.iter().flat_map(|s| s.1.iter().map(|p| p.0));
    let (x0, x1) = steps.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let mut ranges = Vec::new();
    for (k, (name, pts)) in series.iter().enumerate() {
        let finite: Vec<&(f64, f64)> = pts.iter().filter(|p| p.1.is_finite()).collect();
        let (lo, hi) = finite
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        ranges.push((name.clone(), lo, hi));
        let colour = Rgb(COLOURS[k % COLOURS.len()]);
        let to_px = |p: &(f64, f64)| {
            let fx = if x1 > x0 { (p.0 - x0) / (x1 - x0) } else { 0.5 };
            let fy = if hi > lo { (p.1 - lo) / (hi - lo) } else { 0.5 };
            (
                (MARGIN as f64 + fx * (W - 2 * MARGIN) as f64),
                ((H - MARGIN) as f64 - fy * (H - 2 * MARGIN) as f64),
            )
        };
        for pair in finite.windows(2) {
            let (a, b) = (to_px(pair[0]), to_px(pair[1]));
            let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
            for i in 0..=n {
                let t = i as f64 / n as f64;
                let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
                for (dx, dy) in [(0, 0), (0, 1), (1, 0)] {
                    let (px, py) = (x as u32 + dx, y as u32 + dy);
                    if px < W && py < H {
                        img.put_pixel(px, py, colour);
                    }
                }
            }
        }
    }
    (img, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_falling_series_starts_high_and_ends_low() {
        let s = vec![(
            "loss".to_string(),
            vec![(0.0, 10.0), (1.0, 5.0), (2.0, 1.0)],
        )];
        let (img, ranges) = curve_png(&s);
        assert_eq!(ranges, vec![("loss".to_string(), 1.0, 10.0)]);
        let blue = Rgb(COLOURS[0]);
        // First point at the top-left corner of the plot area, last at the bottom-right.
        assert_eq!(*img.get_pixel(MARGIN, MARGIN), blue);
        assert_eq!(*img.get_pixel(W - MARGIN, H - MARGIN), blue);
    }
}
