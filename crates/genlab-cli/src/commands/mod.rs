//! One file per verb: each owns its clap `Args` and a `run(args)`.

pub mod arithmetic;
pub mod bench;
pub mod complete;
pub mod data;
pub mod demo;
pub mod eval;
pub mod gmm_select;
pub mod interpolate;
pub mod invert;
pub mod models;
pub mod neighbours;
pub mod reconstruct;
pub mod runs;
pub mod sample;
pub mod train;
pub mod traverse;

use crate::cli::{Cli, Command};
use anyhow::Result;

pub enum Status {
    Done,
    Interrupted,
}

pub fn run(cli: Cli) -> Result<Status> {
    genlab_core::run_dir::set_force(cli.force);
    match cli.command {
        Command::Train(args) => return train::run(args),
        Command::Demo(args) => return demo::run(args),
        Command::Models(args) => models::run(args),
        Command::Runs(args) => runs::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Complete(args) => complete::run(args),
        Command::Reconstruct(args) => reconstruct::run(args),
        Command::Interpolate(args) => interpolate::run(args),
        Command::Invert(args) => invert::run(args),
        Command::Arithmetic(args) => arithmetic::run(args),
        Command::Traverse(args) => traverse::run(args),
        Command::Neighbours(args) => neighbours::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Data(args) => data::run(args),
        Command::GmmSelect(args) => gmm_select::run(args),
        Command::Bench(args) => bench::run(args),
    }?;
    Ok(Status::Done)
}

/// `runs/NAME`, or `runs/NAME-2`, `runs/NAME-3`, ... if taken.
pub fn fresh_dir(name: &str) -> std::path::PathBuf {
    let base = std::path::Path::new("runs");
    let first = base.join(name);
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|i| base.join(format!("{name}-{i}")))
        .find(|p| !p.exists())
        .expect("some suffix is free")
}
