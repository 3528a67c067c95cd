//! The variational Bayesian mixture (crates/genlab-models/src/classical/bgmm.rs) against
//! scikit-learn's `BayesianGaussianMixture`, iteration by iteration (goldens in
//! tests/golden/bgmm.json, written by bench/golden/bgmm_golden.py), plus its pruning, its
//! monotone bound and its config forms.

use genlab_core::config::parse_section;
use genlab_core::DataInfo;
use genlab_data::Kind;
use genlab_models::classical::bgmm::{Bgmm, BgmmConfig, Prior, PriorType, FAMILY};
use genlab_models::classical::kmeans::{initial_resp, Init};
use genlab_models::classical::mixture::Covariance;
use genlab_models::classical::mixture::Covariance::{Diag, Full, Spherical, Tied};
use genlab_models::classical::variational::{effective_components, fit, Posterior, Priors};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;
use PriorType::{DirichletDistribution as Dd, DirichletProcess as Dp};

/// 40 points in 3-D around three centres, from integer formulas: exact in f64, so
/// bench/golden/bgmm_golden.py builds the very same numbers.
fn golden_data() -> Vec<f64> {
    const CENTERS: [[f64; 3]; 3] = [[-2.0, 0.0, 1.0], [2.0, 0.5, -1.0], [0.0, 3.0, 0.5]];
    (0..40usize)
        .flat_map(|i| {
            let c = CENTERS[i % 3];
            let u0 = ((i * 37 + 11) % 97) as f64 / 97.0;
            let u1 = ((i * 53 + 29) % 97) as f64 / 97.0;
            let u2 = ((i * 71 + 5) % 97) as f64 / 97.0;
            [
                c[0] + 1.5 * (u0 - 0.5),
                c[1] + (u1 - 0.5) + 0.5 * (u0 - 0.5),
                c[2] + 0.8 * (u2 - 0.5),
            ]
        })
        .collect()
}

/// Initial responsibilities `[40, 4]`, leaning to the true cluster; the 4th is spare.
fn golden_resp() -> Vec<f64> {
    (0..40usize)
        .flat_map(|i| {
            let row: Vec<f64> = (0..4usize)
                .map(|j| ((i * 7 + j * 3) % 5 + 1 + if j == i % 3 { 2 } else { 0 }) as f64)
                .collect();
            let s: f64 = row.iter().sum();
            row.into_iter().map(move |v| v / s)
        })
        .collect()
}

fn golden_config(covariance: Covariance, kind: PriorType, explicit: bool) -> BgmmConfig {
    let mut cfg = BgmmConfig {
        k: 4,
        covariance,
        weight_concentration_prior_type: kind,
        ..BgmmConfig::default()
    };
    if explicit {
        cfg.weight_concentration_prior = Prior::Scalar(0.05);
        cfg.mean_precision_prior = Prior::Scalar(0.5);
        cfg.mean_prior = Prior::Vector(vec![0.1, -0.2, 0.3]);
        cfg.degrees_of_freedom_prior = Prior::Scalar(4.5);
        cfg.covariance_prior = match covariance {
            Covariance::Full | Covariance::Tied => Prior::Matrix(vec![
                vec![1.0, 0.2, 0.0],
                vec![0.2, 0.8, 0.1],
                vec![0.0, 0.1, 0.5],
            ]),
            Covariance::Diag => Prior::Vector(vec![0.5, 0.7, 0.9]),
            Covariance::Spherical => Prior::Scalar(0.6),
        };
    }
    cfg
}

/// One case of tests/golden/bgmm.json, written by bench/golden/bgmm_golden.py
/// (scikit-learn 1.9.1, numpy 2.4.6, scipy 1.17.1): the bound after each of 10 iterations
/// from `golden_resp`, then sklearn's `weights_` and `means_`.
#[derive(Deserialize)]
struct Golden {
    name: String,
    covariance: Covariance,
    weight_concentration_prior_type: PriorType,
    explicit: bool,
    #[serde(deserialize_with = "exact")]
    lower_bounds: Vec<f64>,
    #[serde(deserialize_with = "exact")]
    weights: Vec<f64>,
    #[serde(deserialize_with = "exact")]
    means: Vec<f64>,
}

/// The numbers are stored as strings (Python's repr) and parsed with `str::parse`, which
/// rounds exactly; serde_json's default float parser can land one ulp away.
fn exact<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|v| v.parse().map_err(serde::de::Error::custom))
        .collect()
}

#[derive(Deserialize)]
struct Goldens {
    cases: Vec<Golden>,
}

fn goldens() -> Vec<Golden> {
    let text = include_str!("golden/bgmm.json");
    serde_json::from_str::<Goldens>(text)
        .expect("tests/golden/bgmm.json parses")
        .cases
}

#[test]
fn matches_sklearn_iteration_by_iteration() {
    let x = golden_data();
    let resp = golden_resp();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-8 * b.abs() + 1e-12;
    let goldens = goldens();
    assert!(goldens.len() >= 8);
    for g in &goldens {
        let cfg = golden_config(g.covariance, g.weight_concentration_prior_type, g.explicit);
        let priors = Priors::resolve(&cfg, &x, 3).unwrap();
        let start = Posterior::update(&x, &resp, 4, g.covariance, 1e-6, &priors).unwrap();
        let f = fit(&x, start, &priors, g.lower_bounds.len(), -1.0, 1e-6).unwrap();
        assert_eq!(f.lower_bounds.len(), g.lower_bounds.len(), "{}", g.name);
        for (i, (a, b)) in f.lower_bounds.iter().zip(&g.lower_bounds).enumerate() {
            assert!(close(*a, *b), "{} bound {i}: {a} vs sklearn {b}", g.name);
        }
        let w = f.posterior.weights.mean();
        for (a, b) in w.iter().zip(&g.weights) {
            assert!(
                close(*a, *b),
                "{} weights: {w:?} vs sklearn {:?}",
                g.name,
                g.weights
            );
        }
        let m = &f.posterior.gauss.means;
        for (a, b) in m.iter().zip(&g.means) {
            assert!(
                close(*a, *b),
                "{} means: {m:?} vs sklearn {:?}",
                g.name,
                g.means
            );
        }
    }
}

/// Three well separated 2-D clusters (as in tests/mixture.rs).
fn blobs(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centers = [(-4.0, 0.0), (4.0, 1.0), (0.0, 5.0)];
    (0..n)
        .flat_map(|i| {
            let (cx, cy) = centers[i % 3];
            let a: f64 = StandardNormal.sample(&mut rng);
            let b: f64 = StandardNormal.sample(&mut rng);
            [cx + 0.5 * a, cy + 0.8 * b + 0.3 * a]
        })
        .collect()
}

#[test]
fn dirichlet_process_keeps_three_of_ten_components_on_three_clusters() {
    let x = blobs(600, 4);
    let cfg = BgmmConfig {
        k: 10,
        ..BgmmConfig::default()
    };
    let priors = Priors::resolve(&cfg, &x, 2).unwrap();
    for seed in [5, 6] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let resp = initial_resp(&x, 2, 10, Init::Kmeans, &mut rng);
        let start = Posterior::update(&x, &resp, 10, Covariance::Full, 1e-6, &priors).unwrap();
        let f = fit(&x, start, &priors, 1000, 1e-3, 1e-6).unwrap();
        assert!(f.converged, "seed {seed}");
        let w = f.posterior.weights.mean();
        assert_eq!(effective_components(&w), 3, "seed {seed}: weights {w:?}");
    }
}

#[test]
fn the_bound_never_falls() {
    let x = blobs(300, 2);
    for kind in [Dp, Dd] {
        for cov in [Full, Tied, Diag, Spherical] {
            let cfg = BgmmConfig {
                k: 5,
                covariance: cov,
                weight_concentration_prior_type: kind,
                ..BgmmConfig::default()
            };
            let priors = Priors::resolve(&cfg, &x, 2).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let resp = initial_resp(&x, 2, 5, Init::Random, &mut rng);
            let start = Posterior::update(&x, &resp, 5, cov, 1e-6, &priors).unwrap();
            let f = fit(&x, start, &priors, 100, 0.0, 1e-6).unwrap();
            for w in f.lower_bounds.windows(2) {
                assert!(
                    w[1] >= w[0] - 1e-9 * w[0].abs(),
                    "{kind:?} {cov:?}: {} -> {}",
                    w[0],
                    w[1]
                );
            }
        }
    }
}

#[test]
fn config_takes_auto_numbers_lists_and_matrices() {
    let mut t = (FAMILY.default_model)();
    assert_eq!(t["mean_prior"].as_str(), Some("auto"));
    let over: toml::Table = toml::from_str(
        "weight_concentration_prior = 1\nmean_prior = [0, 1.5]\ncovariance_prior = [[2, 0], [0, 1]]",
    )
    .unwrap();
    genlab_core::config::merge(&mut t, &over, "test").unwrap();
    let cfg: BgmmConfig = parse_section("model", &t).unwrap();
    assert_eq!(cfg.weight_concentration_prior, Prior::Scalar(1.0));
    assert_eq!(cfg.mean_prior, Prior::Vector(vec![0.0, 1.5]));
    assert_eq!(
        cfg.covariance_prior,
        Prior::Matrix(vec![vec![2.0, 0.0], vec![0.0, 1.0]])
    );
    assert_eq!(cfg.mean_precision_prior, Prior::AUTO);
}

#[test]
fn bad_priors_name_the_key() {
    let x = blobs(30, 1);
    let bad = |cfg: BgmmConfig| Priors::resolve(&cfg, &x, 2).unwrap_err().to_string();
    let e = bad(BgmmConfig {
        mean_precision_prior: Prior::Scalar(0.0),
        ..BgmmConfig::default()
    });
    assert!(e.contains("model.mean_precision_prior"), "{e}");
    let e = bad(BgmmConfig {
        degrees_of_freedom_prior: Prior::Scalar(0.5),
        ..BgmmConfig::default()
    });
    assert!(
        e.contains("model.degrees_of_freedom_prior") && e.contains("> d - 1"),
        "{e}"
    );
    let e = bad(BgmmConfig {
        covariance_prior: Prior::Vector(vec![1.0, 1.0]),
        ..BgmmConfig::default()
    });
    assert!(e.contains("model.covariance_prior"), "{e}");

    let info = DataInfo {
        kind: Kind::Points,
        shape: genlab_data::Shape { c: 2, h: 1, w: 1 },
        classes: 0,
        preprocess: genlab_core::config::DataConfig::default().preprocess(),
        modes: None,
        standardization: None,
        input: None,
    };
    let e = Bgmm::new(
        BgmmConfig {
            weight_concentration_prior: Prior::Scalar(-1.0),
            ..BgmmConfig::default()
        },
        &info,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("model.weight_concentration_prior"), "{e}");
}
