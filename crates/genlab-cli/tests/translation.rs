//! Image-to-image translation from the command line (issue 23): task specs shown as pairs, a
//! pix2pix, a CycleGAN, a DiscoGAN, an SRResNet, an SRGAN and a context encoder trained for a few steps, `translate` pictures (input, output, round
//! trip, target rows), `eval`'s scores beside their baselines, and the errors for data a
//! translator cannot use.

mod common;

use common::*;
use serde_json::Value;

fn eval(d: &std::path::Path, run: &str) -> Value {
    serde_json::from_str(&ok(&genlab(&["eval", run, "--json", "-n", "200"], d))).unwrap()
}

#[test]
fn pix2pix_translates_and_is_scored_beside_the_input_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // The task as pairs: 24 pairs in 3 blocks of an input row above a target row.
    ok(&genlab(
        &["data", "info", "hole(10):shapes", "--out", "pairs.png"],
        d,
    ));
    let img = open(&d.join("pairs.png"));
    let b = assert_grid(&img, 6, 8, "data info of a task");
    assert_row_captions(&img, b, 6, CELL);

    ok(&genlab(
        &[
            "train", "pix2pix", "--preset", "tiny", "--out", "p2p", "--quiet",
        ],
        d,
    ));
    assert!(d.join("p2p/samples/step-000020.png").is_file());
    ok(&genlab(
        &["translate", "p2p", "-n", "8", "--out", "t.png"],
        d,
    ));
    // Input, output and target rows of 8.
    let img = open(&d.join("t.png"));
    let b = assert_grid(&img, 3, 8, "translate");
    assert_row_captions(&img, b, 3, CELL);
    // Dropout is the only noise: one seed, one picture; another seed, another.
    ok(&genlab(
        &["translate", "p2p", "-n", "8", "--out", "t2.png"],
        d,
    ));
    ok(&genlab(
        &[
            "translate",
            "p2p",
            "-n",
            "8",
            "--seed",
            "1",
            "--out",
            "t3.png",
        ],
        d,
    ));
    let (t, t2, t3) = (
        open(&d.join("t.png")),
        open(&d.join("t2.png")),
        open(&d.join("t3.png")),
    );
    assert_eq!(t, t2);
    assert_ne!(t, t3);

    let e = eval(d, "p2p");
    for key in ["l1", "psnr", "ssim", "l1_input", "psnr_input", "ssim_input"] {
        assert!(e[key].as_f64().is_some_and(f64::is_finite), "{key}: {e}");
    }
    assert_eq!(e["n_examples"], 200);
    assert!(e["ssim"].as_f64().unwrap() <= 1.0);
    // On a judge: FID of the outputs and their accuracy, with the protocol compare ranks by.
    let args = [
        "eval",
        "p2p",
        "--json",
        "-n",
        "200",
        "--judge",
        "fashion-mnist",
    ];
    let e: Value = serde_json::from_str(&ok(&genlab(&args, d))).unwrap();
    assert!(e["fid"].as_f64().is_some_and(|f| f > 0.0), "{e}");
    assert!(e["judged_accuracy"].as_f64().is_some(), "{e}");
    assert_eq!(e["protocol"]["kind"], "translation", "{e}");
    assert_eq!(e["protocol"]["real_examples"], 200, "{e}");
    let board: Value =
        serde_json::from_str(&ok(&genlab(&["compare", "p2p", "--json"], d))).unwrap();
    assert_eq!(
        board["runs"][0]["rank"], 1,
        "a translator with a protocol is ranked: {board}"
    );

    // The model's own kind of input, from a file of the wrong size: an error that says so.
    image::GrayImage::new(10, 12)
        .save(d.join("small.png"))
        .unwrap();
    fails_with(
        &genlab(&["translate", "p2p", "small.png"], d),
        &["small.png is 10x12 pixels", "28x28"],
    );
    fails_with(
        &genlab(&["translate", "p2p", "--direction", "ba"], d),
        &["one way only", "cyclegan"],
    );
    // Another kind of input than the model's: refused before any network sees it.
    fails_with(
        &genlab(&["eval", "p2p", "--data", "downscale(2):shapes"], d),
        &["inputs of 1x14x14", "translates inputs of 1x28x28"],
    );
}

#[test]
fn cyclegan_learns_two_unpaired_domains_and_shows_the_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(&genlab(
        &[
            "train", "cyclegan", "--preset", "tiny", "--out", "cg", "--quiet",
        ],
        d,
    ));
    ok(&genlab(
        &["translate", "cg", "-n", "8", "--out", "ab.png"],
        d,
    ));
    // Unpaired: input, output and round trip; no target row.
    let img = open(&d.join("ab.png"));
    assert_row_captions(&img, assert_grid(&img, 3, 8, "translate ab"), 3, CELL);
    ok(&genlab(
        &[
            "translate",
            "cg",
            "-n",
            "8",
            "--direction",
            "ba",
            "--out",
            "ba.png",
        ],
        d,
    ));
    assert_grid(&open(&d.join("ba.png")), 3, 8, "translate ba");
    let e = eval(d, "cg");
    for key in ["iou", "diversity", "diversity_input", "diversity_ratio"] {
        assert!(e[key].as_f64().is_some_and(f64::is_finite), "{key}: {e}");
    }
    assert!(e.get("l1").is_none(), "no pairs, no l1: {e}");
}

#[test]
fn discogan_and_its_one_way_ablation() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let tiny = ["train", "discogan", "--preset", "tiny", "--quiet", "--out"];
    ok(&genlab(&[&tiny[..], &["dg"]].concat(), d));
    ok(&genlab(
        &["translate", "dg", "-n", "4", "--out", "ab.png"],
        d,
    ));
    // Both ways: input, output and round trip.
    assert_grid(&open(&d.join("ab.png")), 3, 4, "discogan ab");
    let e = eval(d, "dg");
    for key in ["iou", "diversity_ratio"] {
        assert!(e[key].as_f64().is_some_and(f64::is_finite), "{key}: {e}");
    }
    // The standard-GAN ablation learns no way back: no round trip, and `ba` is refused.
    let gan = ["--set", "model.reconstruction=none"];
    ok(&genlab(&[&tiny[..], &["gan"], &gan[..]].concat(), d));
    ok(&genlab(
        &["translate", "gan", "-n", "4", "--out", "g.png"],
        d,
    ));
    assert_grid(&open(&d.join("g.png")), 2, 4, "discogan gan");
    fails_with(
        &genlab(&["translate", "gan", "--direction", "ba"], d),
        &["one way only"],
    );
}

#[test]
fn srresnet_is_scored_beside_bicubic_upsampling() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(&genlab(
        &[
            "train", "srresnet", "--preset", "tiny", "--out", "sr", "--quiet",
        ],
        d,
    ));
    let e = eval(d, "sr");
    for key in ["psnr", "psnr_bicubic", "ssim_bicubic", "l1_bicubic"] {
        assert!(e[key].as_f64().is_some_and(f64::is_finite), "{key}: {e}");
    }
    // Bicubic upsampling of area averages is far better than chance on shapes.
    assert!(e["psnr_bicubic"].as_f64().unwrap() > 15.0, "{e}");
    assert!(
        e.get("psnr_input").is_none(),
        "the input has another size: {e}"
    );
    // SRGAN, both stages, its content loss on the shipped judge's features (28x28 grey).
    let srgan = [
        "train",
        "srgan",
        "--preset",
        "tiny",
        "--set",
        "model.content=judge",
        "--out",
        "sg",
        "--quiet",
    ];
    ok(&genlab(&srgan, d));
    let metrics = std::fs::read_to_string(d.join("sg/metrics.jsonl")).unwrap();
    assert!(
        metrics.contains("\"content\"") && metrics.contains("\"d_loss\""),
        "{metrics}"
    );
    let e = eval(d, "sg");
    assert!(
        e["psnr_bicubic"].as_f64().is_some_and(f64::is_finite),
        "{e}"
    );
    fails_with(
        &genlab(
            &[
                "train",
                "srresnet",
                "--preset",
                "tiny",
                "--data",
                "edges:shapes",
                "--out",
                "x",
            ],
            d,
        ),
        &["upsamples by 2 or 4", "downscale(2)"],
    );
}

#[test]
fn context_encoder_fills_the_hole_beside_the_mean_image() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(&genlab(
        &[
            "train",
            "context-encoder",
            "--preset",
            "tiny",
            "--out",
            "ce",
            "--quiet",
        ],
        d,
    ));
    let e = eval(d, "ce");
    for key in ["l1", "psnr", "ssim", "psnr_mean", "l1_mean", "psnr_input"] {
        assert!(e[key].as_f64().is_some_and(f64::is_finite), "{key}: {e}");
    }
    // The run remembers its hole: translate shows input | output | target rows, and an output
    // keeps every known pixel of its input (the top band) and fills the grey hole.
    ok(&genlab(
        &["translate", "ce", "-n", "3", "--out", "t.png"],
        d,
    ));
    let img = open(&d.join("t.png"));
    let b = assert_grid(&img, 3, 3, "context encoder translations");
    let band = |r: u32, c: u32, ys: std::ops::Range<u32>| -> Vec<[u8; 3]> {
        ys.flat_map(|y| (2..CELL - 2).map(move |x| (x, y)))
            .map(|(x, y)| img.get_pixel(b.0 + c * CELL + x, b.1 + r * CELL + y).0)
            .collect()
    };
    for c in 0..3 {
        // Image rows 0..6 at scale 2 are known; rows 7..21 are the hole.
        assert_eq!(
            band(1, c, 2..14),
            band(2, c, 2..14),
            "column {c}: known pixels kept"
        );
        assert_ne!(
            band(1, c, 20..40),
            band(0, c, 20..40),
            "column {c}: hole filled"
        );
    }
    fails_with(
        &genlab(
            &[
                "train",
                "context-encoder",
                "--preset",
                "tiny",
                "--data",
                "edges:shapes",
                "--out",
                "x",
            ],
            d,
        ),
        &["fills a hole", "hole:fashion-mnist"],
    );
}

#[test]
fn data_a_translator_cannot_use_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let tiny = ["--preset", "tiny", "--quiet", "--out"];
    let train = |family: &str, data: &str, out: &str| {
        let mut args = vec!["train", family, "--data", data];
        args.extend_from_slice(&tiny);
        args.push(out);
        genlab(&args, d)
    };
    fails_with(
        &train("pix2pix", "shapes", "a"),
        &["needs paired images", "--data edges:fashion-mnist"],
    );
    fails_with(
        &train("pix2pix", "unpaired(0,2):shapes", "b"),
        &["needs paired images", "cyclegan"],
    );
    fails_with(
        &train("cyclegan", "shapes", "c"),
        &["needs two domains", "unpaired(7,9)"],
    );
    fails_with(
        &train("cyclegan", "downscale(2):shapes", "e"),
        &["domain A has 14x14", "one size"],
    );
    fails_with(
        &train("cyclegan", "grey:colour-shapes", "f"),
        &["model.identity_weight = 0"],
    );
    let mut args = vec!["train", "cyclegan", "--set", "model.loss=hinge"];
    args.extend_from_slice(&tiny);
    args.push("j");
    fails_with(&genlab(&args, d), &["model.loss is least_squares"]);
    // The schedule's decay must start inside the run.
    let args = [
        "train", "cyclegan", "--steps", "2000", "--out", "k", "--quiet",
    ];
    fails_with(
        &genlab(&args, d),
        &["optim.d_a.decay_start = 2500", "train.steps = 2000"],
    );
    fails_with(
        &train("pix2pix", "unpaired(0,9):shapes", "g"),
        &["classes 0..3"],
    );
    fails_with(
        &train("pix2pix", "downscale(3):shapes", "h"),
        &["the factor is 2 or 4"],
    );
    std::fs::create_dir_all(d.join("p/A")).unwrap();
    std::fs::create_dir_all(d.join("p/B")).unwrap();
    image::GrayImage::new(28, 28)
        .save(d.join("p/A/x.png"))
        .unwrap();
    image::GrayImage::new(28, 28)
        .save(d.join("p/B/y.png"))
        .unwrap();
    fails_with(
        &train("pix2pix", "pairs:p", "i"),
        &["without a partner in B/ (x.png)"],
    );
    // A model of another family cannot translate.
    ok(&genlab(
        &[
            "train", "vae", "--preset", "tiny", "--out", "vae", "--quiet",
        ],
        d,
    ));
    fails_with(&genlab(&["translate", "vae"], d), &["vae cannot translate"]);
    // The spec grammar keeps a folder path whole: colons, spaces and brackets.
    let odd = d.join("my pairs (v2) [x]:y");
    for side in ["A", "B"] {
        std::fs::create_dir_all(odd.join(side)).unwrap();
        image::GrayImage::from_pixel(28, 28, image::Luma([99]))
            .save(odd.join(side).join("1.png"))
            .unwrap();
    }
    let spec = format!("pairs:{}", odd.display());
    let info: Value = serde_json::from_str(&ok(&genlab(
        &["data", "info", &spec, "--json", "--out", "odd.png"],
        d,
    )))
    .unwrap();
    assert_eq!(info["examples"], 1, "{info}");
}
