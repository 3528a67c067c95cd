//! Line charts as PNGs with their numbers written on them:
//!   - [`panels_png`]: training curves under a title band, one panel per series on its own
//!     scale (losses of very different size, a reconstruction term and a KL, stay readable),
//!     titled with the name and the last value, y ticks with as many digits as the range needs
//!     (or an offset), x ticks at steps; a series that is the sum of others (the VAE's
//!     neg_elbo = rec_nll + kl) gets one more panel with the sum and its terms on one scale; a
//!     series of one value (a fit in one step) is written as that value;
//!   - [`lines_png`]: series that must be compared on one scale (BIC per covariance type), with
//!     a legend in the series' colours.

use crate::axis::{tick_values, x_grid, x_labels, y_grid, y_labels, Side, Span, Ticks};
use crate::draw::{
    colour, fill, fit, frame, number, text, width, wrap, Rect, BG, CHAR, INK, LINE, MUTED,
};
use image::{Rgb, RgbImage};

const W: u32 = 640;
/// Left margin: room for a y label of [`crate::axis::TICK_CHARS`] characters.
const LEFT: u32 = 80;
const RIGHT: u32 = 16;
/// Margin of the title band's text, as on the point pictures.
const PAD: u32 = 8;
/// One panel of [`panels_png`]: title band, plot, x labels.
const PANEL_TITLE: u32 = 20;
const PANEL_PLOT: u32 = 96;
const PANEL_FOOT: u32 = 20;
const PANEL_H: u32 = PANEL_TITLE + PANEL_PLOT + PANEL_FOOT;
/// A panel that states one value instead of drawing it.
const VALUE_H: u32 = PANEL_TITLE + 20;
/// Y ticks of a panel at most: a line and a half of text apart over its plot.
const PANEL_TICKS: usize = 4;
/// A series equals the sum of others when it does at every logged step within this share of
/// the values' size (metrics are means over a window, summed in another order).
const SUM_TOLERANCE: f64 = 1e-6;
/// Sums are looked for among at most this many other series (2^n subsets).
const MAX_TERMS: usize = 10;

/// A named series of (x, y) points.
pub type Series = (String, Vec<(f64, f64)>);

/// Training curves under `title` (empty: no band): one panel per series, each on its own y
/// range, then one panel per sum of series (see [`sums`]) and one per training loss `NAME`
/// with its `held_out_NAME`, each on one scale. Returns the picture and each
/// series' (name, min, max) over its finite values.
pub fn panels_png(title: &str, series: &[Series]) -> (RgbImage, Vec<(String, f64, f64)>) {
    let (xr, whole) = (x_range(series), whole_x(series));
    let sums = sums(series);
    let title = wrap(title, ((W - 2 * PAD) / CHAR) as usize);
    let band = band_height(title.len());
    // A panel draws a curve where there are two steps to draw it between.
    let curve = |pts: &[(f64, f64)]| xr.1 > xr.0 && pts.iter().any(|p| p.1.is_finite());
    let height = |pts: &[(f64, f64)]| if curve(pts) { PANEL_H } else { VALUE_H };
    let total: u32 = series.iter().map(|s| height(&s.1)).sum::<u32>()
        + sums.iter().map(|(i, _)| height(&series[*i].1)).sum::<u32>()
        + held_out_pairs(series)
            .map(|(i, _)| height(&series[i].1))
            .sum::<u32>();
    let mut img = RgbImage::from_pixel(W, band + total.max(VALUE_H), BG);
    for (i, line) in title.iter().enumerate() {
        text(&mut img, PAD, PAD + i as u32 * LINE, line, INK);
    }
    let mut top = band;
    let mut ranges = Vec::new();
    for (k, (name, pts)) in series.iter().enumerate() {
        let yr = y_range(std::slice::from_ref(&(name.clone(), pts.clone())));
        if curve(pts) {
            let last = pts.iter().rev().map(|p| p.1).find(|v| v.is_finite());
            let plot = across(top + PANEL_TITLE, PANEL_PLOT);
            let yt = y_axis(&mut img, &plot, yr);
            x_axis(&mut img, &plot, (xr, whole), "step");
            let mut title = format!(
                "{name}   last {}",
                last.map_or(String::new(), |v| precise(v, &yt))
            );
            if yt.offset.is_some() {
                title.push_str(&format!("   (the axis shows {})", yt.title(name)));
            }
            text(&mut img, LEFT, top + 6, &title, INK);
            line(&mut img, &plot, (xr, span_of(yr).pair()), pts, colour(k));
        } else {
            text(&mut img, LEFT, top + 6, name, colour(k));
            text(&mut img, LEFT, top + 6 + LINE, &single(pts), INK);
        }
        ranges.push((name.clone(), yr.0, yr.1));
        top += height(pts);
    }
    // Panels of several series on one scale: each sum with its terms, each training loss
    // with its held-out value.
    let joints = sums
        .iter()
        .map(|(total, terms)| {
            let parts = std::iter::once(*total).chain(terms.iter().copied());
            (parts.collect::<Vec<usize>>(), [" = ", " + "])
        })
        .chain(held_out_pairs(series).map(|(a, b)| (vec![a, b], [" vs ", ""])));
    for (parts, ops) in joints {
        let pts = &series[parts[0]].1;
        // The legend: "neg_elbo = rec_nll + kl", "nll vs held_out_nll", each name in its
        // panel's colour.
        let mut x = LEFT;
        for (j, &s) in parts.iter().enumerate() {
            if j > 0 {
                let op = if j == 1 { ops[0] } else { ops[1] };
                text(&mut img, x, top + 6, op, INK);
                x += width(op);
            }
            text(&mut img, x, top + 6, &series[s].0, colour(s));
            x += width(&series[s].0);
        }
        if curve(pts) {
            let members: Vec<Series> = parts.iter().map(|&s| series[s].clone()).collect();
            let yr = y_range(&members);
            let plot = across(top + PANEL_TITLE, PANEL_PLOT);
            let yt = y_axis(&mut img, &plot, yr);
            x_axis(&mut img, &plot, (xr, whole), "step");
            let note = match yt.offset {
                Some(_) => format!("   one scale (the axis shows {})", yt.title("value")),
                None => "   on one scale".to_string(),
            };
            text(&mut img, x, top + 6, &note, MUTED);
            for &s in parts.iter().rev() {
                line(
                    &mut img,
                    &plot,
                    (xr, span_of(yr).pair()),
                    &series[s].1,
                    colour(s),
                );
            }
        } else {
            let values: Vec<String> = parts.iter().map(|&s| single(&series[s].1)).collect();
            text(&mut img, LEFT, top + 6 + LINE, &values.join("; "), INK);
        }
        top += height(pts);
    }
    (img, ranges)
}

/// (training series, held-out series) for each `held_out_NAME` beside a series `NAME`.
fn held_out_pairs(series: &[Series]) -> impl Iterator<Item = (usize, usize)> + '_ {
    series.iter().enumerate().filter_map(|(j, (name, _))| {
        let base = name.strip_prefix("held_out_")?;
        let i = series.iter().position(|s| s.0 == base)?;
        Some((i, j))
    })
}

/// Height of a title band of `lines` lines (none without lines).
fn band_height(lines: usize) -> u32 {
    if lines == 0 {
        0
    } else {
        PAD + lines as u32 * LINE + LINE - CHAR
    }
}

/// The series that are the sum of others: (index of the sum, indices of its terms), the fewest
/// terms (at least two) whose values add up to the sum's at every step of the sum, within
/// [`SUM_TOLERANCE`] of the values' size. Terms that are zero throughout are left out (they
/// would make every series a sum); so are sums that are zero throughout or not finite.
pub(crate) fn sums(series: &[Series]) -> Vec<(usize, Vec<usize>)> {
    let mut found = Vec::new();
    let useful = |pts: &[(f64, f64)]| {
        !pts.is_empty() && pts.iter().all(|p| p.1.is_finite()) && pts.iter().any(|p| p.1 != 0.0)
    };
    for (i, (_, total)) in series.iter().enumerate() {
        if !useful(total) {
            continue;
        }
        // Each other series' values at the sum's steps, where it has them all.
        let others: Vec<(usize, Vec<f64>)> = series
            .iter()
            .enumerate()
            .filter(|(j, s)| *j != i && useful(&s.1))
            .filter_map(|(j, s)| {
                let at: Option<Vec<f64>> = total
                    .iter()
                    .map(|&(x, _)| s.1.iter().find(|p| p.0 == x).map(|p| p.1))
                    .collect();
                at.map(|v| (j, v))
            })
            .collect();
        if others.len() < 2 || others.len() > MAX_TERMS {
            continue;
        }
        let mut best: Option<Vec<usize>> = None;
        for mask in 1u32..1 << others.len() {
            let k = mask.count_ones() as usize;
            if k < 2 || best.as_ref().is_some_and(|b| b.len() <= k) {
                continue;
            }
            let terms: Vec<&(usize, Vec<f64>)> = others
                .iter()
                .enumerate()
                .filter(|(b, _)| mask >> b & 1 == 1)
                .map(|(_, t)| t)
                .collect();
            let adds_up = total.iter().enumerate().all(|(step, &(_, v))| {
                let sum: f64 = terms.iter().map(|t| t.1[step]).sum();
                let size = v.abs().max(terms.iter().map(|t| t.1[step].abs()).sum());
                (v - sum).abs() <= SUM_TOLERANCE * size
            });
            if adds_up {
                best = Some(terms.iter().map(|t| t.0).collect());
            }
        }
        if let Some(terms) = best {
            found.push((i, terms));
        }
    }
    found
}

/// The value of a series of one point, with its step, in full: "-115929.3 at step 1 (one
/// step: no curve to draw)".
fn single(pts: &[(f64, f64)]) -> String {
    match pts.iter().rev().find(|p| p.1.is_finite()) {
        Some(&(x, v)) if pts.len() == 1 => {
            format!("{} at step {x} (one step: no curve to draw)", full(v))
        }
        Some(&(x, v)) => format!("{} at step {x}", full(v)),
        None => "no finite values".to_string(),
    }
}

/// Seven significant digits: a value written out rather than drawn.
fn full(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (6 - v.abs().log10().floor() as i32).max(0) as usize;
    if (1e-3..1e9).contains(&v.abs()) {
        let plain = format!("{v:.digits$}");
        if plain.contains('.') {
            plain
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        } else {
            plain
        }
    } else {
        format!("{v:.6e}")
    }
}

/// `v` with one digit more than the ticks' labels have, so that a last value inside a narrow
/// range far from zero (-115929.31 on ticks 0.1 apart) is told from its neighbours; 4
/// significant digits where the labels are plain.
fn precise(v: f64, ticks: &Ticks) -> String {
    let step = match ticks.at[..] {
        [a, b, ..] => b - a,
        _ => return number(v),
    };
    if ticks.offset.is_none() && ticks.labels.iter().all(|l| !l.contains('e')) && v.abs() < 1e6 {
        return number(v);
    }
    // f64 has 17 significant digits: more places than that are noise (or a step of 0).
    let places = (1.0 - (step.log10() + 1e-9).floor()).clamp(0.0, 17.0) as usize;
    format!("{v:.places$}")
}

/// Series compared on one y range, with a legend: `title` above, then the series names in
/// their colours; `x_name` labels the x axis. Returns the picture and the shared (min, max).
pub fn lines_png(title: &str, x_name: &str, series: &[Series]) -> (RgbImage, (f64, f64)) {
    let legend_rows = series.len().div_ceil(4) as u32;
    let head = 10 + (1 + legend_rows) * 14;
    let h = 300;
    let mut img = RgbImage::from_pixel(W, head + h + PANEL_FOOT, BG);
    text(
        &mut img,
        PAD,
        PAD,
        &fit(title, ((W - 2 * PAD) / CHAR) as usize),
        INK,
    );
    for (k, (name, _)) in series.iter().enumerate() {
        let (row, col) = ((k / 4) as u32, (k % 4) as u32);
        let (x, y) = (LEFT + col * 136, 22 + row * 14);
        fill(&mut img, x, y + 3, 16, 3, colour(k));
        text(&mut img, x + 20, y, name, colour(k));
    }
    let (xr, yr) = (x_range(series), y_range(series));
    let plot = across(head, h);
    let yt = y_axis(&mut img, &plot, yr);
    x_axis(&mut img, &plot, (xr, whole_x(series)), x_name);
    if yt.offset.is_some() {
        text(&mut img, PAD, head - 14, &yt.title("value"), MUTED);
    }
    for (k, (_, pts)) in series.iter().enumerate() {
        line(&mut img, &plot, (xr, span_of(yr).pair()), pts, colour(k));
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

/// The drawn span of a (min, max) range: itself, or for a flat series (flat to 12 digits:
/// rounding noise has no ticks) v ± |v|/10 (±1 at 0), so that its line runs through the middle
/// with ticks around it.
fn span_of((lo, hi): (f64, f64)) -> Span {
    if hi - lo > 1e-12 * lo.abs().max(hi.abs()) {
        Span { lo, hi }
    } else {
        let m = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        Span {
            lo: lo - m,
            hi: lo + m,
        }
    }
}

/// Y ticks with values left of `plot` (plain, scientific or offsets, as the point pictures'),
/// their grid lines and the plot's frame. Returns the ticks.
fn y_axis(img: &mut RgbImage, plot: &Rect, yr: (f64, f64)) -> Ticks {
    let span = span_of(yr);
    let most =
        (plot.h as usize / (5 * CHAR as usize / 2)).clamp(2, PANEL_TICKS.max(plot.h as usize / 40));
    let (at, step) = tick_values(span, most);
    let ticks = Ticks::label(at, step);
    y_grid(img, plot, span, &ticks);
    y_labels(img, plot, span, &ticks, Side::Left);
    frame(img, plot, MUTED);
    ticks
}

/// X ticks with values below `plot` (whole numbers where the x values are: steps, K), their
/// grid lines, and the axis' name at the left edge on the labels' line.
fn x_axis(img: &mut RgbImage, plot: &Rect, (xr, whole): ((f64, f64), bool), name: &str) {
    let span = span_of(xr);
    let mut ticks = Ticks::fit(span, plot.w, true);
    if whole && ticks.at.windows(2).any(|w| w[1] - w[0] < 1.0) {
        let at: Vec<f64> = (span.lo.ceil() as i64..=span.hi.floor() as i64)
            .map(|v| v as f64)
            .collect();
        ticks = Ticks::label(at, 1.0);
    }
    x_grid(img, plot, span, &ticks);
    x_labels(img, plot, span, &ticks);
    text(img, PAD, plot.y + plot.h + 6, &ticks.title(name), MUTED);
}

/// Whether every x value is a whole number.
fn whole_x(series: &[Series]) -> bool {
    series
        .iter()
        .all(|s| s.1.iter().all(|p| p.0.fract() == 0.0))
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
    // One measurement (a value logged at the last step only): a marker, 7 pixels wide, that
    // a reader finds even at the plot's edge.
    if let [only] = finite[..] {
        let (x, y) = plot.to_px(xr, yr, only);
        let (x, y) = (
            (x.round() as u32).saturating_sub(3),
            (y.round() as u32).saturating_sub(3),
        );
        fill(img, x, y, 7, 7, colour);
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
        let (img, ranges) = panels_png("", &s);
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
    fn a_held_out_loss_shares_a_panel_with_its_training_loss() {
        // nll every 10 steps falls from 10 to 1; held_out_nll at steps 50 and 100 stays at 8:
        // their own two panels, then one on one scale where the held-out line runs high.
        let nll: Vec<(f64, f64)> = (0..=10)
            .map(|i| (i as f64 * 10.0, 10.0 - 0.9 * i as f64))
            .collect();
        let s = vec![
            ("nll".to_string(), nll),
            ("held_out_nll".to_string(), vec![(50.0, 8.0), (100.0, 8.0)]),
        ];
        let (img, _) = panels_png("", &s);
        assert_eq!(img.height(), 3 * PANEL_H);
        let plot = across(2 * PANEL_H + PANEL_TITLE, PANEL_PLOT);
        let (xr, yr) = ((0.0, 100.0), (1.0, 10.0));
        let (blue, orange) = (Rgb(COLOURS[0]), Rgb(COLOURS[1]));
        assert_eq!(colour_at(&img, plot.to_px(xr, yr, (0.0, 10.0))), blue);
        assert_eq!(colour_at(&img, plot.to_px(xr, yr, (100.0, 1.0))), blue);
        assert_eq!(colour_at(&img, plot.to_px(xr, yr, (75.0, 8.0))), orange);
        // held_out_nll measured once, at the last step: a marker a reader can find.
        let once = vec![
            s[0].clone(),
            ("held_out_nll".to_string(), vec![(100.0, 8.0)]),
        ];
        let (img, _) = panels_png("", &once);
        let marked = img.pixels().filter(|p| **p == orange).count();
        assert!(marked >= 2 * 30, "{marked} pixels of the one-point series");
        // Without its training series a held-out series is a panel of its own only.
        let (img, _) = panels_png("", &s[1..]);
        assert_eq!(img.height(), PANEL_H);
    }

    #[test]
    fn a_title_band_heads_the_panels() {
        let s = vec![("loss".to_string(), vec![(0.0, 2.0), (10.0, 1.0)])];
        let (img, _) = panels_png("gmm · runs/gmm · step 10 · training curves", &s);
        assert_eq!(img.height(), 24 + PANEL_H);
        let ink = (8..16)
            .flat_map(|y| (0..W).map(move |x| (x, y)))
            .filter(|&(x, y)| *img.get_pixel(x, y) == INK)
            .count();
        assert!(ink > 100, "{ink} pixels of title");
    }

    #[test]
    fn ticks_of_a_narrow_range_far_from_zero_are_told_apart() {
        // gmm's curve: -115929.4 to -115929.1 over the run.
        let mut img = RgbImage::from_pixel(W, PANEL_H, BG);
        let plot = across(PANEL_TITLE, PANEL_PLOT);
        let t = y_axis(&mut img, &plot, (-115929.4, -115929.1));
        let distinct: std::collections::HashSet<_> = t.labels.iter().collect();
        assert!(
            t.labels.len() >= 3 && distinct.len() == t.labels.len(),
            "{t:?}"
        );
        assert_eq!(t.title("nll"), "nll + 115929");
        assert_eq!(precise(-115929.3125, &t), "-115929.31");
        // Plain labels keep the last value short.
        let plain = y_axis(&mut img, &plot, (1.0, 10.0));
        assert_eq!(precise(4.56789, &plain), "4.568");
    }

    #[test]
    fn a_loss_that_adds_up_its_terms_gets_a_panel_with_them() {
        let steps = [10.0, 20.0, 30.0];
        let rec = [100.5, 80.25, 70.125];
        let kl = [3.0, 5.5, 6.0];
        let series = vec![
            (
                "neg_elbo".to_string(),
                steps
                    .iter()
                    .zip(rec.iter().zip(&kl))
                    .map(|(&x, (r, k))| (x, r + k))
                    .collect(),
            ),
            (
                "rec_nll".to_string(),
                steps.iter().copied().zip(rec).collect(),
            ),
            ("kl".to_string(), steps.iter().copied().zip(kl).collect()),
            ("lr".to_string(), steps.iter().map(|&x| (x, 1e-3)).collect()),
        ];
        assert_eq!(sums(&series), vec![(0, vec![1, 2])]);
        let (img, _) = panels_png("", &series);
        assert_eq!(img.height(), 5 * PANEL_H);
        // The sum and its terms on one scale: neg_elbo's first point at the top left of the
        // fifth panel, kl's at its bottom left.
        let plot = across(4 * PANEL_H + PANEL_TITLE, PANEL_PLOT);
        let yr = (3.0, 103.5);
        let at = |p| colour_at(&img, plot.to_px((10.0, 30.0), yr, p));
        assert_eq!(at((10.0, 103.5)), Rgb(COLOURS[0]));
        assert_eq!(at((10.0, 3.0)), Rgb(COLOURS[2]));
        // Off by more than the tolerance: no sum.
        let mut off = series.clone();
        off[0].1[1].1 += 1e-3;
        assert!(sums(&off).is_empty());
        // Zero terms make no sum of a series with itself.
        let zero = vec![
            ("a".to_string(), vec![(1.0, 2.0), (2.0, 3.0)]),
            ("b".to_string(), vec![(1.0, 2.0), (2.0, 3.0)]),
            ("z".to_string(), vec![(1.0, 0.0), (2.0, 0.0)]),
        ];
        assert!(sums(&zero).is_empty());
    }

    #[test]
    fn a_series_flat_but_for_rounding_is_drawn_flat() {
        let s = vec![(
            "bic".to_string(),
            vec![(1.0, 12.5), (2.0, 12.5 + 4e-15), (3.0, 12.5)],
        )];
        let (img, ranges) = panels_png("", &s);
        assert_eq!(img.height(), PANEL_H);
        assert_eq!(ranges[0].1, 12.5);
        let mut img = RgbImage::from_pixel(W, PANEL_H, BG);
        let plot = across(PANEL_TITLE, PANEL_PLOT);
        let t = y_axis(&mut img, &plot, (12.5, 12.5 + 4e-15));
        assert_eq!(precise(12.5, &t), "12.5");
    }

    #[test]
    fn a_fit_in_one_step_is_written_as_its_value() {
        let s = vec![
            ("nll".to_string(), vec![(1.0, -115929.3125)]),
            ("bic".to_string(), vec![(1.0, 2.5)]),
        ];
        let (img, ranges) = panels_png("", &s);
        assert_eq!(img.height(), 2 * VALUE_H);
        assert_eq!(ranges[0], ("nll".to_string(), -115929.3125, -115929.3125));
        assert_eq!(
            single(&s[0].1),
            "-115929.3 at step 1 (one step: no curve to draw)"
        );
        // No line, no dot: only text.
        let blue = (0..img.height())
            .flat_map(|y| (0..W).map(move |x| (x, y)))
            .filter(|&(x, y)| *img.get_pixel(x, y) == Rgb(COLOURS[0]))
            .count();
        assert!(
            blue > 0 && blue < 8 * 8 * 3,
            "only the name in blue: {blue}"
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
