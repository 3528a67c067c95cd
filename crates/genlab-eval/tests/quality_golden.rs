//! genlab's sample-quality metrics against the reference implementations on committed features
//! (tests/fixtures/quality, made by its make_golden.py): FID against pytorch-fid's scipy sqrtm
//! formula to 1e-6 relative, KID's estimator against torch-fidelity's, precision / recall /
//! density / coverage against the prdc package to 1e-9, the Inception score against
//! torch-fidelity's formula.

use genlab_eval::quality::{fid, inception_score, kid, prdc, Features};
use std::path::Path;

fn fixture(name: &str) -> Features {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/quality")
        .join(name);
    let (x, _, d) = genlab_data::read_npy(&path).unwrap();
    Features::new(x, d).unwrap()
}

fn golden() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quality/golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(got: f64, want: &serde_json::Value, rel: f64, what: &str) {
    let want = want.as_f64().unwrap();
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-12),
        "{what}: genlab {got}, reference {want}"
    );
}

#[test]
fn metrics_match_the_reference_implementations() {
    let (real, fake, g) = (fixture("real.npy"), fixture("fake.npy"), golden());
    let f = fid(&real, &fake).unwrap();
    close(f.fid, &g["fid"], 1e-6, "fid");
    assert_eq!(f.rank, 16);
    // One subset holding every row: the subset's order does not change the estimate.
    let k = kid(&real, &fake, 1, 300, 0).unwrap();
    close(k.kid, &g["kid_one_subset"], 1e-9, "kid");
    for (key, kk) in [("prdc_k5", 5), ("prdc_k3", 3)] {
        let p = prdc(&real, &fake, kk, kk).unwrap();
        for (name, v) in [
            ("precision", p.precision),
            ("recall", p.recall),
            ("density", p.density),
            ("coverage", p.coverage),
        ] {
            close(v, &g[key][name], 1e-9, &format!("{key} {name}"));
        }
    }
    let probs = fixture("probs.npy");
    let s = inception_score(&probs.x, probs.d, 10).unwrap();
    close(s.is, &g["is"], 1e-9, "is");
    close(s.is_std, &g["is_std"], 1e-9, "is_std");
}

#[test]
fn mismatched_widths_and_too_few_rows_are_errors() {
    let real = fixture("real.npy");
    let narrow = Features::new(vec![0.0; 30], 3).unwrap();
    let err = fid(&real, &narrow).unwrap_err().to_string();
    assert!(
        err.contains("16 columns") && err.contains("same judge"),
        "{err}"
    );
    let err = prdc(&real, &real.head(4), 3, 5).unwrap_err().to_string();
    assert!(err.contains("at least 6"), "{err}");
}
