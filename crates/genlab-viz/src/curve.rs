//! Line charts as PNGs with their numbers written on them:
//!   - [`panels_png`]: training curves, one panel per series on its own scale (losses of very
//!     different size, a reconstruction term and a KL, stay readable), titled with the name and
//!     the last value, y axis labelled with the range, x axis with the steps;
//!   - [`lines_png`]: series that must be compared on one scale (BIC per covariance type), with
//!     a legend in the series' colours.

use crate::draw::{colour, fill, number, text, Rect, BG, CHAR, GRID, INK, MUTED};
use image::{Rgb, RgbImage};

const W: u32 = 640;
/// Left margin: room for a y label of [`crate::draw::LABEL_CHARS`] characters.
const LEFT: u32 = 80;
const RIGHT: u32 = 16;
/// One panel of [`panels_png`]: title band, plot, x labels.
const PANEL_TITLE: u32 = 20;
const PANEL_PLOT: u32 = 96;
const PANEL_FOOT: u32 = 20;
const PANEL_H: u32 = PANEL_TITLE + PANEL_PLOT + PANEL_FOOT;

/// A named series of (x, y) points.
pub type Series = (String, Vec<(f64, f64)>);

/// Training curves: one panel per series, each on its own y range. Returns the picture and
/// each series' (name, min, max) over its finite values.
pub fn panels_png(series: &[Series]) -> (RgbImage, Vec<(String, f64, f64)>) {
    let n = series.len().max(1) as u32;
    let mut img = RgbImage::from_pixel(W, n * PANEL_H, BG);
    let xr = x_range(series);
    let mut ranges = Vec::new();
    for (k, (name, pts)) in series.iter().enumerate() {
        let top = k as u32 * PANEL_H;
        let yr = y_range(std::slice::from_ref(&(name.clone(), pts.clone())));
        let last = pts.iter().rev().map(|p| p.1).find(|v| v.is_finite());
        let title = match last {
            Some(v) => format!("{name}   last {}", number(v)),
            None => format!("{name}   (no finite values)"),
        };
        text(&mut img, LEFT, top + 6, &title, INK);
        let plot = across(top + PANEL_TITLE, PANEL_PLOT);
        axes(&mut img, &plot, (xr, "step"), yr);
        line(&mut img, &plot, (xr, yr), pts, colour(k));
        ranges.push((name.clone(), yr.0, yr.1));
    }
    (img, ranges)
}

/// Series compared on one y range, with a legend: `title` above, then the series names in
/// their colours; `x_name` labels the x axis. Returns the picture and the shared (min, max).
pub fn lines_png(title: &str, x_name: &str, series: &[Series]) -> (RgbImage, (f64, f64)) {
    let legend_rows = series.len().div_ceil(4) as u32;
    let head = 10 + (1 + legend_rows) * 14;
    let h = 300;
    let mut img = RgbImage::from_pixel(W, head + h + PANEL_FOOT, BG);
    text(&mut img, LEFT, 6, title, INK);
    for (k, (name, _)) in series.iter().enumerate() {
        let (row, col) = ((k / 4) as u32, (k % 4) as u32);
        let (x, y) = (LEFT + col * 136, 20 + row * 14);
        fill(&mut img, x, y + 3, 16, 3, colour(k));
        text(&mut img, x + 20, y, name, colour(k));
    }
    let (xr, yr) = (x_range(series), y_range(series));
    let plot = across(head, h);
    axes(&mut img, &plot, (xr, x_name), yr);
    for (k, (_, pts)) in series.iter().enumerate() {
        line(&mut img, &plot, (xr, yr), pts, colour(k));
    }
    (img, yr)
}

/// x and y ranges of a plot.
pub(crate) type Ranges = ((f64, f64), (f64, f64));

/// The plot area across the picture's width (after the y labels), `h` high from `y`.
fn across(y: u32, h: u32) -> Rect {
    let (x, w) = (LEFT, W - LEFT - RIGHT);
    Rect { x, y, w, h }
}

fn x_range(series: &[Series]) -> (f64, f64) {
    let xs = series.iter().flat_map(|s| s.1.iter().map(|p| p.0));
    let r = xs.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if r.0 > r.1 {
        (0.0, 1.0)
    } else {
        r
    }
}

fn y_range(series: &[Series]) -> (f64, f64) {
    let ys = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .filter(|v| v.is_finite());
    let r = ys.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if r.0 > r.1 {
        (0.0, 1.0)
    } else {
        r
    }
}

/// Grid lines at 0, 1/2 and 1 of the y range labelled with their values; x labels at both ends,
/// the first after the axis' name.
fn axes(img: &mut RgbImage, plot: &Rect, (xr, x_name): ((f64, f64), &str), yr: (f64, f64)) {
    for i in 0..=2 {
        let y = plot.y + i * (plot.h - 1) / 2;
        fill(img, plot.x, y, plot.w, 1, GRID);
        let v = yr.1 - (yr.1 - yr.0) * i as f64 / 2.0;
        let label = number(v);
        let x = plot.x - 6 - label.len() as u32 * CHAR;
        text(img, x, y.saturating_sub(CHAR / 2), &label, MUTED);
    }
    let below = plot.y + plot.h + 6;
    text(
        img,
        plot.x,
        below,
        &format!("{x_name} {}", number(xr.0)),
        MUTED,
    );
    let end = number(xr.1);
    text(
        img,
        plot.x + plot.w - end.len() as u32 * CHAR,
        below,
        &end,
        MUTED,
    );
}

/// A polyline through the finite points, 2 pixels thick.
pub(crate) fn line(
    img: &mut RgbImage,
    plot: &Rect,
    (xr, yr): Ranges,
    pts: &[(f64, f64)],
    colour: Rgb<u8>,
) {
    let finite: Vec<(f64, f64)> = pts.iter().copied().filter(|p| p.1.is_finite()).collect();
    if let [only] = finite[..] {
        let (x, y) = plot.to_px(xr, yr, only);
        fill(img, x as u32, y as u32, 2, 2, colour);
    }
    for pair in finite.windows(2) {
        let (a, b) = (plot.to_px(xr, yr, pair[0]), plot.to_px(xr, yr, pair[1]));
        let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
        for i in 0..=n {
            let t = i as f64 / n as f64;
            let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            fill(img, x.round() as u32, y.round() as u32, 2, 2, colour);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::COLOURS;

    fn colour_at(img: &RgbImage, (x, y): (f64, f64)) -> Rgb<u8> {
        *img.get_pixel(x.round() as u32, y.round() as u32)
    }

    #[test]
    fn each_panel_has_its_own_scale() {
        let s = vec![
            (
                "loss".to_string(),
                vec![(0.0, 10.0), (50.0, 5.0), (100.0, 1.0)],
            ),
            ("kl".to_string(), vec![(0.0, 0.01), (100.0, 0.03)]),
        ];
        let (img, ranges) = panels_png(&s);
        assert_eq!(img.height(), 2 * PANEL_H);
        assert_eq!(
            ranges,
            vec![("loss".into(), 1.0, 10.0), ("kl".into(), 0.01, 0.03)]
        );
        // The falling loss runs from the top-left to the bottom-right of the first plot; the
        // rising KL, a thousand times smaller, from the bottom-left to the top-right of the second.
        let plot = |k: u32| across(k * PANEL_H + PANEL_TITLE, PANEL_PLOT);
        let (blue, orange) = (Rgb(COLOURS[0]), Rgb(COLOURS[1]));
        let xr = (0.0, 100.0);
        assert_eq!(
            colour_at(&img, plot(0).to_px(xr, (1.0, 10.0), (0.0, 10.0))),
            blue
        );
        assert_eq!(
            colour_at(&img, plot(0).to_px(xr, (1.0, 10.0), (100.0, 1.0))),
            blue
        );
        assert_eq!(
            colour_at(&img, plot(1).to_px(xr, (0.01, 0.03), (0.0, 0.01))),
            orange
        );
        assert_eq!(
            colour_at(&img, plot(1).to_px(xr, (0.01, 0.03), (100.0, 0.03))),
            orange
        );
    }

    #[test]
    fn lines_share_one_scale() {
        let s = vec![
            ("small".to_string(), vec![(1.0, 0.0), (2.0, 1.0)]),
            ("large".to_string(), vec![(1.0, 0.0), (2.0, 10.0)]),
        ];
        let (img, yr) = lines_png("BIC", "K", &s);
        assert_eq!(yr, (0.0, 10.0));
        // "small" ends at a tenth of the height, not at the top as on a scale of its own.
        let head = 10 + 2 * 14;
        let plot = across(head, 300);
        let end = plot.to_px((1.0, 2.0), yr, (2.0, 1.0));
        assert_eq!(colour_at(&img, end), Rgb(COLOURS[0]));
        let top = plot.to_px((1.0, 2.0), yr, (2.0, 10.0));
        assert_eq!(colour_at(&img, top), Rgb(COLOURS[1]));
    }
}
