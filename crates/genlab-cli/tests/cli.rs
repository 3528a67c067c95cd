//! CLI integration tests in temp dirs: run-directory contents, bit-exact resume, and every
//! documented error message (exit code 2, nothing lost).

mod common;

use common::*;
use std::process::{Command, Output};

use std::path::Path;

fn tiny_train(dir: &Path, family: &str, out: &str, extra: &[&str]) -> Output {
    let mut args = vec!["train", family, "--preset", "tiny", "--out", out, "--quiet"];
    args.extend_from_slice(extra);
    genlab(&args, dir)
}

fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().to_string());
            }
        }
    }
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn train_writes_the_documented_run_directory() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&tiny_train(tmp.path(), "vae", "run", &[]));
    let files = files_under(&tmp.path().join("run"));
    let expected = [
        "ckpt/best",
        "ckpt/step-000010/model.safetensors",
        "ckpt/step-000010/optim-model.safetensors",
        "ckpt/step-000010/state.json",
        "ckpt/step-000020/model.safetensors",
        "ckpt/step-000020/optim-model.safetensors",
        "ckpt/step-000020/state.json",
        "config.toml",
        "curves.png",
        "meta.json",
        "metrics.jsonl",
        "samples/step-000010.png",
        "samples/step-000020.png",
    ];
    assert_eq!(files, expected);
    let metrics = std::fs::read_to_string(tmp.path().join("run/metrics.jsonl")).unwrap();
    let steps: Vec<u64> = metrics
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(steps, vec![5, 10, 15, 20]);
    let config = std::fs::read_to_string(tmp.path().join("run/config.toml")).unwrap();
    assert!(
        config.contains("family = \"vae\"") && config.contains("latent_dim = 2"),
        "{config}"
    );
    // 8 x 8 samples under a title band of one line.
    let png = image::open(tmp.path().join("run/samples/step-000020.png")).unwrap();
    assert_eq!((png.width(), png.height()), (8 * 58 + 2, 24 + 8 * 58 + 2));
}

#[test]
fn resume_continues_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&tiny_train(tmp.path(), "vae", "straight", &[]));
    ok(&tiny_train(tmp.path(), "vae", "split", &["--steps", "10"]));
    ok(&genlab(
        &[
            "train", "vae", "--out", "split", "--resume", "--steps", "20", "--quiet",
        ],
        tmp.path(),
    ));
    for file in ["model.safetensors", "optim-model.safetensors"] {
        let a = std::fs::read(tmp.path().join("straight/ckpt/step-000020").join(file)).unwrap();
        let b = std::fs::read(tmp.path().join("split/ckpt/step-000020").join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between 20 straight steps and 10 + resume + 10"
        );
    }
    let metrics = std::fs::read_to_string(tmp.path().join("split/metrics.jsonl")).unwrap();
    assert_eq!(
        metrics.lines().count(),
        4,
        "resume must not duplicate metric lines"
    );
}

#[test]
fn sample_reconstruct_interpolate_and_eval_work_on_a_trained_run() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&tiny_train(tmp.path(), "vae", "run", &[]));
    ok(&genlab(
        &["sample", "run", "-n", "16", "--out", "s.png"],
        tmp.path(),
    ));
    let s = image::open(tmp.path().join("s.png")).unwrap();
    assert_eq!(s.width(), 4 * 58 + 2);
    ok(&genlab(&["reconstruct", "run", "-n", "8"], tmp.path()));
    assert!(tmp.path().join("run/reconstructions.png").exists());
    let printed = ok(&genlab(
        &["interpolate", "run", "--rows", "2", "--steps", "5"],
        tmp.path(),
    ));
    assert!(
        printed.contains("manifold.png"),
        "a 2-D latent also gets a manifold grid: {printed}"
    );
    let json = ok(&genlab(
        &["eval", "run", "-k", "8", "-n", "40", "--json"],
        tmp.path(),
    ));
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    for key in [
        "nll_nats",
        "bits_per_dim",
        "bound",
        "k",
        "n_examples",
        "data",
        "mse_per_pixel",
    ] {
        assert!(v.get(key).is_some(), "eval --json lacks {key}: {v}");
    }
    assert_eq!(v["bound"], "estimate");
    // Active units (posterior-mean variance > 0.01, Burda et al.) have a mean KL above 0.005
    // nats, since KL >= mu^2 / 2 per example: the count must agree with kl_per_unit.
    let kl: Vec<f64> = v["kl_per_unit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_f64().unwrap())
        .collect();
    assert_eq!(kl.len(), 2, "one KL per latent unit: {v}");
    let informative = kl.iter().filter(|&&k| k > 0.005).count() as u64;
    assert!(v["active_units"].as_u64().unwrap() <= informative, "{v}");
    assert_eq!(v["n_examples"], 40);
    assert_eq!(v["data"]["split"], "test");
    // Binary pixels: bits/dim is nll / (d ln 2), with no d ln 256 term (that belongs to 8-bit
    // data modelled as a density).
    let nll = v["nll_nats"].as_f64().unwrap();
    assert!(
        (v["bits_per_dim"].as_f64().unwrap() - nll / (784.0 * std::f64::consts::LN_2)).abs() < 1e-9
    );
    assert!(tmp.path().join("run/eval/step-000020.json").exists());
}

#[test]
fn models_lists_every_family_with_capabilities() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(&genlab(&["models"], tmp.path()));
    for f in [
        "autoencoder",
        "vae",
        "iwae",
        "reconstruct",
        "likelihood",
        "Kingma & Welling",
    ] {
        assert!(out.contains(f), "{out}");
    }
}

#[test]
fn data_info_describes_a_set_and_writes_a_grid() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(&genlab(
        &["data", "info", "shapes", "--json", "--out", "g.png"],
        tmp.path(),
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["examples"], 12000);
    assert_eq!(v["classes"].as_array().unwrap().len(), 4);
    assert!(tmp.path().join("g.png").exists());
}

// ---- errors: exit 2, a message that names the problem and the fix ----

#[test]
fn missing_dataset_says_how_to_install_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tiny_train(
        tmp.path(),
        "vae",
        "run",
        &["--data", "fashion-mnist", "--data-dir", "/nonexistent/fm"],
    );
    fails_with(&out, &["apt-get install -y dataset-fashion-mnist"]);
    assert!(
        !tmp.path().join("run").exists(),
        "a failed start must not leave a run directory"
    );
}

#[test]
fn truncated_idx_reports_expected_and_found_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mnist");
    std::fs::create_dir(&dir).unwrap();
    let mut images = vec![0u8, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28];
    images.extend(vec![0u8; 784 * 2 - 10]);
    std::fs::write(dir.join("train-images-idx3-ubyte"), images).unwrap();
    std::fs::write(
        dir.join("train-labels-idx1-ubyte"),
        [0u8, 0, 8, 1, 0, 0, 0, 2, 1, 2],
    )
    .unwrap();
    let spec = format!("idx:{}", dir.display());
    fails_with(
        &tiny_train(tmp.path(), "vae", "run", &["--data", &spec]),
        &[
            "train-images-idx3-ubyte",
            "need 1568 data bytes, found 1558",
        ],
    );
}

#[test]
fn empty_and_mixed_size_image_folders_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails_with(
        &tiny_train(
            tmp.path(),
            "vae",
            "run",
            &["--data", &format!("folder:{}", empty.display())],
        ),
        &["holds no PNG or JPEG images"],
    );
    let mixed = tmp.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    image::GrayImage::new(8, 8)
        .save(mixed.join("a.png"))
        .unwrap();
    image::GrayImage::new(12, 8)
        .save(mixed.join("b.png"))
        .unwrap();
    fails_with(
        &tiny_train(
            tmp.path(),
            "vae",
            "run",
            &["--data", &format!("folder:{}", mixed.display())],
        ),
        &["12x8 differs from the first image's 8x8", "data.image_size"],
    );
}

#[test]
fn data_paths_with_quotes_and_backslashes_reach_the_config_as_given() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join(r#"my "odd" \images"#);
    std::fs::create_dir(&folder).unwrap();
    for i in 0..16u8 {
        image::GrayImage::from_pixel(8, 8, image::Luma([i * 16]))
            .save(folder.join(format!("{i}.png")))
            .unwrap();
    }
    let spec = format!("folder:{}", folder.display());
    ok(&tiny_train(
        tmp.path(),
        "vae",
        "run",
        &["--data", &spec, "--steps", "2"],
    ));
    let text = std::fs::read_to_string(tmp.path().join("run/config.toml")).unwrap();
    let config: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(
        config["data"]["spec"].as_str(),
        Some(spec.as_str()),
        "{text}"
    );
}

#[test]
fn unknown_family_suggests_the_closest() {
    let tmp = tempfile::tempdir().unwrap();
    fails_with(
        &genlab(&["train", "vea"], tmp.path()),
        &[
            "unknown family `vea`",
            "Did you mean `vae`?",
            "autoencoder, vae, iwae",
        ],
    );
    // The registry is clap's value set: `--help` lists every family.
    let help = ok(&genlab(&["train", "--help"], tmp.path()));
    assert!(
        help.contains("[possible values: autoencoder, vae, iwae,"),
        "{help}"
    );
}

#[test]
fn print_config_is_the_config_a_run_would_hold_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let set = ["--set", "train.ema_decay=0.5"];
    let printed = ok(&tiny_train(
        tmp.path(),
        "vae",
        "p",
        &[&set[..], &["--print-config"]].concat(),
    ));
    assert!(
        !tmp.path().join("p").exists(),
        "--print-config wrote a run folder"
    );
    ok(&tiny_train(tmp.path(), "vae", "r", &set));
    let written = std::fs::read_to_string(tmp.path().join("r/config.toml")).unwrap();
    // The one value the data decides: the run holds the data's channel count.
    let printed_resolved = printed.replace("channels = \"auto\"", "channels = 1");
    assert_eq!(printed_resolved, written);
    assert!(printed.contains("ema_decay = 0.5"), "{printed}");
    fails_with(
        &tiny_train(
            tmp.path(),
            "vae",
            "q",
            &["--set", "train.nope=1", "--print-config"],
        ),
        &["train.nope"],
    );
    // The family is the command's, not a key to override.
    fails_with(
        &tiny_train(
            tmp.path(),
            "vae",
            "q",
            &["--set", "family=gan", "--print-config"],
        ),
        &["--set: family `gan`", "genlab train gan"],
    );
    // So is a whole config file of another family: this, not its first unknown key.
    let gan = ok(&genlab(
        &["train", "gan", "--preset", "fashion", "--print-config"],
        tmp.path(),
    ));
    let file = tmp.path().join("gan.toml");
    std::fs::write(&file, gan).unwrap();
    fails_with(
        &tiny_train(
            tmp.path(),
            "vae",
            "q",
            &["--config", file.to_str().unwrap(), "--print-config"],
        ),
        &[
            "gan.toml: family `gan` contradicts `genlab train vae`",
            "genlab train gan",
        ],
    );
}

#[test]
fn unknown_config_key_lists_the_valid_ones() {
    let tmp = tempfile::tempdir().unwrap();
    fails_with(
        &tiny_train(tmp.path(), "vae", "run", &["--set", "model.latnet_dim=3"]),
        &["unknown config key `model.latnet_dim`", "model.latent_dim"],
    );
}

#[test]
fn wrong_type_and_out_of_range_values_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    fails_with(
        &tiny_train(
            tmp.path(),
            "vae",
            "run",
            &["--set", "model.latent_dim=\"two\""],
        ),
        &["latent_dim"],
    );
    fails_with(
        &tiny_train(tmp.path(), "vae", "run", &["--set", "train.batch_size=0"]),
        &["train.batch_size must be at least 1"],
    );
    fails_with(
        &tiny_train(tmp.path(), "vae", "run", &["--set", "optim.model.lr=-1"]),
        &["optim.model.lr"],
    );
}

#[test]
fn an_existing_run_needs_resume() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&tiny_train(tmp.path(), "vae", "run", &["--steps", "10"]));
    let before = files_under(&tmp.path().join("run"));
    fails_with(
        &tiny_train(tmp.path(), "vae", "run", &[]),
        &["already holds a run", "--resume"],
    );
    assert_eq!(
        before,
        files_under(&tmp.path().join("run")),
        "the refused command changed the run"
    );
}

#[test]
fn missing_and_truncated_checkpoints_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    fails_with(
        &genlab(&["sample", "nowhere"], tmp.path()),
        &["nowhere is not a run directory"],
    );
    ok(&tiny_train(tmp.path(), "vae", "run", &[]));
    let f = tmp.path().join("run/ckpt/step-000020/model.safetensors");
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    fails_with(
        &genlab(&["sample", "run"], tmp.path()),
        &["model.safetensors is truncated or corrupt", "step-000010"],
    );
}

#[test]
fn unsupported_capability_teaches_the_right_command() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&tiny_train(tmp.path(), "autoencoder", "ae", &[]));
    fails_with(
        &genlab(&["sample", "ae"], tmp.path()),
        &["autoencoder cannot sample unconditionally; try `genlab reconstruct`"],
    );
}

#[test]
fn an_unwritable_output_directory_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("afile"), "x").unwrap();
    fails_with(
        &tiny_train(tmp.path(), "vae", "afile/run", &[]),
        &["cannot create run directory afile/run"],
    );
}

#[test]
fn resume_refuses_to_change_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&tiny_train(tmp.path(), "vae", "run", &["--steps", "10"]));
    // The same command line with a changed key: the key is named with both values, and
    // train.steps, which may change, is not.
    let err = fails_with(
        &tiny_train(
            tmp.path(),
            "vae",
            "run",
            &[
                "--steps",
                "20",
                "--resume",
                "--set",
                "model.latent_dim=3",
                "--seed",
                "4",
            ],
        ),
        &[
            "model.latent_dim: saved 2, given 3",
            "seed: saved 0, given 4",
            "Only --steps may change",
        ],
    );
    assert!(!err.contains("train.steps"), "{err}");
    // Without --preset tiny the command line resolves to the default preset: refused too.
    fails_with(
        &genlab(
            &["train", "vae", "--out", "run", "--resume", "--seed", "0"],
            tmp.path(),
        ),
        &["model.latent_dim: saved 2, given 20"],
    );
}

#[test]
fn the_same_command_line_with_resume_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ["--data", "shapes", "--set", "model.latent_dim=2"];
    ok(&tiny_train(tmp.path(), "vae", "straight", &data));
    ok(&tiny_train(
        tmp.path(),
        "vae",
        "split",
        &[&data[..], &["--steps", "10"]].concat(),
    ));
    // The first command line again, --resume appended (and the steps raised).
    ok(&tiny_train(
        tmp.path(),
        "vae",
        "split",
        &[&data[..], &["--steps", "20", "--resume"]].concat(),
    ));
    let file = "ckpt/step-000020/model.safetensors";
    assert!(
        std::fs::read(tmp.path().join("straight").join(file)).unwrap()
            == std::fs::read(tmp.path().join("split").join(file)).unwrap(),
        "10 steps + resume + 10 differ from 20 straight steps"
    );
    let config = std::fs::read_to_string(tmp.path().join("split/config.toml")).unwrap();
    assert!(config.contains("steps = 20"), "{config}");
}

#[test]
fn divergence_stops_with_the_step_and_the_loss_term() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tiny_train(tmp.path(), "vae", "run", &["--set", "optim.model.lr=1e30"]);
    fails_with(
        &out,
        &[
            "training diverged: loss term",
            "at step",
            "Lower the learning rate",
        ],
    );
    // A GAN names both of its optimizers, whichever term diverged.
    let out = tiny_train(
        tmp.path(),
        "gan",
        "gan",
        &["--set", "optim.disc.lr=1e30", "--set", "optim.gen.lr=1e30"],
    );
    fails_with(
        &out,
        &[
            "training diverged",
            "optim.gen.lr / optim.disc.lr",
            "optim.gen.clip_grad_norm / optim.disc.clip_grad_norm = 1",
        ],
    );
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_the_run_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_genlab"))
        .args([
            "train",
            "vae",
            "--preset",
            "tiny",
            "--steps",
            "100000",
            "--out",
            "run",
            "--quiet",
            "--set",
            "train.checkpoint_every=100000",
        ])
        .current_dir(tmp.path())
        .spawn()
        .unwrap();
    // Wait until training has started (the run directory has its config), then interrupt.
    let started = std::time::Instant::now();
    while !tmp.path().join("run/samples/step-000010.png").exists() {
        assert!(started.elapsed().as_secs() < 60, "training did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let ckpts: Vec<String> = std::fs::read_dir(tmp.path().join("run/ckpt"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("step-"))
        .collect();
    assert_eq!(ckpts.len(), 1, "{ckpts:?}");
    let step: u64 = ckpts[0].trim_start_matches("step-").parse().unwrap();
    assert!((10..100000).contains(&step));
    let target = (step + 5).to_string();
    ok(&genlab(
        &[
            "train", "vae", "--out", "run", "--resume", "--steps", &target, "--quiet",
        ],
        tmp.path(),
    ));
    assert!(tmp
        .path()
        .join(format!("run/ckpt/step-{:06}", step + 5))
        .exists());
}

#[test]
fn point_data_refuses_pixel_preprocessing_and_pixel_likelihoods() {
    let tmp = tempfile::tempdir().unwrap();
    // The default vae preset binarizes Fashion-MNIST; on points that is refused by name.
    fails_with(
        &genlab(
            &[
                "train",
                "vae",
                "--data",
                "toy:ring8",
                "--out",
                "r",
                "--steps",
                "2",
            ],
            tmp.path(),
        ),
        &["holds points (vectors), not pixels", "data.binarize"],
    );
    fails_with(
        &tiny_train(
            tmp.path(),
            "vae",
            "r",
            &["--data", "toy:ring8", "--set", "data.binarize=none"],
        ),
        &["model.decoder = \"gaussian\""],
    );
    ok(&tiny_train(
        tmp.path(),
        "vae",
        "r",
        &[
            "--data",
            "toy:ring8",
            "--set",
            "data.binarize=none",
            "--set",
            "model.decoder=gaussian",
        ],
    ));
    let png = image::open(tmp.path().join("r/samples/step-000020.png")).unwrap();
    assert_eq!(
        (png.width(), png.height()),
        (540, 528),
        "2-D samples are drawn as a scatter plot (a 440-pixel square with its axes)"
    );
}

#[test]
fn ema_weights_are_checkpointed_and_resume_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let ema = ["--set", "train.ema_decay=0.9"];
    ok(&tiny_train(tmp.path(), "vae", "straight", &ema));
    ok(&tiny_train(
        tmp.path(),
        "vae",
        "split",
        &[&ema[..], &["--steps", "10"]].concat(),
    ));
    ok(&genlab(
        &[
            "train", "vae", "--out", "split", "--resume", "--steps", "20", "--quiet",
        ],
        tmp.path(),
    ));
    for file in [
        "model.safetensors",
        "ema-model.safetensors",
        "optim-model.safetensors",
    ] {
        let a = std::fs::read(tmp.path().join("straight/ckpt/step-000020").join(file)).unwrap();
        let b = std::fs::read(tmp.path().join("split/ckpt/step-000020").join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between 20 straight steps and 10 + resume + 10"
        );
    }
    let a = std::fs::read(
        tmp.path()
            .join("straight/ckpt/step-000020/model.safetensors"),
    )
    .unwrap();
    let e = std::fs::read(
        tmp.path()
            .join("straight/ckpt/step-000020/ema-model.safetensors"),
    )
    .unwrap();
    assert!(a != e, "the EMA must differ from the live weights");
    // `eval --weights live` of the EMA run is the run trained without an average (the average
    // does not change the trajectory), in its own file; the default evaluates the average.
    ok(&tiny_train(tmp.path(), "vae", "plain", &[]));
    let eval = |run: &str, extra: &[&str]| -> serde_json::Value {
        let args = [
            &[
                "eval",
                run,
                "-k",
                "4",
                "-n",
                "40",
                "--samples",
                "0",
                "--json",
            ],
            extra,
        ]
        .concat();
        serde_json::from_str(&ok(&genlab(&args, tmp.path()))).unwrap()
    };
    // The average first: the live eval after it must leave its file alone.
    let averaged = eval("straight", &[]);
    let (plain, live) = (eval("plain", &[]), eval("straight", &["--weights", "live"]));
    assert_eq!(
        (&plain["weights"], &live["weights"], &averaged["weights"]),
        (&"live".into(), &"live".into(), &"ema".into())
    );
    assert_eq!(
        live["nll_nats"], plain["nll_nats"],
        "live weights of the EMA run differ from a run without it"
    );
    assert_ne!(
        averaged["nll_nats"], live["nll_nats"],
        "the average evaluated like the live weights"
    );
    let saved = |name: &str| -> serde_json::Value {
        let path = tmp.path().join("straight/eval").join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    assert_eq!(saved("step-000020-live.json")["nll_nats"], live["nll_nats"]);
    assert_eq!(
        saved("step-000020.json")["nll_nats"],
        averaged["nll_nats"],
        "a live eval wrote over the run's own"
    );
    fails_with(
        &tiny_train(tmp.path(), "vae", "bad", &["--set", "train.ema_decay=1.5"]),
        &["train.ema_decay must be in [0, 1)"],
    );
}

#[test]
fn mixtures_on_tabular_data_name_bad_input_and_pick_k_by_bic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Three tight clusters in 3-D, 12 rows each; a header line, then the rows.
    let mut csv = String::from("a,b,c\n");
    for i in 0..36 {
        let (c, j) = ((i % 3) as f64 * 10.0, (i / 3) as f64 * 0.01);
        csv += &format!("{},{},{}\n", c + j, c - j, c + 2.0 * j);
    }
    std::fs::write(dir.join("x.csv"), &csv).unwrap();
    // K larger than N.
    fails_with(
        &genlab(
            &[
                "train",
                "gmm",
                "--data",
                "csv:x.csv",
                "--set",
                "model.k=40",
                "--out",
                "r0",
                "--quiet",
            ],
            dir,
        ),
        &["model.k = 40", "only 36", "lower model.k"],
    );
    assert!(
        !dir.join("r0/ckpt").exists(),
        "a refused run leaves no checkpoint"
    );
    // NaN in the data: the line and the column are named.
    std::fs::write(dir.join("nan.csv"), "a,b,c\n1,2,3\n4,NaN,6\n").unwrap();
    fails_with(
        &genlab(
            &["train", "gmm", "--data", "csv:nan.csv", "--out", "r1"],
            dir,
        ),
        &["nan.csv", "line 3", "column `b`", "NaN"],
    );
    // A fit, then evaluation on data of another dimension.
    ok(&genlab(
        &[
            "train",
            "gmm",
            "--data",
            "csv:x.csv",
            "--set",
            "model.k=3",
            "--out",
            "r2",
            "--quiet",
        ],
        dir,
    ));
    std::fs::write(dir.join("four.csv"), "1,2,3,4\n5,6,7,8\n").unwrap();
    fails_with(
        &genlab(
            &["eval", "r2", "--data", "csv:four.csv", "--split", "train"],
            dir,
        ),
        &["four.csv", "4 values (columns)", "trained on 3 values"],
    );
    // Model selection by BIC finds the three clusters.
    let out = ok(&genlab(
        &[
            "gmm-select",
            "--data",
            "csv:x.csv",
            "--k",
            "1..6",
            "--out",
            "sel",
        ],
        dir,
    ));
    assert!(out.contains("best by BIC: K = 3"), "{out}");
    assert!(dir.join("sel/bic.png").exists() && dir.join("sel/gmm-select.json").exists());
}

#[test]
fn rbm_and_dbn_show_chains_filters_and_completions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&tiny_train(dir, "rbm", "rbm", &[]));
    ok(&tiny_train(dir, "dbn", "dbn", &[]));
    for run in ["rbm", "dbn"] {
        ok(&genlab(&["sample", run, "--chain", "-n", "4"], dir));
        ok(&genlab(&["sample", run, "--filters", "-n", "16"], dir));
        let chain = common::open(&dir.join(run).join("chain.png"));
        let filters = common::open(&dir.join(run).join("filters.png"));
        // The noise and 11 snapshots per chain side by side; 16 filters in a 4 x 4 grid.
        common::assert_grid(&chain, 4, 12, &format!("{run} chain"));
        common::assert_grid(&filters, 4, 4, &format!("{run} filters"));
    }
    ok(&genlab(
        &["complete", "rbm", "--mask", "bottom-half", "-n", "2"],
        dir,
    ));
    // Only the RBM can complete images: the DBN says which command it supports instead.
    fails_with(
        &genlab(&["complete", "dbn", "-n", "2"], dir),
        &["dbn", "complete"],
    );
}

#[test]
fn eval_reports_mode_coverage_on_toy_mixtures_with_its_protocol() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // EM on the ring of 8 finds every mode: a model whose coverage is known.
    ok(&genlab(&["train", "gmm", "--out", "g", "--quiet"], dir));
    let out = ok(&genlab(&["eval", "g", "--json"], dir));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["modes_total"], 8, "{v}");
    assert_eq!(v["modes_captured"], 8, "{v}");
    assert!(v["high_quality_fraction"].as_f64().unwrap() > 0.95, "{v}");
    assert!(v["reverse_kl"].as_f64().unwrap() < 0.01, "{v}");
    assert_eq!(v["mode_protocol"]["samples"], 2500, "{v}");
    assert_eq!(v["mode_protocol"]["threshold_sigmas"], 3.0, "{v}");
    // Beside it, sample quality on the coordinates, with its own protocol.
    assert_eq!(v["protocol"]["judge"], "coordinates", "{v}");
    assert!(v["fid"].as_f64().unwrap() < 0.1, "{v}");
    // A short GAN run logs its coverage at every sample cadence.
    let out = genlab(
        &[
            "train",
            "gan",
            "--steps",
            "40",
            "--set",
            "train.sample_every=20",
            "--out",
            "gan",
        ],
        dir,
    );
    ok(&out);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("step 20: modes ") || log.contains("ALARM step 20"),
        "{log}"
    );
}

/// The mean squared error `genlab invert` reports for image 0.
fn inversion_error(out: &Output) -> f64 {
    let text = ok(out);
    let line = text
        .lines()
        .find(|l| l.starts_with("image 0: mse "))
        .unwrap_or_else(|| panic!("no error line in {text}"));
    line["image 0: mse ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn gan_latent_tools_write_pictures_and_refuse_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&tiny_train(dir, "gan", "g", &[]));
    // Inversion finds the code of the model's own sample: the error falls towards 0.
    let invert = |steps: &str| {
        inversion_error(&genlab(
            &[
                "invert",
                "g",
                "--sample",
                "0",
                "--steps",
                steps,
                "--restarts",
                "2",
            ],
            dir,
        ))
    };
    let (few, many) = (invert("1"), invert("300"));
    assert!(
        many < 0.1 * few && many < 1e-3,
        "inversion did not converge: {few} -> {many}"
    );
    ok(&genlab(
        &["invert", "g", "--index", "0,1", "--steps", "5"],
        dir,
    ));
    let codes: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("g/invert.json")).unwrap()).unwrap();
    assert_eq!(codes["codes"][0].as_array().unwrap().len(), 8, "{codes}");
    let img = image::open(dir.join("g/invert.png")).unwrap();
    assert!(img.width() > 3 * 28 && img.height() >= 28);
    // Codes of the wrong size, an image of the wrong size.
    std::fs::write(dir.join("z.json"), r#"{"codes": [[0.1, 0.2, 0.3]]}"#).unwrap();
    fails_with(
        &genlab(&["invert", "g", "--index", "0", "--init", "z.json"], dir),
        &["code 0 has 3 values", "latent size is 8"],
    );
    image::GrayImage::new(32, 32)
        .save(dir.join("big.png"))
        .unwrap();
    fails_with(
        &genlab(&["invert", "g", "big.png"], dir),
        &["big.png is 32x32", "trained on 28x28", "resize"],
    );
    // A GAN has no encoder: interpolation runs between random codes.
    let text = ok(&genlab(&["interpolate", "g"], dir));
    assert!(
        text.contains("interpolating between random codes"),
        "{text}"
    );
    ok(&genlab(
        &["arithmetic", "g", "--a", "0,1", "--b", "2", "--c", "3"],
        dir,
    ));
    let text = ok(&genlab(&["neighbours", "g", "-n", "2", "-k", "3"], dir));
    assert!(text.contains("sample 1: nearest training image"), "{text}");
    for f in ["interpolation.png", "arithmetic.png", "neighbours.png"] {
        assert!(dir.join("g").join(f).exists(), "{f}");
    }
    fails_with(
        &genlab(&["traverse", "g"], dir),
        &["gan cannot traverse codes"],
    );
    // InfoGAN: the traversal grid has one row per category; a code out of range is refused.
    ok(&tiny_train(dir, "infogan", "info", &[]));
    ok(&genlab(&["traverse", "info", "--steps", "5"], dir));
    let img = image::open(dir.join("info/traverse.png")).unwrap();
    assert!(
        img.height() > img.width() / 2,
        "4 rows of 5: {}x{}",
        img.width(),
        img.height()
    );
    fails_with(
        &genlab(&["traverse", "info", "--code", "2"], dir),
        &["--code 2 is out of range", "2 continuous codes"],
    );
    // Conditional: a label by number or by name (any case); one out of range lists them.
    ok(&tiny_train(dir, "cgan", "c", &[]));
    fails_with(
        &genlab(&["sample", "c", "--label", "4"], dir),
        &["--label 4 is not a class of cgan", "0 circle"],
    );
    ok(&genlab(
        &["sample", "c", "--label", "Circle", "--out", "byname.png"],
        dir,
    ));
    ok(&genlab(
        &["sample", "c", "--label", "0", "--out", "bynumber.png"],
        dir,
    ));
    assert_eq!(
        std::fs::read(dir.join("byname.png")).unwrap(),
        std::fs::read(dir.join("bynumber.png")).unwrap()
    );
}

/// Conditional GANs on the ring of 8, whose labels are the modes: samples of label c land on
/// mode c (genlab eval's label_accuracy).
#[test]
fn conditional_gans_put_each_label_on_its_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A classifier of the ring's modes (Gaussian per class, Bayes rule) judges samples too.
    ok(&genlab(
        &[
            "train",
            "class-gaussian",
            "--data",
            "toy:ring8",
            "--set",
            "model.covariance=full",
            "--out",
            "judge",
            "--quiet",
        ],
        dir,
    ));
    for family in ["cgan", "acgan"] {
        ok(&genlab(
            &[
                "train", family, "--steps", "1500", "--out", family, "--quiet",
            ],
            dir,
        ));
        let out = ok(&genlab(
            &["eval", family, "--json", "--classifier", "judge"],
            dir,
        ));
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let acc = v["label_accuracy"].as_f64().unwrap();
        assert!(acc > 0.9, "{family}: label accuracy {acc}: {v}");
        let judged = v["label_accuracy_by_classifier"].as_f64().unwrap();
        assert!(judged > 0.9, "{family}: classifier accuracy {judged}: {v}");
    }
    fails_with(
        &genlab(&["eval", "acgan", "--classifier", "cgan"], dir),
        &["cgan cannot classify"],
    );
}

#[test]
fn packing_trains_and_bad_pack_values_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&tiny_train(dir, "gan", "p", &["--set", "model.pack=4"]));
    fails_with(
        &tiny_train(dir, "gan", "q", &["--set", "model.pack=3"]),
        &["batch_size = 16 is not a multiple of model.pack = 3"],
    );
    fails_with(
        &tiny_train(dir, "cgan", "r", &["--set", "model.pack=2"]),
        &["cgan: model.pack = 2", "packing (PacGAN) is for gan"],
    );
}

/// Every GAN option together on the DCGAN nets, with an EMA of the weights: batch-norm
/// statistics and spectral-norm vectors (which have no average) must survive the EMA swap at
/// sample time and the checkpoint, so that sampling a resumed run matches the original.
#[test]
fn gan_options_combine_with_ema_and_batch_norm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let opts = [
        "--set",
        "train.ema_decay=0.9",
        "--set",
        "model.minibatch_std=true",
        "--set",
        "model.spectral_norm=true",
        "--set",
        "model.instance_noise=0.1",
        "--set",
        "model.label_smoothing=0.1",
    ];
    ok(&tiny_train(dir, "dcgan", "d", &opts));
    ok(&genlab(&["sample", "d", "-n", "4", "--out", "a.png"], dir));
    ok(&genlab(&["sample", "d", "-n", "4", "--out", "b.png"], dir));
    let (a, b) = (
        image::open(dir.join("a.png")).unwrap().to_rgb8(),
        image::open(dir.join("b.png")).unwrap().to_rgb8(),
    );
    assert_eq!(a, b, "sampling the same run twice differs");
    // The cells only: the titles name different runs.
    let a = common::cell_pixels(&a);
    // The EMA generator differs from the live one.
    ok(&tiny_train(dir, "dcgan", "live", &opts[2..]));
    ok(&genlab(
        &["sample", "live", "-n", "4", "--out", "c.png"],
        dir,
    ));
    let c = common::cell_pixels(&image::open(dir.join("c.png")).unwrap().to_rgb8());
    assert_ne!(a, c, "EMA weights sampled the same as the live ones");
    // `--weights live` of the EMA run draws what the run without an average draws (the average
    // does not change training), into samples-live.png beside samples.png.
    ok(&genlab(
        &["sample", "d", "-n", "4", "--weights", "live"],
        dir,
    ));
    let l = common::cell_pixels(
        &image::open(dir.join("d/samples-live.png"))
            .unwrap()
            .to_rgb8(),
    );
    assert_eq!(
        l, c,
        "the live weights of the EMA run differ from the run without it"
    );
    assert!(
        !dir.join("d/samples.png").exists(),
        "live draws also wrote samples.png"
    );
}

#[test]
fn gans_complete_images_by_masked_inversion() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&tiny_train(dir, "dcgan", "dcgan", &[]));
    let args = [
        "complete",
        "dcgan",
        "-n",
        "2",
        "--samples",
        "3",
        "--steps",
        "30",
    ];
    ok(&genlab(&args, dir));
    let img = common::open(&dir.join("dcgan/completions.png"));
    // Masked input, three completions (one per random start) and the original.
    let b = common::assert_grid(&img, 2, 5, "GAN completions");
    let cell = |r: u32, c: u32, top: bool| -> Vec<[u8; 3]> {
        let half = common::CELL / 2;
        let ys = if top {
            2..half - 2
        } else {
            half + 2..common::CELL - 2
        };
        ys.flat_map(|y| (2..common::CELL - 2).map(move |x| (x, y)))
            .map(|(x, y)| {
                img.get_pixel(b.0 + c * common::CELL + x, b.1 + r * common::CELL + y)
                    .0
            })
            .collect()
    };
    for r in 0..2 {
        for c in 1..4 {
            // The known top half is the original's; the hole is filled, not left grey.
            assert_eq!(
                cell(r, c, true),
                cell(r, 4, true),
                "row {r}, completion {c}"
            );
            assert_ne!(
                cell(r, c, false),
                cell(r, 0, false),
                "row {r}, completion {c}"
            );
        }
        assert_ne!(cell(r, 1, false), cell(r, 2, false), "two starts, one fill");
    }
    // --json scores every image and draws the first 8. With one pixel hidden, the known part
    // kept leaves at most one pixel's error per image; the centre hidden leaves more.
    let scores = |mask: &str| -> serde_json::Value {
        let args = [
            "complete",
            "dcgan",
            "-n",
            "12",
            "--samples",
            "1",
            "--steps",
            "5",
            "--json",
            "--mask",
            mask,
            "--out",
            "scored.png",
            "--force",
        ];
        serde_json::from_str(&ok(&genlab(&args, dir))).unwrap()
    };
    let (pixel, centre) = (scores("box:3,3,1,1"), scores("center"));
    common::assert_grid(
        &common::open(&dir.join("scored.png")),
        8,
        3,
        "scored completions",
    );
    assert_eq!(pixel["n_examples"], 12);
    for key in ["l1", "l1_mean"] {
        let (p, c) = (pixel[key].as_f64().unwrap(), centre[key].as_f64().unwrap());
        assert!(p <= 1.0 / 784.0 + 1e-6, "{key} {p}: known part not kept");
        assert!(
            c > 10.0 * p,
            "{key}: the centre ({c}) hides more than one pixel ({p})"
        );
    }
    assert_eq!(centre["mask"], "center");
    // The mean-image baseline is `genlab eval`'s on the hole task over the same test images.
    ok(&tiny_train(dir, "context-encoder", "ce", &[]));
    let eval: serde_json::Value =
        serde_json::from_str(&ok(&genlab(&["eval", "ce", "-n", "12", "--json"], dir))).unwrap();
    for key in ["l1_mean", "psnr_mean", "ssim_mean"] {
        let (ours, theirs) = (centre[key].as_f64().unwrap(), eval[key].as_f64().unwrap());
        assert!(
            (ours - theirs).abs() < 1e-4,
            "{key}: complete {ours}, eval {theirs}"
        );
    }
    for key in ["psnr", "ssim"] {
        assert!(centre[key].as_f64().unwrap().is_finite(), "{key}: {centre}");
    }
    fails_with(
        &genlab(&["complete", "dcgan", "--steps", "0"], dir),
        &["--steps and --lr must be positive"],
    );
}

#[test]
fn exact_likelihood_models_complete_images_and_refuse_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for family in ["made", "pixelcnn", "vae"] {
        ok(&tiny_train(dir, family, family, &[]));
        ok(&genlab(
            &[
                "complete",
                family,
                "--mask",
                "box:14,0,14,28",
                "-n",
                "2",
                "--samples",
                "2",
            ],
            dir,
        ));
        let img = common::open(&dir.join(family).join("completions.png"));
        // Masked input, two completions and the original side by side, two rows.
        let b = common::assert_grid(&img, 2, 4, &format!("{family} completions"));
        common::assert_col_captions(&img, b, 4, common::CELL, 1);
    }
    // A mask outside the image names the image size and the limits.
    fails_with(
        &genlab(
            &["complete", "made", "--mask", "box:20,0,10,28", "-n", "2"],
            dir,
        ),
        &["outside", "28x28", "ROW + HEIGHT <= 28"],
    );
    fails_with(
        &genlab(&["complete", "made", "--mask", "box:1,2", "-n", "2"], dir),
        &["box:ROW,COL,HEIGHT,WIDTH"],
    );
    // A trained model refuses data of another size, naming both.
    let small = dir.join("small");
    std::fs::create_dir(&small).unwrap();
    for prefix in ["train", "t10k"] {
        let mut images = vec![0u8, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 10, 0, 0, 0, 10];
        images.extend(vec![128u8; 200]);
        std::fs::write(small.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
        let labels = [0u8, 0, 8, 1, 0, 0, 0, 2, 1, 2];
        std::fs::write(small.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
    }
    let spec = format!("idx:{}", small.display());
    fails_with(
        &genlab(&["eval", "made", "--data", &spec], dir),
        &["1x10x10", "1x28x28"],
    );
    // Bernoulli models refuse grey-level data; flows refuse data that is not dequantized.
    fails_with(
        &tiny_train(dir, "nade", "n2", &["--set", "data.binarize=none"]),
        &["binary pixels", "data.binarize"],
    );
    fails_with(
        &tiny_train(dir, "realnvp", "r2", &["--set", "data.dequantize=false"]),
        &["data.dequantize = true"],
    );
    // The exact likelihood is reported as such, in nats and bits/dim.
    let out = ok(&genlab(
        &["eval", "made", "--json", "-n", "200", "--scores", "s.csv"],
        dir,
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["bound"], "exact", "{v}");
    assert!(v["bits_per_dim"].as_f64().unwrap() > 0.0, "{v}");
    // Per-example scores average to the reported NLL.
    let csv = std::fs::read_to_string(dir.join("s.csv")).unwrap();
    let nll: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(nll.len(), 200);
    let mean = nll.iter().sum::<f64>() / 200.0;
    assert!(
        (mean - v["nll_nats"].as_f64().unwrap()).abs() < 1e-2,
        "{mean} vs {v}"
    );
}

#[test]
fn gan_runs_mark_no_best_checkpoint_by_the_discriminator_loss() {
    // The lowest d_loss is the strongest critic, not the best generator: a GAN run keeps the
    // last checkpoints only and writes no ckpt/best; a VAE run keeps its best beside them.
    let tmp = tempfile::tempdir().unwrap();
    ok(&tiny_train(
        tmp.path(),
        "dcgan",
        "gan",
        &["--set", "train.keep_last=1"],
    ));
    let files = files_under(&tmp.path().join("gan/ckpt"));
    assert!(!files.iter().any(|f| f == "best"), "{files:?}");
    assert!(
        files.iter().all(|f| f.starts_with("step-000020/")),
        "only the last checkpoint is kept: {files:?}"
    );
    ok(&tiny_train(
        tmp.path(),
        "vae",
        "vae",
        &["--set", "train.keep_last=1"],
    ));
    let best = std::fs::read_to_string(tmp.path().join("vae/ckpt/best")).unwrap();
    assert!(best.starts_with("step-0000"), "{best}");
}

#[test]
fn a_mixture_on_pca_components_reports_a_projected_density_not_pixel_bits() {
    // A GMM on 8 PCA components of 784-pixel images has an exact density of those 8 numbers;
    // dividing its nats by 784 would make it look comparable with pixel models.
    let tmp = tempfile::tempdir().unwrap();
    ok(&tiny_train(
        tmp.path(),
        "gmm",
        "run",
        &[
            "--data",
            "shapes",
            "--set",
            "model.pca=8",
            "--set",
            "model.k=2",
        ],
    ));
    let out = ok(&genlab(&["eval", "run", "--json", "-n", "200"], tmp.path()));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["bound"], "projected", "{v}");
    assert!(v.get("bits_per_dim").is_none(), "{v}");
    assert_eq!(v["projected_dims"], 8, "{v}");
    let nll = v["nll_nats"].as_f64().unwrap();
    let bits = v["bits_per_projected_dim"].as_f64().unwrap();
    assert!(
        (bits - nll / (8.0 * std::f64::consts::LN_2)).abs() < 1e-9,
        "{v}"
    );
}

#[test]
fn no_command_writes_over_a_runs_own_files() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&tiny_train(tmp.path(), "vae", "run", &[]));
    let config = std::fs::read(tmp.path().join("run/config.toml")).unwrap();
    for args in [
        vec!["sample", "run", "--out", "run/config.toml"],
        vec!["eval", "run", "-n", "10", "--scores", "run/config.toml"],
        vec![
            "invert",
            "run",
            "--index",
            "0",
            "--steps",
            "1",
            "--out",
            "run/meta.png",
        ],
        vec![
            "sample",
            "run",
            "--out",
            "run/ckpt/step-000099/model.safetensors",
        ],
    ] {
        fails_with(
            &genlab(&args, tmp.path()),
            &["belongs to the run", "another --out"],
        );
    }
    assert_eq!(
        std::fs::read(tmp.path().join("run/config.toml")).unwrap(),
        config
    );
    assert!(!tmp.path().join("run/ckpt/step-000099").exists());
    ok(&genlab(&["sample", "run", "-n", "4"], tmp.path()));
}

#[test]
fn a_start_that_failed_before_its_first_checkpoint_is_not_a_run_to_resume() {
    // K = 20 components cannot fit 6 points: the start fails after the run folder was made.
    // The fixed command line then starts afresh, with or without --resume, instead of being
    // sent to --resume, which would replay the failing config.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("p.csv"),
        "x,y\n1,0\n2,1\n3,0\n4,1\n5,0\n6,1\n",
    )
    .unwrap();
    let train = |k: &str, extra: &[&str]| {
        let set = format!("model.k={k}");
        let mut args = vec![
            "train",
            "gmm",
            "--data",
            "csv:p.csv",
            "--out",
            "c",
            "--quiet",
        ];
        args.extend(["--set", &set]);
        args.extend(extra);
        genlab(&args, tmp.path())
    };
    for extra in [&[][..], &["--resume"][..]] {
        fails_with(&train("20", &[]), &["model.k"]);
        assert!(!tmp.path().join("c/ckpt").exists());
        ok(&train("2", extra));
        assert!(tmp.path().join("c/ckpt").is_dir());
        std::fs::remove_dir_all(tmp.path().join("c")).unwrap();
    }
    // A run that reached a checkpoint is still a run: a plain start is refused.
    ok(&train("2", &[]));
    fails_with(&train("2", &[]), &["already holds a run", "--resume"]);
}

#[test]
fn reconstruction_error_on_points_is_in_their_units_never_clipped() {
    // Points around -10: clipping data and reconstructions to [0, 1] made both 0 and reported
    // an error of 0; the error per coordinate must match what training minimised (its `rec`
    // is the squared error summed over the 2 coordinates, in the data's units when
    // data.standardize is off).
    let tmp = tempfile::tempdir().unwrap();
    let rows: String = (0..200)
        .map(|i| {
            format!(
                "{},{}\n",
                -10.0 + (i % 7) as f64 * 0.3,
                -10.0 - (i % 5) as f64 * 0.2
            )
        })
        .collect();
    std::fs::write(tmp.path().join("p.csv"), format!("a,b\n{rows}")).unwrap();
    ok(&tiny_train(
        tmp.path(),
        "autoencoder",
        "r",
        &[
            "--data",
            "csv:p.csv",
            "--set",
            "model.loss=\"mse\"",
            "--set",
            "data.standardize=\"off\"",
        ],
    ));
    let out = ok(&genlab(
        &["eval", "r", "--json", "--split", "train"],
        tmp.path(),
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mse = v["mse_per_pixel"].as_f64().unwrap();
    let metrics = std::fs::read_to_string(tmp.path().join("r/metrics.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    let rec = last["losses"]["rec"].as_f64().unwrap() / 2.0;
    assert!(mse > 10.0, "clipped: {v}");
    assert!(
        mse > rec / 2.0 && mse < rec * 2.0,
        "eval {mse} vs training {rec} per coordinate"
    );
}
