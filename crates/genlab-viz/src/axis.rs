//! Axes of point pictures: the drawn range of a coordinate ([`Span`], [`extent`] from the data),
//! nice tick values (1, 2 or 5 times a power of ten apart) and labels short enough for the
//! margin, whatever the scale of the data.

use crate::draw::{fill, text, width, Rect, CHAR, GRID, MUTED};
use image::RgbImage;

/// The drawn range of one coordinate, in the data's units; `lo < hi`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub lo: f64,
    pub hi: f64,
}

impl Span {
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }

    pub fn holds(&self, v: f64) -> bool {
        (self.lo..=self.hi).contains(&v)
    }

    /// The smallest span holding this one and `[lo, hi]`.
    pub(crate) fn cover(self, lo: f64, hi: f64) -> Span {
        Span {
            lo: self.lo.min(lo),
            hi: self.hi.max(hi),
        }
    }

    /// As a (lo, hi) pair, for [`Rect::to_px`].
    pub(crate) fn pair(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }
}

/// Share of values left out below and above the central range: one far outlier in 200 values
/// does not squash the others into a corner.
pub const TAIL: f64 = 0.005;
/// Room added on each side of the central range, as a share of its width.
pub const MARGIN: f64 = 0.08;

/// The robust drawn range of each column of `values` (`[n, d]` row-major, the data's units):
/// its [`TAIL`] to 1 - [`TAIL`] quantiles over the finite values, widened by [`MARGIN`] of that
/// width on each side. A column of one value `v` spans `v ± |v|/10` (±1 at 0); a column with no
/// finite value spans [-1, 1].
pub fn extent(values: &[f64], d: usize) -> Vec<Span> {
    (0..d)
        .map(|j| {
            let mut col: Vec<f64> = values
                .iter()
                .skip(j)
                .step_by(d)
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if col.is_empty() {
                return Span { lo: -1.0, hi: 1.0 };
            }
            col.sort_by(f64::total_cmp);
            let last = (col.len() - 1) as f64;
            let (lo, hi) = (
                col[(TAIL * last).floor() as usize],
                col[((1.0 - TAIL) * last).ceil() as usize],
            );
            if hi > lo {
                let m = MARGIN * (hi - lo);
                Span {
                    lo: lo - m,
                    hi: hi + m,
                }
            } else {
                let m = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
                Span {
                    lo: lo - m,
                    hi: lo + m,
                }
            }
        })
        .collect()
}

/// Longest tick label, in characters (the left margins hold 9).
pub(crate) const TICK_CHARS: usize = 8;

/// Tick values along one axis with their labels. With `offset` set, each label is the tick's
/// value minus the offset (1.7e9 + 20 reads `20` on an axis named "x0 - 1.7e9"), because
/// neither plain nor scientific labels of 8 characters can tell such ticks apart.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ticks {
    pub at: Vec<f64>,
    pub labels: Vec<String>,
    pub offset: Option<String>,
}

impl Ticks {
    /// Ticks for an axis of `px` pixels: the most of them whose labels still have room, on a
    /// horizontal axis side by side, on a vertical one a line and a half apart; where even the
    /// fewest have no room (long labels on a narrow panel), every other label (or fewer) is left
    /// blank.
    pub fn fit(span: Span, px: u32, horizontal: bool) -> Ticks {
        let room = |t: &Ticks, step: f64| {
            let gap = px as f64 * step / span.width();
            let need = if horizontal {
                let longest = t.labels.iter().map(|l| width(l)).max().unwrap_or(0);
                (longest + 2 * CHAR) as f64
            } else {
                2.5 * CHAR as f64
            };
            gap / need
        };
        let mut max = (px as usize / 40).clamp(2, 10);
        loop {
            let (at, step) = tick_values(span, max);
            let mut ticks = Self::label(at, step);
            let room = room(&ticks, step);
            if room >= 1.0 {
                return ticks;
            }
            if max == 2 {
                let every = (1.0 / room).ceil() as usize;
                for (i, l) in ticks.labels.iter_mut().enumerate() {
                    if i % every != 0 {
                        l.clear();
                    }
                }
                return ticks;
            }
            max -= 1;
        }
    }

    /// Labels of ticks `at`, `step` apart: plain decimals with as many places as the step needs,
    /// else scientific notation with as many digits as the step needs, else offsets.
    pub fn label(at: Vec<f64>, step: f64) -> Ticks {
        let places = (-(step.log10() + 1e-9).floor()).max(0.0) as usize;
        let plain = |v: f64| tidy(format!("{v:.places$}"));
        let labels: Vec<String> = at.iter().map(|&v| plain(v)).collect();
        if labels.iter().all(|l| l.len() <= TICK_CHARS) {
            return Ticks {
                at,
                labels,
                offset: None,
            };
        }
        let top = at.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let digits = (top.log10().floor() - (step.log10() + 1e-9).floor()).max(0.0) as usize;
        let labels: Vec<String> = at.iter().map(|&v| format!("{v:.digits$e}")).collect();
        if labels.iter().all(|l| l.len() <= TICK_CHARS) {
            return Ticks {
                at,
                labels,
                offset: None,
            };
        }
        // A round number one digit above the ticks' spread, near their middle.
        let spread = (at[at.len() - 1] - at[0]).max(step);
        let unit = 10f64.powf(spread.log10().floor() + 1.0);
        let offset = ((at[0] + at[at.len() - 1]) / 2.0 / unit).round() * unit;
        let labels = at.iter().map(|&v| plain(v - offset)).collect();
        Ticks {
            at,
            labels,
            offset: Some(exact(offset)),
        }
    }

    /// The axis' title: `name`, less the offset if the labels are offsets.
    pub fn title(&self, name: &str) -> String {
        match &self.offset {
            Some(o) if o.starts_with('-') => format!("{name} + {}", &o[1..]),
            Some(o) => format!("{name} - {o}"),
            None => name.to_string(),
        }
    }
}

/// Ticks 1, 2 or 5 times a power of ten apart inside `span`, and their distance: the closest
/// that leave at most `max` (>= 2) ticks, or closer still where that would leave fewer than 2
/// (then at most 5).
pub(crate) fn tick_values(span: Span, max: usize) -> (Vec<f64>, f64) {
    let raw = span.width() / (max.max(2) - 1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * power);
    loop {
        let (first, last) = (
            (span.lo / step - 1e-9).ceil() as i64,
            (span.hi / step + 1e-9).floor() as i64,
        );
        if last > first {
            return ((first..=last).map(|k| k as f64 * step).collect(), step);
        }
        // The next nice number down: 5 -> 2 -> 1 -> 0.5.
        let mantissa = (step / 10f64.powf(step.log10().floor())).round();
        step *= if mantissa == 5.0 { 0.4 } else { 0.5 };
    }
}

/// "-0", "-0.00" -> "0", "0.00".
fn tidy(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// A round number in as few characters as it takes: scientific notation without trailing
/// zeros (1700000000 -> "1.7e9") or a plain whole number where that is shorter (-115929).
fn exact(v: f64) -> String {
    let s = format!("{v:.15e}");
    let (mantissa, exponent) = s.split_once('e').expect("scientific notation has an e");
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    let scientific = format!("{mantissa}e{exponent}");
    let plain = format!("{v:.0}");
    if v.fract() == 0.0 && v.abs() < 1e15 && plain.len() < scientific.len() {
        plain
    } else {
        scientific
    }
}

/// Grid lines across `plot` at the x ticks.
pub(crate) fn x_grid(img: &mut RgbImage, plot: &Rect, span: Span, t: &Ticks) {
    for v in &t.at {
        let x = plot.to_px(span.pair(), (0.0, 1.0), (*v, 0.0)).0.round() as u32;
        fill(img, x, plot.y, 1, plot.h, GRID);
    }
}

/// The x ticks' marks and labels, centred below `plot`.
pub(crate) fn x_labels(img: &mut RgbImage, plot: &Rect, span: Span, t: &Ticks) {
    for (v, label) in t.at.iter().zip(&t.labels) {
        let x = plot.to_px(span.pair(), (0.0, 1.0), (*v, 0.0)).0.round() as u32;
        fill(img, x, plot.y + plot.h, 1, 4, MUTED);
        // Centred on the tick, but never cut by the picture's edge.
        let left = x
            .saturating_sub(width(label) / 2)
            .min(img.width().saturating_sub(width(label) + 2));
        text(img, left, plot.y + plot.h + 6, label, MUTED);
    }
}

/// Grid lines across `plot` at the y ticks.
pub(crate) fn y_grid(img: &mut RgbImage, plot: &Rect, span: Span, t: &Ticks) {
    for v in &t.at {
        let y = plot.to_px((0.0, 1.0), span.pair(), (0.0, *v)).1.round() as u32;
        fill(img, plot.x, y, plot.w, 1, GRID);
    }
}

/// Which side of a plot vertical labels go.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
}

/// The y ticks' marks and labels: right-aligned left of `plot`, or left-aligned right of it.
pub(crate) fn y_labels(img: &mut RgbImage, plot: &Rect, span: Span, t: &Ticks, side: Side) {
    for (v, label) in t.at.iter().zip(&t.labels) {
        let y = plot.to_px((0.0, 1.0), span.pair(), (0.0, *v)).1.round() as u32;
        let top = y.saturating_sub(CHAR / 2);
        if side == Side::Left {
            fill(img, plot.x - 5, y, 4, 1, MUTED);
            text(
                img,
                plot.x.saturating_sub(8 + width(label)),
                top,
                label,
                MUTED,
            );
        } else {
            let right = plot.x + plot.w;
            fill(img, right + 1, y, 4, 1, MUTED);
            text(img, right + 8, top, label, MUTED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(lo: f64, hi: f64) -> Span {
        Span { lo, hi }
    }

    fn is_nice(step: f64) -> bool {
        let m = step / 10f64.powf(step.log10().floor());
        [1.0, 2.0, 5.0].iter().any(|n| (m - n).abs() < 1e-9)
    }

    #[test]
    fn ticks_are_nice_numbers_covering_the_span() {
        for (lo, hi) in [
            (-5.0, 5.0),
            (0.0, 1.0),
            (-0.0037, 0.0121),
            (998_800.0, 1_001_300.0),
            (1.7e9 - 31.0, 1.7e9 + 27.0),
            (-3e-7, -1e-7),
        ] {
            for max in [3, 5, 8] {
                let (at, step) = tick_values(span(lo, hi), max);
                assert!(is_nice(step), "{lo}..{hi}: step {step}");
                assert!(
                    at.len() >= 2 && at.len() <= max.max(5),
                    "{lo}..{hi}: {at:?}"
                );
                assert!(at.iter().all(|v| (lo..=hi).contains(v)), "{at:?}");
                // Nothing wider than a step is left without a tick at either end.
                assert!(at[0] - lo < step && hi - at[at.len() - 1] < step, "{at:?}");
                for w in at.windows(2) {
                    assert!((w[1] - w[0] - step).abs() < 1e-6 * step);
                }
            }
        }
        assert_eq!(
            tick_values(span(-5.0, 5.0), 6).0,
            [-4.0, -2.0, 0.0, 2.0, 4.0]
        );
        assert_eq!(tick_values(span(-5.0, 5.0), 5).0, [-5.0, 0.0, 5.0]);
    }

    #[test]
    fn labels_are_readable_at_any_scale() {
        let t = |lo, hi, max| {
            let (at, step) = tick_values(span(lo, hi), max);
            Ticks::label(at, step)
        };
        assert_eq!(t(-5.0, 5.0, 6).labels, ["-4", "-2", "0", "2", "4"]);
        assert_eq!(t(0.0, 1.0, 3).labels, ["0.0", "0.5", "1.0"]);
        // Data near a million with a spread of a thousand: plain numbers of 6-7 digits.
        let millions = t(998_800.0, 1_001_300.0, 4);
        assert_eq!(millions.labels, ["999000", "1000000", "1001000"]);
        assert_eq!(millions.offset, None);
        // Near 1e8 with a spread of 1e7: shared exponent, one digit per step.
        assert_eq!(
            t(0.95e8, 1.12e8, 5).labels,
            ["9.50e7", "1.00e8", "1.05e8", "1.10e8"]
        );
        // Near 1.7e9 with a spread of 50, neither fits 8 characters: offsets from 1.7e9.
        let huge = t(1.7e9 - 31.0, 1.7e9 + 27.0, 5);
        assert_eq!(huge.labels, ["-20", "0", "20"]);
        assert_eq!(huge.offset.as_deref(), Some("1.7e9"));
        assert_eq!(huge.title("x0"), "x0 - 1.7e9");
        // A loss near -115929 that moves by tenths: offsets written as the whole number.
        let loss = t(-115929.45, -115929.05, 5);
        assert_eq!(loss.labels, ["-0.4", "-0.3", "-0.2", "-0.1"]);
        assert_eq!(loss.title("nll"), "nll + 115929");
        let small = t(-3e-7, -1e-7, 3);
        assert_eq!(small.labels, ["-3e-7", "-2e-7", "-1e-7"]);
        for (lo, hi) in [(-1e12, 1e12), (1e-9, 2e-9), (12345.678, 12345.679)] {
            let ticks = t(lo, hi, 6);
            assert!(
                ticks.labels.iter().all(|l| l.len() <= TICK_CHARS),
                "{lo}..{hi}: {ticks:?}"
            );
            let distinct: std::collections::HashSet<_> = ticks.labels.iter().collect();
            assert_eq!(distinct.len(), ticks.labels.len(), "{ticks:?}");
        }
    }

    #[test]
    fn extent_keeps_the_data_and_drops_a_far_outlier() {
        // 1000 values evenly over [0, 10] in column 0, around 1e6 in column 1, and one at 1e9.
        let mut v = Vec::new();
        for i in 0..1000 {
            v.extend([i as f64 / 99.9, 1e6 + i as f64]);
        }
        v.extend([5.0, 1e9]);
        let e = extent(&v, 2);
        assert!(e[0].lo < 0.0 && e[0].lo > -1.0 && e[0].hi > 10.0 && e[0].hi < 11.0);
        assert!(e[1].lo < 1e6 && e[1].hi > 1e6 + 999.0, "{:?}", e[1]);
        assert!(
            e[1].hi < 1e6 + 1200.0,
            "the outlier at 1e9 is left out: {:?}",
            e[1]
        );
        let constant = extent(&[3.0, f64::NAN, 3.0], 1)[0];
        assert!((constant.lo - 2.7).abs() < 1e-12 && (constant.hi - 3.3).abs() < 1e-12);
        assert_eq!(extent(&[f64::NAN], 1), [span(-1.0, 1.0)]);
        assert_eq!(extent(&[0.0], 1), [span(-1.0, 1.0)]);
    }
}
