//! `genlab train`: resolve the config (defaults < preset < --config < flags < --set), build the
//! model, create the run directory, and hand everything to the trainer.

use super::Status;
use anyhow::{anyhow, bail, Context, Result};
use genlab_core::config::{self, RunConfig};
use genlab_core::run_dir::{Meta, RunDir, Weights};
use genlab_core::{DataInfo, Family};
use genlab_data::{DataSpec, Split};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use toml::Value;

#[derive(clap::Args)]
pub struct Args {
    /// Model family (see `genlab models`).
    #[arg(value_parser = FamilyParser)]
    pub family: &'static Family,
    /// Data spec (sets data.spec).
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Preset from configs/FAMILY/ (default: `default`).
    #[arg(long)]
    pub preset: Option<String>,
    /// TOML config file merged over the preset.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override one config key, e.g. --set model.latent_dim=2 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Total training steps (sets train.steps; may change on --resume).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Run directory (default runs/FAMILY, or runs/FAMILY-N if that exists).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of initialisation, batches and noise.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Continue the run in --out from its newest checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Folder of the Fashion-MNIST files (sets data.data_dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Log lines only, no progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Print the config this command line resolves to (preset, --config, --set and the other
    /// flags over the family's defaults) as the run's config.toml would hold it, and exit:
    /// nothing trains and nothing is written. Unknown keys and bad values are errors as in
    /// training; the data and the model are not built, so values the data decides stay as
    /// given (`data.channels = "auto"`, which a run on images holds as the data's count).
    #[arg(long, conflicts_with = "resume")]
    pub print_config: bool,
}

/// A family of the registry, by name: `--help` lists [`genlab_models::FAMILIES`], and a
/// misspelt name is a usage error naming the closest family (by edit distance, which catches
/// the transpositions that clap's own suggestions miss, `vea` for `vae`).
#[derive(Clone)]
struct FamilyParser;

impl clap::builder::TypedValueParser for FamilyParser {
    type Value = &'static Family;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        genlab_models::find(&value.to_string_lossy()).map_err(|e| {
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n")).with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            genlab_models::FAMILIES
                .iter()
                .map(|f| clap::builder::PossibleValue::new(f.name)),
        ))
    }
}

/// The resolved config of a new run.
pub fn resolve(family: &Family, args: &Args) -> Result<RunConfig> {
    let mut table = family.preset_config(args.preset.as_deref().unwrap_or("default"))?;
    if let Some(path) = &args.config {
        let file = config::read_file(path)?;
        let origin = path.display().to_string();
        command_family(family, &file, &origin)?;
        config::merge(&mut table, &file, &origin)?;
    }
    // Flags set typed values; only --set goes through TOML text.
    if let Some(spec) = &args.data {
        config::set_value(&mut table, "data.spec", Value::String(spec.to_string()))?;
    }
    if let Some(dir) = &args.data_dir {
        let dir = Value::String(dir.display().to_string());
        config::set_value(&mut table, "data.data_dir", dir)?;
    }
    if let Some(seed) = args.seed {
        config::set_value(&mut table, "seed", toml_integer("--seed", seed)?)?;
    }
    if let Some(steps) = args.steps {
        config::set_value(&mut table, "train.steps", toml_integer("--steps", steps)?)?;
    }
    for s in &args.sets {
        config::set(&mut table, s)?;
    }
    command_family(family, &table, "--set")?;
    RunConfig::from_table(&table)
}

/// The family is the command's: a `family` key of --config or --set (`origin`) that names
/// another would write a config.toml of one family over the weights of another. Checked on the
/// --config file before its keys are, so a whole config of another family gets this message
/// rather than its first unknown key. A non-string `family` is left to [`RunConfig::from_table`].
fn command_family(family: &Family, table: &toml::Table, origin: &str) -> Result<()> {
    match table.get("family").and_then(Value::as_str) {
        Some(named) if named != family.name => bail!(
            "{origin}: family `{named}` contradicts `genlab train {}`: the family is the \
             command's; run `genlab train {named}`, or drop the `family` key",
            family.name
        ),
        _ => Ok(()),
    }
}

/// TOML integers are i64; a larger flag value is an error rather than a wrapped number.
fn toml_integer(flag: &str, v: u64) -> Result<Value> {
    i64::try_from(v)
        .map(Value::Integer)
        .map_err(|_| anyhow!("{flag} {v} is too large; the most is {}", i64::MAX))
}

pub fn run(args: Args) -> Result<Status> {
    genlab_core::fault::arm_from_env()?;
    let family = args.family;
    if args.print_config {
        print!("{}", resolve(family, &args)?.to_toml());
        return Ok(Status::Done);
    }
    if args.resume && args.out.is_none() {
        bail!("--resume needs --out DIR, the run to continue");
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| super::fresh_dir(family.name));
    let run = RunDir::at(&out);
    // A start that failed or was killed before its first checkpoint (a config the family
    // rejected, data it could not fit) left a run folder with nothing to continue: start afresh
    // from this command line, with or without --resume, rather than refuse or replay the old
    // config. So does --resume of a folder that a start killed at once did not even create.
    let unstarted = run.is_unstarted();
    let nothing = std::fs::read_dir(&out).map_or(true, |mut d| d.next().is_none());
    if unstarted {
        run.clear_unstarted()?;
        if !args.quiet {
            eprintln!(
                "{} holds no checkpoint (its start failed); starting it afresh",
                out.display()
            );
        }
    } else if args.resume && nothing && !args.quiet {
        eprintln!("{} holds no run yet; starting it", out.display());
    }
    let resume = args.resume && !unstarted && !nothing;
    let config = if resume {
        resume_config(family, &args, &out)?
    } else {
        if out.exists()
            && std::fs::read_dir(&out)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            bail!(
                "{} already holds a run; pass --resume to continue it, or choose another --out",
                out.display()
            );
        }
        resolve(family, &args)?
    };
    let status = train_run(family, &config, &out, resume, args.quiet)?;
    Ok(status)
}

/// The config to continue the run in `out` with: its own config.toml, with `--steps` if given.
/// Flags that shape a config (--preset, --config, --set, --data, --data-dir, --seed) must
/// resolve to that same config (apart from train.steps), so that re-running the command line
/// that trained the run, with --resume appended, continues it; a bare `--resume` is not
/// compared with the `default` preset.
fn resume_config(family: &Family, args: &Args, out: &Path) -> Result<RunConfig> {
    let mut config = RunDir::at(out).read_config()?;
    if config.family != family.name {
        bail!(
            "{} is a {} run, not {}; resume it with `genlab train {} --out {} --resume`",
            out.display(),
            config.family,
            family.name,
            config.family,
            out.display()
        );
    }
    let shapes_config = !args.sets.is_empty()
        || args.preset.is_some()
        || args.config.is_some()
        || args.data.is_some()
        || args.data_dir.is_some()
        || args.seed.is_some();
    if shapes_config {
        let mut given = resolve(family, args)?;
        // "auto" resolved to the count the run holds when it started.
        if given.data.channels == genlab_data::Channels::Auto {
            given.data.channels = config.data.channels;
        }
        let changed = changed_keys(family, &config, &given);
        if !changed.is_empty() {
            bail!(
                "--resume continues {} with its own config.toml, but this command line resolves to another config: {}. Only --steps may change: give the command line that trained the run, or just `genlab train {} --out {} --resume [--steps N]`; to train with the new settings, choose another --out",
                out.display(),
                changed.join("; "),
                family.name,
                out.display()
            );
        }
    }
    if let Some(steps) = args.steps {
        config.train.steps = steps;
    }
    Ok(config)
}

/// `key: saved A, given B` for each key, apart from train.steps, whose value differs between
/// the saved and the given config. Model keys the family gained since the run was trained take
/// their defaults in the saved config, as they do when the run is loaded.
fn changed_keys(family: &Family, saved: &RunConfig, given: &RunConfig) -> Vec<String> {
    let table = |c: &RunConfig| toml::Table::try_from(c).expect("a config serialises");
    let mut saved = table(saved);
    let mut model = (family.default_model)();
    if let Some(Value::Table(own)) = saved.get("model") {
        model.extend(own.clone());
    }
    saved.insert("model".into(), Value::Table(model));
    let shown = |v: &Option<Value>| v.as_ref().map_or("(none)".into(), |v| v.to_string());
    config::differences(&saved, &table(given))
        .into_iter()
        .filter(|d| d.key != "train.steps")
        .map(|d| {
            format!(
                "{}: saved {}, given {}",
                d.key,
                shown(&d.left),
                shown(&d.right)
            )
        })
        .collect()
}

/// The first `train.held_out` examples of the test split, preprocessed for evaluation (a
/// fixed binarization) on the inference device: the held-out loss of every sample step. None
/// when off, or when the data has no test split (said unless `quiet`).
fn held_out_examples(
    config: &RunConfig,
    info: &DataInfo,
    device: &burn::tensor::Device,
    quiet: bool,
) -> Result<Option<genlab_core::Batch>> {
    let n = config.train.held_out;
    if n == 0 {
        return Ok(None);
    }
    let test = match config
        .data
        .load_as_seen(Split::Test, info.standardization.as_ref())
    {
        Ok(test) => test,
        Err(e) => {
            if !quiet {
                eprintln!("note: no held-out loss ({e:#}); set train.held_out = 0 to silence this");
            }
            return Ok(None);
        }
    };
    let idx: Vec<usize> = (0..n.min(test.len())).collect();
    let pre = info.preprocess.for_evaluation();
    let infer = genlab_core::device::inference_device(device);
    let mut rng = genlab_core::rng::rng_for(0, 0, genlab_core::rng::Stream::Eval);
    Ok(Some(genlab_core::Batch::gather(
        &test, &idx, &pre, &mut rng, &infer,
    )))
}

/// Build, write config and meta, and train. Shared by `train` and `demo`.
pub fn train_run(
    family: &Family,
    config: &RunConfig,
    out: &Path,
    resume: bool,
    quiet: bool,
) -> Result<Status> {
    let mut data = config.data.load(Split::Train)?;
    if !quiet {
        for s in &data.skipped {
            eprintln!("not data, skipped: {s}");
        }
        for note in &data.notes {
            eprintln!("note: {note}");
        }
    }
    let run = RunDir::at(out);
    // A resumed run keeps the statistics it started with.
    let saved = resume
        .then(|| run.read_meta().ok())
        .flatten()
        .map(|m| m.standardization);
    let standardization = match saved {
        Some(s) => s,
        None => config.data.standardization_for(&data)?,
    };
    if let Some(s) = &standardization {
        data.standardize(s)?;
    }
    // The config records what "auto" resolved to.
    let mut config = config.clone();
    if data.kind == genlab_data::Kind::Images {
        config.data.channels = genlab_data::Channels::count(data.shape.c);
    }
    let config = &config;
    let info = DataInfo::new(&data, &config.data);
    genlab_core::memory::set_limit_gb(config.train.max_memory_gb);
    let device = genlab_core::device::training_device(config.seed);
    // --resume continues from the newest checkpoint, through the same loader as `sample`.
    let (mut model, resume_from) = if resume && run.latest_checkpoint().is_ok() {
        let loaded = run
            .load_model(family, config, &info, &device, Weights::Live)
            .with_context(|| format!("cannot resume {}", out.display()))?;
        (loaded.model, Some(loaded.checkpoint))
    } else {
        ((family.build)(&config.model, &info, &device)?, None)
    };
    genlab_eval::check_data_fits(model.as_ref(), &info, &data)?;

    if resume && run.meta_file().exists() {
        run.write_config(config)?;
    } else {
        let meta = Meta {
            family: family.name.into(),
            genlab_version: env!("CARGO_PKG_VERSION").into(),
            seed: config.seed,
            backend: genlab_core::device::describe(&device),
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            last_step: 0,
            data_kind: data.kind,
            data_shape: data.shape,
            classes: data.classes.clone(),
            standardization,
            input: data.input.as_ref().map(|i| i.kind()),
            input_shape: None,
        };
        RunDir::create(out, config, &meta)?;
    }

    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // A second handler cannot be installed (demo after train in one process); that is fine.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let opts = genlab_train::TrainOptions {
        run,
        resume_from,
        interrupt,
        progress: std::io::stderr().is_terminal(),
        quiet,
        held_out: held_out_examples(config, &info, &device, quiet)?,
    };
    if !quiet {
        eprintln!(
            "training {} on {} ({} examples) for {} steps -> {}",
            family.name,
            config.data.spec,
            data.len(),
            config.train.steps,
            out.display()
        );
    }
    let outcome = genlab_train::train(model.as_mut(), config, &info, &data, &device, &opts)?;
    let ckpt = outcome
        .checkpoint
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if outcome.interrupted {
        eprintln!("interrupted at step {}; checkpoint saved in {ckpt}; continue with `genlab train {} --out {} --resume`", outcome.step, family.name, out.display());
        return Ok(Status::Interrupted);
    }
    if !quiet {
        // The numbers of the last metrics.jsonl line, said as what they are.
        let last = RunDir::at(out).read_metrics()?.into_iter().last();
        let losses: Vec<String> = last
            .iter()
            .flat_map(|l| l.losses.iter().chain(&l.metrics))
            .map(|(k, v)| format!("{k} {v:.4}"))
            .collect();
        eprintln!(
            "done: step {}; last metrics.jsonl line (loss means since the line before): {}; checkpoint {ckpt}",
            outcome.step,
            losses.join("  ")
        );
    }
    Ok(Status::Done)
}
