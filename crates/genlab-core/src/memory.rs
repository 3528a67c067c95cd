//! Memory a fit needs, checked before it is allocated: a full-covariance mixture on 100,000
//! columns would ask for terabytes and be killed by the kernel, losing the session; instead it
//! is refused with the figure and the alternatives.
//!
//! The limit is `train.max_memory_gb` when set (the CLI's `train` calls [`set_limit_gb`]), or
//! else the memory the kernel reports available (`MemAvailable` in /proc/meminfo).

use anyhow::{bail, Result};
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes per GiB.
const GIB: f64 = (1u64 << 30) as f64;

/// 0 = no explicit limit: the available memory.
static LIMIT: AtomicU64 = AtomicU64::new(0);

/// `train.max_memory_gb` for this process (0 = the available memory).
pub fn set_limit_gb(gb: f64) {
    LIMIT.store((gb.max(0.0) * GIB) as u64, Ordering::Relaxed);
}

/// The memory the kernel reports available, in bytes (None off Linux).
pub fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Refuse `what` when it needs more than the limit: the error gives both figures in GiB and
/// `alternatives` (full keys that shrink the fit).
pub fn check(what: &str, bytes: u64, alternatives: &str) -> Result<()> {
    let (limit, source) = match LIMIT.load(Ordering::Relaxed) {
        0 => match available() {
            Some(b) => (b, "the memory available now"),
            None => return Ok(()),
        },
        b => (b, "train.max_memory_gb"),
    };
    if bytes > limit {
        bail!(
            "{what} needs about {:.3} GiB, more than {source} ({:.3} GiB); {alternatives}, or raise train.max_memory_gb if the machine has the memory",
            bytes as f64 / GIB,
            limit as f64 / GIB
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_above_the_limit_with_both_figures() {
        set_limit_gb(0.5);
        assert!(check("a fit", 1 << 20, "set x").is_ok());
        let e = check("a fit", 3 << 30, "set model.covariance = \"diag\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("needs about 3.000 GiB, more than train.max_memory_gb (0.500 GiB)"),
            "{e}"
        );
        assert!(e.contains("model.covariance"), "{e}");
        set_limit_gb(0.0);
        assert!(available().is_some_and(|b| b > 0));
    }
}
