//! The judge of sample quality (issue 21): a `classifier` run's features and class
//! probabilities. `--judge RUN` picks any classifier run (one trained on the user's own image
//! folder, say); without it, data with a shipped judge uses that one: Fashion-MNIST's, trained
//! by genlab itself (`judges/fashion-mnist/judge.json` holds its command, test accuracy and the
//! SHA-256 of its weights), embedded in the binary so that no file has to be found at run time.

use anyhow::{bail, Context, Result};
use burn::tensor::Device;
use genlab_core::{DataInfo, Model};
use genlab_data::DataSpec;
use genlab_models::judges::shipped::sha256;
use std::path::Path;

/// What every sample-quality result records of its judge.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct JudgeId {
    /// `fashion-mnist` (shipped) or the run directory.
    pub name: String,
    /// SHA-256 of the weights (the safetensors bytes), hex.
    pub sha256: String,
    /// Accuracy on the data's test split, where measured.
    pub test_accuracy: Option<f64>,
}

pub struct Judge {
    pub model: Box<dyn Model>,
    pub info: DataInfo,
    pub device: Device,
    pub id: JudgeId,
    /// The judge shipped for the data (results on the protocol), not a run of the user's.
    pub shipped: bool,
}

impl Judge {
    pub fn judge(&self) -> &dyn genlab_core::Judge {
        self.model.as_judge().expect("checked when loaded")
    }

    /// The view of it the metrics take.
    pub fn as_ref(&self) -> genlab_eval::quality::JudgeRef<'_> {
        genlab_eval::quality::JudgeRef {
            judge: self.judge(),
            info: &self.info,
            device: &self.device,
            id: serde_json::to_value(&self.id).unwrap_or_default(),
            shipped: self.shipped,
        }
    }

    /// The judge sees images of `info`'s shape, or it is an error that names both.
    pub fn check_shape(&self, info: &DataInfo) -> Result<()> {
        let (j, d) = (self.info.shape, info.shape);
        if j != d {
            bail!(
                "the judge {} sees {}x{} images with {} channel(s), but this data's are {}x{} with {}; train a classifier on this data (`genlab train classifier --data ...`) and pass it with --judge",
                self.id.name, j.h, j.w, j.c, d.h, d.w, d.c
            );
        }
        Ok(())
    }
}

/// The name `--judge` gives the shipped judge.
pub const SHIPPED_NAME: &str = genlab_models::judges::shipped::NAME;

/// The judge `flag` names, else the one shipped for `data`; an error naming `--judge` when
/// there is neither.
pub fn resolve(flag: Option<&Path>, data: &DataSpec) -> Result<Judge> {
    match (flag, data) {
        // `--judge fashion-mnist` names the shipped judge, unless a run of that name exists.
        (Some(dir), _) if dir == Path::new(SHIPPED_NAME) && !dir.exists() => fashion_mnist(),
        (Some(dir), _) => from_run(dir),
        (None, DataSpec::FashionMnist) => fashion_mnist(),
        (None, other) => bail!(
            "no judge ships for {other}: train a classifier on it (`genlab train classifier --data {other} --out runs/judge`) and pass --judge runs/judge; for 28x28 gray images like Fashion-MNIST's, --judge {SHIPPED_NAME} uses the shipped one"
        ),
    }
}

/// The shipped Fashion-MNIST judge, its weights checked against the hash judge.json records.
pub fn fashion_mnist() -> Result<Judge> {
    let device = genlab_core::device::inference_device(&Device::default());
    let shipped = genlab_models::judges::shipped::load(&device)?;
    Ok(Judge {
        model: shipped.model,
        info: shipped.info,
        device,
        id: JudgeId {
            name: SHIPPED_NAME.into(),
            sha256: shipped.sha256,
            test_accuracy: Some(shipped.test_accuracy),
        },
        shipped: true,
    })
}

/// A classifier run as judge, loaded as `genlab sample` loads a run: its newest checkpoint,
/// whose weights are hashed.
fn from_run(dir: &Path) -> Result<Judge> {
    match judge_run(dir)? {
        Ok(judge) => Ok(judge),
        Err(family) => bail!(
            "{} is a {family} run, which has no features to judge by; pass a classifier run (`genlab train classifier --data ... --out runs/judge`)",
            dir.display()
        ),
    }
}

/// The run at `dir` as a judge, or the family of a run that has no features (loaded once).
pub fn judge_run(dir: &Path) -> Result<Result<Judge, String>> {
    let run = crate::run::open(dir)?;
    if run.model.as_judge().is_none() {
        return Ok(Err(run.config.family));
    }
    let weights = run.checkpoint.join("model.safetensors");
    let bytes = std::fs::read(&weights)
        .with_context(|| format!("cannot read the judge's weights {}", weights.display()))?;
    Ok(Ok(Judge {
        id: JudgeId {
            name: dir.display().to_string(),
            sha256: sha256(&bytes),
            test_accuracy: None,
        },
        model: run.model,
        info: run.info,
        device: run.device,
        shipped: false,
    }))
}

#[cfg(test)]
mod tests {
    use genlab_data::{DataSpec, Split};

    #[test]
    fn the_shipped_judge_has_its_hash_and_accuracy() {
        // fashion_mnist() refuses weights whose hash is not judge.json's; on the first 1,000
        // test images the judge (93.5% on all 10,000) must reach 92%.
        let judge = super::fashion_mnist().unwrap();
        assert_eq!(judge.id.sha256.len(), 64);
        let config = genlab_core::config::DataConfig {
            spec: DataSpec::FashionMnist,
            ..Default::default()
        };
        let mut test = config.load(Split::Test).unwrap();
        test.truncate(1000);
        let x = genlab_core::tensor::matrix(test.x.clone(), 1000, 784, &judge.device);
        let predicted = judge.model.as_classify().unwrap().classify(x).unwrap();
        let labels = test.y.as_ref().unwrap();
        let right = predicted.iter().zip(labels).filter(|(p, y)| p == y).count();
        assert!(right >= 920, "{right} of 1000");
    }
}
