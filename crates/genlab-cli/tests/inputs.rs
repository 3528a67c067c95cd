//! Inputs from the field that genlab used to read wrong or handle badly (issue 19): each test
//! is a kind of fault, its example and siblings.

use std::path::Path;
use std::process::{Command, Output};

fn genlab(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genlab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("genlab runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "genlab failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Asserts exit code 2, no panic, and every needle in stderr.
fn fails_with(out: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "expected exit 2, stderr: {err}");
    assert!(
        !err.contains("panicked"),
        "panic instead of an error: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "stderr lacks `{n}`: {err}");
    }
    err
}

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
    let err = ok(&genlab(
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
    ok(&genlab(
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
    let err = ok(&genlab(
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
    let err = ok(&genlab(
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
