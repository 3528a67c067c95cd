//! Point data as a picture in the data's own units, chosen by the number of columns:
//!   - 1: a histogram, with a model's density curve over it when there is one;
//!   - 2: a scatter of small translucent points, with the true modes of a toy set as red rings;
//!   - more: a pairs plot of the first [`PAIRS`] columns, histograms on the diagonal and
//!     scatters off it, each panel labelled with its columns.
//!
//! Every axis spans the data's robust [`extent`] (an outlier does not squash the rest) and has
//! ticks with values at any scale; the first lines say what is drawn and how many points fall
//! outside the axes.

use crate::axis::{extent, x_grid, x_labels, y_grid, y_labels, Side, Span, Ticks, MARGIN};
use crate::curve::line;
use crate::draw::{blend, colour, disc, fill, fit, frame, text, width, Rect, BG, CHAR, INK, MUTED};
use image::{Rgb, RgbImage};

/// Points drawn in a scatter at most (an even subset of more); histograms count them all.
pub const MAX_SCATTER: usize = 2500;
/// Columns shown in a pairs plot at most.
pub const PAIRS: usize = 4;

/// Room left of a plot for y labels of [`crate::axis::TICK_CHARS`] characters.
const LEFT: u32 = 80;
/// The title line, then the y axis' name and the legend.
const TOP: u32 = 44;
/// x labels, then the x axis' name.
const BOTTOM: u32 = 44;
const RIGHT: u32 = 20;
/// Side of the square 2-D plot (the density map beside it has the same).
pub(crate) const SQUARE: u32 = 440;
const HIST_W: u32 = 560;
const HIST_H: u32 = 280;
/// A pairs-plot panel's label band.
const BAND: u32 = 14;
const GAP: u32 = 10;
/// Room right of a pairs plot for the rows' names.
const ROW_NAMES: u32 = 96;
const MODE_RADIUS: (f64, f64) = (10.0, 8.5);

/// Point data to draw, in the data's own units.
#[derive(Clone, Debug)]
pub struct Points<'a> {
    /// `[n, d]` row-major; rows with a non-finite value are left out (and counted).
    pub values: &'a [f64],
    pub d: usize,
    /// What the points are ("2000 samples", "csv:x.csv, 500 rows"), the picture's first line.
    pub title: String,
    /// Drawn range of each column (`d` spans): [`extent`] of the values unless set otherwise.
    pub extent: Vec<Span>,
    /// Two columns: the true modes of a toy set, drawn as red rings.
    pub modes: Vec<[f64; 2]>,
    /// One column: a model's density (x, p(x)) at increasing x across the extent, in the data's
    /// units (p integrates to 1 over x), drawn over the histogram.
    pub density: Vec<(f64, f64)>,
    /// Column names for the axes (a CSV header); `x0`, `x1`, ... where missing.
    pub names: Vec<String>,
}

impl<'a> Points<'a> {
    /// `values` (`[n, d]`) drawn over their own [`extent`], without modes or density.
    pub fn new(values: &'a [f64], d: usize, title: impl Into<String>) -> Self {
        assert!(
            d > 0 && values.len().is_multiple_of(d),
            "values must be [n, d]"
        );
        Self {
            values,
            d,
            title: title.into(),
            extent: extent(values, d),
            modes: Vec::new(),
            density: Vec::new(),
            names: Vec::new(),
        }
    }

    /// Name the columns on the axes.
    pub fn with_names(mut self, names: &[String]) -> Self {
        self.names = names.to_vec();
        self
    }

    /// Draw the true modes of a toy set (two columns), the extent widened to hold them.
    pub fn with_modes(mut self, modes: &[[f32; 2]]) -> Self {
        if self.d != 2 || modes.is_empty() {
            return self;
        }
        self.modes = modes.iter().map(|m| [m[0] as f64, m[1] as f64]).collect();
        for (j, span) in self.extent.iter_mut().enumerate() {
            let (lo, hi) = self
                .modes
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), m| (a.min(m[j]), b.max(m[j])));
            if !span.holds(lo) || !span.holds(hi) {
                let wide = span.cover(lo, hi);
                let m = MARGIN * wide.width();
                *span = wide.cover(lo - m, hi + m);
            }
        }
        self
    }

    fn n(&self) -> usize {
        self.values.len() / self.d
    }

    /// Indices of the rows whose first `k` values are finite.
    fn finite_rows(&self, k: usize) -> Vec<usize> {
        (0..self.n())
            .filter(|&i| self.row(i)[..k].iter().all(|v| v.is_finite()))
            .collect()
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.d..(i + 1) * self.d]
    }
}

/// The picture of `p`: a histogram for one column, a scatter for two, a pairs plot of the
/// first [`PAIRS`] for more.
pub fn points_png(p: &Points) -> RgbImage {
    assert_eq!(p.extent.len(), p.d, "one span per column");
    match p.d {
        1 => histogram_png(p),
        2 => scatter_png(p),
        _ => pairs_png(p),
    }
}

/// Name of column `j` on axes and panels: its own, else `x{j}`.
fn name(names: &[String], j: usize) -> String {
    names
        .get(j)
        .filter(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("x{j}"))
}

/// The 2-D plot area, shared by the scatter and the density map so that they line up.
pub(crate) fn square() -> Rect {
    Rect {
        x: LEFT,
        y: TOP,
        w: SQUARE,
        h: SQUARE,
    }
}

/// Canvas of a 2-D plot with `extra` pixels right of it (the density map's colour bar).
pub(crate) fn square_canvas(extra: u32) -> RgbImage {
    RgbImage::from_pixel(LEFT + SQUARE + RIGHT + extra, TOP + SQUARE + BOTTOM, BG)
}

/// Ticks, grid and names of both axes of a 2-D plot over `extent` (two spans).
pub(crate) fn square_axes(img: &mut RgbImage, plot: &Rect, extent: &[Span], names: &[String]) {
    let xt = Ticks::fit(extent[0], plot.w, true);
    let yt = Ticks::fit(extent[1], plot.h, false);
    x_grid(img, plot, extent[0], &xt);
    x_labels(img, plot, extent[0], &xt);
    y_grid(img, plot, extent[1], &yt);
    y_labels(img, plot, extent[1], &yt, Side::Left);
    frame(img, plot, MUTED);
    let x_name = xt.title(&name(names, 0));
    let centre = plot.x + plot.w / 2;
    text(
        img,
        centre.saturating_sub(width(&x_name) / 2),
        plot.y + plot.h + 24,
        &x_name,
        INK,
    );
    text(img, 8, plot.y - 16, &yt.title(&name(names, 1)), INK);
}

/// The first line: the title in ink (shortened if it does not fit: a long path keeps its end),
/// then the `notes` (what is left out) muted in brackets.
pub(crate) fn heading(img: &mut RgbImage, title: &str, notes: &[String]) {
    let notes: Vec<&str> = notes
        .iter()
        .map(String::as_str)
        .filter(|n| !n.is_empty())
        .collect();
    let note = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    let room = ((img.width() - 16) / CHAR) as usize;
    let room = room.saturating_sub(note.len()).max(16);
    let title = fit(title, room);
    text(img, 8, 8, &title, INK);
    text(img, 8 + width(&title), 8, &note, MUTED);
}

/// The legend's line, under the title.
const LEGEND_Y: u32 = 24;

/// A legend entry right-aligned at `right` on its line: a 16-pixel swatch drawn by `mark` at
/// (x, y) of its top-left, then `label`. Returns the x where the entry starts.
pub(crate) fn legend(
    img: &mut RgbImage,
    right: u32,
    label: &str,
    mark: impl Fn(&mut RgbImage, u32, u32),
) -> u32 {
    let x = right - width(label) - 20;
    mark(img, x, LEGEND_Y);
    text(img, x + 20, LEGEND_Y, label, INK);
    x
}

/// What the first line says is left out: `outside` of the `drawn` rows fell outside the axes,
/// the `drawn` are a subset of `finite` rows, `not_finite` rows were left out.
fn left_out(outside: usize, drawn: usize, finite: usize, not_finite: usize) -> Vec<String> {
    let mut notes = Vec::new();
    if drawn < finite {
        notes.push(format!("{drawn} of {finite} drawn"));
    }
    if outside > 0 {
        notes.push(format!("{outside} outside the axes"));
    }
    if not_finite > 0 {
        notes.push(format!("{not_finite} not finite"));
    }
    notes
}

/// Translucent enough that 2,500 overlapping points still show where they are densest, opaque
/// enough that a few dozen stand out.
fn alpha(n: usize) -> f32 {
    (0.9 * (150.0 / n.max(1) as f32).powf(0.4)).clamp(0.25, 0.9)
}

/// At most [`MAX_SCATTER`] of `rows`, evenly spread (a file may be sorted).
fn subset(rows: &[usize]) -> Vec<usize> {
    if rows.len() <= MAX_SCATTER {
        return rows.to_vec();
    }
    (0..MAX_SCATTER)
        .map(|i| rows[i * rows.len() / MAX_SCATTER])
        .collect()
}

/// Small translucent dots of columns (`jx`, `jy`) of `rows` in `plot`; returns how many fell
/// outside the spans.
fn dots(
    img: &mut RgbImage,
    plot: &Rect,
    p: &Points,
    rows: &[usize],
    (jx, jy): (usize, usize),
    radius: f64,
) -> usize {
    let (sx, sy) = (p.extent[jx], p.extent[jy]);
    let a = alpha(rows.len());
    let mut outside = 0;
    for &i in rows {
        let (x, y) = (p.row(i)[jx], p.row(i)[jy]);
        if !sx.holds(x) || !sy.holds(y) {
            outside += 1;
            continue;
        }
        let at = plot.to_px(sx.pair(), sy.pair(), (x, y));
        disc(img, plot, at, (radius, 0.0), colour(0), a);
    }
    outside
}

/// Density per bin of `values` over `span` in `bins` equal bins (count / (n * bin width), n
/// counting values outside the span too).
fn bin_densities(values: impl Iterator<Item = f64>, span: Span, bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins];
    let mut n = 0;
    for v in values {
        n += 1;
        if span.holds(v) {
            let b = ((v - span.lo) / span.width() * bins as f64) as usize;
            counts[b.min(bins - 1)] += 1;
        }
    }
    let bin_width = span.width() / bins as f64;
    counts
        .into_iter()
        .map(|c| c as f64 / (n.max(1) as f64 * bin_width))
        .collect()
}

/// Bars of `densities` (equal bins across the plot's width) on the vertical range `ys`.
fn bars(img: &mut RgbImage, plot: &Rect, densities: &[f64], ys: Span) {
    let bins = densities.len();
    for (b, &h) in densities.iter().enumerate() {
        let x0 = plot.x + (b as u32 * plot.w) / bins as u32;
        let x1 = plot.x + ((b as u32 + 1) * plot.w) / bins as u32;
        let frac = (h / ys.hi).clamp(0.0, 1.0);
        let top = plot.y + plot.h - (frac * plot.h as f64).round() as u32;
        for y in top..plot.y + plot.h {
            for x in x0..x1.saturating_sub(1).max(x0 + 1) {
                blend(img, x as i64, y as i64, colour(0), 0.55);
            }
        }
        if h > 0.0 {
            fill(
                img,
                x0,
                top,
                (x1 - x0).saturating_sub(1).max(1),
                1,
                colour(0),
            );
        }
    }
}

/// One column: histogram of every finite value (density scale), the model's density over it.
fn histogram_png(p: &Points) -> RgbImage {
    let plot = Rect {
        x: LEFT,
        y: TOP,
        w: HIST_W,
        h: HIST_H,
    };
    let mut img = RgbImage::from_pixel(LEFT + HIST_W + RIGHT, TOP + HIST_H + BOTTOM, BG);
    let span = p.extent[0];
    let rows = p.finite_rows(1);
    let bins = ((rows.len() as f64).sqrt().round() as usize).clamp(10, 60);
    let densities = bin_densities(rows.iter().map(|&i| p.values[i]), span, bins);
    let outside = rows.iter().filter(|&&i| !span.holds(p.values[i])).count();
    // The curve may spike far above the data (a collapsed component): it is cut at 3 times the
    // tallest bar rather than flattening the histogram.
    let tallest = densities.iter().cloned().fold(0.0, f64::max);
    let curve_top = p.density.iter().map(|d| d.1).fold(0.0, f64::max);
    let top = match (tallest > 0.0, curve_top > 0.0) {
        (true, true) => tallest.max(curve_top.min(3.0 * tallest)),
        (true, false) => tallest,
        (false, true) => curve_top,
        (false, false) => 1.0,
    };
    let ys = Span {
        lo: 0.0,
        hi: 1.08 * top,
    };
    let xt = Ticks::fit(span, plot.w, true);
    let yt = Ticks::fit(ys, plot.h, false);
    x_grid(&mut img, &plot, span, &xt);
    x_labels(&mut img, &plot, span, &xt);
    y_grid(&mut img, &plot, ys, &yt);
    y_labels(&mut img, &plot, ys, &yt, Side::Left);
    bars(&mut img, &plot, &densities, ys);
    if !p.density.is_empty() {
        let clipped: Vec<(f64, f64)> = p
            .density
            .iter()
            .filter(|d| span.holds(d.0) && d.1.is_finite())
            .map(|&(x, y)| (x, y.min(ys.hi)))
            .collect();
        line(
            &mut img,
            &plot,
            (span.pair(), ys.pair()),
            &clipped,
            colour(1),
        );
    }
    frame(&mut img, &plot, MUTED);
    let notes = left_out(outside, rows.len(), rows.len(), p.n() - rows.len());
    heading(&mut img, &p.title, &notes);
    let right = img.width() - RIGHT;
    let mut at = right;
    if !p.density.is_empty() {
        at = legend(&mut img, at, "model density", |img, x, y| {
            fill(img, x, y + 3, 16, 2, colour(1))
        }) - 2 * CHAR;
    }
    legend(&mut img, at, "histogram", |img, x, y| {
        fill(img, x + 2, y, 12, 8, Rgb([143, 187, 217]));
    });
    text(&mut img, 8, plot.y - 16, &yt.title("density"), INK);
    let x_name = xt.title(&name(&p.names, 0));
    let centre = plot.x + plot.w / 2;
    text(
        &mut img,
        centre - width(&x_name) / 2,
        plot.y + plot.h + 24,
        &x_name,
        INK,
    );
    img
}

/// Two columns: translucent points, true modes as rings.
fn scatter_png(p: &Points) -> RgbImage {
    let mut img = square_canvas(0);
    let plot = square();
    square_axes(&mut img, &plot, &p.extent, &p.names);
    let rows = p.finite_rows(2);
    let shown = subset(&rows);
    let outside = dots(&mut img, &plot, p, &shown, (0, 1), 2.0);
    for m in &p.modes {
        let at = plot.to_px(p.extent[0].pair(), p.extent[1].pair(), (m[0], m[1]));
        disc(&mut img, &plot, at, MODE_RADIUS, colour(3), 1.0);
    }
    let notes = left_out(outside, shown.len(), rows.len(), p.n() - rows.len());
    heading(&mut img, &p.title, &notes);
    if !p.modes.is_empty() {
        let right = img.width() - RIGHT;
        modes_legend(&mut img, right);
    }
    img
}

/// "true modes" with a red ring, right-aligned at `right` on the legend's line.
pub(crate) fn modes_legend(img: &mut RgbImage, right: u32) {
    legend(img, right, "true modes", |img, x, y| {
        let whole = Rect {
            x: 0,
            y: 0,
            w: img.width(),
            h: img.height(),
        };
        disc(
            img,
            &whole,
            (x as f64 + 8.0, y as f64 + 3.5),
            (6.0, 4.5),
            colour(3),
            1.0,
        );
    });
}

/// More columns: a k x k grid over the first k = min(d, [`PAIRS`]) columns.
fn pairs_png(p: &Points) -> RgbImage {
    let k = p.d.min(PAIRS);
    let side = (640 / k as u32).min(220);
    let cell = BAND + side + GAP;
    let mut img = RgbImage::from_pixel(
        LEFT + k as u32 * (side + GAP) - GAP + ROW_NAMES,
        TOP + k as u32 * cell - GAP + BOTTOM,
        BG,
    );
    let rows = p.finite_rows(k);
    let shown = subset(&rows);
    let ticks: Vec<(Ticks, Ticks)> = p.extent[..k]
        .iter()
        .map(|&s| (Ticks::fit(s, side, true), Ticks::fit(s, side, false)))
        .collect();
    for i in 0..k {
        for j in 0..k {
            let plot = Rect {
                x: LEFT + j as u32 * (side + GAP),
                y: TOP + i as u32 * cell + BAND,
                w: side,
                h: side,
            };
            let (first_col, last_row) = (j == 0, i == k - 1);
            x_grid(&mut img, &plot, p.extent[j], &ticks[j].0);
            if last_row {
                x_labels(&mut img, &plot, p.extent[j], &ticks[j].0);
            }
            if first_col {
                // Next to the diagonal histogram, these serve the scatters right of it.
                y_labels(&mut img, &plot, p.extent[i], &ticks[i].1, Side::Left);
            }
            if i == j {
                let bins = ((rows.len() as f64).sqrt().round() as usize).clamp(8, 30);
                let values = rows.iter().map(|&r| p.row(r)[j]);
                let densities = bin_densities(values, p.extent[j], bins);
                let top = densities.iter().cloned().fold(0.0, f64::max).max(1e-300);
                let ys = Span {
                    lo: 0.0,
                    hi: 1.08 * top,
                };
                bars(&mut img, &plot, &densities, ys);
                text(&mut img, plot.x, plot.y - BAND + 2, &name(&p.names, j), INK);
            } else {
                y_grid(&mut img, &plot, p.extent[i], &ticks[i].1);
                dots(&mut img, &plot, p, &shown, (j, i), 1.5);
                let label = format!("({}, {})", name(&p.names, j), name(&p.names, i));
                text(&mut img, plot.x, plot.y - BAND + 2, &label, MUTED);
            }
            frame(&mut img, &plot, MUTED);
            if last_row {
                let col_name = ticks[j].0.title(&name(&p.names, j));
                let centre = plot.x + side / 2;
                let left = centre.saturating_sub(width(&col_name) / 2);
                text(&mut img, left, plot.y + plot.h + 24, &col_name, INK);
            }
            if j == k - 1 {
                let row_name = ticks[i].1.title(&name(&p.names, i));
                text(
                    &mut img,
                    plot.x + side + 8,
                    plot.y + side / 2 - 4,
                    &row_name,
                    INK,
                );
            }
        }
    }
    let outside = shown
        .iter()
        .filter(|&&r| (0..k).any(|j| !p.extent[j].holds(p.row(r)[j])))
        .count();
    let mut notes = vec![if p.d > k {
        format!(
            "columns {}-{} of {}",
            name(&p.names, 0),
            name(&p.names, k - 1),
            p.d
        )
    } else {
        String::new()
    }];
    notes.extend(left_out(
        outside,
        shown.len(),
        rows.len(),
        p.n() - rows.len(),
    ));
    heading(&mut img, &p.title, &notes);
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_by_the_header_where_it_names_them() {
        let names = ["weight_kg".to_string(), String::new()];
        assert_eq!(name(&names, 0), "weight_kg");
        assert_eq!(name(&names, 1), "x1", "an empty name");
        assert_eq!(name(&names, 2), "x2", "beyond the header");
        // The axis title is drawn: a named scatter differs from an unnamed one.
        let v = [0.0, 0.0, 1.0, 2.0, 2.0, 1.0];
        let plain = points_png(&Points::new(&v, 2, "t"));
        let named = points_png(&Points::new(&v, 2, "t").with_names(&names));
        assert_ne!(plain, named);
    }

    /// Pixels inside `plot` tinted like the points (blue clearly above red).
    fn point_pixels(img: &RgbImage, plot: &Rect) -> Vec<(u32, u32)> {
        let mut found = Vec::new();
        for y in plot.y..plot.y + plot.h {
            for x in plot.x..plot.x + plot.w {
                let [r, _, b] = img.get_pixel(x, y).0;
                if b as i32 - r as i32 > 40 {
                    found.push((x, y));
                }
            }
        }
        found
    }

    /// `n` points on a circle of radius `r` around (`cx`, `cy`), plus one far outlier.
    fn ring(n: usize, (cx, cy): (f64, f64), r: f64) -> Vec<f64> {
        let mut v: Vec<f64> = (0..n)
            .flat_map(|i| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                [cx + r * t.cos(), cy + r * t.sin()]
            })
            .collect();
        v.extend([cx + 1e4 * r, cy]);
        v
    }

    #[test]
    fn a_scatter_of_large_values_fills_its_plot() {
        let v = ring(400, (1e6, -2e6), 1e3);
        let img = points_png(&Points::new(&v, 2, "ring"));
        let plot = square();
        let hits = point_pixels(&img, &plot);
        assert!(hits.len() > 1000, "{} point pixels", hits.len());
        // The ring spans most of the plot, despite the outlier 1e7 away.
        let (xmin, xmax) = hits
            .iter()
            .fold((u32::MAX, 0), |a, h| (a.0.min(h.0), a.1.max(h.0)));
        assert!(xmax - xmin > plot.w * 3 / 4, "{xmin}..{xmax}");
    }

    #[test]
    fn modes_widen_the_extent_and_are_drawn() {
        let v = ring(100, (0.0, 0.0), 1.0);
        let p = Points::new(&v, 2, "ring").with_modes(&[[4.0, 0.0]]);
        assert!(
            p.extent[0].hi > 4.0 && p.extent[1].hi < 2.0,
            "{:?}",
            p.extent
        );
        let img = points_png(&p);
        let plot = square();
        let at = plot.to_px(p.extent[0].pair(), p.extent[1].pair(), (4.0, 0.0));
        let ring_px = img.get_pixel(at.0.round() as u32 + 9, at.1.round() as u32);
        assert_eq!(*ring_px, colour(3));
    }

    #[test]
    fn one_column_is_a_histogram_with_the_model_density() {
        // Values spread evenly over [100, 200]; the density 1/100 across.
        let v: Vec<f64> = (0..1000).map(|i| 100.0 + i as f64 / 10.0).collect();
        let mut p = Points::new(&v, 1, "flat");
        p.density = (0..=100).map(|i| (100.0 + i as f64, 0.01)).collect();
        let img = points_png(&p);
        assert_eq!(
            img.dimensions(),
            (LEFT + HIST_W + RIGHT, TOP + HIST_H + BOTTOM)
        );
        let plot = Rect {
            x: LEFT,
            y: TOP,
            w: HIST_W,
            h: HIST_H,
        };
        let hits = point_pixels(&img, &plot);
        assert!(
            hits.len() > plot.w as usize * plot.h as usize / 2,
            "bars fill the middle"
        );
        let orange = (plot.x..plot.x + plot.w)
            .flat_map(|x| (plot.y..plot.y + plot.h).map(move |y| (x, y)))
            .filter(|&(x, y)| *img.get_pixel(x, y) == colour(1))
            .count();
        assert!(
            orange > plot.w as usize,
            "the density curve crosses the plot"
        );
    }

    #[test]
    fn values_that_are_not_finite_are_left_out() {
        for d in [1, 2, 3] {
            let v = vec![f64::NAN; 10 * d];
            let img = points_png(&Points::new(&v, d, "diverged"));
            if d == 2 {
                assert!(point_pixels(&img, &square()).is_empty());
            }
            assert!(points_png(&Points::new(&[], d, "none")).width() > 0);
        }
        let mut p = Points::new(&[1.0, 2.0, f64::INFINITY], 1, "with a curve");
        p.density = vec![(1.0, f64::NAN), (1.5, 0.5), (2.0, f64::INFINITY)];
        points_png(&p);
    }

    #[test]
    fn many_columns_are_a_pairs_plot_of_the_first_four() {
        let v: Vec<f64> = (0..500)
            .flat_map(|i| (0..6).map(move |j| ((i * (j + 1)) % 97) as f64 * 10f64.powi(j)))
            .collect();
        let img = points_png(&Points::new(&v, 6, "six"));
        let side = 160;
        assert_eq!(img.width(), LEFT + 4 * (side + GAP) - GAP + ROW_NAMES);
        // Every panel has points or bars in it.
        for i in 0..4 {
            for j in 0..4 {
                let plot = Rect {
                    x: LEFT + j * (side + GAP),
                    y: TOP + i * (BAND + side + GAP) + BAND,
                    w: side,
                    h: side,
                };
                assert!(point_pixels(&img, &plot).len() > 200, "panel ({i}, {j})");
            }
        }
    }
}
