//! `genlab gmm-select`: fit a Gaussian mixture for every K in a range (and every covariance type
//! asked for) and pick K by BIC (Schwarz 1978), as sklearn's model-selection example does.
//! Writes `gmm-select.json` (one row per fit) and `bic.png` (BIC against K, one line per
//! covariance type, all on one scale, with a legend).

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use genlab_data::Split;
use genlab_eval::pictures::save_png;
use genlab_models::classical::gmm::{fit_for_selection, SelectionFit};
use genlab_models::classical::mixture::{check_memory, pca_rows, Covariance};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Data spec (csv:FILE, npy:FILE, toy:ring8, fashion-mnist, ...).
    #[arg(long)]
    pub data: genlab_data::DataSpec,
    /// Components to try: a range `1..20` (inclusive) or a list `2,4,8`.
    #[arg(long, default_value = "1..12")]
    pub k: String,
    /// Covariance types to compare, comma-separated: full, tied, diag, spherical.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "full")]
    pub covariance: Vec<CovarianceArg>,
    /// Project on this many principal components first (0 = no PCA).
    #[arg(long, default_value_t = 0)]
    pub pca: usize,
    /// k-means restarts per K; the best log-likelihood is kept.
    #[arg(long, default_value_t = 1)]
    pub n_init: usize,
    /// Refuse fits estimated to need more memory than this, in GiB (0 = the memory available).
    #[arg(long, default_value_t = 0.0)]
    pub max_memory_gb: f64,
    /// Most EM iterations per fit (scikit-learn's max_iter).
    #[arg(long, default_value_t = 100)]
    pub max_iter: usize,
    /// Stop when the mean log-likelihood per example changes by less than this.
    #[arg(long, default_value_t = 1e-3)]
    pub tol: f64,
    /// Added to every variance (scikit-learn's reg_covar).
    #[arg(long, default_value_t = 1e-6)]
    pub reg_covar: f64,
    /// Seed of the k-means initialisations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder for bic.png and gmm-select.json (default runs/gmm-select).
    #[arg(long, default_value = "runs/gmm-select")]
    pub out: PathBuf,
    /// Folder of the Fashion-MNIST files.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// `3..12` (inclusive) or `2,4,8`.
pub fn parse_ks(s: &str) -> Result<Vec<usize>> {
    let bad = || format!("--k `{s}`: give a range like 1..20 (inclusive) or a list like 2,4,8");
    let ks: Vec<usize> = if let Some((a, b)) = s.split_once("..") {
        let (a, b): (usize, usize) = (
            a.trim().parse().with_context(bad)?,
            b.trim().parse().with_context(bad)?,
        );
        (a..=b).collect()
    } else {
        s.split(',')
            .map(|p| p.trim().parse().with_context(bad))
            .collect::<Result<_>>()?
    };
    if ks.is_empty() || ks.contains(&0) {
        bail!("{}: every K must be >= 1", bad());
    }
    Ok(ks)
}

/// A [`Covariance`] as `--covariance` names it: the names the `gmm` family's configs use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CovarianceArg {
    Full,
    Tied,
    Diag,
    Spherical,
}

impl CovarianceArg {
    pub fn name(self) -> String {
        self.to_possible_value()
            .expect("no covariance is hidden")
            .get_name()
            .to_string()
    }
}

impl From<CovarianceArg> for Covariance {
    fn from(c: CovarianceArg) -> Self {
        match c {
            CovarianceArg::Full => Covariance::Full,
            CovarianceArg::Tied => Covariance::Tied,
            CovarianceArg::Diag => Covariance::Diag,
            CovarianceArg::Spherical => Covariance::Spherical,
        }
    }
}

pub fn run(o: Args) -> Result<()> {
    let ks = parse_ks(&o.k)?;
    let options = genlab_data::LoadOptions {
        data_dir: o.data_dir.as_deref(),
        ..Default::default()
    };
    let data = genlab_data::load(&o.data, Split::Train, &options)?;
    for note in &data.notes {
        eprintln!("note: {note}");
    }
    let (n, d) = (data.len(), data.shape.dim());
    if let Some(&k) = ks.iter().find(|&&k| k > n) {
        bail!("gmm-select: K = {k} components but only {n} examples; lower --k");
    }
    if o.pca > d {
        bail!(
            "gmm-select: --pca {} exceeds the data's {d} dimensions",
            o.pca
        );
    }
    // Tabular values in f64 exactly as given; others from their f32 pixels or coordinates.
    let x: Vec<f64> = match data.raw {
        Some(raw) => raw,
        None => data.x.iter().map(|&v| v as f64).collect(),
    };
    // Every fit of the sweep before any is allocated, the PCA included.
    genlab_core::memory::set_limit_gb(o.max_memory_gb);
    for &arg in &o.covariance {
        if let Some(&k) = ks.iter().max() {
            check_memory("gmm-select", arg.into(), k, d, o.pca, o.n_init).map_err(|e| {
                anyhow::anyhow!("{e}\n  (here: --covariance diag, --pca 50, --max-memory-gb)")
            })?;
        }
    }
    let x = pca_rows(x, n, o.pca);
    let dz = x.len() / n;
    std::fs::create_dir_all(&o.out)
        .with_context(|| format!("cannot create {}", o.out.display()))?;
    println!(
        "{:<10} {:>4} {:>14} {:>14} {:>14} {:>6}",
        "covariance", "K", "loglik/ex", "BIC", "AIC", "iters"
    );
    let mut rows = Vec::new();
    let mut series = Vec::new();
    let mut best: Option<(f64, usize, CovarianceArg)> = None;
    let fit = SelectionFit {
        n_init: o.n_init,
        max_iter: o.max_iter,
        tol: o.tol,
        reg_covar: o.reg_covar,
        seed: o.seed,
    };
    for &arg in &o.covariance {
        let (cov, name): (Covariance, _) = (arg.into(), arg.name());
        let mut line = Vec::new();
        for &k in &ks {
            let (mix, total, iters) = fit_for_selection(&x, dz, k, cov, &fit)?;
            let (bic, aic) = (mix.bic(total, n), mix.aic(total));
            println!(
                "{name:<10} {k:>4} {:>14.4} {bic:>14.1} {aic:>14.1} {iters:>6}",
                total / n as f64
            );
            rows.push(serde_json::json!({
                "covariance": name, "k": k, "mean_log_likelihood": total / n as f64,
                "bic": bic, "aic": aic, "parameters": mix.n_parameters(), "iterations": iters,
            }));
            line.push((k as f64, bic));
            if best.is_none_or(|b| bic < b.0) {
                best = Some((bic, k, arg));
            }
        }
        series.push((name, line));
    }
    let (bic, k, cov) = best.expect("at least one fit");
    let cov_name = cov.name();
    let title = format!("gmm-select · {} · BIC (lower is better) against K", o.data);
    let (img, _) = genlab_viz::lines_png(&title, "K", &series);
    let png = o.out.join("bic.png");
    save_png(&png, &img)?;
    let summary = serde_json::json!({
        "spec": o.data, "examples": n, "dimensions": dz, "pca": o.pca, "n_init": o.n_init,
        "max_iter": o.max_iter, "tol": o.tol, "reg_covar": o.reg_covar, "seed": o.seed,
        "best": {"k": k, "covariance": cov_name, "bic": bic},
        "fits": rows,
    });
    genlab_core::run_dir::atomic_write(
        &o.out.join("gmm-select.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    println!("{}: BIC against K per covariance type", png.display());
    println!("best by BIC: K = {k}, covariance {cov_name} (BIC {bic:.1})");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists_of_k_parse_and_zero_is_refused() {
        assert_eq!(parse_ks("2..5").unwrap(), vec![2, 3, 4, 5]);
        assert_eq!(parse_ks("1, 4,8").unwrap(), vec![1, 4, 8]);
        assert!(parse_ks("0..3").unwrap_err().to_string().contains(">= 1"));
        assert!(parse_ks("a..b").unwrap_err().to_string().contains("1..20"));
    }

    #[test]
    fn covariance_names_are_the_ones_configs_use() {
        for arg in CovarianceArg::value_variants() {
            let serde_name = serde_json::to_value(Covariance::from(*arg)).unwrap();
            assert_eq!(serde_name.as_str(), Some(arg.name().as_str()));
        }
    }
}
