//! A 2-D model's log-density as a heat map over a given extent, on the same canvas, plot area
//! and axes as the scatter of [`crate::points_png`] (give both the same extent and they line up
//! side by side), with a colour bar in nats and the true modes as thin red rings drawn around
//! (not over) them.

use crate::axis::{y_labels, Side, Span, Ticks};
use crate::draw::{colour, disc, fill, frame, text, Rect, CHAR, INK, MUTED};
use crate::points::{heading, modes_legend, square, square_axes, square_canvas, SQUARE};
use image::{Rgb, RgbImage};

/// Log-densities more than this many nats below the peak are drawn in the darkest colour.
pub const LOG_RANGE: f64 = 12.0;
/// Room right of the plot for the colour bar and its labels.
const BAR_ROOM: u32 = 110;
const BAR_W: u32 = 16;
const MODE_RADIUS: (f64, f64) = (10.0, 8.5);
/// Viridis at 0, 1/4, 1/2, 3/4, 1 (matplotlib), interpolated linearly in between.
const VIRIDIS: [[f64; 3]; 5] = [
    [68.0, 1.0, 84.0],
    [59.0, 82.0, 139.0],
    [33.0, 145.0, 140.0],
    [94.0, 201.0, 98.0],
    [253.0, 231.0, 37.0],
];

/// The points (x, y pairs in the data's units, row by row from the top, one per pixel of the
/// map) at which to evaluate the log-density for [`density_png`]; `extent` is two spans.
pub fn density_grid(extent: &[Span]) -> Vec<f64> {
    assert_eq!(extent.len(), 2, "a density map has two axes");
    let res = SQUARE as usize;
    let at = |s: Span, i: usize| s.lo + (i as f64 + 0.5) * s.width() / res as f64;
    (0..res)
        .flat_map(|r| (0..res).flat_map(move |c| [at(extent[0], c), at(extent[1], res - 1 - r)]))
        .collect()
}

fn viridis(t: f64) -> Rgb<u8> {
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let c = |k: usize| (VIRIDIS[i][k] * (1.0 - f) + VIRIDIS[i + 1][k] * f).round() as u8;
    Rgb([c(0), c(1), c(2)])
}

/// Heat map of `log_density` (nats, one value per point of `density_grid(extent)`): colours
/// span the top [`LOG_RANGE`] nats, as the colour bar states; non-finite values are drawn in
/// the darkest colour. `modes` (data units) are drawn as rings; `title` is the first line.
pub fn density_png(
    log_density: &[f64],
    extent: &[Span],
    modes: &[[f32; 2]],
    title: &str,
) -> RgbImage {
    let res = SQUARE as usize;
    assert_eq!(log_density.len(), res * res, "one value per grid point");
    let peak = log_density
        .iter()
        .cloned()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let mut img = square_canvas(BAR_ROOM);
    let plot = square();
    // Axes first: the map covers their grid lines, not their labels or frame.
    square_axes(&mut img, &plot, extent, &[]);
    for r in 0..SQUARE {
        for c in 0..SQUARE {
            let v = log_density[r as usize * res + c as usize];
            let t = if v.is_finite() {
                1.0 - (peak - v) / LOG_RANGE
            } else {
                0.0
            };
            img.put_pixel(plot.x + c, plot.y + r, viridis(t));
        }
    }
    for m in modes {
        let at = plot.to_px(
            extent[0].pair(),
            extent[1].pair(),
            (m[0] as f64, m[1] as f64),
        );
        disc(&mut img, &plot, at, MODE_RADIUS, colour(3), 1.0);
    }
    heading(&mut img, title, &[]);
    if !modes.is_empty() {
        modes_legend(&mut img, plot.x + plot.w);
    }
    if peak.is_finite() {
        colour_bar(&mut img, &plot, peak);
    }
    img
}

/// The colours from `peak - LOG_RANGE` (bottom) to `peak` (top) right of `plot`, with ticks
/// in nats.
fn colour_bar(img: &mut RgbImage, plot: &Rect, peak: f64) {
    let bar = Rect {
        x: plot.x + plot.w + 20,
        y: plot.y,
        w: BAR_W,
        h: plot.h,
    };
    for y in 0..bar.h {
        let t = 1.0 - y as f64 / (bar.h - 1) as f64;
        fill(img, bar.x, bar.y + y, bar.w, 1, viridis(t));
    }
    frame(img, &bar, MUTED);
    let span = Span {
        lo: peak - LOG_RANGE,
        hi: peak,
    };
    let ticks = Ticks::fit(span, bar.h, false);
    y_labels(img, &bar, span, &ticks, Side::Right);
    text(img, bar.x - CHAR, bar.y - 16, &ticks.title("log p"), INK);
    text(img, bar.x + bar.w + 8, bar.y + bar.h + 6, "& lower", MUTED);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_bright_and_far_tails_are_dark() {
        // One Gaussian bump at (1e6 + 1, 1): brightest near its pixel, darkest in the far corner.
        let extent = [
            Span {
                lo: 1e6 - 4.0,
                hi: 1e6 + 4.0,
            },
            Span { lo: -4.0, hi: 4.0 },
        ];
        let grid = density_grid(&extent);
        let logp: Vec<f64> = grid
            .chunks(2)
            .map(|p| -((p[0] - 1e6 - 1.0).powi(2) + (p[1] - 1.0).powi(2)) / (2.0 * 0.25))
            .collect();
        let img = density_png(&logp, &extent, &[], "bump");
        let plot = square();
        let at = |x: f64, y: f64| {
            let (px, py) = plot.to_px(extent[0].pair(), extent[1].pair(), (x, y));
            *img.get_pixel(px.round() as u32, py.round() as u32)
        };
        assert_eq!(
            at(1e6 + 1.0, 1.0),
            viridis(1.0),
            "peak at (1, 1), y pointing up"
        );
        assert_eq!(at(1e6 - 3.9, -3.9), viridis(0.0));
        assert_ne!(at(1e6 + 1.0, -1.0), viridis(1.0));
    }
}
