//! THE image grid: every sample sheet, interpolation strip and reconstruction pair goes through
//! here, so they all look alike (dark gutters, nearest-neighbour upscaling) and say alike what
//! they show: a title band as the point pictures have, captions of rows and columns that mean
//! something, on the white of the charts.

use crate::draw::{fill, text, width, wrap, BG, CHAR, INK, LINE};

/// A batch of images in [0, 1], channel-major.
#[derive(Clone, Debug)]
pub struct Images {
    pub data: Vec<f32>,
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

impl Images {
    pub fn new(data: Vec<f32>, n: usize, c: usize, h: usize, w: usize) -> Self {
        assert_eq!(
            data.len(),
            n * c * h * w,
            "image buffer does not match [n, c, h, w]"
        );
        Self { data, n, c, h, w }
    }

    fn pixel(&self, i: usize, y: usize, x: usize) -> [u8; 3] {
        let base = i * self.c * self.h * self.w;
        let at = |ch: usize| {
            let v = self.data[base + ch * self.h * self.w + y * self.w + x];
            (v.clamp(0.0, 1.0) * 255.0).round() as u8
        };
        if self.c == 3 {
            [at(0), at(1), at(2)]
        } else {
            let g = at(0);
            [g, g, g]
        }
    }

    /// Image `i` alone, at its own size (the studio's decoded pictures).
    pub fn image(&self, i: usize) -> image::RgbImage {
        image::RgbImage::from_fn(self.w as u32, self.h as u32, |x, y| {
            image::Rgb(self.pixel(i, y as usize, x as usize))
        })
    }

    /// Concatenate batches of the same image size.
    pub fn concat(parts: &[Images]) -> Images {
        let first = &parts[0];
        let data = parts.iter().flat_map(|p| p.data.iter().copied()).collect();
        Images::new(
            data,
            parts.iter().map(|p| p.n).sum(),
            first.c,
            first.h,
            first.w,
        )
    }
}

/// Layout and captions of a grid picture. Callers say what the picture shows in strings; the
/// grid finds room for them:
///
/// ```text
///   vae · runs/vae · step 3000 · reconstructions of 32 test images      <- title band
///                    masked input   completions              original   <- col_header, col_labels
///   reconstruction  [cell] [cell] [cell] ...                            <- row_labels
/// ```
///
/// A run of equal column captions is written once across its columns ("completions" over
/// four); column captions too wide for their column are thinned to every second (third, ...)
/// one; "" leaves a row or column uncaptioned.
#[derive(Clone, Debug)]
pub struct Grid {
    pub cols: usize,
    /// Each pixel becomes `scale x scale` pixels.
    pub scale: u32,
    pub gutter: u32,
    /// What the picture shows, in a band above it (as the point pictures' first line); wrapped
    /// to the picture's width. Empty: no band.
    pub title: String,
    /// What the rows mean as a whole ("class", "z2"), above the row captions.
    pub row_header: String,
    /// One caption per row, left of it.
    pub row_labels: Vec<String>,
    /// What the columns mean as a whole ("Gibbs step", "z1"), above the column captions.
    pub col_header: String,
    /// One caption per column, above it.
    pub col_labels: Vec<String>,
    /// Cells (row-major index) left empty, as the cells after the last image are.
    pub blank: Vec<usize>,
}

impl Default for Grid {
    fn default() -> Self {
        Self {
            cols: 8,
            scale: 2,
            gutter: 2,
            title: String::new(),
            row_header: String::new(),
            row_labels: Vec::new(),
            col_header: String::new(),
            col_labels: Vec::new(),
            blank: Vec::new(),
        }
    }
}

const GUTTER_RGB: [u8; 3] = [40, 40, 48];
/// Margin around text at the picture's edges, as the point pictures have.
const PAD: u32 = 8;
/// Between a caption and the cells it names.
const GAP: u32 = 6;
/// A picture with a title is at least this many characters wide, so that a narrow grid (one
/// column) still has a readable title.
const MIN_TITLE_CHARS: u32 = 24;
/// Row captions wrap at this many characters.
const ROW_LABEL_CHARS: usize = 18;

/// Where the parts of a grid picture go.
struct Layout {
    width: u32,
    height: u32,
    title: Vec<String>,
    /// Top-left corner of the cells' block.
    grid: (u32, u32),
    /// y of the column header's first line and of the first column-caption line.
    header_y: u32,
    /// The column header's lines and their left x.
    col_header: Vec<(u32, String)>,
    labels_y: u32,
    /// Column captions: left x of each line, the lines.
    col_labels: Vec<(i64, Vec<String>)>,
    /// Row captions: right edge, top y, lines.
    row_labels: Vec<(u32, u32, Vec<String>)>,
}

/// Runs of equal non-empty column captions: (first index, count, caption).
fn runs(labels: &[String]) -> Vec<(usize, usize, &str)> {
    let mut out: Vec<(usize, usize, &str)> = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        match out.last_mut() {
            Some(run) if run.2 == l && run.0 + run.1 == i => run.1 += 1,
            _ => out.push((i, 1, l)),
        }
    }
    out.retain(|r| !r.2.is_empty());
    out
}

impl Grid {
    /// Rows and columns of cells for `n` images.
    fn shape(&self, n: usize) -> (usize, usize) {
        let cols = self.cols.min(n).max(1);
        (n.div_ceil(cols).max(1), cols)
    }

    fn layout(&self, images: &Images) -> Layout {
        let (rows, cols) = self.shape(images.n);
        let (s, g) = (self.scale, self.gutter);
        let (pitch_x, pitch_y) = (images.w as u32 * s + g, images.h as u32 * s + g);
        let (grid_w, grid_h) = (cols as u32 * pitch_x + g, rows as u32 * pitch_y + g);

        // Column captions, centred on their columns (x relative to the block's left edge):
        // wrapped to their span, or as wide as their longest word; thinned until none touch.
        let col_runs = runs(&self.col_labels[..self.col_labels.len().min(cols)]);
        let place = |every: usize| -> Vec<(i64, i64, Vec<String>)> {
            col_runs
                .iter()
                .enumerate()
                .filter(|(k, _)| k % every == 0)
                .map(|(_, &(first, count, label))| {
                    let span = count as u32 * pitch_x - g;
                    let longest = label.split(' ').map(|w| w.chars().count()).max();
                    let room = ((span / CHAR) as usize).max(longest.unwrap_or(0));
                    let lines = wrap(label, room);
                    let w = lines.iter().map(|l| width(l)).max().unwrap_or(0) as i64;
                    let centre = (g + first as u32 * pitch_x + span / 2) as i64;
                    (centre - w / 2, centre - w / 2 + w, lines)
                })
                .collect()
        };
        let mut every = 1;
        let mut placed = place(every);
        while every < col_runs.len() && placed.windows(2).any(|p| p[0].1 + CHAR as i64 > p[1].0) {
            every += 1;
            placed = place(every);
        }
        let label_lines = placed.iter().map(|p| p.2.len()).max().unwrap_or(0) as u32;

        // Row captions, right-aligned left of the block, centred on their rows (each its own:
        // equal numbers on two rows are two values).
        let fits = ((pitch_y + LINE - CHAR) / LINE).max(1) as usize;
        let row_text: Vec<(usize, Vec<String>)> = self.row_labels
            [..self.row_labels.len().min(rows)]
            .iter()
            .enumerate()
            .filter(|(_, label)| !label.is_empty())
            .map(|(r, label)| {
                let mut lines = wrap(label, ROW_LABEL_CHARS);
                lines.truncate(fits);
                (r, lines)
            })
            .collect();
        let widest_row = row_text
            .iter()
            .flat_map(|r| r.1.iter().map(|l| width(l)))
            .chain([width(&self.row_header)])
            .max()
            .unwrap_or(0);
        let left_text = if widest_row > 0 {
            PAD + widest_row + GAP
        } else {
            0
        };
        // Captions that reach past the block's edges widen the picture.
        let reach_left = placed.iter().map(|p| -p.0).max().unwrap_or(0).max(0) as u32;
        let reach_right = placed
            .iter()
            .map(|p| p.1 - grid_w as i64)
            .max()
            .unwrap_or(0)
            .max(0) as u32;
        let left = left_text.max(reach_left + if reach_left > 0 { 2 } else { 0 });
        let right = if reach_right > 0 { reach_right + 2 } else { 0 };
        let content_w = left + grid_w + right;
        let canvas_w = if self.title.is_empty() {
            content_w
        } else {
            content_w.max(2 * PAD + MIN_TITLE_CHARS * CHAR)
        };
        let title = wrap(
            &self.title,
            (canvas_w.saturating_sub(2 * PAD) / CHAR) as usize,
        );
        let band = if title.is_empty() {
            0
        } else {
            PAD + title.len() as u32 * LINE + LINE - CHAR
        };
        // The block in the middle of the room right of the row captions.
        let grid_x = left + (canvas_w - content_w) / 2;
        // The column header centred over the block, wrapped to the room right of the row
        // captions; the row header on its first line.
        let (lo, room) = (
            left_text.max(PAD),
            canvas_w.saturating_sub(left_text.max(PAD) + PAD),
        );
        let col_header: Vec<(u32, String)> = wrap(&self.col_header, (room / CHAR) as usize)
            .into_iter()
            .map(|line| {
                let centre = (grid_x + grid_w / 2) as i64;
                let hi = canvas_w as i64 - (PAD + width(&line)) as i64;
                let x = (centre - width(&line) as i64 / 2).min(hi).max(lo as i64);
                (x as u32, line)
            })
            .collect();
        let header_lines = (col_header.len() as u32).max(u32::from(!self.row_header.is_empty()));
        let header_y = band;
        let labels_y = header_y + header_lines * LINE;
        let captions = labels_y
            + label_lines * LINE
            + if header_lines + label_lines > 0 {
                GAP
            } else {
                0
            };
        let grid = (grid_x, captions);
        Layout {
            width: canvas_w,
            height: captions + grid_h,
            title,
            grid,
            header_y,
            col_header,
            labels_y,
            col_labels: placed
                .into_iter()
                .map(|(x, _, lines)| (grid_x as i64 + x, lines))
                .collect(),
            row_labels: row_text
                .into_iter()
                .map(|(r, lines)| {
                    let text_h = lines.len() as u32 * LINE - (LINE - CHAR);
                    let top = captions
                        + g
                        + r as u32 * pitch_y
                        + (pitch_y - g).saturating_sub(text_h) / 2;
                    (grid_x - GAP, top, lines)
                })
                .collect(),
        }
    }

    pub fn render(&self, images: &Images) -> image::RgbImage {
        let at = self.layout(images);
        let (_, cols) = self.shape(images.n);
        let (s, g) = (self.scale, self.gutter);
        let cell_w = images.w as u32 * s;
        let cell_h = images.h as u32 * s;
        let mut img = image::RgbImage::from_pixel(at.width, at.height, BG);
        for (i, line) in at.title.iter().enumerate() {
            text(&mut img, PAD, PAD + i as u32 * LINE, line, INK);
        }
        for (k, (x, line)) in at.col_header.iter().enumerate() {
            text(&mut img, *x, at.header_y + k as u32 * LINE, line, INK);
        }
        if !self.row_header.is_empty() {
            let x = at.grid.0 - GAP - width(&self.row_header);
            text(&mut img, x, at.header_y, &self.row_header, INK);
        }
        for (x, lines) in &at.col_labels {
            let w = lines.iter().map(|l| width(l)).max().unwrap_or(0);
            for (k, line) in lines.iter().enumerate() {
                // Each line centred under the widest.
                let lx = *x as u32 + (w - width(line)) / 2;
                text(&mut img, lx, at.labels_y + k as u32 * LINE, line, INK);
            }
        }
        for (right, top, lines) in &at.row_labels {
            for (k, line) in lines.iter().enumerate() {
                text(
                    &mut img,
                    right - width(line),
                    top + k as u32 * LINE,
                    line,
                    INK,
                );
            }
        }
        let gutter = image::Rgb(GUTTER_RGB);
        for i in 0..images.n {
            if self.blank.contains(&i) {
                continue;
            }
            let (r, c) = ((i / cols) as u32, (i % cols) as u32);
            let (x0, y0) = (
                at.grid.0 + g + c * (cell_w + g),
                at.grid.1 + g + r * (cell_h + g),
            );
            // The cell's frame: shared with its neighbours, so a full grid is one dark block.
            fill(
                &mut img,
                x0 - g,
                y0 - g,
                cell_w + 2 * g,
                cell_h + 2 * g,
                gutter,
            );
            for y in 0..images.h {
                for x in 0..images.w {
                    let px = image::Rgb(images.pixel(i, y, x));
                    for dy in 0..s {
                        for dx in 0..s {
                            img.put_pixel(x0 + x as u32 * s + dx, y0 + y as u32 * s + dy, px);
                        }
                    }
                }
            }
        }
        img
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_each_image_in_its_cell() {
        // Two 1x1 images: black and white, in a 2-column grid without scaling.
        let imgs = Images::new(vec![0.0, 1.0], 2, 1, 1, 1);
        let png = Grid {
            cols: 2,
            scale: 1,
            gutter: 1,
            ..Grid::default()
        }
        .render(&imgs);
        assert_eq!((png.width(), png.height()), (5, 3));
        assert_eq!(png.get_pixel(1, 1).0, [0, 0, 0]);
        assert_eq!(png.get_pixel(3, 1).0, [255, 255, 255]);
        assert_eq!(png.get_pixel(0, 0).0, GUTTER_RGB);
    }

    /// `n` 28x28 images of increasing grey.
    fn greys(n: usize) -> Images {
        let data = (0..n)
            .flat_map(|i| std::iter::repeat_n(i as f32 / n as f32, 28 * 28))
            .collect();
        Images::new(data, n, 1, 28, 28)
    }

    /// Pixels of `img` in rows `ys` and columns `xs` that are ink.
    fn ink(img: &image::RgbImage, xs: std::ops::Range<u32>, ys: std::ops::Range<u32>) -> usize {
        ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
            .filter(|&(x, y)| *img.get_pixel(x, y) == INK)
            .count()
    }

    #[test]
    fn a_title_band_sits_above_the_same_cells() {
        let plain = Grid {
            cols: 4,
            ..Grid::default()
        };
        let titled = Grid {
            title: "vae · runs/vae · step 20 · 16 samples".into(),
            ..plain.clone()
        };
        let (a, b) = (plain.render(&greys(16)), titled.render(&greys(16)));
        assert_eq!((a.width(), a.height()), (4 * 58 + 2, 4 * 58 + 2));
        // Two lines of title (27 characters fit): 8 pixels of margin, the lines 12 apart, 8
        // pixels again.
        let band = b.height() - a.height();
        assert_eq!((b.width(), band), (a.width(), 36));
        for y in 0..a.height() {
            for x in 0..a.width() {
                assert_eq!(a.get_pixel(x, y), b.get_pixel(x, y + band), "({x}, {y})");
            }
        }
        assert!(ink(&b, 0..b.width(), 8..16) > 50);
        assert!((0..band).all(|y| (0..b.width()).all(|x| {
            let p = *b.get_pixel(x, y);
            p == BG || p == INK
        })));
    }

    #[test]
    fn a_long_title_wraps_and_a_narrow_grid_widens_for_it() {
        let g = Grid {
            cols: 1,
            title: "gan · /a/rather/long/path/to/runs/gan · step 1000 · 3 samples from fixed noise"
                .into(),
            ..Grid::default()
        };
        let img = g.render(&greys(3));
        assert_eq!(img.width(), 2 * PAD + MIN_TITLE_CHARS * CHAR);
        let lines = wrap(&g.title, MIN_TITLE_CHARS as usize);
        assert!(lines.len() >= 3, "{lines:?}");
        let band = PAD + lines.len() as u32 * LINE + LINE - CHAR;
        assert_eq!(img.height(), band + 3 * 58 + 2);
        // The cells are centred under the title.
        let grid_x = (img.width() - 60) / 2;
        assert_eq!(img.get_pixel(grid_x, band).0, GUTTER_RGB);
        assert_eq!(*img.get_pixel(grid_x - 1, band), BG);
    }

    #[test]
    fn captions_name_rows_and_columns_beside_the_cells() {
        let g = Grid {
            cols: 3,
            title: "reconstructions".into(),
            row_labels: vec!["original".into(), "reconstruction".into()],
            col_labels: vec!["a".into(), "b".into(), "c".into()],
            ..Grid::default()
        };
        let img = g.render(&greys(6));
        let at = g.layout(&greys(6));
        let (gx, gy) = at.grid;
        assert_eq!(gx, PAD + width("reconstruction") + GAP);
        assert_eq!(
            (img.width(), img.height()),
            (gx + 3 * 58 + 2, gy + 2 * 58 + 2)
        );
        // Row captions left of each row, column captions between the title band and the cells.
        assert!(ink(&img, 0..gx, gy..gy + 58) > 30);
        assert!(ink(&img, 0..gx, gy + 60..gy + 118) > 30);
        for c in 0..3 {
            let x = gx + 2 + c * 58;
            assert!(ink(&img, x..x + 56, 24..gy) > 5, "column {c}");
        }
    }

    #[test]
    fn equal_captions_are_written_once_across_their_columns() {
        let mut labels = vec!["masked input".to_string()];
        labels.extend(std::iter::repeat_n("completions".to_string(), 4));
        labels.push("original".into());
        let g = Grid {
            cols: 6,
            col_labels: labels,
            ..Grid::default()
        };
        let at = g.layout(&greys(12));
        // "masked input" on two lines over its column, "completions" centred over four.
        assert_eq!(at.col_labels.len(), 3);
        assert_eq!(at.col_labels[0].1, ["masked", "input"]);
        let (x, lines) = &at.col_labels[1];
        assert_eq!(lines, &["completions"]);
        let centre = *x as u32 + width("completions") / 2;
        assert_eq!(centre, at.grid.0 + 2 + 58 + (4 * 58 - 2) / 2);
        // "original" is wider than its column: it reaches past the block, and the picture widens.
        let img = g.render(&greys(12));
        assert!(img.width() > 6 * 58 + 2);
        assert!(ink(&img, at.grid.0 + 5 * 58..img.width(), 0..at.grid.1) > 20);
    }

    #[test]
    fn captions_wider_than_their_columns_are_thinned() {
        let g = Grid {
            cols: 20,
            scale: 1,
            gutter: 0,
            col_header: "z1".into(),
            row_header: "z2".into(),
            col_labels: (0..20)
                .map(|i| format!("{:.2}", i as f64 / 10.0 - 1.0))
                .collect(),
            row_labels: (0..2).map(|i| format!("{i}")).collect(),
            ..Grid::default()
        };
        let at = g.layout(&greys(40));
        assert_eq!(at.col_labels.len(), 10, "every second of 20");
        for pair in at.col_labels.windows(2) {
            assert!(pair[0].0 + width(&pair[0].1[0]) as i64 + CHAR as i64 <= pair[1].0);
        }
        assert_eq!(at.row_labels.len(), 2);
    }

    #[test]
    fn blank_cells_show_the_background() {
        let g = Grid {
            cols: 2,
            blank: vec![1],
            ..Grid::default()
        };
        let img = g.render(&greys(4));
        assert_eq!(*img.get_pixel(58 + 30, 30), BG);
        assert_eq!(img.get_pixel(30, 30).0, [0, 0, 0]);
        // A gutter is kept wherever a cell beside it is drawn.
        assert_eq!(img.get_pixel(58, 30).0, GUTTER_RGB);
        assert_eq!(*img.get_pixel(2 * 58 + 1, 30), BG);
        assert_eq!(img.get_pixel(2 * 58 + 1, 90).0, GUTTER_RGB);
    }
}
