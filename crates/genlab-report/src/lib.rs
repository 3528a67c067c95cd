//! Reading runs back: run summaries ([`summary`]) shared by `genlab runs`, `genlab compare`,
//! `genlab report` (and, later, the web studio); the leaderboard ([`leaderboard`]); the self-contained HTML
//! report ([`html`]). Reads run directories only: no model is loaded, no tensor computed.

pub mod html;
pub mod leaderboard;
pub mod summary;

pub use leaderboard::{Key, Leaderboard};
pub use summary::{collect, find_runs, RunSummary};

/// The runs named on a command line and their leaderboard by the `--by` key (see
/// [`collect`] and [`Key::from_flag`]); the notes on runs left out go to stderr.
pub fn gather(
    args: &[std::path::PathBuf],
    by: Option<&str>,
) -> anyhow::Result<(Vec<RunSummary>, Leaderboard)> {
    let key = Key::from_flag(by)?;
    let (runs, skipped) = collect(args)?;
    for n in &skipped {
        eprintln!("note: {n}");
    }
    let board = Leaderboard::new(&runs, key);
    Ok((runs, board))
}

/// Values shown in the table: four significant figures, long lists cut after eight entries
/// (`--json` and RUN/eval/ keep every digit and entry).
pub fn readable(v: &serde_json::Value) -> String {
    use serde_json::Value;
    const SHOWN: usize = 8;
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if x == 0.0 {
                "0".to_string()
            } else if (1e-3..1e6).contains(&x.abs()) {
                let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
                format!("{x:.digits$}")
            } else {
                format!("{x:.3e}")
            }
        }
        Value::Array(items) => {
            let shown: Vec<String> = items.iter().take(SHOWN).map(readable).collect();
            let more = match items.len() {
                n if n > SHOWN => format!(", ... ({n} values)"),
                _ => String::new(),
            };
            format!("[{}{more}]", shown.join(", "))
        }
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}: {}", readable(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_shows_four_significant_figures_and_zero() {
        let r = |v: f64| readable(&serde_json::json!(v));
        assert_eq!(r(0.0), "0"); // log10(0) once overflowed the digit count
        assert_eq!(r(13.3712), "13.37");
        assert_eq!(r(0.004567), "0.004567");
        assert_eq!(r(2.5e-13), "2.500e-13");
    }
}
