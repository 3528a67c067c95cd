//! The runaway rule: a loss that grows without bound is a divergence even while it is finite.
//!
//! A term runs away when its mean over the last [`WINDOW`] steps exceeds its lowest single-step
//! value so far by more than [`FACTOR`] times that value's magnitude, or than `FACTOR` when the
//! magnitude is below [`FLOOR`]:
//!
//! `mean(last 20) > best + 1e4 * max(|best|, 1)`.
//!
//! A VAE whose loss climbs from 500 to 1e19 trips it within a window; a GAN loss wandering
//! between 0.1 and 20, a KL term rising from 0 to 30, or a flow's NLL falling below zero never
//! do. Terms that legitimately grow without bound (a WGAN critic's values) are exempted by
//! their family ([`crate::Model::unbounded_terms`]).

use crate::Losses;
use std::collections::{BTreeMap, VecDeque};

/// Steps in the moving mean.
pub const WINDOW: usize = 20;
/// How many times its best magnitude a term may grow.
pub const FACTOR: f64 = 1e4;
/// Magnitudes below this count as this (losses near zero).
pub const FLOOR: f64 = 1.0;

#[derive(Default)]
struct Term {
    best: f64,
    recent: VecDeque<f64>,
}

/// A term that ran away: its recent mean and its best value.
#[derive(Clone, Debug, PartialEq)]
pub struct Runaway {
    pub term: String,
    pub mean: f64,
    pub best: f64,
}

impl std::fmt::Display for Runaway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "loss term `{}` averaged {:.4e} over the last {WINDOW} steps, more than {FACTOR:e} times its best value {:.4} (the runaway rule)",
            self.term, self.mean, self.best
        )
    }
}

/// Watches every term of a run's losses, step by step.
pub struct RunawayWatch {
    exempt: &'static [&'static str],
    terms: BTreeMap<String, Term>,
}

impl RunawayWatch {
    pub fn new(exempt: &'static [&'static str]) -> Self {
        Self {
            exempt,
            terms: BTreeMap::new(),
        }
    }

    /// Record one step's losses; the first term that ran away, if any.
    pub fn check(&mut self, losses: &Losses) -> Option<Runaway> {
        let mut found = None;
        for (name, v) in losses.0.iter().map(|(k, v)| (k, *v)) {
            if self.exempt.contains(&name.as_str()) || !v.is_finite() {
                continue;
            }
            // No allocation per step: the name is copied once, on its first step.
            if !self.terms.contains_key(name) {
                let first = Term {
                    best: v,
                    recent: VecDeque::with_capacity(WINDOW),
                };
                self.terms.insert(name.clone(), first);
            }
            let t = self.terms.get_mut(name).expect("inserted above");
            t.best = t.best.min(v);
            if t.recent.len() == WINDOW {
                t.recent.pop_front();
            }
            t.recent.push_back(v);
            let mean = t.recent.iter().sum::<f64>() / t.recent.len() as f64;
            if found.is_none() && mean > t.best + FACTOR * t.best.abs().max(FLOOR) {
                found = Some(Runaway {
                    term: name.clone(),
                    mean,
                    best: t.best,
                });
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        values: impl IntoIterator<Item = f64>,
        exempt: &'static [&'static str],
    ) -> Option<Runaway> {
        let mut w = RunawayWatch::new(exempt);
        values
            .into_iter()
            .find_map(|v| w.check(&Losses::of(&[("loss", v)])))
    }

    #[test]
    fn a_loss_climbing_to_1e19_runs_away() {
        let climb = (0..100).map(|i| 500.0 * 10f64.powi(i / 5));
        let r = run(climb, &[]).expect("trips");
        assert_eq!(r.term, "loss");
        assert_eq!(r.best, 500.0);
        assert!(r.mean > 500.0 + 1e4 * 500.0 && r.mean < 1e9, "{r}");
    }

    #[test]
    fn ordinary_curves_never_trip() {
        // A GAN loss wandering up to 20, a KL rising from 0 to 30, an NLL falling below zero.
        let gan = (0..5000).map(|i| 0.1 + 20.0 * ((i as f64) * 0.01).sin().abs());
        assert_eq!(run(gan, &[]), None);
        let kl = (0..5000).map(|i| 30.0 * (1.0 - (-(i as f64) / 500.0).exp()));
        assert_eq!(run(kl, &[]), None);
        let nll = (0..5000).map(|i| 5.0 - i as f64 * 0.002);
        assert_eq!(run(nll, &[]), None);
    }

    #[test]
    fn exempt_terms_may_grow() {
        let critic = (0..200).map(|i| 1e3 * i as f64);
        assert!(run(critic.clone(), &[]).is_some());
        assert_eq!(run(critic, &["loss"]), None);
    }
}
