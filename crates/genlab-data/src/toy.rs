//! 2-D toy point sets. Ring of 8 and 5x5 grid follow the protocol of Unrolled GAN / PacGAN /
//! VEEGAN: ring radius 2, sigma 0.02; grid spacing 2 on [-4, 4]^2, sigma 0.05.

use crate::{DataError, Dataset, Kind, Shape};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::f32::consts::PI;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToyKind {
    Ring8,
    Grid25,
    Moons,
    SwissRoll,
    Checkerboard,
}

impl ToyKind {
    pub fn parse(name: &str) -> Result<Self, DataError> {
        Ok(match name {
            "ring8" => Self::Ring8,
            "grid25" => Self::Grid25,
            "moons" => Self::Moons,
            "swissroll" => Self::SwissRoll,
            "checkerboard" => Self::Checkerboard,
            _ => return Err(DataError::UnknownToy { name: name.into() }),
        })
    }

    /// The name [`ToyKind::parse`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ring8 => "ring8",
            Self::Grid25 => "grid25",
            Self::Moons => "moons",
            Self::SwissRoll => "swissroll",
            Self::Checkerboard => "checkerboard",
        }
    }
}

/// The true modes of a toy mixture and their standard deviation: a fact of the data that mode
/// coverage, scatter plots and density maps read.
#[derive(Clone, Debug, PartialEq)]
pub struct Modes {
    pub centers: Vec<[f32; 2]>,
    pub sigma: f32,
}

/// The true modes, for sets that have discrete modes.
pub fn toy_modes(kind: ToyKind) -> Option<Modes> {
    match kind {
        ToyKind::Ring8 => Some(Modes {
            centers: (0..8)
                .map(|i| {
                    let a = 2.0 * PI * i as f32 / 8.0;
                    [2.0 * a.cos(), 2.0 * a.sin()]
                })
                .collect(),
            sigma: 0.02,
        }),
        ToyKind::Grid25 => Some(Modes {
            centers: (0..25)
                .map(|i| [-4.0 + 2.0 * (i / 5) as f32, -4.0 + 2.0 * (i % 5) as f32])
                .collect(),
            sigma: 0.05,
        }),
        _ => None,
    }
}

pub(crate) fn generate(kind: ToyKind, n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let std = Normal::new(0.0f32, 1.0).unwrap();
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let (px, py, label) = match kind {
            ToyKind::Ring8 | ToyKind::Grid25 => {
                let Modes {
                    centers: modes,
                    sigma,
                } = toy_modes(kind).unwrap();
                let m = rng.random_range(0..modes.len());
                (
                    modes[m][0] + sigma * std.sample(&mut rng),
                    modes[m][1] + sigma * std.sample(&mut rng),
                    m as u32,
                )
            }
            ToyKind::Moons => {
                // As sklearn.datasets.make_moons with noise 0.05.
                let upper = i % 2 == 0;
                let t = rng.random_range(0.0..PI);
                let (mx, my) = if upper {
                    (t.cos(), t.sin())
                } else {
                    (1.0 - t.cos(), 0.5 - t.sin())
                };
                (
                    mx + 0.05 * std.sample(&mut rng),
                    my + 0.05 * std.sample(&mut rng),
                    (!upper) as u32,
                )
            }
            ToyKind::SwissRoll => {
                // sklearn make_swiss_roll projected to (x, z), scaled by 1/5, noise 0.25/5.
                let t = 1.5 * PI * (1.0 + 2.0 * rng.random::<f32>());
                (
                    (t * t.cos() + 0.25 * std.sample(&mut rng)) / 5.0,
                    (t * t.sin() + 0.25 * std.sample(&mut rng)) / 5.0,
                    0,
                )
            }
            ToyKind::Checkerboard => {
                // As in FFJORD: alternating unit squares on [-2, 2]^2, scaled by 2.
                let x1 = rng.random::<f32>() * 4.0 - 2.0;
                let x2 = rng.random::<f32>() - rng.random_range(0..2) as f32 * 2.0;
                let x2 = x2 + x1.floor() % 2.0;
                (x1 * 2.0, x2 * 2.0, 0)
            }
        };
        x.push(px);
        x.push(py);
        y.push(label);
    }
    let classes: Vec<String> = toy_modes(kind)
        .map(|m| (0..m.centers.len()).map(|i| format!("mode{i}")).collect())
        .unwrap_or_default();
    Dataset {
        name: format!("toy:{kind:?}").to_lowercase(),
        kind: Kind::Points,
        shape: Shape { c: 2, h: 1, w: 1 },
        x,
        y: (!classes.is_empty()).then_some(y),
        classes,
        binary: false,
        skipped: Vec::new(),
        notes: Vec::new(),
        raw: None,
        standardization: None,
        columns: Vec::new(),
        input: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_points_lie_near_radius_two() {
        let d = generate(ToyKind::Ring8, 500, 0);
        for p in d.x.chunks(2) {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            assert!((r - 2.0).abs() < 0.15, "radius {r}");
        }
    }

    #[test]
    fn grid_uses_all_25_modes() {
        let d = generate(ToyKind::Grid25, 2000, 0);
        let mut seen = [false; 25];
        for &m in d.y.as_ref().unwrap() {
            seen[m as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
