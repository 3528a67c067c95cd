//! Every family on images of every side in [`SIDES`] with 1 and 3 channels: building it and
//! taking one training step either works, with finite losses, or the build refuses with a
//! message that names the config key to change. Nothing panics. The images are random pixels,
//! made here; each family runs its tiny preset, and the options in [`VARIANTS`] run too: the
//! networks they choose, and the settings that refusals point to, meet every size as well.

use burn::tensor::Device;
use common::tiny_config;
use genlab_core::config::RunConfig;
use genlab_core::optim::Optimizers;
use genlab_core::rng::{rng_for, Stream};
use genlab_core::{Batch, DataInfo, Family, Model, StepCtx};
use genlab_data::{Dataset, Kind, Shape};
use genlab_models::FAMILIES;
use rand::Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};

mod common;

/// From a single pixel up to the shipped sizes (28 for shapes and Fashion-MNIST, 32 for CIFAR).
const SIDES: [usize; 7] = [1, 2, 3, 5, 7, 28, 32];
const CHANNELS: [usize; 2] = [1, 3];
/// Sides every family trains on (with one channel count at least): what its presets are for.
/// Below them, a model that took its step also samples (or reconstructs).
const SHIPPED: [usize; 2] = [28, 32];
const EXAMPLES: usize = 8;
/// Labelled, so that the class-conditional families can train too.
const CLASSES: usize = 2;

/// `(family, [model] overrides)` run beside the tiny presets: the conv coders, and the settings
/// that the refusals of odd sides suggest (`model.scales` at its lowest).
const VARIANTS: [(&str, &str); 5] = [
    ("autoencoder", "arch = \"conv\"\nchannels = [4, 4]"),
    ("vae", "arch = \"conv\"\nchannels = [4, 4]"),
    ("iwae", "arch = \"conv\"\nchannels = [4, 4]"),
    ("realnvp", "scales = 0"),
    ("pixelcnn++", "scales = 1"),
];

/// `EXAMPLES` images of `channels` x `side` x `side` random pixels in [0, 1].
fn random_images(side: usize, channels: usize) -> Dataset {
    let shape = Shape {
        c: channels,
        h: side,
        w: side,
    };
    let mut rng = rng_for(side as u64, channels as u64, Stream::Preprocess);
    let x: Vec<f32> = (0..EXAMPLES * shape.dim()).map(|_| rng.random()).collect();
    Dataset {
        name: format!("random {channels}x{side}x{side}"),
        kind: Kind::Images,
        shape,
        x: x.clone(),
        y: Some((0..EXAMPLES as u32).map(|i| i % CLASSES as u32).collect()),
        classes: (0..CLASSES).map(|k| format!("class {k}")).collect(),
        binary: false,
        skipped: Vec::new(),
        notes: Vec::new(),
        raw: None,
        standardization: None,
        columns: Vec::new(),
        // Paired with themselves, for the translators (the others never read inputs).
        input: Some(genlab_data::Inputs {
            shape,
            x,
            caption: "the image".into(),
            paired: true,
            hole: None,
        }),
    }
}

/// Whether `message` names a key of the family's config in full (`data.image_size`, `model.arch`).
fn names_a_key(message: &str, family: &Family) -> bool {
    let defaults = RunConfig::defaults(family.name, family.groups, (family.default_model)());
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter_map(|w| w.trim_end_matches('.').split_once('.'))
        .any(|(section, key)| {
            ["data", "model", "train"].contains(&section)
                && matches!(defaults.get(section), Some(toml::Value::Table(t)) if t.contains_key(key))
        })
}

enum Outcome {
    Stepped,
    Refused(String),
}

/// Build `family` for `data` and take one step on all of it. `Err` is a failure of the case.
fn build_and_step(
    family: &Family,
    cfg: &RunConfig,
    data: &Dataset,
    device: &Device,
) -> Result<Outcome, String> {
    // Super-resolution learns from the images halved (area average), where the side allows.
    let halved;
    let data = match (family.name, data.shape) {
        ("srresnet" | "srgan", s) if s.h % 2 == 0 => {
            let small = genlab_data::Shape {
                h: s.h / 2,
                w: s.w / 2,
                ..s
            };
            let mut x = Vec::new();
            for i in 0..data.len() {
                genlab_data::area_average(data.example(i), s, 2, &mut x);
            }
            let mut d = data.clone();
            d.input = Some(genlab_data::Inputs {
                shape: small,
                x,
                caption: "halved".into(),
                paired: true,
                hole: None,
            });
            halved = d;
            &halved
        }
        // Inpainting learns from images with a centred hole (here only declared: the inputs
        // keep their pixels, which changes nothing about shapes).
        ("context-encoder", s) => {
            let mut d = data.clone();
            if let Some(input) = d.input.as_mut() {
                input.hole = Some(genlab_data::Hole::centred(None, s));
            }
            halved = d;
            &halved
        }
        _ => data,
    };
    let info = DataInfo {
        kind: data.kind,
        shape: data.shape,
        classes: data.classes.len(),
        preprocess: cfg.data.preprocess(),
        modes: None,
        standardization: None,
        input: data.input.as_ref().map(|i| i.kind()),
    };
    let mut model = match (family.build)(&cfg.model, &info, device) {
        Ok(m) => m,
        Err(e) => return Ok(Outcome::Refused(format!("{e:#}"))),
    };
    let idx: Vec<usize> = (0..EXAMPLES).collect();
    let mut rng = rng_for(0, 0, Stream::Preprocess);
    let batch = Batch::gather(data, &idx, &info.preprocess, &mut rng, device);
    let mut optim = Optimizers::new(&cfg.optim, 1);
    let mut ctx = StepCtx::new(0, 1, 0, device.clone(), &mut optim);
    let losses = model
        .train_step(&batch, &mut ctx)
        .map_err(|e| format!("built, then the step failed: {e:#}"))?;
    if let Some(term) = losses.non_finite() {
        return Err(format!("non-finite {term}: {losses:?}"));
    }
    if !SHIPPED.contains(&data.shape.h) {
        show(model.as_ref(), &batch, data.shape.dim(), device)?;
    }
    Ok(Outcome::Stepped)
}

/// Two samples, or else the reconstruction of the batch, of the right shape.
fn show(model: &dyn Model, batch: &Batch, d: usize, device: &Device) -> Result<(), String> {
    let infer = genlab_core::device::inference_device(device);
    let x = match (model.as_sample(), model.as_reconstruct()) {
        (Some(s), _) => s.sample(2, &mut rng_for(0, 0, Stream::Eval), &infer),
        (_, Some(r)) => r.reconstruct(batch.x.clone().to_device(&infer)),
        _ => return Ok(()),
    }
    .map_err(|e| format!("stepped, then showing failed: {e:#}"))?;
    match x.dims() {
        [_, cols] if cols == d => Ok(()),
        dims => Err(format!("shows {dims:?}, not rows of {d}")),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// The tiny preset, and the preset with each of the family's [`VARIANTS`] merged over it.
fn configs(family: &Family) -> Vec<(String, RunConfig)> {
    let tiny = tiny_config(family);
    let mut out = vec![("tiny".to_string(), tiny.clone())];
    for (_, overrides) in VARIANTS.iter().filter(|(f, _)| *f == family.name) {
        let mut cfg = tiny.clone();
        let overrides: toml::Table = toml::from_str(overrides).unwrap();
        genlab_core::config::merge(&mut cfg.model, &overrides, "variant").unwrap();
        out.push((overrides.to_string().trim().replace('\n', ", "), cfg));
    }
    out
}

#[test]
fn every_family_steps_or_refuses_clearly_at_every_image_size() {
    // Panics are caught and reported per case below; the default hook would only repeat them.
    std::panic::set_hook(Box::new(|_| {}));
    let device = genlab_core::device::training_device(7);
    let (mut failures, mut refusals, mut cases) = (Vec::new(), Vec::new(), 0);
    for family in FAMILIES {
        let started = std::time::Instant::now();
        for (label, cfg) in configs(family) {
            let mut shipped_steps = [false; SHIPPED.len()];
            for side in SIDES {
                for channels in CHANNELS {
                    cases += 1;
                    let data = random_images(side, channels);
                    let case = format!("{} ({label}) on {channels}x{side}x{side}", family.name);
                    let run = catch_unwind(AssertUnwindSafe(|| {
                        build_and_step(family, &cfg, &data, &device)
                    }));
                    match run {
                        Err(payload) => {
                            failures.push(format!("{case}: panicked: {}", panic_message(&*payload)))
                        }
                        Ok(Err(problem)) => failures.push(format!("{case}: {problem}")),
                        Ok(Ok(Outcome::Stepped)) => {
                            if let Some(i) = SHIPPED.iter().position(|&s| s == side) {
                                shipped_steps[i] = true;
                            }
                        }
                        Ok(Ok(Outcome::Refused(message))) => {
                            if names_a_key(&message, family) {
                                refusals.push(format!("{case}: {message}"));
                            } else {
                                failures.push(format!("{case}: refused naming no key: {message}"));
                            }
                        }
                    }
                }
            }
            for (side, stepped) in SHIPPED.iter().zip(shipped_steps) {
                if !stepped {
                    failures.push(format!(
                        "{} ({label}) refused {side}x{side} images with every channel count",
                        family.name
                    ));
                }
            }
        }
        println!("{}: {:.1?}", family.name, started.elapsed());
    }
    let _ = std::panic::take_hook();
    println!(
        "{} cases, {} refused:\n{}",
        cases,
        refusals.len(),
        refusals.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
