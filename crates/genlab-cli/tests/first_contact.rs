//! What a newcomer meets (issue 20): numbers that say what they are, outputs where they are
//! said to be.

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
    String::from_utf8_lossy(&out.stdout).to_string()
}

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
