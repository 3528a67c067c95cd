//! The crate arrows of docs/ARCHITECTURE.md, read from `cargo metadata`: kernels depend on no
//! genlab crate; core, train, eval, nn and kernels never on genlab-models; eval never on
//! train; the CLI never on genlab-nn or genlab-kernels (it parses and prints).

use std::collections::BTreeMap;
use std::process::Command;

/// Normal (non-dev) genlab dependencies of each workspace crate.
fn arrows() -> BTreeMap<String, Vec<String>> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .filter(|n| n.starts_with("genlab"))
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

#[test]
fn crates_import_only_along_the_documented_arrows() {
    let a = arrows();
    let uses = |from: &str, to: &str| a[from].iter().any(|d| d == to);
    assert!(a["genlab-kernels"].is_empty(), "{:?}", a["genlab-kernels"]);
    for c in [
        "genlab-core",
        "genlab-train",
        "genlab-eval",
        "genlab-nn",
        "genlab-kernels",
    ] {
        assert!(!uses(c, "genlab-models"), "{c} depends on genlab-models");
    }
    assert!(
        !uses("genlab-eval", "genlab-train"),
        "eval depends on train"
    );
    assert!(
        !uses("genlab-cli", "genlab-nn"),
        "the CLI depends on genlab-nn"
    );
    assert!(
        !uses("genlab-cli", "genlab-kernels"),
        "the CLI depends on genlab-kernels"
    );
    assert!(!uses("genlab-core", "genlab-nn"), "core depends on nn");
    for c in ["genlab-data", "genlab-viz"] {
        assert!(a[c].is_empty(), "{c} depends on {:?}", a[c]);
    }
    // The report reads run directories: no model, trainer, evaluation or layer code.
    for c in [
        "genlab-models",
        "genlab-train",
        "genlab-eval",
        "genlab-nn",
        "genlab-kernels",
    ] {
        assert!(!uses("genlab-report", c), "genlab-report depends on {c}");
    }
    // The studio runs training as child `genlab train` processes, never in its own loop.
    assert!(
        !uses("genlab-studio", "genlab-train"),
        "genlab-studio depends on genlab-train"
    );
}
