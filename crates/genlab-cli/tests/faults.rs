//! Interrupted writes (issue 19): a training stopped dead at each fault point of
//! `genlab_core::fault` (`GENLAB_FAULT=<point>:<n>`: the process exits at once, as a crash
//! would) and then resumed with the same command line plus `--resume` ends byte-identical to a
//! straight run. Every file and folder of the run directory is compared; metrics.jsonl without
//! its timing (`steps_per_sec`) and meta.json without `started_unix`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `genlab_core::fault::EXIT_CODE`.
const FAULT_EXIT: i32 = 86;

fn genlab(args: &[String], cwd: &Path, fault: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genlab"));
    cmd.args(args).current_dir(cwd).env_remove("GENLAB_FAULT");
    if let Some(f) = fault {
        cmd.env("GENLAB_FAULT", f);
    }
    cmd.output().expect("genlab runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// `train FAMILY ... --out OUT` with cadences that interleave: a checkpoint falls between
/// metrics lines, so the window of open sums must survive it.
fn train_args(family: &[&str], out: &str, steps: u64) -> Vec<String> {
    let mut args = vec!["train".to_string()];
    args.extend(family.iter().map(|s| s.to_string()));
    let steps = steps.to_string();
    args.extend(
        [
            "--out",
            out,
            "--steps",
            &steps,
            "--quiet",
            "--set",
            "train.log_every=4",
            "--set",
            "train.sample_every=5",
            "--set",
            "train.checkpoint_every=6",
            "--set",
            "train.keep_last=2",
        ]
        .map(String::from),
    );
    args
}

/// Every file and folder under `root`, relative, sorted (hidden ones included).
fn entries(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().to_path_buf());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// A metrics line without its `steps_per_sec`.
fn without_timing(line: &str) -> String {
    let key = ",\"steps_per_sec\":";
    let Some(i) = line.find(key) else {
        return line.to_string();
    };
    let rest = &line[i + key.len()..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    format!("{}{}", &line[..i], &rest[end..])
}

/// A run's file as compared: timings taken out, everything else byte for byte.
fn comparable(rel: &Path, bytes: Vec<u8>) -> Vec<u8> {
    let text = || String::from_utf8(bytes.clone()).expect("text");
    match rel.to_str() {
        Some("metrics.jsonl") => text()
            .split_inclusive('\n')
            .map(without_timing)
            .collect::<String>()
            .into_bytes(),
        Some("meta.json") => text()
            .split_inclusive('\n')
            .filter(|l| !l.contains("\"started_unix\""))
            .collect::<String>()
            .into_bytes(),
        _ => bytes,
    }
}

/// What differs between the straight run and the resumed one, if anything.
fn differences(straight: &Path, resumed: &Path) -> Option<String> {
    let (a, b) = (entries(straight), entries(resumed));
    if a != b {
        let only = |x: &[PathBuf], y: &[PathBuf]| -> Vec<PathBuf> {
            x.iter().filter(|p| !y.contains(p)).cloned().collect()
        };
        return Some(format!(
            "only in the straight run: {:?}; only in the resumed one: {:?}",
            only(&a, &b),
            only(&b, &a)
        ));
    }
    let differ: Vec<String> = a
        .iter()
        .filter(|r| straight.join(r).is_file())
        .filter(|rel| {
            let read = |root: &Path| comparable(rel, std::fs::read(root.join(rel)).unwrap());
            read(straight) != read(resumed)
        })
        .map(|rel| rel.display().to_string())
        .collect();
    (!differ.is_empty()).then(|| format!("differs from the straight run: {}", differ.join(", ")))
}

/// For each `point:n`: a fresh run stopped there, resumed to the end, compared with a straight
/// run of the same command line. Fails with every fault whose run did not end the same. Every
/// run is `--out run` in a folder of its own, so that the pictures' titles, which name the run,
/// are the same too.
fn faults_then_resume_end_as_the_straight_run(family: &[&str], steps: u64, faults: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let args = train_args(family, "run", steps);
    let folder = |name: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    };
    let straight = folder("straight");
    let done = genlab(&args, &straight, None);
    assert!(done.status.success(), "{}", stderr(&done));
    let mut failures = Vec::new();
    for fault in faults {
        let dir = folder(&format!("run-{}", fault.replace(':', "-")));
        let stopped = genlab(&args, &dir, Some(fault));
        if stopped.status.code() != Some(FAULT_EXIT) {
            failures.push(format!("{fault}: not reached: {}", stderr(&stopped)));
            continue;
        }
        let resumed = genlab(&[&args[..], &["--resume".to_string()]].concat(), &dir, None);
        if !resumed.status.success() {
            failures.push(format!("{fault}: resume failed: {}", stderr(&resumed)));
        } else if let Some(d) = differences(&straight.join("run"), &dir.join("run")) {
            failures.push(format!("{fault}: {d}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// 30 steps: metrics lines at 4, 8, .., 28 and 30; samples at 5, 10, .., 30; checkpoints at 6,
/// 12, .., 30 (the n-th at step 6n), keeping the last 2 and the best. meta.json is written at
/// the start and after each checkpoint; pruning begins at step 18.
#[test]
fn a_vae_stopped_at_each_fault_point_resumes_to_the_straight_runs_bytes() {
    let started = std::time::Instant::now();
    faults_then_resume_end_as_the_straight_run(
        &["vae", "--preset", "tiny"],
        30,
        &[
            "step:9",         // after a metrics line and a checkpoint, mid window
            "step:30",        // the last step, nothing of it written
            "metrics-torn:3", // step 12's line torn; its checkpoint not written
            "metrics-torn:8", // the last line torn
            "metrics:5",      // step 20: a window opened before checkpoint 18
            "samples:2",      // step 10's picture in its temp file
            "ckpt-files:2",   // step 12's checkpoint in ckpt/.tmp-step-000012
            "ckpt-files:5",   // the last checkpoint
            "ckpt:3",         // step 18 renamed in, meta.json not updated
            "ckpt:5",         // the last checkpoint renamed in: nothing left but settling
            "meta:1",         // the start's meta.json: no run yet, the resume starts it
            "meta:4",         // after checkpoint 18
            "meta:6",         // after the last checkpoint
            "best:2",         // ckpt/best not yet naming step 12
            "best:5",         // nor the last checkpoint
            "prune:1",        // step 6 moved aside, not deleted
            "prune:3",        // the last pruning
            "curves:1",       // the run's end, curves.png in its temp file
        ],
    );
    eprintln!("vae: 18 faults in {:.1} s", started.elapsed().as_secs_f64());
}

/// Two parameter groups, EMA weights, and no best checkpoint (an adversarial family).
#[test]
fn a_gan_with_ema_stopped_mid_checkpoint_and_mid_line_resumes_to_the_same_bytes() {
    faults_then_resume_end_as_the_straight_run(
        &[
            "gan",
            "--preset",
            "tiny",
            "--data",
            "toy:ring8",
            "--set",
            "data.scale=\"unit\"",
            "--set",
            "train.ema_decay=0.9",
        ],
        20,
        &["ckpt-files:2", "metrics-torn:3", "prune:1", "ckpt:4"],
    );
}

/// EM converges before its step budget and stops there; a resume of the converged run must
/// not take one more step.
#[test]
fn a_converged_mixture_stopped_before_its_curves_resumes_without_another_step() {
    faults_then_resume_end_as_the_straight_run(
        &["gmm", "--preset", "tiny", "--data", "toy:ring8"],
        200,
        &["curves:1"],
    );
}
