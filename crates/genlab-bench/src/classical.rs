//! `genlab bench gmm|rbm`: the classical models timed beside scikit-learn by
//! bench/sklearn_classical.py, from the same files and the same starting point.

use anyhow::{bail, Result};
use genlab_core::optim::{OptimConfig, OptimKind, Optimizers};
use genlab_core::rng::{rng_for, Stream};
use genlab_core::{Batch, DataInfo, Model, StepCtx};
use genlab_data::{Binarize, Kind, Preprocess, Scale};
use genlab_models::classical::mixture::{self, Covariance, Mixture};
use genlab_models::classical::rbm::{self, Rbm, RbmConfig};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

fn load_rows(path: &Path) -> Result<(Vec<f64>, usize, usize)> {
    Ok(genlab_data::read_npy(path)?)
}

/// EM from the given means (every component starting at the data covariance), `iters`
/// iterations with no early stop, then the mean log-likelihood under the final parameters.
pub fn gmm(x: &Path, means: &Path, cov: Covariance, iters: usize, reg: f64) -> Result<()> {
    let (x, n, d) = load_rows(x)?;
    let (means, k, dm) = load_rows(means)?;
    if dm != d {
        bail!("means have {dm} columns, the data {d}");
    }
    let t = Instant::now();
    let start = Mixture::from_means(cov, means, d, &x, reg)?;
    let fit = mixture::fit(&x, start, iters, -1.0, reg)?;
    let ll = fit.mixture.e_step(&x).0.iter().sum::<f64>() / n as f64;
    let secs = t.elapsed().as_secs_f64();
    // Where the time goes: one more E-step and M-step, timed apart.
    let t_e = Instant::now();
    let (_, resp) = fit.mixture.e_step(&x);
    let e_secs = t_e.elapsed().as_secs_f64();
    let t_m = Instant::now();
    Mixture::m_step(&x, &resp, k, cov, reg)?;
    let m_secs = t_m.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "impl": "genlab", "covariance": cov, "n": n, "d": d, "k": k,
            "iters": fit.history.len(), "fit_seconds": secs, "mean_loglik": ll,
            "threads": rayon::current_num_threads(),
            "e_step_seconds": e_secs, "m_step_seconds": m_secs,
        })
    );
    Ok(())
}

/// PCD-1 with plain SGD (sklearn's BernoulliRBM update), `epochs` passes in data order; then
/// sklearn's pseudo-likelihood and the AIS log-likelihood on the test rows.
pub fn rbm(
    train: &Path,
    test: &Path,
    hidden: usize,
    batch: usize,
    epochs: usize,
    lr: f64,
    ais_betas: usize,
) -> Result<()> {
    let (x, n, d) = load_rows(train)?;
    let (xt, nt, _) = load_rows(test)?;
    let device = genlab_core::device::training_device(0);
    let info = DataInfo {
        kind: Kind::Images,
        shape: genlab_data::Shape { c: 1, h: 1, w: d },
        classes: 0,
        preprocess: Preprocess {
            binarize: Binarize::None,
            scale: Scale::Unit,
            dequantize: false,
        },
        modes: None,
        standardization: None,
        input: None,
    };
    let cfg = RbmConfig {
        hidden,
        ais_betas,
        ..Default::default()
    };
    let mut model = Rbm::new(cfg, &info, &device)?;
    let optim_cfg = OptimConfig {
        kind: OptimKind::Sgd,
        lr,
        momentum: 0.0,
        ..Default::default()
    };
    let per_epoch = n / batch;
    let total = (per_epoch * epochs) as u64;
    let mut optim = Optimizers::new(&BTreeMap::from([("model".to_string(), optim_cfg)]), total);
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let t = Instant::now();
    for step in 0..total {
        let i = (step as usize % per_epoch) * batch;
        let xb =
            genlab_core::tensor::matrix(xf[i * d..(i + batch) * d].to_vec(), batch, d, &device);
        let mut ctx = StepCtx::new(step, total, 0, device.clone(), &mut optim);
        model.train_step(&Batch::of(xb), &mut ctx)?;
    }
    let secs = t.elapsed().as_secs_f64() / epochs as f64;
    let infer = genlab_core::device::inference_device(&device);
    let xt_t = genlab_core::tensor::matrix(xt.iter().map(|&v| v as f32).collect(), nt, d, &infer);
    let wts = model.weights(&infer);
    let pl = rbm::pseudo_log_likelihood(&wts, xt_t.clone(), &mut rng_for(0, 0, Stream::Eval));
    let t_ais = Instant::now();
    let ll =
        model
            .as_likelihood()
            .unwrap()
            .log_likelihood(xt_t, 1, &mut rng_for(0, 0, Stream::Eval))?;
    let ais_secs = t_ais.elapsed().as_secs_f64();
    let (log_z, se) = model.log_partition(&infer)?;
    println!(
        "{}",
        serde_json::json!({
            "impl": "genlab", "hidden": hidden, "batch": batch, "epochs": epochs,
            "seconds_per_epoch": secs,
            "pseudo_loglik": pl.iter().sum::<f64>() / nt as f64,
            "ais_loglik": ll.iter().sum::<f64>() / nt as f64,
            "ais_log_z": log_z, "ais_stderr": se, "ais_seconds": ais_secs, "ais_betas": ais_betas,
        })
    );
    Ok(())
}
