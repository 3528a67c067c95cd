//! `genlab eval`: the run's metrics on held-out data, as a table or one JSON object.

use crate::cli::SplitArg;
use anyhow::{bail, Result};
use genlab_core::run_dir;
use genlab_data::Split;
use genlab_eval::quality::PROTOCOL_SAMPLES;
use std::path::{Path, PathBuf};

/// Held-out examples used for family diagnostics (active units, KL per unit).
const DIAGNOSTIC_ROWS: usize = 2000;
/// Samples drawn for mode coverage (VEEGAN and PacGAN used 2,500).
const MODE_SAMPLES: usize = 2500;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (as `genlab train --out` made it).
    pub run: PathBuf,
    /// Data spec to evaluate on (default: the run's own data).
    #[arg(long)]
    pub data: Option<genlab_data::DataSpec>,
    /// Split (default: the run's data.eval_split, normally test).
    #[arg(long, value_enum)]
    pub split: Option<SplitArg>,
    /// Importance samples for the likelihood estimate (1 = the training bound).
    #[arg(short, long, default_value_t = 1000)]
    pub k: usize,
    /// Evaluate on the first N examples only.
    #[arg(short, long)]
    pub n: Option<usize>,
    /// Seed of the importance samples, AIS chains and static binarization draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// The judge: a classifier run, or `fashion-mnist` for the shipped Fashion-MNIST judge (the
    /// default on Fashion-MNIST data; name it to judge other 28x28 gray images with it).
    /// Its features give the sample-quality metrics; any run that classifies (class-gaussian
    /// too) also reports the share of a conditional model's samples of each class that it
    /// assigns to that class.
    #[arg(long, alias = "classifier")]
    pub judge: Option<PathBuf>,
    /// Samples for the sample-quality metrics, against as many test examples (the protocol:
    /// 10,000; fewer mark the result non-standard; 0 skips them).
    #[arg(long, default_value_t = genlab_eval::quality::PROTOCOL_SAMPLES)]
    pub samples: usize,
    /// Class-conditional models: the classification accuracy score, the test accuracy of a
    /// classifier trained on 10,000 of the model's labelled samples only (a network trains:
    /// minutes).
    #[arg(long)]
    pub cas: bool,
    /// Training steps of the CAS classifier (the pinned budget: 1,500; others are marked
    /// non-standard).
    #[arg(long, default_value_t = crate::cas::CAS_STEPS, requires = "cas")]
    pub cas_steps: u64,
    #[command(flatten)]
    pub mean: super::MeanArg,
    /// Write each example's test NLL (nats) and bits/dim to this CSV, for histograms
    /// (e.g. in- against out-of-distribution data).
    #[arg(long)]
    pub scores: Option<PathBuf>,
    /// Which weights to evaluate: `averaged` (the EMA of `train.ema_decay`, where the run keeps
    /// one, else the live weights) or `live` (the weights training updates), to measure what
    /// the average buys. A live evaluation goes to eval/step-N-live.json, beside the run's own
    /// result and never over it; `compare` and `report` read the averaged one.
    #[arg(long, value_enum, default_value_t)]
    pub weights: crate::cli::WeightsArg,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        run: dir,
        data,
        split,
        k,
        n,
        seed,
        json,
        judge,
        samples,
        cas,
        cas_steps,
        mean,
        scores,
        weights,
    } = args;
    let dir = dir.as_path();
    let classifier = judge.as_deref();
    let weights: run_dir::Weights = weights.into();
    let run = crate::run::open_with(dir, weights)?;
    let mut data_cfg = run.config.data.clone();
    if let Some(spec) = data {
        data_cfg.spec = spec;
    }
    let split: Split = split.map(Into::into).unwrap_or(data_cfg.eval_split);
    let mut dataset = data_cfg.load(split)?;
    let given = dataset.input.as_ref().map(|i| i.shape);
    let wanted = run.info.input.map(|i| i.shape);
    if run.info.input.is_some() && given != wanted {
        let show = |s: Option<genlab_data::Shape>| match s {
            Some(s) => format!("inputs of {}x{}x{}", s.c, s.h, s.w),
            None => "no inputs".into(),
        };
        bail!(
            "{} has {}, but the model in {} translates {}; evaluate on a task of the run's own kind (`{}`)",
            data_cfg.spec,
            show(given),
            dir.display(),
            show(wanted),
            run.config.data.spec
        );
    }
    if dataset.shape != run.info.shape {
        // Tables and points are vectors: say "columns"; images: channels x height x width.
        let describe = |s: genlab_data::Shape| {
            if s.h == 1 && s.w == 1 {
                format!("{} values (columns) per example", s.c)
            } else {
                format!("examples of shape {}x{}x{}", s.c, s.h, s.w)
            }
        };
        bail!(
            "{} has {}, but the model in {} was trained on {}; evaluate on data like its training data",
            data_cfg.spec,
            describe(dataset.shape),
            dir.display(),
            describe(run.info.shape),
        );
    }
    // Tabular points as the model sees them: z-scores with the run's own statistics.
    if let Some(s) = &run.info.standardization {
        dataset.standardize(s)?;
    }
    if let Some(n) = n {
        dataset.truncate(n);
    }
    if k == 0 {
        bail!("-k must be at least 1");
    }
    let mut out = serde_json::Map::new();
    let step = run.dir.checkpoints().last().map(|c| c.0).unwrap_or(0);
    out.insert("family".into(), run.config.family.clone().into());
    out.insert("step".into(), step.into());
    out.insert(
        "checkpoint".into(),
        run.checkpoint.display().to_string().into(),
    );
    // "ema" when the averaged weights were evaluated, "live" otherwise (also for a run without
    // an average: its live weights are all it has).
    out.insert(
        "weights".into(),
        if run.averaged { "ema" } else { "live" }.into(),
    );
    if run.model.as_likelihood().is_some() {
        let r = genlab_eval::likelihood(
            run.model.as_ref(),
            &run.info,
            &dataset,
            k,
            seed,
            &run.device,
        )?;
        for (key, v) in serde_json::to_value(&r)?.as_object().unwrap() {
            out.insert(key.clone(), v.clone());
        }
        if let Some(path) = &scores {
            // A projected density has bits over its own dimensions, never over the data's.
            let (dims, column) = match r.projected_dims {
                Some(p) => (p, "bits_per_projected_dim"),
                None => (run.info.shape.dim(), "bits_per_dim"),
            };
            let d = dims as f64 * std::f64::consts::LN_2;
            let mut csv = format!("index,nll_nats,{column}\n");
            for (i, v) in r.per_example_nll.iter().enumerate() {
                csv.push_str(&format!("{i},{v:.4},{:.6}\n", v / d));
            }
            run.dir.refuse_owned(path, run_dir::Format::Csv)?;
            run_dir::atomic_write(path, csv.as_bytes())?;
        }
    } else if scores.is_some() {
        bail!(
            "{} has no likelihood to score examples with; --scores needs a likelihood model",
            run.config.family
        );
    }
    if run.model.as_reconstruct().is_some() {
        let r = genlab_eval::reconstruction(
            run.model.as_ref(),
            &run.info,
            &dataset,
            seed,
            &run.device,
        )?;
        out.insert("mse_per_pixel".into(), r.mse_per_pixel.into());
        out.insert("mae_per_pixel".into(), r.mae_per_pixel.into());
        out.entry("n_examples").or_insert(r.n_examples.into());
    }
    if run.model.as_translate().is_some() {
        translation(&run, &data_cfg, &dataset, classifier, seed, &mut out)?;
    }
    if let Some(c) = run.model.as_classify() {
        // Bayes-rule classification of every evaluated example.
        if let Some(acc) = genlab_eval::accuracy(c, &run.info, &dataset, seed, &run.device)? {
            out.insert("accuracy".into(), acc.into());
        }
    }
    if let (Some(path), Some(_)) = (classifier, run.model.as_sample_given()) {
        out.insert(
            "label_accuracy_by_classifier".into(),
            classified_accuracy(&run, path, seed)?.into(),
        );
        out.insert("classifier".into(), path.display().to_string().into());
    }
    // Mode coverage on mixtures with known modes (toy:ring8, toy:grid25).
    if let Some(genlab_data::Modes {
        centers: modes,
        sigma,
    }) = data_cfg.modes()
    {
        {
            if let Some(c) = genlab_eval::mode_coverage(
                run.model.as_ref(),
                &modes,
                sigma,
                MODE_SAMPLES,
                seed,
                &run.device,
            )? {
                for (key, v) in serde_json::to_value(&c)?.as_object().unwrap() {
                    out.insert(key.clone(), v.clone());
                }
            }
            // Conditional models: do samples of label c land on mode c?
            if let Some(acc) = genlab_eval::label_accuracy(
                run.model.as_ref(),
                &modes,
                MODE_SAMPLES / modes.len(),
                seed,
                &run.device,
            )? {
                out.insert("label_accuracy".into(), acc.into());
            }
        }
    }
    let draw = mean.draw(run.model.as_ref());
    if samples > 0 && run.model.as_sample().is_some() {
        let real = (&dataset, split);
        // A --judge run that classifies without features (class-gaussian, for the class
        // rate) leaves the metrics to the judge shipped for the data.
        let own = match classifier {
            Some(p) if run.info.kind == genlab_data::Kind::Images => {
                crate::judge::judge_run(p)?.ok()
            }
            _ => None,
        };
        let asked = own.is_some() || samples != PROTOCOL_SAMPLES;
        match sample_quality(&run, &data_cfg, real, own, samples, draw, seed) {
            Ok(q) => {
                for (key, v) in serde_json::to_value(&q)?.as_object().unwrap() {
                    out.insert(key.clone(), v.clone());
                }
            }
            // Asked for by --judge or --samples: an error. Left at the defaults on data
            // without a judge: the rest of the evaluation stands, the reason said and recorded.
            Err(e) if asked => return Err(e),
            Err(e) => {
                eprintln!("note: no sample quality: {e:#}");
                out.insert(
                    "sample_quality".into(),
                    format!("not computed: {e:#}").into(),
                );
            }
        }
    }
    if cas {
        let c = crate::cas::cas(&run, &dataset, draw, cas_steps, seed)?;
        out.insert("cas".into(), c.cas.into());
        out.insert("cas_protocol".into(), c.cas_protocol);
    }
    // Diagnostics on up to DIAGNOSTIC_ROWS held-out examples.
    let rows: Vec<usize> = (0..dataset.len().min(DIAGNOSTIC_ROWS)).collect();
    let pre = run.info.preprocess.for_evaluation();
    let batch = genlab_core::Batch::gather(
        &dataset,
        &rows,
        &pre,
        &mut genlab_core::rng::rng_for(seed, 0, genlab_core::rng::Stream::Eval),
        &run.device,
    );
    out.extend(run.model.diagnostics(batch.x)?);
    let binarize = data_cfg.preprocess().for_evaluation().binarize;
    out.insert(
        "data".into(),
        serde_json::json!({
            "spec": data_cfg.spec, "split": split, "binarize": binarize, "scale": data_cfg.scale,
            "dequantize": data_cfg.dequantize,
            "static_binarization_seed": genlab_data::STATIC_BINARIZATION_SEED,
        }),
    );
    let value = serde_json::Value::Object(out);
    let file = match weights {
        run_dir::Weights::Averaged => run.dir.eval_file(step),
        run_dir::Weights::Live => run.dir.live_eval_file(step),
    };
    run_dir::atomic_write(&file, serde_json::to_string_pretty(&value)?.as_bytes())?;
    if json {
        println!("{value}");
    } else {
        let map = value.as_object().unwrap();
        let width = map.keys().map(String::len).max().unwrap_or(0);
        for (key, v) in map {
            println!("{key:<width$} {}", genlab_report::readable(v));
        }
    }
    Ok(())
}

/// FID, KID, precision / recall, density / coverage, IS and memorisation of `samples` draws
/// against the evaluated test examples, on the judge's features (images) or coordinates
/// (points).
fn sample_quality(
    run: &crate::run::OpenRun,
    data_cfg: &genlab_core::config::DataConfig,
    (real, split): (&genlab_data::Dataset, Split),
    own: Option<crate::judge::Judge>,
    samples: usize,
    draw: genlab_core::Draw,
    seed: u64,
) -> Result<genlab_eval::quality::SampleQuality> {
    let judge = match run.info.kind {
        genlab_data::Kind::Images => {
            let j = match own {
                Some(j) => j,
                None => crate::judge::resolve(None, &data_cfg.spec)?,
            };
            j.check_shape(&run.info)?;
            Some(j)
        }
        genlab_data::Kind::Points => None,
    };
    let judge_ref = judge.as_ref().map(|j| j.as_ref());
    let train = run.load_data(Split::Train)?;
    genlab_eval::quality::sample_quality(
        run.model.as_ref(),
        &run.info,
        (real, split, &train),
        judge_ref.as_ref(),
        samples,
        draw,
        seed,
        &run.device,
    )
}

/// A translator on the test pairs of its task: `l1`, `psnr`, `ssim` and the baselines'
/// (genlab_eval::translation), then on the judge of the data the task is made from: FID of the
/// outputs against the targets, and the judge's accuracy on the outputs (`judged_accuracy`)
/// beside its accuracy on the targets themselves (`judged_accuracy_targets`).
fn translation(
    run: &crate::run::OpenRun,
    data_cfg: &genlab_core::config::DataConfig,
    data: &genlab_data::Dataset,
    classifier: Option<&Path>,
    seed: u64,
    out: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let tr = run.model.as_translate().expect("checked by the caller");
    let task = match &data_cfg.spec {
        genlab_data::DataSpec::Task(t, _) => Some(t),
        _ => None,
    };
    let train = run.load_data(Split::Train)?;
    let d = train.shape.dim();
    let mut mean = vec![0f32; d];
    for i in 0..train.len() {
        mean.iter_mut()
            .zip(train.example(i))
            .for_each(|(m, v)| *m += v);
    }
    mean.iter_mut()
        .for_each(|m| *m /= train.len().max(1) as f32);
    let mut rng = genlab_core::rng::rng_for(seed, 0, genlab_core::rng::Stream::Eval);
    let outputs = genlab_eval::translation::translation_scores(
        tr,
        &run.info,
        data,
        task,
        &mean,
        &mut rng,
        &run.device,
        out,
    )?;
    let judge = match crate::judge::resolve(classifier, data_cfg.spec.base()) {
        Ok(j) => j,
        Err(e) if classifier.is_none() => {
            eprintln!("note: no FID or judged accuracy of the outputs: {e:#}");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    judge.check_shape(&run.info)?;
    let jref = judge.as_ref();
    let pre = run.info.preprocess.for_evaluation();
    let fake: Vec<f32> = outputs.iter().map(|&v| pre.from_unit(v)).collect();
    // Targets: the domain's test images (for unpaired domains, as many as there are).
    let real = genlab_eval::quality::model_space(data, data.len(), &run.info, &run.device);
    let (ff, fp) =
        genlab_eval::quality::features_of(&fake, &run.info, Some(&jref), "judging outputs")?;
    let (rf, rp) =
        genlab_eval::quality::features_of(&real, &run.info, Some(&jref), "judging targets")?;
    out.insert(
        "fid".into(),
        genlab_eval::quality::fid(&rf, &ff)?.fid.into(),
    );
    let paired = data.input.as_ref().is_some_and(|i| i.paired);
    if let Some(y) = &data.y {
        // Unpaired domains: every output should be judged the target domain's class.
        let want: Vec<u32> = match paired {
            true => y.clone(),
            false => vec![y.first().copied().unwrap_or(0); outputs.len() / data.shape.dim()],
        };
        let accuracy = |(p, k): &(Vec<f64>, usize), y: &[u32]| {
            let hits = y.iter().enumerate().filter(|(i, &c)| {
                let row = &p[i * k..(i + 1) * k];
                let best = (0..*k)
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap_or(0);
                best == c as usize
            });
            hits.count() as f64 / y.len().max(1) as f64
        };
        if let (Some(fp), Some(rp)) = (&fp, &rp) {
            out.insert("judged_accuracy".into(), accuracy(fp, &want).into());
            out.insert("judged_accuracy_targets".into(), accuracy(rp, y).into());
        }
    }
    out.insert("judge".into(), jref.id.clone());
    // What `compare` checks before ranking FIDs together: the same task, judge and counts.
    out.insert(
        "protocol".into(),
        serde_json::json!({
            "kind": "translation",
            "judge": jref.id,
            "samples": outputs.len() / data.shape.dim(),
            "samples_shown_as": "translations of the test inputs",
            "real": format!("{} targets", data_cfg.spec),
            "real_examples": data.len(),
            "seed": seed,
        }),
    );
    Ok(())
}

/// Samples drawn per class when another run classifies a conditional model's samples.
const PER_CLASS: usize = 250;

/// The fraction of a class-conditional model's samples of each class that a classifier run
/// (e.g. `class-gaussian` trained on the same data) assigns to that class.
fn classified_accuracy(run: &crate::run::OpenRun, path: &Path, seed: u64) -> Result<f64> {
    let cond = run.model.as_sample_given().ok_or_else(|| {
        genlab_core::model::cannot(
            run.model.as_ref(),
            "sample given a label, so --judge's class rate has nothing to classify",
            "genlab eval RUN",
        )
    })?;
    let judge = crate::run::open(path)?;
    let classify = judge.model.as_classify().ok_or_else(|| {
        genlab_core::model::cannot(
            judge.model.as_ref(),
            "classify (--judge needs a run that can, e.g. classifier or class-gaussian)",
            "genlab eval RUN",
        )
    })?;
    if judge.info.shape != run.info.shape || judge.info.classes != cond.classes() {
        bail!(
            "--judge {} was trained on {} classes of shape {:?}, the model on {} classes of shape {:?}; train the classifier on the same data",
            path.display(),
            judge.info.classes,
            judge.info.shape,
            cond.classes(),
            run.info.shape
        );
    }
    genlab_eval::judged_class_rate(
        cond,
        &run.info,
        classify,
        &judge.info,
        PER_CLASS,
        seed,
        (&run.device, &judge.device),
    )
}
