//! `genlab`: args -> settings -> one command per file in `commands/`.

mod cas;
mod cli;
mod commands;
mod judge;
mod run;

use clap::Parser;
use std::process::ExitCode;

/// Training allocates and frees the same large activation buffers every step. glibc's malloc
/// returns blocks over 128 KiB to the OS at once, so each step pays page faults and zeroing
/// for them again (15-25% of a conv step, measured with perf); mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (libmimalloc-sys names no constant).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keep freed memory committed: mimalloc otherwise hands pages back to the OS a second after
/// they are freed, and the next step faults them in and zeroes them again (a DCGAN step:
/// 14,800 page faults in 40 steps without this, 400 with it; 8% of its CPU time). The cost is
/// that the process keeps its peak memory until it exits.
fn keep_freed_memory() {
    // SAFETY: sets an option before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// Stack of each rayon worker: the main thread's 8 MiB, since the command runs on one.
const WORKER_STACK: usize = 8 << 20;

/// Runs the command on a rayon worker rather than on the main thread. Every parallel kernel
/// then starts from inside the pool (a local `join`) instead of injecting its job from outside
/// and putting the main thread to sleep until it is done: a DCGAN step made ~210 context
/// switches instead of ~900, and ran 8-10% faster (W2 and W3, `genlab bench`). The pool size
/// still follows `RAYON_NUM_THREADS`.
fn on_the_pool<T: Send>(command: impl FnOnce() -> T + Send) -> T {
    // Only fails if a global pool exists already, which then serves as well.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .build_global();
    rayon::scope(|_| command())
}

/// Exit code of every error (bad input, missing file, divergence).
const EXIT_ERROR: u8 = 2;
/// Exit code after Ctrl-C, once the checkpoint is safe (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

/// `genlab models | head` closes stdout early: end quietly as Unix tools do (the default
/// SIGPIPE action) instead of panicking on the failed print. Rust ignores SIGPIPE by default.
fn quiet_broken_pipe() {
    // SAFETY: restores the default action of one signal before any other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

fn main() -> ExitCode {
    quiet_broken_pipe();
    keep_freed_memory();
    let args = cli::Cli::parse();
    match on_the_pool(|| commands::run(args)) {
        Ok(commands::Status::Done) => ExitCode::SUCCESS,
        Ok(commands::Status::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
        Err(e) => {
            eprintln!("error: {e}");
            // A cause that a message above already quotes is not repeated.
            let mut shown = e.to_string();
            for cause in e.chain().skip(1).map(|c| c.to_string()) {
                if !shown.contains(&cause) {
                    eprintln!("  caused by: {cause}");
                    shown.push_str(&cause);
                }
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every verb and every argument of every verb says what it is in `--help`.
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_about().is_none() {
                missing.push(format!("{path} (the command)"));
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if !matches!(id, "help" | "version") && arg.get_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(
            &<cli::Cli as clap::CommandFactory>::command(),
            "",
            &mut missing,
        );
        assert!(missing.is_empty(), "no help: {missing:#?}");
    }

    #[test]
    fn purge_delay_is_the_option_we_mean() {
        // mimalloc v3's default purge delay is 1000 ms; no neighbouring option defaults to it.
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(MI_OPTION_PURGE_DELAY), 1000);
        }
        keep_freed_memory();
        assert_eq!(get(MI_OPTION_PURGE_DELAY), -1);
    }

    #[test]
    fn commands_run_on_a_pool_worker_with_a_full_stack() {
        // A 4 MiB array on the stack would overflow rayon's default 2 MiB worker stack.
        let (index, sum) = on_the_pool(|| {
            let big = std::hint::black_box([1u8; 4 << 20]);
            (
                rayon::current_thread_index(),
                big.iter().map(|&b| b as usize).sum::<usize>(),
            )
        });
        assert!(index.is_some(), "the command ran outside the pool");
        assert_eq!(sum, 4 << 20);
    }
}
