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
