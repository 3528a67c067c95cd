//! Crash points for testing: a hook that makes `genlab train` stop dead at a named point of its
//! writes, as a power cut or a `kill -9` would, so that the tests can check that `--resume`
//! then ends byte-identical to a run that was never interrupted (tests/faults.rs in
//! genlab-cli; bench/soak.sh does the same with random SIGKILLs).
//!
//! `GENLAB_FAULT=<point>:<n>` makes the process exit with code [`EXIT_CODE`], without unwinding,
//! flushing or cleaning up, the n-th time (from 1) it reaches `<point>`. The points, in the
//! order a step reaches them:
//!
//! | point          | where the process stops                                                 |
//! |----------------|-------------------------------------------------------------------------|
//! | `step`         | a training step is done; nothing of it is written yet                   |
//! | `metrics-torn` | half of a metrics.jsonl line is appended, without its newline           |
//! | `metrics`      | a metrics.jsonl line is appended                                        |
//! | `samples`      | the sample picture's temp file is written, not yet renamed              |
//! | `ckpt-files`   | a checkpoint's files are written in `ckpt/.tmp-step-N`, not yet renamed |
//! | `ckpt`         | the checkpoint is renamed into place; meta.json names the one before    |
//! | `meta`         | meta.json's temp file is written, not yet renamed                       |
//! | `best`         | meta.json is written; `ckpt/best` is not                                |
//! | `prune`        | a checkpoint past keep_last is moved aside, not yet deleted             |
//! | `curves`       | the curves picture's temp file is written, not yet renamed (run's end)  |
//!
//! `meta` also counts the meta.json that a new run starts with (the first arrival). The hook
//! is compiled into every build and armed only by [`arm_from_env`], which `genlab train` calls
//! once at its start; unset, each point costs one atomic load.

use anyhow::{anyhow, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable that arms the hook.
pub const ENV: &str = "GENLAB_FAULT";
/// Exit code of a process stopped at a fault point: none of genlab's own (0, 2, 130).
pub const EXIT_CODE: i32 = 86;

/// A named point of the training writes (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    Step,
    MetricsTorn,
    Metrics,
    Samples,
    CkptFiles,
    Ckpt,
    Meta,
    Best,
    Prune,
    Curves,
}

impl Point {
    pub const ALL: [Point; 10] = [
        Point::Step,
        Point::MetricsTorn,
        Point::Metrics,
        Point::Samples,
        Point::CkptFiles,
        Point::Ckpt,
        Point::Meta,
        Point::Best,
        Point::Prune,
        Point::Curves,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Point::Step => "step",
            Point::MetricsTorn => "metrics-torn",
            Point::Metrics => "metrics",
            Point::Samples => "samples",
            Point::CkptFiles => "ckpt-files",
            Point::Ckpt => "ckpt",
            Point::Meta => "meta",
            Point::Best => "best",
            Point::Prune => "prune",
            Point::Curves => "curves",
        }
    }
}

/// The armed point and arrival; `None` inside when the variable is unset.
static ARMED: OnceLock<Option<(Point, u64)>> = OnceLock::new();
/// Arrivals at the armed point so far.
static ARRIVALS: AtomicU64 = AtomicU64::new(0);

/// Read [`ENV`] once; an unknown point or a bad count is an error that lists the points.
pub fn arm_from_env() -> Result<()> {
    let spec = std::env::var(ENV).ok().filter(|s| !s.is_empty());
    let armed = spec.as_deref().map(parse).transpose()?;
    let _ = ARMED.set(armed);
    Ok(())
}

fn parse(spec: &str) -> Result<(Point, u64)> {
    let names: Vec<&str> = Point::ALL.iter().map(|p| p.name()).collect();
    let bad = || {
        anyhow!(
            "{ENV}={spec}: expected <point>:<n> with n >= 1 and a point among {}",
            names.join(", ")
        )
    };
    let (name, n) = spec.split_once(':').ok_or_else(bad)?;
    let point = Point::ALL.into_iter().find(|p| p.name() == name);
    match (point, n.parse::<u64>()) {
        (Some(point), Ok(n)) if n >= 1 => Ok((point, n)),
        _ => Err(bad()),
    }
}

/// True when this arrival at `point` is the armed one: the caller may leave a write half done
/// and then call [`exit`]. Counts arrivals at the armed point only.
pub fn due(point: Point) -> bool {
    match ARMED.get() {
        Some(Some((armed, n))) if *armed == point => {
            ARRIVALS.fetch_add(1, Ordering::SeqCst) + 1 == *n
        }
        _ => false,
    }
}

/// Stop here if this arrival at `point` is the armed one.
pub fn reached(point: Point) {
    if due(point) {
        exit(point);
    }
}

/// Stop the process at once, as a crash would.
pub fn exit(point: Point) -> ! {
    eprintln!("{ENV}: stopped at fault point `{}`", point.name());
    std::process::exit(EXIT_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_a_point_and_an_arrival() {
        assert_eq!(parse("ckpt-files:2").unwrap(), (Point::CkptFiles, 2));
        for p in Point::ALL {
            assert_eq!(parse(&format!("{}:1", p.name())).unwrap(), (p, 1));
        }
        for bad in ["ckpt", "nowhere:1", "step:0", "step:x"] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains("metrics-torn, metrics, samples"), "{err}");
        }
    }

    #[test]
    fn an_unarmed_hook_never_fires() {
        // Nothing in the unit tests arms it.
        assert!(!due(Point::Step));
    }
}
