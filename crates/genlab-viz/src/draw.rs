//! What every chart draws with: the palette, filled rectangles, translucent dots and text.
//!
//! Text uses the public-domain 8x8 bitmap font of the `font8x8` crate. A chart crate (plotters)
//! needs a TrueType font from the system or embedded in the binary and many more dependencies to
//! draw the same few labels.

use image::{Rgb, RgbImage};

/// Glyphs are 8x8 pixels.
pub(crate) const CHAR: u32 = 8;
/// Longest value label of [`number`].
pub(crate) const LABEL_CHARS: usize = 9;
pub(crate) const BG: Rgb<u8> = Rgb([255, 255, 255]);
pub(crate) const GRID: Rgb<u8> = Rgb([225, 225, 230]);
pub(crate) const INK: Rgb<u8> = Rgb([40, 40, 48]);
pub(crate) const MUTED: Rgb<u8> = Rgb([110, 110, 120]);
/// Matplotlib's tab10 colours.
pub(crate) const COLOURS: [[u8; 3]; 8] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
];

/// Series `k`'s colour.
pub(crate) fn colour(k: usize) -> Rgb<u8> {
    Rgb(COLOURS[k % COLOURS.len()])
}

/// A plot area in pixels.
#[derive(Debug)]
pub(crate) struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    /// Pixel of (x, y) for data ranges `xr`, `yr` (a flat range maps to the middle); y points up.
    pub fn to_px(&self, (x0, x1): (f64, f64), (y0, y1): (f64, f64), p: (f64, f64)) -> (f64, f64) {
        let fx = if x1 > x0 { (p.0 - x0) / (x1 - x0) } else { 0.5 };
        let fy = if y1 > y0 { (p.1 - y0) / (y1 - y0) } else { 0.5 };
        (
            self.x as f64 + fx * (self.w - 1) as f64,
            (self.y + self.h - 1) as f64 - fy * (self.h - 1) as f64,
        )
    }

    /// Whether pixel (x, y) lies inside.
    pub fn holds(&self, x: f64, y: f64) -> bool {
        x >= self.x as f64
            && y >= self.y as f64
            && x <= (self.x + self.w - 1) as f64
            && y <= (self.y + self.h - 1) as f64
    }
}

pub(crate) fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, colour: Rgb<u8>) {
    for py in y..(y + h).min(img.height()) {
        for px in x..(x + w).min(img.width()) {
            img.put_pixel(px, py, colour);
        }
    }
}

/// The outline of `r`, one pixel wide, just outside it.
pub(crate) fn frame(img: &mut RgbImage, r: &Rect, colour: Rgb<u8>) {
    fill(img, r.x - 1, r.y - 1, r.w + 2, 1, colour);
    fill(img, r.x - 1, r.y + r.h, r.w + 2, 1, colour);
    fill(img, r.x - 1, r.y - 1, 1, r.h + 2, colour);
    fill(img, r.x + r.w, r.y - 1, 1, r.h + 2, colour);
}

/// Mix `colour` into pixel (x, y) with opacity `alpha`; pixels off the image are ignored.
pub(crate) fn blend(img: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>, alpha: f32) {
    if x < 0 || y < 0 || x >= img.width() as i64 || y >= img.height() as i64 {
        return;
    }
    let p = img.get_pixel_mut(x as u32, y as u32);
    for (c, &new) in p.0.iter_mut().zip(&colour.0) {
        *c = (*c as f32 * (1.0 - alpha) + new as f32 * alpha).round() as u8;
    }
}

/// A disc of radius `r` pixels centred on (x, y), blended with opacity `alpha`, kept inside
/// `clip`; `hole` > 0 leaves its middle out (a ring, so that a mark never hides what it marks).
pub(crate) fn disc(
    img: &mut RgbImage,
    clip: &Rect,
    (x, y): (f64, f64),
    (r, hole): (f64, f64),
    colour: Rgb<u8>,
    alpha: f32,
) {
    let reach = r.ceil() as i64;
    let (cx, cy) = (x.round() as i64, y.round() as i64);
    for dy in -reach..=reach {
        for dx in -reach..=reach {
            let (px, py) = (cx + dx, cy + dy);
            let d2 = (px as f64 - x).powi(2) + (py as f64 - y).powi(2);
            if d2 <= r * r && d2 >= hole * hole && clip.holds(px as f64, py as f64) {
                blend(img, px, py, colour, alpha);
            }
        }
    }
}

/// The 8x8 glyph of `ch`: ASCII and Latin-1 (so `·`, `±` and `×` print); others print as '?'.
fn glyph(ch: char) -> [u8; 8] {
    match ch as usize {
        c @ 0..0x80 => font8x8::legacy::BASIC_LEGACY[c],
        c @ 0xA0..0x100 => font8x8::legacy::LATIN_LEGACY[c - 0xA0],
        _ => font8x8::legacy::BASIC_LEGACY['?' as usize],
    }
}

/// Text with its top-left corner at (x, y), in the glyphs of [`glyph`].
pub(crate) fn text(img: &mut RgbImage, x: u32, y: u32, s: &str, colour: Rgb<u8>) {
    for (i, ch) in s.chars().enumerate() {
        let glyph = glyph(ch);
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                // Bit 0 is the leftmost pixel.
                if bits >> col & 1 == 1 {
                    let (px, py) = (x + i as u32 * CHAR + col, y + row as u32);
                    if px < img.width() && py < img.height() {
                        img.put_pixel(px, py, colour);
                    }
                }
            }
        }
    }
}

/// Width in pixels of `s` in the 8x8 font.
pub(crate) fn width(s: &str) -> u32 {
    s.chars().count() as u32 * CHAR
}

/// Lines of text one after another: glyphs and a third of a glyph between lines.
pub(crate) const LINE: u32 = 12;

/// `s` broken into lines of at most `room` characters (at least 1): first between the parts
/// it separates with " · " (a title's family, run, step and subject stay whole where they
/// fit), then between words; a word longer than a line keeps its end ("...ns/vae": a path's
/// last part says the most).
pub(crate) fn wrap(s: &str, room: usize) -> Vec<String> {
    let room = room.max(4);
    let mut lines: Vec<String> = Vec::new();
    for (k, part) in s.split(" · ").enumerate() {
        let joined = match lines.last() {
            Some(last) if k > 0 => format!("{last} · {part}"),
            _ => String::new(),
        };
        if k > 0 && joined.chars().count() <= room {
            *lines.last_mut().expect("a previous part") = joined;
            continue;
        }
        // The part on lines of its own, the separator at the end of the line before.
        if let Some(last) = lines.last_mut().filter(|_| k > 0) {
            if last.chars().count() + 2 <= room {
                last.push_str(" ·");
            }
        }
        let mut line = String::new();
        for word in part.split(' ').filter(|w| !w.is_empty()) {
            let word = elide(word, room);
            if line.is_empty() {
                line = word;
            } else if line.chars().count() + 1 + word.chars().count() <= room {
                line = format!("{line} {word}");
            } else {
                lines.push(std::mem::replace(&mut line, word));
            }
        }
        lines.push(line);
    }
    lines.retain(|l| !l.is_empty());
    lines
}

/// `s` on one line of at most `room` characters: whole where it fits, else the longest of its
/// " · "-separated parts but the last (a run's path; the last says what is drawn) shortened
/// to its end, else its own end.
pub(crate) fn fit(s: &str, room: usize) -> String {
    let chars = s.chars().count();
    if chars <= room {
        return s.to_string();
    }
    let excess = chars - room;
    let mut parts: Vec<String> = s.split(" · ").map(str::to_string).collect();
    let (longest, len) = parts[..parts.len().saturating_sub(1)]
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p.chars().count()))
        .max_by_key(|&(_, n)| n)
        .unwrap_or((0, 0));
    if parts.len() > 1 && len >= excess + 8 {
        parts[longest] = elide(&parts[longest], len - excess);
        return parts.join(" · ");
    }
    elide(s, room)
}

/// `word` in at most `room` characters: its end after "..." if it is longer.
fn elide(word: &str, room: usize) -> String {
    let chars = word.chars().count();
    if chars <= room {
        return word.to_string();
    }
    let tail: String = word.chars().skip(chars + 3 - room).collect();
    format!("...{tail}")
}

/// A value in at most [`LABEL_CHARS`] characters: plain decimals with 4 significant digits
/// where they fit, else scientific notation.
pub(crate) fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
    let plain = format!("{v:.digits$}");
    if (1e-3..1e6).contains(&v.abs()) && plain.len() <= LABEL_CHARS {
        let trimmed = if plain.contains('.') {
            plain.trim_end_matches('0').trim_end_matches('.')
        } else {
            &plain
        };
        trimmed.to_string()
    } else {
        format!("{v:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fit_their_labels() {
        assert_eq!(number(20000.0), "20000");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(-4.5766906), "-4.577");
        assert_eq!(number(1234.5678), "1235");
        assert_eq!(number(0.000123), "1.23e-4");
        assert_eq!(number(-12345678.0), "-1.23e7");
        assert_eq!(number(0.0), "0");
        for v in [1e-9, -3.3e-3, 7.77, 99999.9, -123456.0, 5e12] {
            assert!(number(v).len() <= LABEL_CHARS, "{v} -> {}", number(v));
        }
    }

    #[test]
    fn text_draws_the_font_glyph() {
        let mut img = RgbImage::from_pixel(16, 8, BG);
        text(&mut img, 8, 0, "7", INK);
        let glyph = font8x8::legacy::BASIC_LEGACY['7' as usize];
        for y in 0..8 {
            for x in 0..16u32 {
                let on = x >= 8 && glyph[y as usize] >> (x - 8) & 1 == 1;
                assert_eq!(*img.get_pixel(x, y) == INK, on, "pixel ({x}, {y})");
            }
        }
    }

    #[test]
    fn wrapping_keeps_title_parts_whole_and_ends_of_long_words() {
        let title = "vae · runs/vae · step 3000 · 64 samples from fixed noise";
        assert_eq!(wrap(title, 80), [title]);
        assert_eq!(
            wrap(title, 30),
            [
                "vae · runs/vae · step 3000 ·",
                "64 samples from fixed noise"
            ]
        );
        assert_eq!(
            wrap(title, 16),
            [
                "vae · runs/vae ·",
                "step 3000 ·",
                "64 samples from",
                "fixed noise"
            ]
        );
        assert_eq!(wrap("a /very/long/path/to/run", 12), ["a", "...th/to/run"]);
        for room in 4..60 {
            for line in wrap(title, room) {
                assert!(line.chars().count() <= room, "{room}: {line}");
            }
        }
    }

    #[test]
    fn fitting_shortens_the_longest_part() {
        let title = "gmm · /tmp/.tmpAbCdEf/runs/gmm · step 20 · 2000 samples";
        assert_eq!(fit(title, 80), title);
        assert_eq!(
            fit(title, 50),
            "gmm · ...pAbCdEf/runs/gmm · step 20 · 2000 samples"
        );
        assert_eq!(fit(title, 50).chars().count(), 50);
        assert_eq!(fit("a very long single part", 10), "...le part");
    }

    #[test]
    fn latin_1_prints_its_own_glyphs() {
        assert_eq!(glyph('·'), font8x8::legacy::LATIN_LEGACY[0x17]);
        assert_eq!(glyph('±'), font8x8::legacy::LATIN_LEGACY[0x11]);
        assert_eq!(glyph('→'), glyph('?'));
    }

    #[test]
    fn blending_mixes_towards_the_colour() {
        let mut img = RgbImage::from_pixel(1, 1, BG);
        blend(&mut img, 0, 0, Rgb([0, 0, 0]), 0.5);
        assert_eq!(*img.get_pixel(0, 0), Rgb([128, 128, 128]));
        blend(&mut img, 3, 0, Rgb([0, 0, 0]), 0.5);
    }
}
