//! Test helpers shared by the flow families (realnvp, maf, glow) and the raster families: a
//! `DataInfo` for a given shape, a brute-force log-determinant to check analytic ones against, a
//! numeric integral of a 2-d density, and the comparison of two samplers' outputs.

use burn::tensor::{Device, Tensor};
use genlab_core::tensor::to_vec;
use genlab_core::DataInfo;
use genlab_data::{Binarize, Kind, Preprocess, Scale, Shape};

/// A `DataInfo` for unlabelled data of `kind` and `shape`, scaled to [0, 1].
pub fn info(kind: Kind, shape: Shape) -> DataInfo {
    DataInfo {
        kind,
        shape,
        classes: 1,
        preprocess: Preprocess {
            binarize: Binarize::None,
            scale: Scale::Unit,
            dequantize: kind == Kind::Images,
        },
        modes: None,
        standardization: None,
        input: None,
    }
}

/// One-channel `h x w` images as a raster model sees them: binarized (`binary`) or 8-bit
/// levels on [0, 1], with `classes` labels.
pub fn raster_info(h: usize, w: usize, binary: bool, classes: usize) -> DataInfo {
    let mut info = self::info(Kind::Images, Shape { c: 1, h, w });
    info.classes = classes;
    info.preprocess.dequantize = false;
    if binary {
        info.preprocess.binarize = Binarize::Dynamic;
    }
    info
}

/// The largest absolute difference between two equally long vectors, and whether they are
/// identical.
pub fn compare(a: &[f32], b: &[f32]) -> (f32, bool) {
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    (worst, a == b)
}

/// `module` with every parameter redrawn from a seeded RNG, so that a test does not depend on
/// the backend's unseeded initialisation: comparisons that hold up to f32 near-ties become
/// deterministic. Weights are uniform in ±1/sqrt(size / largest dimension) (about the fan-in
/// bound), biases in ±0.1.
pub fn seeded<M: burn::module::Module>(module: M, seed: u64) -> M {
    use burn::module::{ModuleMapper, Param};
    use rand::{Rng, SeedableRng};
    struct Redraw(rand_chacha::ChaCha8Rng);
    impl ModuleMapper for Redraw {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, tensor, mapper) = param.consume();
            let (dims, device) = (tensor.dims(), tensor.device());
            let size: usize = dims.iter().product();
            let largest = dims.iter().copied().max().unwrap_or(1).max(1);
            let bound = match D {
                1 => 0.1,
                _ => 1.0 / ((size / largest).max(1) as f32).sqrt(),
            };
            let new: Vec<f32> = (0..size)
                .map(|_| self.0.random_range(-bound..bound))
                .collect();
            let t = Tensor::from_data(burn::tensor::TensorData::new(new, dims), &device);
            Param::from_mapped_value(id, t, mapper)
        }
    }
    module.map(&mut Redraw(rand_chacha::ChaCha8Rng::seed_from_u64(seed)))
}

/// `n x d` values from a seeded RNG: bits (`binary`) or uniform on [0, 1].
pub fn seeded_values(n: usize, d: usize, binary: bool, seed: u64) -> Vec<f32> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n * d)
        .map(|_| match binary {
            true => rng.random_bool(0.5) as u8 as f32,
            false => rng.random::<f32>(),
        })
        .collect()
}

/// log |det J| of x -> z by autodiff rows and an LU determinant.
pub fn brute_force_logdet(f: impl Fn(Tensor<2>) -> Tensor<2>, x: &[f32], d: usize) -> f64 {
    let device = Device::default().autodiff();
    let mut jac = vec![0f64; d * d];
    for i in 0..d {
        let xt = genlab_core::tensor::matrix(x.to_vec(), 1, d, &device).require_grad();
        let zi = f(xt.clone()).slice([0..1, i..i + 1]).sum();
        let g: Vec<f32> = xt
            .grad(&zi.backward())
            .unwrap()
            .into_data()
            .try_to_vec()
            .unwrap();
        for (j, v) in g.iter().enumerate() {
            jac[i * d + j] = *v as f64;
        }
    }
    genlab_nn::linalg::log_abs_det(&jac, d)
}

/// Riemann sum of exp(log p) over [-8, 8]² with step 0.02.
pub fn integrate_2d(log_p: impl Fn(Tensor<2>) -> Tensor<1>, device: &Device) -> f64 {
    let (lo, step, n) = (-8.0f32, 0.02f32, 800);
    let mut total = 0.0;
    for row in 0..n {
        let y = lo + (row as f32 + 0.5) * step;
        let pts: Vec<f32> = (0..n)
            .flat_map(|i| [lo + (i as f32 + 0.5) * step, y])
            .collect();
        let lp = to_vec(log_p(genlab_core::tensor::matrix(pts, n, 2, device)));
        total += lp.iter().map(|v| (*v as f64).exp()).sum::<f64>();
    }
    total * (step as f64).powi(2)
}
