//! Reading runs back: run summaries ([`summary`]) shared by `genlab runs`, `genlab compare`,
//! `genlab report` and the studio; the leaderboard ([`leaderboard`]); the self-contained HTML
//! report ([`html`]). Reads run directories only: no model is loaded, no tensor computed.

pub mod html;
pub mod leaderboard;
pub mod summary;

pub use leaderboard::{Key, Leaderboard};
pub use summary::{collect, find_runs, RunSummary};
