//! Tabular data read as given (issue 19, cases 1 and 2): pandas' headers and index columns, and
//! likelihoods of large-valued columns that match scikit-learn. Inputs and reference values in
//! tests/fixtures/tabular, written by make_tabular.py there.

mod common;

use common::*;

use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tabular")
        .join(name)
}

fn golden() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("golden.json")).unwrap()).unwrap()
}

fn info(spec: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["data", "info", spec, "--json", "--out", "grid.png"];
    args.extend_from_slice(extra);
    let out = genlab(&args, tmp.path());
    let json = serde_json::from_str(&ok(&out)).unwrap();
    (json, String::from_utf8_lossy(&out.stderr).to_string())
}

/// Train a one-component full-covariance GMM on `train` and evaluate it on `test`: test NLL.
/// AIC is of the same data as given: 2 n nll + 2 p.
fn gmm_nll(dir: &Path, name: &str, train: &str, test: &str) -> f64 {
    ok(&genlab(
        &[
            "train",
            "gmm",
            "--data",
            train,
            "--out",
            name,
            "--quiet",
            "--set",
            "model.k=1",
        ],
        dir,
    ));
    let out = ok(&genlab(
        &["eval", name, "--data", test, "--split", "train", "--json"],
        dir,
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let nll = v["nll_nats"].as_f64().unwrap();
    let n = v["n_examples"].as_f64().unwrap();
    let p = v["n_parameters"].as_f64().unwrap();
    let aic = v["aic"].as_f64().unwrap();
    assert!((aic - (2.0 * n * nll + 2.0 * p)).abs() < 1e-6 * aic, "{v}");
    nll
}

#[test]
fn pandas_headers_and_index_columns_are_not_data() {
    let points = golden()["points"].as_u64().unwrap();
    // DataFrame(x).to_csv(index=False): a header of integer names 0, 1.
    let names = format!("csv:{}", fixture("pandas_names.csv").display());
    let (json, err) = info(&names, &[]);
    assert_eq!(json["examples"], points);
    assert_eq!(json["columns"], 2);
    assert!(
        err.contains("read as a header") && err.contains("data.header = false"),
        "{err}"
    );
    // Told otherwise, the names are one more row, as asked.
    let (json, _) = info(&names, &["--header", "false"]);
    assert_eq!(json["examples"], points + 1);
    // DataFrame(x).to_csv(): an unnamed index column; read_csv then to_csv(index=False):
    // the same index named `Unnamed: 0`. Neither is a feature.
    for file in ["pandas_index.csv", "pandas_roundtrip.csv"] {
        let spec = format!("csv:{}", fixture(file).display());
        let (json, err) = info(&spec, &[]);
        assert_eq!(json["examples"], points, "{file}");
        assert_eq!(json["columns"], 2, "{file}");
        assert!(err.contains("row index"), "{file}: {err}");
    }
}

#[test]
fn r_write_csv_and_unnamed_columns() {
    let tmp = tempfile::tempdir().unwrap();
    // R's write.csv: quoted names, an empty first name and row names "1", "2", ...
    let r = tmp.path().join("r.csv");
    std::fs::write(&r, "\"\",\"V1\",\"V2\"\n\"1\",0.5,1.5\n\"2\",-0.25,2\n").unwrap();
    let (json, err) = info(&format!("csv:{}", r.display()), &[]);
    assert_eq!(json["examples"], 2);
    assert_eq!(json["columns"], 2);
    assert_eq!(json["min"], -0.25);
    assert!(err.contains("row index"), "{err}");
    // Per column, and what data.standardize = "auto" will do with values outside [0, 1].
    assert_eq!(json["column_mean"], serde_json::json!([0.125, 1.75]));
    assert!(
        json["standardize_auto"]
            .as_str()
            .unwrap()
            .starts_with("z-scores"),
        "{json}"
    );
    // An unnamed column that is not an index is an error, never a silent feature.
    let odd = tmp.path().join("odd.csv");
    std::fs::write(&odd, "a,,b\n1,0.5,2\n3,0.25,4\n").unwrap();
    let out = genlab(
        &["data", "info", &format!("csv:{}", odd.display()), "--json"],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("column 2 has no name") && err.contains("name it in the header"),
        "{err}"
    );
    // Numbers that are not 0..d-1 are data, and the note says how to override.
    let plain = tmp.path().join("plain.csv");
    std::fs::write(&plain, "3,4\n5,6\n").unwrap();
    let (json, err) = info(&format!("csv:{}", plain.display()), &[]);
    assert_eq!(json["examples"], 2);
    assert!(
        err.contains("read as data") && err.contains("data.header = true"),
        "{err}"
    );
}

#[test]
fn large_valued_columns_match_scikit_learn() {
    let g = golden();
    assert_eq!(
        g["big_distinct_as_f32"], 3,
        "the input shows the f32 collapse"
    );
    let want = g["big_test_nll_nats"].as_f64().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let test = format!("csv:{}", fixture("big_test.csv").display());
    let csv = gmm_nll(
        dir,
        "csv",
        &format!("csv:{}", fixture("big_train.csv").display()),
        &test,
    );
    assert!(
        ((csv - want) / want).abs() < 1e-6,
        "gmm on big_train.csv: test nll {csv}, scikit-learn {want}"
    );
    // The same values from float64 .npy: the same fit.
    let npy = gmm_nll(
        dir,
        "npy",
        &format!("npy:{}", fixture("big_train.npy").display()),
        &test,
    );
    assert!(((npy - want) / want).abs() < 1e-6, "npy {npy}, want {want}");
}

/// A neural density on x and on 1000 x + 1e6 column by column: the same fit in z-scores, so the
/// likelihoods of the data as given differ by exactly d ln 1000.
#[test]
fn neural_likelihoods_are_of_the_data_as_given() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let text = std::fs::read_to_string(fixture("pandas_names.csv")).unwrap();
    let mut scaled = String::from("a,b\n");
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        scaled.push_str(&format!(
            "{},{}\n",
            v[0] * 1000.0 + 1e6,
            v[1] * 1000.0 + 1e6
        ));
    }
    std::fs::write(dir.join("scaled.csv"), scaled).unwrap();
    let nll = |name: &str, file: &str| -> f64 {
        let spec = format!("csv:{file}");
        ok(&genlab(
            &[
                "train",
                "maf",
                "--preset",
                "tiny",
                "--data",
                &spec,
                "--out",
                name,
                "--quiet",
                "--set",
                "data.dequantize=false",
                "--steps",
                "20",
            ],
            dir,
        ));
        let out = ok(&genlab(
            &["eval", name, "--data", &spec, "--split", "train", "--json"],
            dir,
        ));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["nll_nats"].as_f64().unwrap()
    };
    let a = nll("a", &fixture("pandas_names.csv").display().to_string());
    let b = nll("b", "scaled.csv");
    let want = 2.0 * 1000f64.ln();
    assert!(
        (b - a - want).abs() < 1e-4,
        "nll {a} on x, {b} on 1000 x + 1e6: differ by {}, want {want}",
        b - a
    );
}
