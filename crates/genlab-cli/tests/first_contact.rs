//! What a newcomer meets (issue 20): numbers that say what they are, outputs where they are
//! said to be.

mod common;

use common::*;

#[test]
fn exact_likelihoods_are_computed_once_whatever_k_says() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for family in ["gmm", "made", "class-gaussian"] {
        ok(&genlab(
            &[
                "train", family, "--preset", "tiny", "--out", family, "--quiet", "--steps", "5",
            ],
            d,
        ));
        let eval = |k: &str| {
            let text = ok(&genlab(&["eval", family, "--json", "-n", "64", "-k", k], d));
            serde_json::from_str::<serde_json::Value>(&text).unwrap()
        };
        let (one, many) = (eval("1"), eval("1000"));
        assert_eq!(one["bound"], "exact", "{family}: {one}");
        assert!(one.get("k").is_none(), "{family}: {one}");
        assert_eq!(one, many, "{family}");
    }
}

#[test]
fn runs_lists_every_run_under_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (family, out) in [("gmm", "runs/gmm"), ("vae", "runs/nested/vae")] {
        ok(&genlab(
            &[
                "train", family, "--preset", "tiny", "--out", out, "--quiet", "--steps", "4",
            ],
            d,
        ));
    }
    ok(&genlab(&["eval", "runs/gmm", "--json", "-n", "32"], d));
    let text = ok(&genlab(&["runs", "--json"], d));
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    let gmm = rows.iter().find(|r| r["family"] == "gmm").unwrap();
    assert!(gmm["headline"]["bits_per_dim"].is_f64(), "{gmm}");
    assert_eq!(gmm["data"], "shapes");
    let vae = rows.iter().find(|r| r["family"] == "vae").unwrap();
    assert_eq!(vae["step"], 4);
    assert!(vae["loss"]["neg_elbo"].is_f64(), "{vae}");
    let table = ok(&genlab(&["runs"], d));
    assert!(
        table.contains("runs/nested/vae") && table.contains("(no eval)"),
        "{table}"
    );
    // Not a folder: the error says what to give.
    let out = genlab(&["runs", "nowhere"], d);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn outputs_go_where_they_are_said_to_go() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // data info and gmm-select write beside the runs, not into the working folder.
    let text = ok(&genlab(&["data", "info", "toy:ring8", "--json"], d));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["picture"], "runs/data/toy_ring8.png");
    assert_eq!(v["columns"], 2);
    assert!(
        v["standardize_auto"].as_str().unwrap().contains("as given"),
        "{v}"
    );
    assert!(d.join("runs/data/toy_ring8.png").is_file());
    ok(&genlab(
        &["gmm-select", "--data", "toy:ring8", "--k", "7..8"],
        d,
    ));
    assert!(d.join("runs/gmm-select/bic.png").is_file());
    // One name for a grid of samples: the trainer's, the demo's and sample's samples.png.
    ok(&genlab(
        &[
            "train", "vae", "--preset", "tiny", "--out", "v", "--quiet", "--steps", "2",
        ],
        d,
    ));
    ok(&genlab(&["sample", "v", "-n", "4"], d));
    assert!(d.join("v/samples.png").is_file());
    assert!(!d.join("v/sample.png").exists());
    let here: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let mut here = here;
    here.sort();
    assert_eq!(
        here,
        vec!["runs", "v"],
        "nothing else in the working folder"
    );
}

#[test]
fn likelihoods_say_what_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let eval = |family: &str, extra: &[&str]| {
        let mut args = vec!["train", family, "--out", family, "--quiet", "--steps", "5"];
        args.extend_from_slice(extra);
        let err = String::from_utf8_lossy(&genlab(&args, d).stderr).to_string();
        let text = ok(&genlab(
            &["eval", family, "--json", "-n", "64", "-k", "2"],
            d,
        ));
        (
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            err,
        )
    };
    // A density of points: continuous, can be negative.
    let (gmm, _) = eval("gmm", &[]);
    assert_eq!(gmm["kind"], "continuous", "{gmm}");
    assert!(gmm["meaning"]
        .as_str()
        .unwrap()
        .contains("never comparable with a discrete"));
    // Binarized pixels: discrete.
    let (made, _) = eval("made", &["--preset", "tiny"]);
    assert_eq!(made["kind"], "discrete", "{made}");
    assert!(made["meaning"].as_str().unwrap().contains("binary pixels"));
    // 8-bit pixels: a mass over the 256 levels is discrete and exact; a flow's density of
    // dequantized pixels is a lower bound on that log-mass (Theis et al. 2016).
    let eight_bit = ["--preset", "tiny", "--set", "data.binarize=none"];
    for (family, args, bound, meaning) in [
        ("pixelcnn", &eight_bit[..], "exact", "8-bit pixels"),
        ("gated-pixelcnn", &eight_bit[..], "exact", "8-bit pixels"),
        (
            "pixelcnn++",
            &["--preset", "tiny"][..],
            "exact",
            "8-bit pixels",
        ),
        (
            "realnvp",
            &["--preset", "tiny"][..],
            "lower_bound",
            "lower bound",
        ),
    ] {
        let (v, _) = eval(family, args);
        assert_eq!(
            (&v["kind"], &v["bound"]),
            (&"discrete".into(), &bound.into()),
            "{v}"
        );
        assert!(v["meaning"].as_str().unwrap().contains(meaning), "{v}");
    }
    // A bound says so, and the done line says what its numbers are (not --quiet).
    let (vae, _) = eval("iwae", &["--preset", "tiny"]);
    assert!(
        vae["meaning"].as_str().unwrap().contains("estimate")
            || vae["meaning"].as_str().unwrap().contains("lower bound"),
        "{vae}"
    );
    let out = genlab(
        &[
            "train", "vae", "--preset", "tiny", "--out", "w", "--steps", "4",
        ],
        d,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("done: step 4; last metrics.jsonl line"),
        "{err}"
    );
    let metrics = std::fs::read_to_string(d.join("w/metrics.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    let neg_elbo = last["losses"]["neg_elbo"].as_f64().unwrap();
    assert!(err.contains(&format!("neg_elbo {neg_elbo:.4}")), "{err}");
}

#[test]
fn gan_mode_coverage_is_logged_at_the_sample_cadence() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(&genlab(
        &[
            "train",
            "gan",
            "--out",
            "g",
            "--quiet",
            "--steps",
            "20",
            "--set",
            "train.sample_every=10",
            "--set",
            "train.log_every=7",
        ],
        d,
    ));
    let metrics = std::fs::read_to_string(d.join("g/metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = metrics
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let measured: Vec<u64> = lines
        .iter()
        .filter(|l| l["metrics"]["modes_captured"].is_number())
        .map(|l| l["step"].as_u64().unwrap())
        .collect();
    // Sample steps log a line of their own even off the log cadence.
    assert_eq!(measured, vec![10, 20], "{metrics}");
    assert!(lines.iter().any(|l| l["step"] == 7));
    // A GAN has no held-out loss (its default train.held_out is on).
    assert!(!metrics.contains("held_out"), "{metrics}");
}

#[test]
fn a_held_out_loss_is_logged_at_the_sample_cadence_and_matches_eval() {
    // MADE on the first 50 test examples: held_out_nll at the sample steps only, and at the
    // last one exactly what `genlab eval -n 50` reports of the same weights. Tiny presets leave
    // it off.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let train = ["train", "made", "--preset", "tiny", "--quiet", "--out"];
    ok(&genlab(
        &[&train[..], &["m", "--set", "train.held_out=50"]].concat(),
        d,
    ));
    ok(&genlab(&[&train[..], &["off"]].concat(), d));
    let lines = |run: &str| -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(d.join(run).join("metrics.jsonl")).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let held: Vec<(u64, f64)> = lines("m")
        .iter()
        .filter_map(|l| Some((l["step"].as_u64()?, l["metrics"]["held_out_nll"].as_f64()?)))
        .collect();
    assert_eq!(
        held.iter().map(|h| h.0).collect::<Vec<_>>(),
        [10, 20],
        "{held:?}"
    );
    let eval: serde_json::Value =
        serde_json::from_str(&ok(&genlab(&["eval", "m", "-n", "50", "--json"], d))).unwrap();
    assert_eq!(eval["step"], 20);
    let nll = eval["nll_nats"].as_f64().unwrap();
    assert!(
        (held[1].1 - nll).abs() <= 1e-9 * nll,
        "{held:?} against eval {nll}"
    );
    assert!(lines("off")
        .iter()
        .all(|l| l["metrics"].get("held_out_nll").is_none()));
}

#[test]
fn models_explain_a_family_and_every_term() {
    let d = tempfile::tempdir().unwrap();
    let text = ok(&genlab(&["models", "rbm"], d.path()));
    for needle in [
        "presets (genlab train rbm",
        "tiny ",
        "[model] defaults",
        "hidden = 500",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let terms = ok(&genlab(&["models", "--terms"], d.path()));
    assert!(
        terms.contains("free_energy_gap") && terms.contains("overfits"),
        "{terms}"
    );
    assert!(ok(&genlab(&["models"], d.path()))
        .lines()
        .all(|l| l.len() <= 80));
    // --json for one family and for the terms too.
    let rbm: serde_json::Value =
        serde_json::from_str(&ok(&genlab(&["models", "rbm", "--json"], d.path()))).unwrap();
    assert_eq!(rbm["model"]["hidden"], 500, "{rbm}");
    assert_eq!(rbm["presets"][0]["name"], "default", "{rbm}");
    assert!(
        rbm["presets"][0]["about"].as_str().unwrap().len() > 20,
        "{rbm}"
    );
    let terms: serde_json::Value =
        serde_json::from_str(&ok(&genlab(&["models", "--terms", "--json"], d.path()))).unwrap();
    assert!(terms
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["term"] == "held_out_nll"));
    let out = genlab(&["models", "vea"], d.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("vae"));
}
