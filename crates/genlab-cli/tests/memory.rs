//! Fits that would not fit in memory are refused before they allocate (issue 19, case 9), and
//! the estimate behind the refusal matches a measured peak. One test in its own process: the
//! peak is read with getrusage(RUSAGE_CHILDREN), the largest child so far.

mod common;

use common::*;

use genlab_models::classical::mixture::{fit_bytes, Covariance};
use std::path::Path;

/// `n` rows of `d` pseudo-random columns.
fn table(path: &Path, n: usize, d: usize) {
    let mut s = 99u64;
    let mut text = String::with_capacity(n * d * 8);
    for _ in 0..n {
        for j in 0..d {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = (s >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
            text.push_str(&format!("{v:.4}"));
            text.push(if j + 1 == d { '\n' } else { ',' });
        }
    }
    std::fs::write(path, text).unwrap();
}

/// The largest resident set of any child this process has waited for, in bytes.
fn peak_child_rss() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage struct into the pointer it is given.
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    usage.ru_maxrss as f64 * 1024.0
}

#[test]
fn oversized_fits_are_refused_and_the_estimate_matches_a_measured_peak() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // First, before any larger child raises the high-water mark:
    // The estimate against a measured peak: a small fit whose covariances dominate, over the
    // same command on two columns (the process's own baseline).
    let (n, cols, k) = (300, 800, 4);
    table(&d.join("base.csv"), n, 2);
    table(&d.join("fit.csv"), n, cols);
    let fit = |data: &str, out: &str| {
        let out = genlab(
            &[
                "train",
                "gmm",
                "--data",
                data,
                "--out",
                out,
                "--quiet",
                "--steps",
                "3",
                "--set",
                &format!("model.k={k}"),
            ],
            d,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        peak_child_rss()
    };
    let base = fit("csv:base.csv", "base");
    let peak = fit("csv:fit.csv", "fit");
    let estimate = fit_bytes(Covariance::Full, k, cols, 1);
    let measured = peak - base;
    assert!(
        (estimate / measured - 1.0).abs() < 0.25,
        "estimate {:.1} MB, measured {:.1} MB over a {:.1} MB baseline",
        estimate / 1e6,
        measured / 1e6,
        base / 1e6
    );

    // The example, refused under a limit so that a broken check cannot take the machine: 2
    // rows of 100,000 columns, full covariances (80 GB per component).
    table(&d.join("wide.csv"), 2, 100_000);
    let limit = ["--set", "train.max_memory_gb=0.5"];
    let train = |family: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            family,
            "--data",
            "csv:wide.csv",
            "--out",
            "w",
            "--quiet",
            "--set",
            "model.k=1",
        ];
        args.extend_from_slice(&limit);
        args.extend_from_slice(extra);
        genlab(&args, d)
    };
    fails_with(
        &train("gmm", &[]),
        &[
            "gmm: k = 1 full covariances over 100000 dimensions needs about",
            "more than train.max_memory_gb (0.500 GiB)",
            "model.covariance = \"diag\" (about 0.0",
        ],
    );
    assert!(
        !d.join("w").exists(),
        "a refused start leaves nothing behind"
    );
    // Siblings: bgmm the same; a PCA of every column is itself a d x d covariance.
    fails_with(&train("bgmm", &[]), &["bgmm: k = 1 full covariances"]);
    fails_with(
        &train("gmm", &["--set", "model.pca=50"]),
        &[
            "over 50 dimensions needs about 223",
            "PCA itself holds a 100000x100000",
        ],
    );
    // The alternative it names fits.
    let out = train(
        "gmm",
        &["--set", "model.covariance=\"diag\"", "--steps", "2"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // gmm-select refuses its whole sweep up front, in its own flags.
    fails_with(
        &genlab(
            &[
                "gmm-select",
                "--data",
                "csv:wide.csv",
                "--k",
                "1..2",
                "--max-memory-gb",
                "0.5",
                "--out",
                "s",
            ],
            d,
        ),
        &["gmm-select: k = 2 full covariances", "--covariance diag"],
    );
}
