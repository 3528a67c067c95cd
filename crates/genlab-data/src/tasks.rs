//! Image-to-image tasks with known answers, built from any image spec: each example's target is
//! the image itself and its input a degraded or reduced view of it (pix2pix's edges -> photo,
//! super-resolution, inpainting, denoising, colorization), so that every translator can be
//! scored against the truth, not only looked at.
//!
//! Grammar (one for every spec): `NAME`, `NAME:REST` or `NAME(ARGS):REST`. The head before the
//! first `:` never holds a path, and REST is taken whole, so a folder path keeps its colons,
//! spaces and brackets: `downscale(4):folder:/data/a (1)/[b]:c`.
//!
//! | spec | input | target |
//! |---|---|---|
//! | `edges:SPEC`, `edges(T):SPEC` | Sobel edge map: 1 where the gradient magnitude of the luminance, divided by its largest possible value 4√2, exceeds T (default 0.2), else 0; 1 channel | the image |
//! | `downscale(F):SPEC` | each F x F block averaged (area average, as `cv2.INTER_AREA` for integer F); F = 2 or 4, the side must divide by F | the image |
//! | `hole:SPEC`, `hole(S):SPEC` | the image with a centred S x S square (default half the side, the context encoder's central region) set to 0.5 grey | the image |
//! | `noisy(SIGMA):SPEC` | the image plus N(0, SIGMA²) noise per pixel (default 0.3), clipped to [0, 1]; the noise of example i is the same in every run | the image |
//! | `grey:SPEC` | the luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as PIL's `convert("L")`); colour data only | the image |

use crate::{DataError, Dataset, Shape};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// Largest Sobel gradient magnitude of an image with values in [0, 1]: both kernels reach 4.
const SOBEL_MAX: f32 = 4.0 * std::f32::consts::SQRT_2;
/// Default edge threshold on the normalized Sobel magnitude.
pub const EDGE_THRESHOLD: f32 = 0.2;
/// Default noise standard deviation of `noisy`.
pub const NOISE_SIGMA: f32 = 0.3;
/// Grey level of the hole of `hole` (a value the images rarely hold over a whole square).
pub const HOLE_FILL: f32 = 0.5;
/// Seed of the noise of `noisy` (with the split and the example's index).
const NOISE_SEED: u64 = 0x006e_6f69_7379;

/// A paired task: how to make each example's input from its target.
#[derive(Clone, Debug, PartialEq)]
pub enum Task {
    /// Sobel edges above a threshold (None: [`EDGE_THRESHOLD`]).
    Edges(Option<f32>),
    /// Area-average downscaling by 2 or 4.
    Downscale(usize),
    /// A centred square hole of this side (None: half the image side).
    Hole(Option<usize>),
    /// Additive Gaussian noise of this standard deviation (None: [`NOISE_SIGMA`]).
    Noisy(Option<f32>),
    /// Colour to luminance.
    Grey,
    /// Two classes of one labelled set as two unpaired domains: inputs are the examples of
    /// class `.0` (domain A), targets those of class `.1` (domain B).
    Unpaired(u32, u32),
}

/// What a model learns to translate from: the inputs' shape, and whether each answers a target
/// (a paired task) or the two domains are unpaired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InputKind {
    pub shape: Shape,
    pub paired: bool,
    /// The square an inpainting task (`hole`) hides in every input, None for other tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hole: Option<Hole>,
}

/// A square hidden in every input of `hole:SPEC`: rows `top..top + side`, columns
/// `left..left + side`, every channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hole {
    pub top: usize,
    pub left: usize,
    pub side: usize,
}

impl Hole {
    /// The centred hole of side `side` (None: half the shorter side) in images of `s`.
    pub fn centred(side: Option<usize>, s: Shape) -> Self {
        let side = side.unwrap_or(s.h.min(s.w) / 2);
        Hole {
            top: (s.h.saturating_sub(side)) / 2,
            left: (s.w.saturating_sub(side)) / 2,
            side,
        }
    }

    /// Whether pixel (row, col) is hidden.
    pub fn contains(&self, row: usize, col: usize) -> bool {
        (self.top..self.top + self.side).contains(&row)
            && (self.left..self.left + self.side).contains(&col)
    }
}

/// The input half of a paired dataset: row i of `x` is the input whose answer is row i of the
/// dataset's own `x`.
#[derive(Clone, Debug, PartialEq)]
pub struct Inputs {
    pub shape: Shape,
    /// `[n, shape.dim()]`, values in [0, 1].
    pub x: Vec<f32>,
    /// What the input is, for captions: "Sobel edges > 0.2".
    pub caption: String,
    /// False for two unpaired domains: row i of `x` answers no particular target, and the two
    /// sets may differ in size.
    pub paired: bool,
    /// The square hidden in every input (inpainting), None for other tasks.
    pub hole: Option<Hole>,
}

impl Inputs {
    pub fn example(&self, i: usize) -> &[f32] {
        let d = self.shape.dim();
        &self.x[i * d..(i + 1) * d]
    }

    pub fn len(&self) -> usize {
        self.x.len() / self.shape.dim().max(1)
    }

    pub fn kind(&self) -> InputKind {
        InputKind {
            shape: self.shape,
            paired: self.paired,
            hole: self.hole,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

impl Task {
    /// The names the grammar knows, for the error of an unknown spec.
    pub const NAMES: &'static str = "edges, downscale(F), hole, noisy, grey, unpaired(A,B)";

    /// `name` and the text between the brackets (None without brackets), or None when `name`
    /// is no task.
    pub fn parse(name: &str, args: Option<&str>) -> Option<Result<Self, DataError>> {
        let bad = |why: &str| {
            Some(Err(DataError::Invalid(format!(
                "{name}({}): {why}",
                args.unwrap_or("")
            ))))
        };
        let number = |what: &str| -> Result<Option<f64>, DataError> {
            match args {
                None => Ok(None),
                Some(a) => a.trim().parse::<f64>().map(Some).map_err(|_| {
                    DataError::Invalid(format!("{name}({a}): {what} must be a number"))
                }),
            }
        };
        Some(Ok(match name {
            "edges" => match number("the threshold") {
                Ok(t) if t.is_none_or(|t| t > 0.0 && t < 1.0) => Task::Edges(t.map(|t| t as f32)),
                Ok(_) => {
                    return bad("the threshold is a fraction of the largest gradient, in (0, 1)")
                }
                Err(e) => return Some(Err(e)),
            },
            "downscale" => match number("the factor") {
                Ok(Some(f)) if f == 2.0 || f == 4.0 => Task::Downscale(f as usize),
                Ok(None) => return bad("give the factor: downscale(2) or downscale(4)"),
                Ok(_) => return bad("the factor is 2 or 4"),
                Err(e) => return Some(Err(e)),
            },
            "hole" => match number("the side") {
                Ok(s) if s.is_none_or(|s| s >= 1.0 && s.fract() == 0.0) => {
                    Task::Hole(s.map(|s| s as usize))
                }
                Ok(_) => return bad("the side is a whole number of pixels, at least 1"),
                Err(e) => return Some(Err(e)),
            },
            "noisy" => match number("sigma") {
                Ok(s) if s.is_none_or(|s| s > 0.0 && s.is_finite()) => {
                    Task::Noisy(s.map(|s| s as f32))
                }
                Ok(_) => return bad("sigma is a positive standard deviation in pixel units"),
                Err(e) => return Some(Err(e)),
            },
            "unpaired" => {
                let classes: Option<Vec<u32>> =
                    args.map(|a| a.split(',').filter_map(|c| c.trim().parse().ok()).collect());
                match classes.as_deref() {
                    Some(&[a, b]) if a != b => Task::Unpaired(a, b),
                    _ => return bad(
                        "give two different class numbers: unpaired(7,9) maps class 7 to class 9",
                    ),
                }
            }
            "grey" if args.is_none() => Task::Grey,
            "grey" => return bad("grey takes no arguments"),
            _ => return None,
        }))
    }

    /// The head of the spec, as given: `edges`, `downscale(2)`, `noisy(0.5)`.
    pub fn head(&self) -> String {
        let opt = |name: &str, v: Option<String>| match v {
            Some(v) => format!("{name}({v})"),
            None => name.to_string(),
        };
        match self {
            Task::Edges(t) => opt("edges", t.map(|t| t.to_string())),
            Task::Downscale(f) => format!("downscale({f})"),
            Task::Hole(s) => opt("hole", s.map(|s| s.to_string())),
            Task::Noisy(s) => opt("noisy", s.map(|s| s.to_string())),
            Task::Grey => "grey".into(),
            Task::Unpaired(a, b) => format!("unpaired({a},{b})"),
        }
    }

    /// Make the inputs of `data` (images in [0, 1]); `test` picks the noise of the test split.
    pub fn apply(&self, mut data: Dataset, test: bool) -> Result<Dataset, DataError> {
        if data.kind != crate::Kind::Images {
            return Err(DataError::Invalid(format!(
                "{}: {} holds points, not images; image-to-image tasks need images (fashion-mnist, shapes, folder:DIR, idx:DIR)",
                self.head(),
                data.name
            )));
        }
        if data.input.is_some() {
            return Err(DataError::Invalid(format!(
                "{}: {} is already an image-to-image task; tasks do not nest (one task per spec, over plain images)",
                self.head(),
                data.name
            )));
        }
        let s = data.shape;
        let n = data.len();
        if let Task::Unpaired(a, b) = *self {
            return unpaired(data, a, b, self.head());
        }
        let (shape, caption) = match *self {
            Task::Edges(t) => (
                Shape { c: 1, ..s },
                format!("Sobel edges > {}", t.unwrap_or(EDGE_THRESHOLD)),
            ),
            Task::Downscale(f) => {
                if !s.h.is_multiple_of(f) || !s.w.is_multiple_of(f) {
                    return Err(DataError::Invalid(format!(
                        "downscale({f}): {} is {}x{}, not divisible by {f}; resize it with data.image_size (e.g. 32) or use downscale(2)",
                        data.name, s.h, s.w
                    )));
                }
                (
                    Shape {
                        h: s.h / f,
                        w: s.w / f,
                        ..s
                    },
                    format!("area average / {f}"),
                )
            }
            Task::Hole(side) => {
                let side = side.unwrap_or(s.h.min(s.w) / 2);
                if side >= s.h.min(s.w) {
                    return Err(DataError::Invalid(format!(
                        "hole({side}): the hole must be smaller than the {}x{} images",
                        s.h, s.w
                    )));
                }
                (s, format!("{side}x{side} hole"))
            }
            Task::Noisy(sigma) => (s, format!("noise sigma {}", sigma.unwrap_or(NOISE_SIGMA))),
            Task::Grey => {
                if s.c != 3 {
                    return Err(DataError::Invalid(format!(
                        "grey: {} has {} channel(s); colorization needs colour images (folder:DIR of colour pictures with data.channels = \"rgb\")",
                        data.name, s.c
                    )));
                }
                (Shape { c: 1, ..s }, "luminance".into())
            }
            Task::Unpaired(..) => unreachable!("returned above"),
        };
        let mut x = Vec::with_capacity(n * shape.dim());
        for i in 0..n {
            let img = data.example(i);
            match *self {
                Task::Edges(t) => sobel_edges(
                    &luminance(img, s),
                    s.h,
                    s.w,
                    t.unwrap_or(EDGE_THRESHOLD),
                    &mut x,
                ),
                Task::Downscale(f) => area_average(img, s, f, &mut x),
                Task::Hole(side) => {
                    let hole = Hole::centred(side, s);
                    for c in 0..s.c {
                        for r in 0..s.h {
                            for col in 0..s.w {
                                x.push(if hole.contains(r, col) {
                                    HOLE_FILL
                                } else {
                                    img[(c * s.h + r) * s.w + col]
                                });
                            }
                        }
                    }
                }
                Task::Noisy(sigma) => {
                    let sigma = sigma.unwrap_or(NOISE_SIGMA);
                    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
                        NOISE_SEED ^ ((test as u64) << 40) ^ i as u64,
                    );
                    x.extend(img.iter().map(|&v| {
                        let e: f32 = StandardNormal.sample(&mut rng);
                        (v + sigma * e).clamp(0.0, 1.0)
                    }));
                }
                Task::Grey => x.extend(luminance(img, s)),
                Task::Unpaired(..) => unreachable!("returned above"),
            }
        }
        data.name = format!("{}:{}", self.head(), data.name);
        data.input = Some(Inputs {
            shape,
            x,
            caption,
            paired: true,
            hole: match *self {
                Task::Hole(side) => Some(Hole::centred(side, s)),
                _ => None,
            },
        });
        Ok(data)
    }
}

/// Classes `a` (inputs, domain A) and `b` (targets, domain B) of labelled `data`, unpaired.
fn unpaired(mut data: Dataset, a: u32, b: u32, head: String) -> Result<Dataset, DataError> {
    let Some(y) = data.y.clone() else {
        return Err(DataError::Invalid(format!(
            "{head}: {} has no labels to split into two domains; for two folders of images use folder-based data",
            data.name
        )));
    };
    let k = data.classes.len() as u32;
    if a.max(b) >= k.max(1) {
        return Err(DataError::Invalid(format!(
            "{head}: {} has classes 0..{} ({})",
            data.name,
            k.saturating_sub(1),
            data.classes.join(", ")
        )));
    }
    let name = |c: u32| {
        data.classes
            .get(c as usize)
            .cloned()
            .unwrap_or(c.to_string())
    };
    let pick = |c: u32| -> Vec<f32> {
        (0..data.len())
            .filter(|&i| y[i] == c)
            .flat_map(|i| data.example(i).to_vec())
            .collect()
    };
    let (xa, xb) = (pick(a), pick(b));
    for (c, x) in [(a, &xa), (b, &xb)] {
        if x.is_empty() {
            return Err(DataError::Invalid(format!(
                "{head}: {} has no examples of class {c} ({}) in this split",
                data.name,
                name(c)
            )));
        }
    }
    let caption = format!(
        "{} (class {a}) -> {} (class {b}), unpaired",
        name(a),
        name(b)
    );
    data.y = Some(vec![b; xb.len() / data.shape.dim()]);
    data.x = xb;
    data.name = format!("{head}:{}", data.name);
    data.input = Some(Inputs {
        shape: data.shape,
        x: xa,
        caption,
        paired: false,
        hole: None,
    });
    Ok(data)
}

/// Luminance `[h*w]` of one image `[c*h*w]` (BT.601 weights for RGB; the image itself if grey).
pub fn luminance(img: &[f32], s: Shape) -> Vec<f32> {
    let hw = s.h * s.w;
    if s.c == 1 {
        return img.to_vec();
    }
    if s.c == 3 {
        return (0..hw)
            .map(|p| 0.299 * img[p] + 0.587 * img[hw + p] + 0.114 * img[2 * hw + p])
            .collect();
    }
    (0..hw)
        .map(|p| (0..s.c).map(|c| img[c * hw + p]).sum::<f32>() / s.c as f32)
        .collect()
}

/// Binary Sobel edges of a grey image `[h*w]` (borders replicated), appended to `out`.
fn sobel_edges(g: &[f32], h: usize, w: usize, threshold: f32, out: &mut Vec<f32>) {
    let at = |r: isize, c: isize| {
        g[(r.clamp(0, h as isize - 1) as usize) * w + c.clamp(0, w as isize - 1) as usize]
    };
    for r in 0..h as isize {
        for c in 0..w as isize {
            let gx = (at(r - 1, c + 1) + 2.0 * at(r, c + 1) + at(r + 1, c + 1))
                - (at(r - 1, c - 1) + 2.0 * at(r, c - 1) + at(r + 1, c - 1));
            let gy = (at(r + 1, c - 1) + 2.0 * at(r + 1, c) + at(r + 1, c + 1))
                - (at(r - 1, c - 1) + 2.0 * at(r - 1, c) + at(r - 1, c + 1));
            let m = (gx * gx + gy * gy).sqrt() / SOBEL_MAX;
            out.push(if m > threshold { 1.0 } else { 0.0 });
        }
    }
}

/// Mean of each `f x f` block of one image `[c*h*w]`, appended to `out` as `[c*(h/f)*(w/f)]`.
pub fn area_average(img: &[f32], s: Shape, f: usize, out: &mut Vec<f32>) {
    let (h2, w2) = (s.h / f, s.w / f);
    for c in 0..s.c {
        for r in 0..h2 {
            for col in 0..w2 {
                let mut sum = 0.0;
                for dr in 0..f {
                    for dc in 0..f {
                        sum += img[(c * s.h + r * f + dr) * s.w + col * f + dc];
                    }
                }
                out.push(sum / (f * f) as f32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load, DataSpec, LoadOptions, Split};

    fn shapes(task: &str) -> Dataset {
        let spec: DataSpec = if task.contains(':') {
            task.parse().unwrap()
        } else {
            format!("{task}:shapes").parse().unwrap()
        };
        load(&spec, Split::Test, &LoadOptions::default()).unwrap()
    }

    #[test]
    fn downscale_averages_blocks_and_keeps_the_target() {
        let plain = load(&DataSpec::Shapes, Split::Test, &LoadOptions::default()).unwrap();
        let d = shapes("downscale(4)");
        let input = d.input.as_ref().unwrap();
        assert_eq!(
            input.shape,
            Shape {
                c: plain.shape.c,
                h: plain.shape.h / 4,
                w: plain.shape.w / 4
            }
        );
        assert_eq!(d.x, plain.x, "the target is the image itself");
        let img = plain.example(3);
        let w = plain.shape.w;
        let mean = (0..4)
            .flat_map(|r| (0..4).map(move |c| (r, c)))
            .map(|(r, c)| img[(4 + r) * w + 8 + c])
            .sum::<f32>()
            / 16.0;
        let got = input.example(3)[input.shape.w + 2];
        assert!((got - mean).abs() < 1e-6, "{got} vs {mean}");
    }

    #[test]
    fn edges_mark_a_step_and_nothing_on_flat_ground() {
        let s = Shape { c: 1, h: 6, w: 6 };
        let img: Vec<f32> = (0..36)
            .map(|p| if p % 6 >= 3 { 1.0 } else { 0.0 })
            .collect();
        let mut out = Vec::new();
        sobel_edges(&luminance(&img, s), 6, 6, EDGE_THRESHOLD, &mut out);
        for r in 0..6 {
            let row: Vec<f32> = out[r * 6..r * 6 + 6].to_vec();
            assert_eq!(row, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0], "row {r}");
        }
    }

    #[test]
    fn hole_greys_the_centre_only_and_noise_repeats() {
        let d = shapes("hole(8)");
        let (s, input) = (d.shape, d.input.as_ref().unwrap());
        let (top, left) = ((s.h - 8) / 2, (s.w - 8) / 2);
        let a = input.example(0);
        assert_eq!(a[top * s.w + left], HOLE_FILL);
        assert_eq!(a[0], d.example(0)[0]);
        let n1 = shapes("noisy(0.5)");
        let n2 = shapes("noisy(0.5)");
        assert_eq!(n1.input, n2.input, "seeded by the example's index");
        assert_ne!(n1.input.as_ref().unwrap().x, d.x);
    }

    #[test]
    fn unpaired_classes_become_two_domains() {
        let d = shapes("unpaired(0,2)");
        let input = d.input.as_ref().unwrap();
        assert!(!input.paired);
        assert_eq!(d.y.as_ref().unwrap().iter().filter(|&&c| c != 2).count(), 0);
        assert_eq!(
            input.len(),
            500,
            "a quarter of the 2,000 test shapes are circles"
        );
        assert_eq!(d.len(), 500);
        assert!(
            input
                .caption
                .contains("circle (class 0) -> triangle (class 2)"),
            "{}",
            input.caption
        );
        let err = "unpaired(0,9):shapes".parse::<DataSpec>().unwrap();
        let err = load(&err, Split::Test, &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("classes 0..3"), "{err}");
    }

    #[test]
    fn bad_arguments_and_data_say_what_is_wrong() {
        for (spec, says) in [
            ("downscale:shapes", "give the factor"),
            ("downscale(3):shapes", "2 or 4"),
            ("edges(two):shapes", "must be a number"),
            ("edges(1.5):shapes", "in (0, 1)"),
            ("grey(1):shapes", "no arguments"),
            ("hole(2.5):shapes", "whole number"),
            ("unpaired(7):shapes", "two different class numbers"),
            ("unpaired(7,7):shapes", "two different class numbers"),
        ] {
            let err = spec.parse::<DataSpec>().unwrap_err().to_string();
            assert!(err.contains(says), "{spec}: {err}");
        }
        let grey: DataSpec = "grey:shapes".parse().unwrap();
        let err = load(&grey, Split::Test, &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("colorization needs colour images"), "{err}");
        let colour = shapes("grey:colour-shapes");
        assert_eq!(colour.input.as_ref().unwrap().shape.c, 1);
        assert_eq!(colour.shape.c, 3);
        for nested in ["hole(8):noisy(0.5):shapes", "edges:unpaired(0,2):shapes"] {
            let spec: DataSpec = nested.parse().unwrap();
            let err = load(&spec, Split::Test, &LoadOptions::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("tasks do not nest"), "{nested}: {err}");
        }
        let points: DataSpec = "edges:toy:ring8".parse().unwrap();
        let err = load(&points, Split::Test, &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("need images"), "{err}");
    }
}
