//! Point pictures for any dimension and scale (issue 19, case 6): a 1-D, a 5-D and a 1e6-scale
//! fit, and `data info` on the same files, produce pictures with the data inside their axes.
//! A picture is read mechanically: its axes boxes are the 1-pixel frames in the axis colour,
//! and the points (or histogram bars) are the pixels tinted blue inside them.

mod common;

use common::*;

use std::path::Path;

/// The colour of frames and tick labels (genlab-viz's MUTED).
const FRAME: [u8; 3] = [110, 110, 120];
/// A frame's top and bottom lines are at least this long; tick labels never are.
const MIN_SIDE: u32 = 100;

/// A deterministic standard normal stream (LCG + Box-Muller): no rand dependency in the test.
struct Normal(u64);

impl Normal {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `n` rows from `row`, under a header `x0,x1,...`.
fn write_csv(path: &Path, d: usize, n: usize, mut row: impl FnMut(usize) -> Vec<f64>) {
    let header: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
    let mut s = header.join(",") + "\n";
    for i in 0..n {
        let cells: Vec<String> = row(i).iter().map(|v| format!("{v:.4}")).collect();
        s += &(cells.join(",") + "\n");
    }
    std::fs::write(path, s).unwrap();
}

/// An axes box: its inside, in pixels.
#[derive(Debug, Clone, Copy)]
struct AxesBox {
    x0: u32,
    x1: u32,
    y0: u32,
    y1: u32,
}

/// The axes boxes of a picture, found from their frames: horizontal runs of the frame colour
/// at least [`MIN_SIDE`] long, paired top with bottom by their columns.
fn axes_boxes(img: &image::RgbImage) -> Vec<AxesBox> {
    let mut runs: Vec<(u32, u32, u32)> = Vec::new(); // (x0, x1, y), sorted by column then y
    for y in 0..img.height() {
        let mut x = 0;
        while x < img.width() {
            let start = x;
            while x < img.width() && img.get_pixel(x, y).0 == FRAME {
                x += 1;
            }
            if x - start >= MIN_SIDE {
                runs.push((start, x - 1, y));
            }
            x += 1;
        }
    }
    runs.sort();
    let mut boxes = Vec::new();
    for pair in runs.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        assert!(
            pair.len() % 2 == 0,
            "a frame without its other side: {pair:?}"
        );
        for tb in pair.chunks(2) {
            let (top, bottom) = (tb[0], tb[1]);
            boxes.push(AxesBox {
                x0: top.0 + 1,
                x1: top.1 - 1,
                y0: top.2 + 1,
                y1: bottom.2 - 1,
            });
        }
    }
    boxes
}

/// Pixels of `b` tinted with the points' blue (blue well above red).
fn point_pixels(img: &image::RgbImage, b: AxesBox) -> Vec<(u32, u32)> {
    let mut found = Vec::new();
    for y in b.y0..=b.y1 {
        for x in b.x0..=b.x1 {
            let [r, _, blue] = img.get_pixel(x, y).0;
            if blue as i32 - r as i32 > 30 {
                found.push((x, y));
            }
        }
    }
    found
}

/// Every axes box of the PNG at `path` holds a sizeable number of point pixels, spread over
/// at least a third of its width and of its height (not squashed into a corner or an edge).
/// Returns the picture and its boxes.
fn assert_points_inside(path: &Path, boxes_expected: usize) -> (image::RgbImage, Vec<AxesBox>) {
    let img = image::open(path).unwrap().to_rgb8();
    let boxes = axes_boxes(&img);
    assert_eq!(boxes.len(), boxes_expected, "{}: {boxes:?}", path.display());
    for b in &boxes {
        let (w, h) = (b.x1 - b.x0 + 1, b.y1 - b.y0 + 1);
        let px = point_pixels(&img, *b);
        assert!(
            px.len() > (w * h) as usize / 50,
            "{}: only {} point pixels in {b:?}",
            path.display(),
            px.len()
        );
        let (xmin, xmax, ymin, ymax) = px.iter().fold((u32::MAX, 0, u32::MAX, 0), |a, p| {
            (a.0.min(p.0), a.1.max(p.0), a.2.min(p.1), a.3.max(p.1))
        });
        assert!(
            xmax - xmin > w / 3 && ymax - ymin > h / 3,
            "{}: points squashed into x {xmin}..{xmax}, y {ymin}..{ymax} of {b:?}",
            path.display()
        );
    }
    (img, boxes)
}

/// Train `family` on `csv` into `run` with `extra` settings, then draw its samples to
/// `RUN.png`; returns that path.
fn fit_and_sample(dir: &Path, family: &str, csv: &str, run: &str, extra: &[&str]) -> String {
    let data = format!("csv:{csv}");
    let mut args = vec!["train", family, "--data", &data, "--out", run, "--quiet"];
    args.extend_from_slice(extra);
    ok(&genlab(&args, dir));
    let png = format!("{run}.png");
    ok(&genlab(&["sample", run, "--out", &png], dir));
    png
}

const GMM: [&str; 4] = ["--set", "model.k=2", "--steps", "5"];
const MAF: [&str; 6] = [
    "--preset",
    "tiny",
    "--set",
    "data.dequantize=false",
    "--steps",
    "30",
];

#[test]
fn one_column_fit_draws_a_histogram_with_its_density_curve() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut z = Normal(1);
    // Two bumps, at -2 and 3.
    write_csv(&dir.join("one.csv"), 1, 600, |i| {
        vec![if i % 3 == 0 { -2.0 } else { 3.0 } + 0.6 * z.next()]
    });
    let png = fit_and_sample(dir, "gmm", "one.csv", "g", &GMM);
    let (img, boxes) = assert_points_inside(&dir.join(png), 1);
    // The model's density curve, in orange, runs across the histogram.
    let b = boxes[0];
    let curve_columns = (b.x0..=b.x1)
        .filter(|&x| (b.y0..=b.y1).any(|y| img.get_pixel(x, y).0 == [255, 127, 14]))
        .count();
    assert!(
        curve_columns > (b.x1 - b.x0) as usize * 3 / 4,
        "the density curve crosses only {curve_columns} columns"
    );
    ok(&genlab(
        &["data", "info", "csv:one.csv", "--out", "d.png"],
        dir,
    ));
    assert_points_inside(&dir.join("d.png"), 1);
}

#[test]
fn five_column_fits_draw_a_pairs_plot_of_four() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut z = Normal(2);
    // Columns of very different scales and shapes: a parabola, a column near 100, a tiny one.
    write_csv(&dir.join("five.csv"), 5, 500, |_| {
        let a = z.next();
        vec![
            a,
            a * a + 0.3 * z.next(),
            100.0 + 10.0 * z.next() + 5.0 * a,
            0.01 * z.next(),
            z.next(),
        ]
    });
    for (family, extra) in [("gmm", &GMM[..]), ("maf", &MAF[..])] {
        let png = fit_and_sample(dir, family, "five.csv", family, extra);
        assert_points_inside(&dir.join(png), 16);
        assert!(
            !dir.join("density.png").exists(),
            "no density map for 5 columns"
        );
    }
    ok(&genlab(
        &["data", "info", "csv:five.csv", "--out", "d.png"],
        dir,
    ));
    assert_points_inside(&dir.join("d.png"), 16);
}

#[test]
fn million_scale_fits_draw_their_points_and_density_in_data_units() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut z = Normal(3);
    // Around (1e6, 2e6) with a spread of ~1e3: z-scores inside the model, data units outside.
    write_csv(&dir.join("big.csv"), 2, 600, |i| {
        let a = z.next();
        if i % 2 == 0 {
            vec![1e6 + 1e3 * a, 2e6 + 600.0 * z.next() + 400.0 * a]
        } else {
            vec![1e6 - 2500.0 + 300.0 * a, 2e6 + 2000.0 + 300.0 * z.next()]
        }
    });
    for (family, extra) in [("gmm", &GMM[..]), ("maf", &MAF[..])] {
        let png = fit_and_sample(dir, family, "big.csv", family, extra);
        let (scatter, boxes) = assert_points_inside(&dir.join(png), 1);
        // The density map beside it has the same axes box, and is not one flat colour.
        let map = image::open(dir.join("density.png")).unwrap().to_rgb8();
        let map_boxes = axes_boxes(&map);
        assert!(map_boxes.len() == 1, "{map_boxes:?}");
        let (a, b) = (boxes[0], map_boxes[0]);
        assert_eq!((a.x0, a.x1, a.y0, a.y1), (b.x0, b.x1, b.y0, b.y1));
        let colours: std::collections::HashSet<[u8; 3]> = (b.y0..=b.y1)
            .step_by(8)
            .flat_map(|y| (b.x0..=b.x1).step_by(8).map(move |x| (x, y)))
            .map(|(x, y)| map.get_pixel(x, y).0)
            .collect();
        assert!(colours.len() > 20, "{family}: a flat density map");
        // The y tick labels sit left of the box in the same place on both pictures.
        let left = |img: &image::RgbImage| -> Vec<[u8; 3]> {
            (a.y0..=a.y1)
                .flat_map(|y| (0..a.x0 - 2).map(move |x| (x, y)))
                .map(|(x, y)| img.get_pixel(x, y).0)
                .collect()
        };
        assert!(left(&scatter) == left(&map), "{family}: different y axes");
        std::fs::remove_file(dir.join("density.png")).unwrap();
    }
    ok(&genlab(
        &["data", "info", "csv:big.csv", "--out", "d.png"],
        dir,
    ));
    assert_points_inside(&dir.join("d.png"), 1);
}
