//! `genlab compare` and `genlab report` (issue 22): the leaderboard's rows and ranks, its
//! refusal to rank runs measured differently (another sample count, other data) with the reason,
//! a run without evaluation named with the command that evaluates it; the report is one
//! self-contained HTML file that Debian's headless Chromium renders to a non-blank page.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn train(d: &Path, family: &str, preset: &str, out: &str, extra: &[&str]) {
    let args = [
        &["train", family, "--preset", preset, "--out", out, "--quiet"][..],
        extra,
    ]
    .concat();
    ok(&genlab(&args, d));
}

/// Three evaluated image runs (two models of bits on the same protocol; a GAN's grey values on
/// fewer samples), a toy run, and one run never evaluated.
fn runs(d: &Path) {
    train(d, "classifier", "tiny", "judge", &[]);
    train(d, "vae", "tiny", "runs/vae", &[]);
    train(d, "dcgan", "tiny", "runs/dcgan", &[]);
    train(d, "made", "tiny", "runs/made", &["--data", "shapes"]);
    train(d, "gan", "default", "runs/gan-ring", &["--steps", "30"]);
    train(d, "vae", "tiny", "runs/vae-unevaluated", &["--seed", "1"]);
    for (run, samples) in [
        ("runs/vae", "200"),
        ("runs/made", "200"),
        ("runs/dcgan", "100"),
    ] {
        let args = [
            "eval",
            run,
            "--judge",
            "judge",
            "--samples",
            samples,
            "-k",
            "1",
        ];
        ok(&genlab(&args, d));
    }
    ok(&genlab(&["eval", "runs/gan-ring", "--samples", "200"], d));
}

#[test]
fn compare_ranks_on_one_protocol_and_report_is_self_contained_and_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    runs(d);
    let board: Value =
        serde_json::from_str(&ok(&genlab(&["compare", "runs", "--json"], d))).unwrap();
    assert_eq!(board["key"], "fid", "{board}");
    let rows = board["runs"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "{board}");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap()
    };
    // vae and made (binary draws against binarized test images) share a protocol: ranks 1 and
    // 2 of one group, in FID order.
    let (vae, made) = (row("runs/vae"), row("runs/made"));
    assert_eq!(vae["group"], made["group"]);
    let (fv, fm) = (
        vae["eval"]["fid"].as_f64().unwrap(),
        made["eval"]["fid"].as_f64().unwrap(),
    );
    let (best, worst) = if fv <= fm { (vae, made) } else { (made, vae) };
    assert_eq!(
        (best["rank"].as_u64(), worst["rank"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(vae["parameters"].as_u64().unwrap() > 1000 && vae["train_seconds"].as_f64().is_some());
    // The GAN (grey values, 100 samples) and the toy gan are each ranked alone; the notes say why.
    let dcgan = row("runs/dcgan");
    assert_eq!(dcgan["rank"], 1);
    assert_ne!(dcgan["group"], vae["group"]);
    assert_ne!(row("runs/gan-ring")["group"], dcgan["group"]);
    let notes = board["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(notes.contains("samples (200 vs 100)"), "{notes}");
    assert!(
        notes.contains("samples_shown_as (binary draws vs values)"),
        "{notes}"
    );
    assert!(notes.contains("data (toy:ring8 vs shapes)"), "{notes}");
    // The run never evaluated is listed, unranked, with the command that evaluates it.
    assert!(row("vae-unevaluated")["rank"].is_null());
    assert!(
        notes.contains("genlab eval runs/vae-unevaluated"),
        "{notes}"
    );
    // Text and CSV hold the same rows.
    let text = ok(&genlab(
        &["compare", "runs/vae", "runs/made", "runs/dcgan"],
        d,
    ));
    assert!(
        text.starts_with("ranked by fid (lower is better)"),
        "{text}"
    );
    assert!(
        text.contains("1 (group 2)") && text.contains("FID"),
        "{text}"
    );
    // By NLL: a run named twice is listed once; the ELBO's bound and MADE's exact NLL are
    // ranked together with a note saying what each is.
    let by_nll: Value = serde_json::from_str(&ok(&genlab(
        &["compare", "runs", "runs/vae", "--by", "nll", "--json"],
        d,
    )))
    .unwrap();
    assert_eq!(by_nll["runs"].as_array().unwrap().len(), 5, "{by_nll}");
    let notes = by_nll["notes"].to_string();
    assert!(
        notes.contains("ranks exact, lower bound together"),
        "{notes}"
    );
    let csv = ok(&genlab(&["compare", "runs", "--csv", "--by", "nll"], d));
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(
        csv.lines().next().unwrap().starts_with("rank,run,family"),
        "{csv}"
    );

    // The report: self-contained, with the policy, curves as SVG and grids as data URIs.
    ok(&genlab(
        &[
            "report",
            "runs",
            "--out",
            "report.html",
            "--title",
            "Five runs",
        ],
        d,
    ));
    let html = std::fs::read_to_string(d.join("report.html")).unwrap();
    let outside = genlab_report::html::outside_references(&html);
    assert!(
        outside.is_empty(),
        "references outside the file: {outside:?}"
    );
    assert!(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"));
    assert!(
        html.matches("<svg").count() >= 5,
        "training curves as inline SVG"
    );
    assert!(html.contains("data:image/png;base64,"));
    assert_eq!(
        html.matches("<section class=\"model\"").count(),
        5,
        "a page per model"
    );
    // A report never replaces a file that is not a page.
    std::fs::write(d.join("notes.txt"), "my notes").unwrap();
    fails_with(
        &genlab(&["report", "runs", "--out", "notes.txt"], d),
        &["notes.txt", "--force"],
    );

    // Headless Chromium renders it: the screenshot is not blank.
    let shot = d.join("report.png");
    let chromium = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--window-size=1200,1600",
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", d.join("report.html").display()),
        ])
        .output()
        .expect("Debian's chromium must be installed for this test (apt-get install chromium; the README's test command does it)");
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&chromium.stderr)
    );
    let img = open(&shot);
    let inked = img
        .pixels()
        .filter(|p| p.0.iter().any(|&c| c < 200))
        .count();
    let share = inked as f64 / (img.width() * img.height()) as f64;
    assert!(
        share > 0.02,
        "the page looks blank: {share:.4} of pixels inked"
    );
    if let Ok(dir) = std::env::var("GENLAB_SCREENSHOTS") {
        std::fs::copy(&shot, Path::new(&dir).join("report.png")).unwrap();
    }
}

#[test]
fn compare_and_report_refuse_bad_input_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("empty")).unwrap();
    fails_with(
        &genlab(&["compare", "empty"], d),
        &["no runs under empty", "genlab train"],
    );
    fails_with(
        &genlab(&["report", "nowhere", "--out", "r.html"], d),
        &["nowhere", "neither a run directory nor a folder of runs"],
    );
    fails_with(
        &genlab(&["compare", "empty", "--by", "speed"], d),
        &["--by speed", "fid, kid, nll"],
    );
    train(d, "vae", "tiny", "v", &[]);
    let text = ok(&genlab(&["compare", "v"], d));
    assert!(
        text.contains("not evaluated: run `genlab eval v`")
            || text.contains("no run has been evaluated"),
        "{text}"
    );
}
