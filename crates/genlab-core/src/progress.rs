//! Progress of long computations outside training (importance-sampled likelihoods, AIS,
//! sample drawing): a bar with rate and ETA on a terminal, and on a log or pipe a plain line
//! at most every [`LINE_EVERY`] with the share done and the time left, so short tasks print
//! nothing.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// The least time between two plain progress lines.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

/// One task of `total` units (examples, AIS temperatures, samples).
pub struct Progress {
    label: String,
    total: u64,
    done: u64,
    started: Instant,
    last_line: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A task called `label` (`"eval: log-likelihood"`), with a bar when stderr is a terminal.
    pub fn new(label: &str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} {per_sec} eta {eta}")
                    .expect("valid template"),
            );
            bar.set_message(label.to_string());
            bar
        });
        let now = Instant::now();
        Self {
            label: label.to_string(),
            total: total.max(1),
            done: 0,
            started: now,
            last_line: now,
            bar,
        }
    }

    /// `n` more units done.
    pub fn inc(&mut self, n: u64) {
        self.done = (self.done + n).min(self.total);
        match &self.bar {
            Some(bar) => bar.inc(n),
            None if self.last_line.elapsed() >= LINE_EVERY && self.done < self.total => {
                self.last_line = Instant::now();
                eprintln!("{}", self.line());
            }
            None => {}
        }
    }

    /// `label: 40% (400/1000), 12 s left`.
    fn line(&self) -> String {
        let share = self.done as f64 / self.total as f64;
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = elapsed * (1.0 - share) / share.max(1e-9);
        format!(
            "{}: {:.0}% ({}/{}), {left:.0} s left",
            self.label,
            100.0 * share,
            self.done,
            self.total
        )
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_states_share_and_time_left() {
        let mut p = Progress::new("eval", 1000);
        p.done = 400;
        let line = p.line();
        assert!(line.starts_with("eval: 40% (400/1000), "), "{line}");
        assert!(line.ends_with(" s left"), "{line}");
    }
}
