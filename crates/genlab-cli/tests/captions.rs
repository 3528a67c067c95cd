//! Every picture genlab writes says what it shows (issue 20): a title band on each picture
//! kind (family, run, step and what is drawn, as on the point pictures), and captions on grids
//! whose rows or columns mean something. Checked on the pixels (tests/common): the band's ink
//! above the cells, the cells' block as tall as its rows, captions beside and above it.

mod common;

use common::*;
use std::path::Path;

/// A tiny run of `family` on its preset's data, 20 steps.
fn train(dir: &Path, family: &str, extra: &[&str]) {
    let mut args = vec![
        "train", family, "--preset", "tiny", "--out", family, "--quiet", "--steps", "20",
    ];
    args.extend_from_slice(extra);
    ok(&genlab(&args, dir));
}

#[test]
fn a_vaes_pictures_have_titles_and_captions() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    train(d, "vae", &[]);
    let run = d.join("vae");
    // The trainer's fixed-noise samples: 8 x 8 under a one-line title.
    let samples = open(&run.join("samples/step-000020.png"));
    let b = assert_grid(&samples, 8, 8, "trainer samples");
    assert_eq!(b.1, 24, "one line of title");
    assert_title(&open(&run.join("curves.png")), "curves");

    ok(&genlab(&["sample", "vae", "-n", "16"], d));
    assert_grid(&open(&run.join("samples.png")), 4, 4, "sample");

    // Reconstructions: rows of originals and of reconstructions, each captioned.
    ok(&genlab(&["reconstruct", "vae", "-n", "10"], d));
    let img = open(&run.join("reconstructions.png"));
    let b = assert_grid(&img, 4, 8, "reconstructions");
    assert_row_captions(&img, b, 4, CELL);
    // The short last pair of rows leaves its empty cells white.
    let blank = (b.0 + 3 * CELL + 20, b.1 + 2 * CELL + 20);
    assert_eq!(img.get_pixel(blank.0, blank.1).0, BG, "blank cell");

    // Interpolation: t on the columns; the 2-D latent's manifold: z values on both axes.
    ok(&genlab(
        &["interpolate", "vae", "--rows", "2", "--steps", "5"],
        d,
    ));
    let img = open(&run.join("interpolation.png"));
    let b = assert_grid(&img, 2, 5, "interpolation");
    assert_col_captions(&img, b, 5, CELL, 1);
    let img = open(&run.join("manifold.png"));
    let b = assert_cells(&img, (20, 20), (28, 0), "manifold");
    assert_row_captions(&img, b, 20, 28);
    assert_col_captions(&img, b, 20, 28, 2);

    // Arithmetic: captioned A, B, C and result rows; B and C have one sample, so blank cells
    // (white, not black images) between it and the mean.
    ok(&genlab(
        &["arithmetic", "vae", "--a", "0,1", "--b", "2", "--c", "3"],
        d,
    ));
    let img = open(&run.join("arithmetic.png"));
    let b = assert_grid(&img, 4, 4, "arithmetic");
    assert_row_captions(&img, b, 4, CELL);
    assert_col_captions(&img, b, 4, CELL, 1);
    let centre = |r: u32, c: u32| img.get_pixel(b.0 + c * CELL + 30, b.1 + r * CELL + 30).0;
    assert_eq!((centre(1, 1), centre(2, 2)), (BG, BG), "blank cells");

    ok(&genlab(&["neighbours", "vae", "-n", "2", "-k", "3"], d));
    let img = open(&run.join("neighbours.png"));
    let b = assert_grid(&img, 2, 4, "neighbours");
    assert_row_captions(&img, b, 2, CELL);
    assert_col_captions(&img, b, 4, CELL, 1);

    ok(&genlab(
        &[
            "invert",
            "vae",
            "--sample",
            "0,1",
            "--steps",
            "3",
            "--restarts",
            "2",
        ],
        d,
    ));
    let img = open(&run.join("invert.png"));
    let b = assert_grid(&img, 2, 4, "invert");
    assert_row_captions(&img, b, 2, CELL);
    assert_col_captions(&img, b, 4, CELL, 1);
}

#[test]
fn classical_models_pictures_have_titles_and_captions() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    train(d, "rbm", &[]);
    assert_grid(
        &open(&d.join("rbm/samples/step-000020.png")),
        8,
        8,
        "rbm samples",
    );
    // Gibbs chains: the noise they start from, then 11 snapshots, each column captioned.
    ok(&genlab(&["sample", "rbm", "--chain", "-n", "3"], d));
    let img = open(&d.join("rbm/chain.png"));
    let b = assert_grid(&img, 3, 12, "chain");
    assert_col_captions(&img, b, 12, CELL, 1);
    ok(&genlab(&["sample", "rbm", "--filters", "-n", "16"], d));
    assert_grid(&open(&d.join("rbm/filters.png")), 4, 4, "filters");
    // Completions: masked input | completions | original.
    ok(&genlab(
        &["complete", "rbm", "-n", "2", "--samples", "3"],
        d,
    ));
    let img = open(&d.join("rbm/completions.png"));
    let b = assert_grid(&img, 2, 5, "completions");
    assert_col_captions(&img, b, 5, CELL, 4);

    // One row per class, named.
    train(d, "class-gaussian", &[]);
    ok(&genlab(
        &["sample", "class-gaussian", "--per-class", "3"],
        d,
    ));
    let img = open(&d.join("class-gaussian/samples-by-class.png"));
    let rows = img.height().saturating_sub(cells(&img).1) / CELL;
    assert!(rows >= 2, "{rows} classes");
    let b = assert_grid(&img, rows, 3, "per class");
    assert_row_captions(&img, b, rows, CELL);
    ok(&genlab(
        &[
            "sample",
            "class-gaussian",
            "--label",
            "0",
            "-n",
            "4",
            "--out",
            "one.png",
        ],
        d,
    ));
    assert_grid(&open(&d.join("one.png")), 1, 4, "one class");
    // By default one class goes to samples-of-class.png, beside the per-class grid.
    ok(&genlab(
        &["sample", "class-gaussian", "--label", "1", "-n", "4"],
        d,
    ));
    let one = open(&d.join("class-gaussian/samples-of-class.png"));
    assert_grid(&one, 1, 4, "--label");
    let kept = open(&d.join("class-gaussian/samples-by-class.png"));
    assert_grid(&kept, rows, 3, "per class kept");

    ok(&genlab(
        &["data", "info", "shapes", "--out", "shapes.png"],
        d,
    ));
    assert_grid(&open(&d.join("shapes.png")), 8, 8, "data info");
}

/// Grey levels (neither black nor white) inside the cells of columns `cols` of a grid whose
/// cell block starts at `b`, over `rows` rows.
fn greys(img: &image::RgbImage, b: (u32, u32, u32, u32), rows: u32, cols: &[u32]) -> usize {
    let inner = 3..CELL - 3;
    let mut n = 0;
    for r in 0..rows {
        for &c in cols {
            for y in inner.clone() {
                for x in inner.clone() {
                    let v = img.get_pixel(b.0 + c * CELL + x, b.1 + r * CELL + y).0[0];
                    n += (v != 0 && v != 255) as usize;
                }
            }
        }
    }
    n
}

#[test]
fn models_of_bits_show_drawn_bits_unless_mean() {
    // Samples and completions of a model of binary data are bits drawn from it; `--mean` shows
    // each pixel's probability instead (greys). NADE feeds its own draws forward; an RBM's
    // chain frames are v drawn from p(v | h).
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    train(d, "nade", &[]);
    let trainer = open(&d.join("nade/samples/step-000020.png"));
    let b = assert_grid(&trainer, 8, 8, "trainer samples");
    assert_eq!(
        greys(&trainer, b, 8, &[0, 1, 2, 3, 4, 5, 6, 7]),
        0,
        "trainer: bits"
    );
    ok(&genlab(&["sample", "nade", "-n", "16"], d));
    let img = open(&d.join("nade/samples.png"));
    let b = assert_grid(&img, 4, 4, "bits");
    assert_eq!(greys(&img, b, 4, &[0, 1, 2, 3]), 0, "default: bits");
    // --mean writes beside the draws (samples-mean.png), not over them.
    ok(&genlab(&["sample", "nade", "-n", "16", "--mean"], d));
    let img = open(&d.join("nade/samples-mean.png"));
    let b = assert_grid(&img, 4, 4, "probabilities");
    assert!(
        greys(&img, b, 4, &[0, 1, 2, 3]) > 1000,
        "--mean: probabilities"
    );
    let img = open(&d.join("nade/samples.png"));
    let b = assert_grid(&img, 4, 4, "bits kept");
    assert_eq!(greys(&img, b, 4, &[0, 1, 2, 3]), 0, "the draws are kept");
    // Completions: masked input (grey where hidden) | 2 completions | original.
    ok(&genlab(
        &["complete", "nade", "-n", "2", "--samples", "2"],
        d,
    ));
    let img = open(&d.join("nade/completions.png"));
    let b = assert_grid(&img, 2, 4, "completions");
    assert!(greys(&img, b, 2, &[0]) > 100, "the hidden half is grey");
    assert_eq!(greys(&img, b, 2, &[1, 2]), 0, "completions: bits");
    let args = ["complete", "nade", "-n", "2", "--samples", "2", "--mean"];
    ok(&genlab(&[&args[..], &["--out", "c.png"]].concat(), d));
    let img = open(&d.join("c.png"));
    let b = assert_grid(&img, 2, 4, "completions --mean");
    assert!(
        greys(&img, b, 2, &[1, 2]) > 100,
        "completions --mean: probabilities"
    );

    train(d, "rbm", &[]);
    ok(&genlab(&["sample", "rbm", "--chain", "-n", "2"], d));
    let img = open(&d.join("rbm/chain.png"));
    let b = assert_grid(&img, 2, 12, "chain");
    assert_eq!(
        greys(&img, b, 2, &(0..12).collect::<Vec<_>>()),
        0,
        "chain: bits"
    );

    // A model whose outputs are not bits: --mean is said to change nothing.
    train(d, "class-gaussian", &[]);
    let out = genlab(&["sample", "class-gaussian", "-n", "4", "--mean"], d);
    let err = ok_stderr(&out);
    assert!(err.contains("--mean changes nothing"), "{err}");
}

#[test]
fn an_infogan_traverse_names_its_code_values_and_categories() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    train(d, "infogan", &[]);
    ok(&genlab(&["traverse", "infogan", "--steps", "5"], d));
    let img = open(&d.join("infogan/traverse.png"));
    let rows = img.height().saturating_sub(cells(&img).1) / CELL;
    let b = assert_grid(&img, rows, 5, "traverse");
    assert_row_captions(&img, b, rows, CELL);
    assert_col_captions(&img, b, 5, CELL, 1);
}

#[test]
fn point_pictures_curves_and_bic_have_titles() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    train(d, "gmm", &["--data", "toy:ring8"]);
    // EM converges before step 20: the last picture of the trainer.
    let mut pictures: Vec<_> = std::fs::read_dir(d.join("gmm/samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pictures.sort();
    assert_title(&open(pictures.last().unwrap()), "gmm samples");
    assert_title(&open(&d.join("gmm/curves.png")), "gmm curves");
    ok(&genlab(&["sample", "gmm"], d));
    assert_title(&open(&d.join("gmm/samples.png")), "gmm sample");
    assert_title(&open(&d.join("gmm/density.png")), "gmm density");
    ok(&genlab(
        &[
            "gmm-select",
            "--data",
            "toy:ring8",
            "--k",
            "1..3",
            "--out",
            "sel",
        ],
        d,
    ));
    assert_title(&open(&d.join("sel/bic.png")), "bic");
}
