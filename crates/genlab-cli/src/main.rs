//! `genlab`: args -> settings -> one command per file in `commands/`.

mod bench;
mod cli;
mod commands;
mod run;

use clap::Parser;
use std::process::ExitCode;

/// Training allocates and frees the same large activation buffers every step. glibc's malloc
/// returns blocks over 128 KiB to the OS at once, so each step pays page faults and zeroing
/// for them again (15-25% of a conv step, measured with perf); mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code of every error (bad input, missing file, divergence).
const EXIT_ERROR: u8 = 2;
/// Exit code after Ctrl-C, once the checkpoint is safe (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(commands::Status::Done) => ExitCode::SUCCESS,
        Ok(commands::Status::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}
