//! `shapes`: a procedural, labelled 28x28 grayscale image set that needs no files. Four classes
//! (circle, square, triangle, cross) drawn at random position, scale and stroke width, with
//! anti-aliasing by 4x4 supersampling. Deterministic: the train and test splits use fixed seeds,
//! so every run sees the same images.

use crate::{Dataset, Kind, Shape};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const SIZE: usize = 28;
pub const CLASSES: [&str; 4] = ["circle", "square", "triangle", "cross"];
const SUPER: usize = 4;

struct Params {
    cx: f32,
    cy: f32,
    r: f32,
    stroke: f32,
    filled: bool,
}

/// Signed "inside" test for one class at point (x, y).
fn inside(class: usize, p: &Params, x: f32, y: f32) -> bool {
    let (dx, dy) = (x - p.cx, y - p.cy);
    let shape_fn = |r: f32| -> bool {
        match class {
            0 => (dx * dx + dy * dy).sqrt() <= r,
            1 => dx.abs().max(dy.abs()) <= r,
            2 => {
                // Upward equilateral-ish triangle inscribed in radius r.
                let yb = r * 0.75;
                dy <= yb && dy >= -r && dx.abs() <= (dy + r) * 0.62
            }
            _ => {
                let arm = r * 0.3;
                (dx.abs() <= arm && dy.abs() <= r) || (dy.abs() <= arm && dx.abs() <= r)
            }
        }
    };
    if p.filled || class == 3 {
        shape_fn(p.r)
    } else {
        shape_fn(p.r) && !shape_fn(p.r - p.stroke)
    }
}

fn draw(class: usize, p: &Params) -> Vec<f32> {
    let mut img = vec![0f32; SIZE * SIZE];
    let step = 1.0 / SUPER as f32;
    for py in 0..SIZE {
        for px in 0..SIZE {
            let mut hits = 0;
            for sy in 0..SUPER {
                for sx in 0..SUPER {
                    let x = px as f32 + (sx as f32 + 0.5) * step;
                    let y = py as f32 + (sy as f32 + 0.5) * step;
                    hits += inside(class, p, x, y) as usize;
                }
            }
            img[py * SIZE + px] = hits as f32 / (SUPER * SUPER) as f32;
        }
    }
    img
}

pub(crate) fn generate(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Vec::with_capacity(n * SIZE * SIZE);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % CLASSES.len();
        let r = rng.random_range(5.0..11.0f32);
        let margin = r + 1.0;
        let p = Params {
            cx: rng.random_range(margin..SIZE as f32 - margin),
            cy: rng.random_range(margin..SIZE as f32 - margin),
            r,
            stroke: rng.random_range(1.5..3.5f32),
            filled: rng.random_bool(0.5),
        };
        x.extend(draw(class, &p));
        y.push(class as u32);
    }
    Dataset {
        name: "shapes".into(),
        kind: Kind::Images,
        shape: Shape {
            c: 1,
            h: SIZE,
            w: SIZE,
        },
        x,
        y: Some(y),
        classes: CLASSES.iter().map(|s| s.to_string()).collect(),
        binary: false,
        skipped: Vec::new(),
        notes: Vec::new(),
        raw: None,
        standardization: None,
        columns: Vec::new(),
        input: None,
    }
}

/// `colour-shapes`: the same shapes, labels and splits, each drawn in a random colour on a random
/// colour ground, `[3, 28, 28]` RGB. The two colours differ in luminance (BT.601) by at least
/// 0.3, so the shape stays visible in grey: built-in data for colorization.
pub(crate) fn generate_colour(n: usize, seed: u64) -> Dataset {
    let mut data = generate(n, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc010_c010);
    let hw = SIZE * SIZE;
    let lum = |c: [f32; 3]| 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    let mut x = Vec::with_capacity(n * 3 * hw);
    for i in 0..n {
        let ink: [f32; 3] = std::array::from_fn(|_| rng.random());
        let ground = loop {
            let c: [f32; 3] = std::array::from_fn(|_| rng.random());
            if (lum(c) - lum(ink)).abs() >= 0.3 {
                break c;
            }
        };
        let mask = data.example(i);
        for ch in 0..3 {
            x.extend(mask.iter().map(|&m| m * ink[ch] + (1.0 - m) * ground[ch]));
        }
    }
    data.x = x;
    data.shape.c = 3;
    data.name = "colour-shapes".into();
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_shapes_are_rgb_with_visible_shapes() {
        let d = generate_colour(20, 1);
        assert_eq!(d.shape.c, 3);
        assert_eq!(d.x.len(), 20 * 3 * SIZE * SIZE);
        assert!(d.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
        let grey = generate(20, 1);
        assert_eq!(d.y, grey.y);
        // Not grey: the channels differ somewhere in most images.
        let hw = SIZE * SIZE;
        let coloured = (0..20).filter(|&i| {
            let e = d.example(i);
            (0..hw).any(|p| (e[p] - e[hw + p]).abs() > 0.05)
        });
        assert!(coloured.count() >= 15);
    }

    #[test]
    fn is_deterministic_and_in_unit_range() {
        let a = generate(8, 3);
        let b = generate(8, 3);
        assert_eq!(a.x, b.x);
        assert!(a.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }

    #[test]
    fn every_image_has_ink_and_background() {
        let d = generate(40, 1);
        for i in 0..d.len() {
            let ink: f32 = d.example(i).iter().sum();
            assert!(ink > 10.0 && ink < 600.0, "image {i} ink {ink}");
        }
    }
}
