//! One file per verb.

mod arithmetic;
mod complete;
mod data;
mod demo;
mod eval;
mod gmm_select;
mod interpolate;
mod invert;
mod models;
mod neighbours;
mod reconstruct;
mod sample;
pub mod train;
mod traverse;

use crate::cli::{Cli, Command, DataCommand};
use anyhow::Result;

pub enum Status {
    Done,
    Interrupted,
}

pub fn run(cli: Cli) -> Result<Status> {
    match cli.command {
        Command::Models { json } => models::run(json),
        Command::Train(args) => return train::run(args),
        Command::Sample {
            run,
            n,
            out,
            seed,
            label,
            per_class,
            chain,
            filters,
        } => sample::run(
            &run,
            sample::Options {
                n,
                out,
                seed,
                label,
                per_class,
                chain,
                filters,
            },
        ),
        Command::Complete {
            run,
            mask,
            n,
            samples,
            out,
            seed,
        } => complete::run(&run, mask, n, samples, out, seed),
        Command::Reconstruct { run, n, out } => reconstruct::run(&run, n, out),
        Command::Interpolate {
            run,
            rows,
            steps,
            mode,
            out,
        } => interpolate::run(&run, rows, steps, mode, out),
        Command::Invert {
            run,
            images,
            index,
            sample,
            steps,
            lr,
            restarts,
            init,
            seed,
            out,
        } => invert::run(
            &run,
            invert::Options {
                images,
                index,
                sample,
                steps,
                lr,
                restarts,
                init,
                seed,
                out,
            },
        ),
        Command::Arithmetic {
            run,
            a,
            b,
            c,
            seed,
            out,
        } => arithmetic::run(&run, [&a, &b, &c], seed, out),
        Command::Traverse {
            run,
            code,
            steps,
            range,
            seed,
            out,
        } => traverse::run(
            &run,
            traverse::Options {
                code,
                steps,
                range,
                seed,
                out,
            },
        ),
        Command::Neighbours {
            run,
            n,
            k,
            seed,
            out,
        } => neighbours::run(&run, n, k, seed, out),
        Command::Eval {
            run,
            data,
            split,
            k,
            n,
            seed,
            json,
            classifier,
            scores,
        } => eval::run(
            &run,
            eval::Options {
                data,
                split,
                k,
                n,
                seed,
                json,
                classifier,
                scores,
            },
        ),
        Command::Data {
            command:
                DataCommand::Info {
                    spec,
                    split,
                    out,
                    data_dir,
                    json,
                },
        } => data::info(&spec, split, out, data_dir, json),
        Command::GmmSelect {
            data,
            k,
            covariance,
            pca,
            n_init,
            max_iter,
            tol,
            reg_covar,
            seed,
            out,
            data_dir,
        } => gmm_select::run(gmm_select::Options {
            spec: data,
            k,
            covariance,
            pca,
            n_init,
            max_iter,
            tol,
            reg_covar,
            seed,
            out,
            data_dir,
        }),
        Command::Demo { out, steps } => return demo::run(out, steps),
        Command::Bench {
            classical: Some(c), ..
        } => match c {
            crate::cli::BenchCommand::Gmm {
                x,
                means,
                covariance,
                iters,
                reg,
                json: _,
            } => crate::bench::classical::gmm(&x, &means, &covariance, iters, reg),
            crate::cli::BenchCommand::Rbm {
                train,
                test,
                hidden,
                batch,
                epochs,
                lr,
                ais_betas,
                json: _,
            } => crate::bench::classical::rbm(&train, &test, hidden, batch, epochs, lr, ais_betas),
        },
        Command::Bench {
            workloads,
            steps,
            json,
            ..
        } => crate::bench::run(&workloads, steps, json),
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
