//! Line charts as inline SVG text, for HTML pages (`genlab report`; later the web studio): the same panels as
//! [`crate::panels_png`] draws (one chart per loss, a training loss with its held-out loss on
//! one scale), with the PNG charts' nice ticks, axis names, a title with the last value, and a
//! legend in the series' colours. Text is XML-escaped; nothing refers outside the SVG.

use crate::axis::{extent, tick_values, Span, Ticks};
use crate::curve::Series;
use crate::draw::COLOURS;

/// Chart size in CSS pixels.
pub const WIDTH: u32 = 360;
pub const HEIGHT: u32 = 220;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 38.0;

/// `&`, `<`, `>`, `"` and `'` as XML entities.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn colour(k: usize) -> String {
    let [r, g, b] = COLOURS[k % COLOURS.len()];
    format!("rgb({r},{g},{b})")
}

/// Ticks of `span` for an axis of `px` pixels.
fn ticks(span: Span, px: f64, horizontal: bool) -> Ticks {
    let t = Ticks::fit(span, px as u32, horizontal);
    if t.at.len() >= 2 {
        return t;
    }
    let (at, step) = tick_values(span, 3);
    Ticks::label(at, step)
}

/// One chart of `series` on one scale: `title`, x axis `x_name` (steps), y axis on the series'
/// joint range. Series with no finite point are left out; with none left the chart says so.
pub fn line_chart(title: &str, x_name: &str, series: &[Series]) -> String {
    let (w, h) = (WIDTH as f64, HEIGHT as f64);
    let finite: Vec<(usize, Vec<(f64, f64)>)> = series
        .iter()
        .enumerate()
        .map(|(k, (_, pts))| {
            let p: Vec<(f64, f64)> = pts
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            (k, p)
        })
        .filter(|(_, p)| !p.is_empty())
        .collect();
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" font-family="sans-serif" font-size="11">"#,
        escape(title)
    );
    out.push_str(&format!(
        r#"<rect width="{w}" height="{h}" fill="white"/><text x="{LEFT}" y="16" font-weight="bold" font-size="12">{}</text>"#,
        escape(title)
    ));
    if finite.is_empty() {
        out.push_str(r#"<text x="40" y="110">no finite values</text></svg>"#);
        return out;
    }
    let xs: Vec<f64> = finite
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.0))
        .collect();
    let ys: Vec<f64> = finite
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.1))
        .collect();
    let xspan = {
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if hi > lo {
            Span { lo, hi }
        } else {
            Span {
                lo: lo - 1.0,
                hi: hi + 1.0,
            }
        }
    };
    let yspan = extent(&ys, 1)[0];
    let (pw, ph) = (w - LEFT - RIGHT, h - TOP - BOTTOM);
    let px = |x: f64| LEFT + (x - xspan.lo) / xspan.width() * pw;
    let py = |y: f64| TOP + ph - (y.clamp(yspan.lo, yspan.hi) - yspan.lo) / yspan.width() * ph;
    // Grid, ticks and labels.
    let xt = ticks(xspan, pw, true);
    let yt = ticks(yspan, ph, false);
    for (v, l) in xt.at.iter().zip(&xt.labels) {
        let x = px(*v);
        out.push_str(&format!(
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#e1e1e6"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            TOP + ph,
            TOP + ph + 14.0,
            escape(l)
        ));
    }
    for (v, l) in yt.at.iter().zip(&yt.labels) {
        let y = py(*v);
        out.push_str(&format!(
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e1e1e6"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#555">{}</text>"##,
            LEFT + pw,
            LEFT - 5.0,
            y + 4.0,
            escape(l)
        ));
    }
    out.push_str(&format!(
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#888"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#333">{}</text><text x="12" y="{:.1}" text-anchor="middle" fill="#333" transform="rotate(-90 12 {:.1})">{}</text>"##,
        LEFT + pw / 2.0,
        h - 6.0,
        escape(&xt.title(x_name)),
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        escape(&yt.title("value"))
    ));
    // Lines (a lone point as a dot), then the legend with each series' last value.
    for (k, pts) in &finite {
        let c = colour(*k);
        if pts.len() == 1 {
            out.push_str(&format!(
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"/>"#,
                px(pts[0].0),
                py(pts[0].1)
            ));
            continue;
        }
        let d: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        out.push_str(&format!(
            r#"<polyline points="{}" fill="none" stroke="{c}" stroke-width="1.5"/>"#,
            d.join(" ")
        ));
    }
    let mut lx = LEFT + 4.0;
    for (k, pts) in &finite {
        let (name, _) = &series[*k];
        let last = pts.last().unwrap().1;
        let label = format!("{name} {}", short(last));
        out.push_str(&format!(
            r#"<rect x="{lx:.1}" y="{:.1}" width="10" height="3" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            TOP + 6.0,
            colour(*k),
            lx + 13.0,
            TOP + 10.0,
            escape(&label)
        ));
        lx += 20.0 + 6.5 * label.chars().count() as f64;
    }
    out.push_str("</svg>");
    out
}

/// A value with four significant digits.
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    if v.abs() >= 1e5 || v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i64).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    }
}

/// Training curves as charts: one per series, except that `held_out_NAME` is drawn on the chart
/// of `NAME`, on one scale.
pub fn curves(series: &[Series]) -> Vec<String> {
    let held = |name: &str| name.strip_prefix("held_out_").map(String::from);
    series
        .iter()
        .filter(|(name, _)| held(name).is_none_or(|base| !series.iter().any(|(n, _)| *n == base)))
        .map(|s| {
            let mut group = vec![s.clone()];
            if let Some(h) = series
                .iter()
                .find(|(n, _)| *n == format!("held_out_{}", s.0))
            {
                group.push(h.clone());
            }
            line_chart(&s.0, "step", &group)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_have_axes_legends_and_escaped_text() {
        let loss: Series = (
            "nll".into(),
            (0..50)
                .map(|i| (i as f64 * 10.0, 300.0 - i as f64))
                .collect(),
        );
        let held: Series = ("held_out_nll".into(), vec![(250.0, 280.0), (490.0, 260.0)]);
        let odd: Series = ("a<b&c".into(), vec![(0.0, f64::NAN), (1.0, 2.0)]);
        let charts = curves(&[loss, held, odd]);
        assert_eq!(charts.len(), 2, "held_out_nll joins nll's chart");
        let c = &charts[0];
        assert!(c.starts_with("<svg") && c.ends_with("</svg>"));
        assert_eq!(
            c.matches("<polyline").count(),
            2,
            "train and held-out lines"
        );
        assert!(
            c.contains(">step<") && c.contains("held_out_nll 260.0"),
            "{c}"
        );
        assert!(
            c.matches("text-anchor=\"end\"").count() >= 2,
            "y tick labels"
        );
        assert!(charts[1].contains("a&lt;b&amp;c") && charts[1].contains("<circle"));
        assert!(!c.contains("href"));
        assert_eq!(
            (short(0.0), short(1234.5678), short(2e-5)),
            ("0".into(), "1235".into(), "2.000e-5".into())
        );
    }
}
