//! Sample quality through the CLI (issue 21): `eval` reports FID, KID, precision / recall,
//! density / coverage, IS and memorisation with their protocol; `features` and `score`
//! recompute the same numbers from .npy files; bad judges and feature files are clear errors.
//! Tiny runs on `shapes` with a tiny classifier as judge keep it fast.

mod common;

use common::*;
use serde_json::Value;

fn tiny(d: &std::path::Path, family: &str, out: &str) {
    ok(&genlab(
        &["train", family, "--preset", "tiny", "--out", out, "--quiet"],
        d,
    ));
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn eval_judges_samples_and_score_recomputes_it_from_features() {
    // A VAE of bits on shapes, 600 samples (more than one chunk of draws) against 600 test
    // images binarized as the VAE sees them: features + score reproduce eval's numbers.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    tiny(d, "classifier", "judge");
    tiny(d, "vae", "vae");
    let eval = json(&ok(&genlab(
        &[
            "eval",
            "vae",
            "--judge",
            "judge",
            "--samples",
            "600",
            "-k",
            "1",
            "--json",
        ],
        d,
    )));
    for key in [
        "fid",
        "kid",
        "kid_std",
        "precision",
        "recall",
        "density",
        "coverage",
        "is",
    ] {
        assert!(eval[key].is_number(), "{key}: {eval}");
    }
    for key in ["precision", "recall", "coverage"] {
        let v = eval[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{key} {v}");
    }
    assert!(eval["memorization"]["median_ratio"].as_f64().unwrap() > 0.0);
    let p = &eval["protocol"];
    assert_eq!(
        (p["samples"].clone(), p["real"].clone()),
        (600.into(), "test".into())
    );
    assert_eq!(p["samples_shown_as"], "binary draws");
    assert_eq!(p["standard"], false);
    assert_eq!(p["judge"]["name"], "judge");
    assert_eq!(p["judge"]["sha256"].as_str().unwrap().len(), 64);
    let warnings = p["warnings"].to_string();
    assert!(
        warnings.contains("fewer than 2000") && warnings.contains("your own"),
        "{warnings}"
    );

    // Against the training split (data without a test split): no memorisation, said so.
    let args = [
        "eval",
        "vae",
        "--judge",
        "judge",
        "--samples",
        "100",
        "--split",
        "train",
    ];
    let train = json(&ok(&genlab(
        &[&args[..], &["-k", "1", "--json"]].concat(),
        d,
    )));
    assert!(train["memorization"].is_null(), "{train}");
    assert_eq!(train["protocol"]["real"], "train");
    assert!(train["protocol"]["warnings"]
        .to_string()
        .contains("no memorisation"));

    // The same samples and test examples through features and score: the same numbers.
    let judge = ["--judge", "judge", "--samples", "600"];
    ok(&genlab(
        &[&["features", "vae", "--out", "fake.npy"][..], &judge].concat(),
        d,
    ));
    ok(&genlab(
        &[
            &["features", "vae", "--real", "--out", "real.npy"][..],
            &judge,
        ]
        .concat(),
        d,
    ));
    let score = json(&ok(&genlab(
        &[
            "score", "--real", "real.npy", "--fake", "fake.npy", "--json",
        ],
        d,
    )));
    for key in ["fid", "precision", "recall", "density", "coverage"] {
        let (a, b) = (eval[key].as_f64().unwrap(), score[key].as_f64().unwrap());
        assert!(
            (a - b).abs() <= 1e-9 * a.abs().max(1e-3),
            "{key}: eval {a}, score {b}"
        );
    }
}

#[test]
fn missing_or_unfit_judges_and_feature_files_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    tiny(d, "dcgan", "gan");
    // No judge ships for shapes: features names the flag; eval still reports the rest.
    fails_with(
        &genlab(&["features", "shapes", "--out", "f.npy"], d),
        &[
            "no judge ships for shapes",
            "--judge",
            "--judge fashion-mnist",
        ],
    );
    // Naming the shipped judge judges any 28x28 gray images with it (features: 128 wide).
    let named = ok(&genlab(
        &[
            "features",
            "shapes",
            "--judge",
            "fashion-mnist",
            "--samples",
            "20",
            "--out",
            "s.npy",
        ],
        d,
    ));
    assert!(named.contains("20 x 128"), "{named}");
    let eval = json(&ok(&genlab(&["eval", "gan", "--json"], d)));
    assert!(
        eval["sample_quality"].as_str().unwrap().contains("--judge"),
        "{eval}"
    );
    // Asked for explicitly, it is an error.
    fails_with(
        &genlab(&["eval", "gan", "--samples", "50"], d),
        &["no judge ships for shapes"],
    );
    // A run without features is no judge.
    tiny(d, "vae", "vae");
    fails_with(
        &genlab(&["features", "gan", "--judge", "vae", "--out", "f.npy"], d),
        &["vae run", "no features", "genlab train classifier"],
    );
    // Feature files of different widths: 2 coordinates of a toy set against 8 judge features.
    tiny(d, "classifier", "judge");
    let j = ["--judge", "judge", "--samples", "50"];
    ok(&genlab(
        &[&["features", "gan", "--out", "g.npy"][..], &j].concat(),
        d,
    ));
    ok(&genlab(
        &["features", "toy:ring8", "--out", "t.npy", "--samples", "50"],
        d,
    ));
    fails_with(
        &genlab(&["score", "--real", "t.npy", "--fake", "g.npy"], d),
        &["2 columns", "8", "same judge"],
    );
    fails_with(
        &genlab(&["score", "--real", "missing.npy", "--fake", "g.npy"], d),
        &["missing.npy"],
    );
    // A run that cannot sample has no samples to judge.
    fails_with(
        &genlab(
            &["features", "judge", "--judge", "judge", "--out", "j.npy"],
            d,
        ),
        &["classifier cannot sample"],
    );
    // Too few samples.
    fails_with(
        &genlab(&["eval", "gan", "--judge", "judge", "--samples", "3"], d),
        &["--samples 3 is too few"],
    );
    // Probabilities that are not distributions are refused by score.
    fails_with(
        &genlab(
            &[
                "score",
                "--real",
                "g.npy",
                "--fake",
                "g.npy",
                "--fake-probs",
                "g.npy",
            ],
            d,
        ),
        &["not a distribution"],
    );
    // A judge of 8x8 images cannot judge 28x28 ones.
    for (class, shade) in [("dark", 40u8), ("light", 220u8)] {
        let dir = d.join("small").join(class);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..12u8 {
            let img = image::GrayImage::from_pixel(8, 8, image::Luma([shade + i]));
            img.save(dir.join(format!("{i}.png"))).unwrap();
        }
    }
    ok(&genlab(
        &[
            "train",
            "classifier",
            "--preset",
            "tiny",
            "--data",
            "folder:small",
            "--out",
            "small-judge",
            "--quiet",
        ],
        d,
    ));
    fails_with(
        &genlab(
            &[
                "features",
                "gan",
                "--judge",
                "small-judge",
                "--out",
                "s.npy",
            ],
            d,
        ),
        &["sees 8x8 images", "28x28", "--judge"],
    );
}

#[test]
fn cas_separates_class_faithful_samples_from_chance() {
    // A classifier trained only on class-gaussian's labelled samples of shapes recognises real
    // shapes well above chance (1/4); one trained on a 20-step cgan's does not. A budget other
    // than the pinned one is marked non-standard. (Same seed and steps for both.)
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    tiny(d, "class-gaussian", "cg");
    tiny(d, "cgan", "gan");
    let cas = |run: &str| {
        let args = [
            "eval",
            run,
            "--cas",
            "--cas-steps",
            "60",
            "--samples",
            "0",
            "--json",
        ];
        json(&ok(&genlab(&args, d)))
    };
    let (good, bad) = (cas("cg"), cas("gan"));
    let (g, b) = (good["cas"].as_f64().unwrap(), bad["cas"].as_f64().unwrap());
    assert!(g > 0.4 && g > b + 0.1, "class-gaussian {g}, cgan {b}");
    assert!(
        (0.15..0.35).contains(&b),
        "an untrained cgan is near chance: {b}"
    );
    assert_eq!(good["cas_protocol"]["standard"], false);
    assert_eq!(good["cas_protocol"]["samples"], 10000);
    // A class-only judge (class-gaussian) still gives the class rate; the metrics, without a
    // judge for shapes, are said not to be computed rather than failing the evaluation.
    let rate = json(&ok(&genlab(&["eval", "gan", "--judge", "cg", "--json"], d)));
    assert!(rate["label_accuracy_by_classifier"].is_number(), "{rate}");
    assert!(
        rate["sample_quality"]
            .as_str()
            .unwrap()
            .contains("no judge ships"),
        "{rate}"
    );
    // An unconditional model has no CAS.
    tiny(d, "dcgan", "dc");
    fails_with(
        &genlab(&["eval", "dc", "--cas", "--samples", "0"], d),
        &["cannot sample given a label"],
    );
}
