//! One file per verb: each owns its clap `Args` and a `run(args)`.

pub mod arithmetic;
pub mod bench;
pub mod compare;
pub mod complete;
pub mod data;
pub mod demo;
pub mod eval;
pub mod features;
pub mod gmm_select;
pub mod interpolate;
pub mod invert;
pub mod models;
pub mod neighbours;
pub mod reconstruct;
pub mod report;
pub mod runs;
pub mod sample;
pub mod score;
pub mod serve;
pub mod train;
pub mod translate;
pub mod traverse;

use crate::cli::{Cli, Command};
use anyhow::Result;

/// `--mean`: what a picture of a model of bits shows.
#[derive(clap::Args, Default)]
pub struct MeanArg {
    /// Models of binary data (rbm, dbn, nade, made, fvsbn, a vae or iwae with a Bernoulli
    /// decoder, a pixelcnn on binarized data): show each pixel's probability P(x = 1) instead
    /// of bits drawn from it.
    #[arg(long)]
    pub mean: bool,
}

impl MeanArg {
    /// What to show of `model`; `--mean` on a model whose outputs are not bits is said to
    /// change nothing.
    pub fn draw(&self, model: &dyn genlab_core::Model) -> genlab_core::Draw {
        let draw = genlab_core::Draw::for_model(model, self.mean);
        if self.mean && draw == genlab_core::Draw::Values {
            eprintln!(
                "note: --mean changes nothing here: {} does not model bits, its pictures show its values",
                model.family()
            );
        }
        draw
    }
}

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
        Command::Translate(args) => translate::run(args),
        Command::Interpolate(args) => interpolate::run(args),
        Command::Invert(args) => invert::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Arithmetic(args) => arithmetic::run(args),
        Command::Traverse(args) => traverse::run(args),
        Command::Neighbours(args) => neighbours::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Features(args) => features::run(args),
        Command::Score(args) => score::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Report(args) => report::run(args),
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
