//! Inputs from the field that genlab used to read wrong or handle badly (issue 19): each test
//! is a kind of fault, its example and siblings.

mod common;

use common::*;

use std::path::Path;

/// A folder of 8x8 images: `colour` of them red-ish RGB, the rest grey.
fn image_folder(dir: &Path, colour: usize, grey: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..colour {
        let img = image::RgbImage::from_fn(8, 8, |x, y| {
            image::Rgb([200, (x * 30) as u8, (y * 30 + i as u32) as u8])
        });
        img.save(dir.join(format!("c{i:02}.png"))).unwrap();
    }
    for i in 0..grey {
        let img =
            image::GrayImage::from_fn(8, 8, |x, y| image::Luma([((x + y) * 15 + i as u32) as u8]));
        img.save(dir.join(format!("g{i:02}.png"))).unwrap();
    }
}

#[test]
fn colour_is_kept_by_default_and_a_dropped_colour_is_said() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    image_folder(&d.join("rgb"), 16, 0);
    // data.channels = "auto": RGB, and config.toml records the count it loaded.
    let err = ok_stderr(&genlab(
        &[
            "train",
            "vae",
            "--preset",
            "tiny",
            "--data",
            "folder:rgb",
            "--out",
            "v",
            "--steps",
            "2",
        ],
        d,
    ));
    assert!(err.contains("loaded as RGB"), "{err}");
    let config = std::fs::read_to_string(d.join("v/config.toml")).unwrap();
    assert!(config.contains("channels = 3"), "{config}");
    // The same command line continues the run ("auto" is what it resolved to).
    ok_stderr(&genlab(
        &[
            "train",
            "vae",
            "--preset",
            "tiny",
            "--data",
            "folder:rgb",
            "--out",
            "v",
            "--steps",
            "3",
            "--resume",
        ],
        d,
    ));
    // Asked for grey: said so, with how to keep colour; data info says it too.
    let err = ok_stderr(&genlab(
        &[
            "train",
            "vae",
            "--preset",
            "tiny",
            "--data",
            "folder:rgb",
            "--out",
            "g",
            "--steps",
            "2",
            "--set",
            "data.channels=1",
        ],
        d,
    ));
    assert!(
        err.contains("16 of 16 images have colour, loaded as grey"),
        "{err}"
    );
    let err = ok_stderr(&genlab(
        &[
            "data",
            "info",
            "folder:rgb",
            "--channels",
            "1",
            "--out",
            "grid.png",
        ],
        d,
    ));
    assert!(err.contains("data.channels = \"auto\""), "{err}");
    // A family of one-channel images refuses colour and names the fix.
    fails_with(
        &genlab(
            &[
                "train",
                "pixelcnn",
                "--preset",
                "tiny",
                "--data",
                "folder:rgb",
                "--out",
                "p",
                "--quiet",
            ],
            d,
        ),
        &["one-channel", "data.channels = 1"],
    );
    // Sibling: grey and colour mixed (a folder gathered from several sources) is RGB.
    image_folder(&d.join("mixed"), 1, 7);
    let out = genlab(
        &[
            "data",
            "info",
            "folder:mixed",
            "--json",
            "--out",
            "grid.png",
        ],
        d,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["channels"], 3, "{v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 8 images have colour"));
    // A bad value names the key and the valid ones.
    fails_with(
        &genlab(
            &[
                "train",
                "vae",
                "--preset",
                "tiny",
                "--data",
                "folder:rgb",
                "--out",
                "b",
                "--set",
                "data.channels=2",
            ],
            d,
        ),
        &["data.channels must be \"auto\", 1 or 3, found 2"],
    );
}

/// 500 rows of 16 integer columns in 0..255 (unscaled pixel-like values), deterministic.
fn integer_table(path: &Path) {
    let mut text: String = (0..16).map(|j| format!("c{j},")).collect();
    text.pop();
    text.push('\n');
    let mut s = 12345u64;
    for _ in 0..500 {
        let row: Vec<String> = (0..16)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) % 256).to_string()
            })
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn unscaled_data_trains_as_z_scores_and_otherwise_names_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    integer_table(&d.join("ints.csv"));
    let vae = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "vae",
            "--data",
            "csv:ints.csv",
            "--out",
            out,
            "--quiet",
            "--steps",
            "100",
            "--set",
            "model.decoder=\"gaussian\"",
            "--set",
            "data.binarize=\"none\"",
        ];
        args.extend_from_slice(extra);
        genlab(&args, d)
    };
    // The example: a Gaussian-decoder VAE on 0..255 integers trains (z-scores by default)...
    ok_stderr(&vae("auto", &[]));
    let metrics = std::fs::read_to_string(d.join("auto/metrics.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    let loss = last["losses"]["neg_elbo"].as_f64().unwrap();
    assert!(loss.is_finite() && loss < 100.0, "{last}");
    // ...and on the raw values it stops with the cause and the fix, never exit 0.
    fails_with(
        &vae("raw", &["--set", "data.standardize=\"off\""]),
        &[
            "training diverged",
            "values reach 255",
            "data.standardize = \"auto\"",
        ],
    );
    // Sibling: a flow on the raw values says the same.
    fails_with(
        &genlab(
            &[
                "train",
                "maf",
                "--data",
                "csv:ints.csv",
                "--out",
                "maf",
                "--quiet",
                "--steps",
                "50",
                "--set",
                "data.standardize=\"off\"",
            ],
            d,
        ),
        &["training diverged", "data.standardize = \"auto\""],
    );
}

#[test]
fn models_of_binary_data_check_the_data_at_train_time_and_advise_what_train_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // The example: values of mean about 50 and spread 30.
    let rows: String = (0..200)
        .map(|i| format!("{},{}\n", 20 + (i * 7) % 60, 50 + (i * 13) % 40))
        .collect();
    std::fs::write(d.join("wide.csv"), format!("a,b\n{rows}")).unwrap();
    let rbm = |out: &str, data: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "rbm",
            "--preset",
            "tiny",
            "--data",
            data,
            "--out",
            out,
            "--quiet",
            "--set",
            "data.binarize=\"none\"",
        ];
        args.extend_from_slice(extra);
        genlab(&args, d)
    };
    let err = fails_with(
        &rbm("r", "csv:wide.csv", &[]),
        &[
            "rbm models binary data",
            "ranges from 20 to 89",
            "model.visible = \"gaussian\"",
        ],
    );
    assert!(!err.contains("binarize=dynamic"), "{err}");
    assert!(
        !d.join("r").exists(),
        "a refused start leaves nothing behind"
    );
    // The advice is one that train accepts.
    ok_stderr(&rbm(
        "r",
        "csv:wide.csv",
        &["--set", "model.visible=\"gaussian\""],
    ));
    // Sibling: probabilities in [0, 1] train (soft targets), but eval has no likelihood of
    // non-binary points and says what to do without suggesting data.binarize.
    let probs: String = (0..200)
        .map(|i| {
            format!(
                "{},{}\n",
                (i % 10) as f64 / 10.0,
                ((i * 3) % 7) as f64 / 7.0
            )
        })
        .collect();
    std::fs::write(d.join("probs.csv"), format!("a,b\n{probs}")).unwrap();
    ok_stderr(&rbm("p", "csv:probs.csv", &[]));
    let err = fails_with(
        &genlab(&["eval", "p", "--json", "--split", "train"], d),
        &["models binary data", "model.visible = \"gaussian\""],
    );
    assert!(!err.contains("binarize"), "{err}");
    // Own sibling: a family of pixels only refuses points outright, and images scaled to
    // [-1, 1] are refused for a model of bits.
    fails_with(
        &genlab(
            &[
                "train",
                "nade",
                "--preset",
                "tiny",
                "--data",
                "csv:wide.csv",
                "--out",
                "n",
                "--quiet",
                "--set",
                "data.binarize=\"none\"",
            ],
            d,
        ),
        &["nade models binary pixels", "on an image dataset"],
    );
    fails_with(
        &genlab(
            &[
                "train",
                "rbm",
                "--preset",
                "tiny",
                "--out",
                "s",
                "--quiet",
                "--set",
                "data.binarize=\"none\"",
                "--set",
                "data.scale=\"symmetric\"",
            ],
            d,
        ),
        &["values in [0, 1]", "data.scale = \"unit\""],
    );
}

#[test]
fn outputs_never_replace_what_they_do_not_write_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok_stderr(&genlab(
        &[
            "train", "vae", "--preset", "tiny", "--out", "run", "--quiet", "--steps", "2",
        ],
        d,
    ));
    let config = std::fs::read(d.join("run/config.toml")).unwrap();
    // The example: the run's own config, by any path.
    fails_with(
        &genlab(&["sample", "run", "--out", "run/../run/config.toml"], d),
        &["belongs to the run in", "--force"],
    );
    assert_eq!(std::fs::read(d.join("run/config.toml")).unwrap(), config);
    // Sibling: a folder is never replaced, even with --force.
    std::fs::create_dir(d.join("pictures")).unwrap();
    fails_with(
        &genlab(&["sample", "run", "--out", "pictures", "--force"], d),
        &["pictures is a folder", "pictures/out.png"],
    );
    // Sibling: an existing file of another kind (notes, a photo) is kept unless --force.
    std::fs::write(d.join("notes.txt"), "my notes").unwrap();
    fails_with(
        &genlab(&["sample", "run", "--out", "notes.txt"], d),
        &["notes.txt exists and is not a PNG image", "--force"],
    );
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).unwrap(),
        "my notes"
    );
    ok_stderr(&genlab(
        &["sample", "run", "--out", "notes.txt", "--force"],
        d,
    ));
    assert!(std::fs::read(d.join("notes.txt"))
        .unwrap()
        .starts_with(b"\x89PNG"));
    // A PNG is replaced by a PNG as usual, and data info checks its grid the same way.
    ok_stderr(&genlab(&["sample", "run", "--out", "notes.txt"], d));
    std::fs::write(d.join("keep.txt"), "keep").unwrap();
    fails_with(
        &genlab(&["data", "info", "shapes", "--out", "keep.txt"], d),
        &["keep.txt exists and is not a PNG image"],
    );
    // Own sibling: eval --scores over a picture.
    fails_with(
        &genlab(&["eval", "run", "--scores", "notes.txt", "-n", "10"], d),
        &["notes.txt exists and is not a CSV table"],
    );
    ok_stderr(&genlab(
        &["eval", "run", "--scores", "scores.csv", "-n", "10"],
        d,
    ));
    ok_stderr(&genlab(
        &["eval", "run", "--scores", "scores.csv", "-n", "10"],
        d,
    ));
}

#[test]
fn a_preset_value_that_does_not_fit_the_data_names_the_setting_that_does() {
    // Case 13's example: bgmm's default preset sets a 2 x 2 covariance prior (for toy:ring8);
    // on 1-D data the start fails, leaves nothing behind, and the fix it names works.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let rows: String = (0..100)
        .map(|i| format!("{}\n", (i % 10) as f64 * 0.3 + (i % 2) as f64 * 5.0))
        .collect();
    std::fs::write(d.join("one.csv"), format!("x\n{rows}")).unwrap();
    let bgmm = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "bgmm",
            "--data",
            "csv:one.csv",
            "--out",
            "b",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        genlab(&args, d)
    };
    fails_with(
        &bgmm(&[]),
        &[
            "on 1-dimensional data",
            "--set model.covariance_prior=\"auto\"",
        ],
    );
    assert!(!d.join("b/ckpt").exists());
    ok_stderr(&bgmm(&[
        "--set",
        "model.covariance_prior=\"auto\"",
        "--steps",
        "20",
    ]));
}
