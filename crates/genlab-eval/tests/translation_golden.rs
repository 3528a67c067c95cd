//! genlab's translation scores against the reference implementations on committed images
//! (tests/fixtures/translation, made by its make_golden.py): SSIM against scikit-image's
//! `structural_similarity` with Gaussian weights (grey and colour, and an 11x13 image, the
//! smallest with a whole window), PSNR against `peak_signal_noise_ratio`, bicubic upsampling
//! by 2 and 4 against PIL's `resize(..., BICUBIC)`.

use genlab_data::Shape;
use genlab_eval::translation::{bicubic_upsample, psnr, ssim};
use std::path::Path;

fn golden() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/translation/golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn ssim_and_psnr_match_scikit_image() {
    let g = golden();
    for case in g["cases"].as_array().unwrap() {
        let s: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let shape = Shape {
            c: s[0],
            h: s[1],
            w: s[2],
        };
        let (a, b) = (floats(&case["a"]), floats(&case["b"]));
        let got = ssim(&a, &b, shape).unwrap();
        let want = case["ssim"].as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-6,
            "ssim {shape:?}: genlab {got}, scikit-image {want}"
        );
        let (got, want) = (psnr(&a, &b), case["psnr"].as_f64().unwrap());
        assert!(
            (got - want).abs() < 1e-4,
            "psnr {shape:?}: genlab {got}, scikit-image {want}"
        );
    }
}

#[test]
fn bicubic_upsampling_matches_pil() {
    let g = golden();
    let small = floats(&g["small"]);
    for f in [2usize, 4] {
        let got = bicubic_upsample(&small, Shape { c: 1, h: 7, w: 7 }, f);
        let want = floats(&g["bicubic"][f.to_string()]);
        assert_eq!(got.len(), want.len());
        for (i, (x, y)) in got.iter().zip(&want).enumerate() {
            assert!((x - y).abs() < 1e-5, "x{f} pixel {i}: genlab {x}, PIL {y}");
        }
    }
}
