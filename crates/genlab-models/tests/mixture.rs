//! Math goldens of the mixture library (crates/genlab-models/src/classical/mixture.rs):
//! log-densities against the closed form, EM never lowering the log-likelihood, BIC picking the
//! true number of components, and the error a collapsed component raises.

use genlab_models::classical::kmeans::{initial_resp, Init};
use genlab_models::classical::mixture::{em_step, fit, Covariance, Mixture, Restarts};
use genlab_nn::special::LN_2PI;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Three well separated 2-D clusters.
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

/// log N(x | mu, Sigma) for 2-D, written out from the formula.
fn gauss2(x: &[f64], mu: &[f64], s: &[f64]) -> f64 {
    let det = s[0] * s[3] - s[1] * s[2];
    let (a, b) = (x[0] - mu[0], x[1] - mu[1]);
    let q = (s[3] * a * a - (s[1] + s[2]) * a * b + s[0] * b * b) / det;
    -LN_2PI - 0.5 * det.ln() - 0.5 * q
}

#[test]
fn log_likelihood_matches_the_closed_form() {
    let x = blobs(30, 1);
    let weights = vec![0.2, 0.3, 0.5];
    let means = vec![-4.0, 0.0, 4.0, 1.0, 0.0, 5.0];
    let covs = vec![0.3, 0.1, 0.1, 0.6, 1.0, 0.0, 0.0, 2.0, 0.5, -0.2, -0.2, 0.4];
    let mix = Mixture::new(
        Covariance::Full,
        weights.clone(),
        means.clone(),
        covs.clone(),
    )
    .unwrap();
    let (ll, resp) = mix.e_step(&x);
    for i in 0..30 {
        let xi = &x[i * 2..i * 2 + 2];
        let comps: Vec<f64> = (0..3)
            .map(|j| {
                weights[j] * gauss2(xi, &means[j * 2..j * 2 + 2], &covs[j * 4..j * 4 + 4]).exp()
            })
            .collect();
        let total: f64 = comps.iter().sum();
        assert!((ll[i] - total.ln()).abs() < 1e-10, "row {i}");
        for j in 0..3 {
            assert!((resp[i * 3 + j] - comps[j] / total).abs() < 1e-10);
        }
    }
    // The diagonal and spherical forms agree with full matrices of the same shape.
    let diag = Mixture::new(
        Covariance::Diag,
        weights.clone(),
        means.clone(),
        vec![0.3, 0.6, 1.0, 2.0, 0.5, 0.4],
    )
    .unwrap();
    let as_full = Mixture::new(
        Covariance::Full,
        weights.clone(),
        means.clone(),
        vec![0.3, 0.0, 0.0, 0.6, 1.0, 0.0, 0.0, 2.0, 0.5, 0.0, 0.0, 0.4],
    )
    .unwrap();
    let sph = Mixture::new(
        Covariance::Spherical,
        weights.clone(),
        means.clone(),
        vec![0.3, 1.0, 0.5],
    )
    .unwrap();
    let sph_full = Mixture::new(
        Covariance::Full,
        weights,
        means,
        vec![0.3, 0.0, 0.0, 0.3, 1.0, 0.0, 0.0, 1.0, 0.5, 0.0, 0.0, 0.5],
    )
    .unwrap();
    for (a, b) in [(diag, as_full), (sph, sph_full)] {
        for (u, v) in a.e_step(&x).0.iter().zip(b.e_step(&x).0) {
            assert!((u - v).abs() < 1e-10);
        }
    }
}

#[test]
fn em_never_lowers_the_log_likelihood() {
    let x = blobs(600, 2);
    for cov in [
        Covariance::Full,
        Covariance::Tied,
        Covariance::Diag,
        Covariance::Spherical,
    ] {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let resp = initial_resp(&x, 2, 3, Init::Random, &mut rng);
        let start = Mixture::m_step(&x, &resp, 3, cov, 1e-6).unwrap();
        let f = fit(&x, start, 60, 0.0, 1e-6).unwrap();
        for w in f.history.windows(2) {
            assert!(w[1] >= w[0] - 1e-9, "{cov:?}: {} -> {}", w[0], w[1]);
        }
    }
}

#[test]
fn bic_picks_the_true_number_of_components() {
    let x = blobs(900, 4);
    let bic: Vec<f64> = (1..=6)
        .map(|k| {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let resp = initial_resp(&x, 2, k, Init::Kmeans, &mut rng);
            let start = Mixture::m_step(&x, &resp, k, Covariance::Full, 1e-6).unwrap();
            let f = fit(&x, start, 200, 1e-6, 1e-6).unwrap();
            let total: f64 = f.mixture.e_step(&x).0.iter().sum();
            f.mixture.bic(total, 900)
        })
        .collect();
    let best = bic
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0
        + 1;
    assert_eq!(best, 3, "BIC by K: {bic:?}");
}

#[test]
fn a_collapsed_component_names_reg_covar() {
    let e = Mixture::new(
        Covariance::Full,
        vec![1.0],
        vec![0.0, 0.0],
        vec![1.0, 1.0, 1.0, 1.0],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("model.reg_covar"), "{e}");
}

#[test]
fn restarts_side_by_side_equal_sequential_fits() {
    // `Restarts::run` steps every unconverged fit once per round; sklearn (and `fit`) run each
    // fit to the end before the next. Same seeds -> the same mixtures, bit for bit, and the
    // same choice (first of the highest total log-likelihood) and iteration count.
    let x = blobs(150, 11);
    let seed = |r: usize| ChaCha8Rng::seed_from_u64(100 + r as u64);
    for cov in [Covariance::Full, Covariance::Diag] {
        for (max_iter, tol) in [(200, 1e-6), (3, 1e-6)] {
            let mut sequential: Option<(f64, Mixture, usize)> = None;
            for r in 0..4 {
                let resp = initial_resp(&x, 2, 4, Init::Random, &mut seed(r));
                let start = Mixture::m_step(&x, &resp, 4, cov, 1e-6).unwrap();
                let f = fit(&x, start, max_iter, tol, 1e-6).unwrap();
                let total: f64 = f.mixture.e_step(&x).0.iter().sum();
                if sequential.as_ref().is_none_or(|c| total > c.0) {
                    sequential = Some((total, f.mixture, f.history.len()));
                }
            }
            let (total, mix, iters) = sequential.unwrap();
            let mut restarts = Restarts::from_init(4, |r| {
                let resp = initial_resp(&x, 2, 4, Init::Random, &mut seed(r));
                Mixture::m_step(&x, &resp, 4, cov, 1e-6)
            })
            .unwrap();
            restarts
                .run(max_iter, tol, |m| em_step(&x, m, 1e-6))
                .unwrap();
            let (best, best_total) = restarts.best_by(|r| r.state.e_step(&x).0.iter().sum());
            assert_eq!(best_total.to_bits(), total.to_bits());
            assert_eq!(best.state, mix);
            assert_eq!(best.iterations, iters);
        }
    }
}
