//! `classifier`: a small convolutional network that tells image classes apart. It is not a
//! generative model: it is genlab's judge of generative models' samples, the domain classifier
//! whose penultimate features stand in for Inception's on 28x28 data ("Fréchet LeNet distance";
//! Heusel et al. 2017 define FID on any such features), and whose class probabilities give the
//! Inception score and the class rate of conditional samplers.
//!
//!   x [b, c, h, w]
//!     -> for each stage: 3x3 conv, BN, ReLU; 3x3 conv with stride 2, BN, ReLU   (h/2 each)
//!     -> dense `features` units, BN, ReLU                      = the judge's features [b, 128]
//!     -> dropout -> dense `classes` -> softmax                  = p(y | x)
//!
//! Training: minimise the mean cross-entropy -log p(y | x) of labelled batches by Adam, with
//! dropout (Srivastava et al. 2014) on the features and batch norm (Ioffe & Szegedy 2015) after
//! every convolution; stride-2 convolutions instead of pooling (Springenberg et al. 2015).
//! Evaluation uses batch norm's running statistics and no dropout.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor};
use genlab_core::config::parse_section;
use genlab_core::tensor::{labels, one_hot, scalar};
use genlab_core::Capability;
use genlab_core::{Batch, Classify, DataInfo, Family, Judge, Losses, Model, NamedTensors, StepCtx};
use genlab_data::Kind;
use genlab_kernels::fused_bn::batch_norm;
use genlab_nn::conv2d::{Build, Conv2d, Conv2dConfig, PaddingConfig2d};
use genlab_nn::loss::softmax_cross_entropy;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    /// Channels of each stage (two 3x3 convolutions, the second with stride 2).
    pub channels: Vec<usize>,
    /// Units of the feature layer: the judge's features.
    pub features: usize,
    /// Dropout probability on the features while training.
    pub dropout: f64,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            channels: vec![32, 64],
            features: 128,
            dropout: 0.5,
        }
    }
}

#[derive(Module, Debug)]
pub struct ClassifierNet {
    convs: Vec<Conv2d>,
    norms: Vec<BatchNorm>,
    feature: Linear,
    feature_norm: BatchNorm,
    dropout: Dropout,
    head: Linear,
    #[module(skip)]
    shape: [usize; 3],
}

impl ClassifierNet {
    fn new(cfg: &ClassifierConfig, shape: [usize; 3], classes: usize, device: &Device) -> Self {
        let conv = |i: usize, o: usize, stride: usize| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .build(device)
        };
        let (mut convs, mut norms) = (Vec::new(), Vec::new());
        let (mut c, mut h, mut w) = (shape[0], shape[1], shape[2]);
        for &o in &cfg.channels {
            convs.push(conv(c, o, 1));
            convs.push(conv(o, o, 2));
            norms.push(BatchNormConfig::new(o).init(device));
            norms.push(BatchNormConfig::new(o).init(device));
            (c, h, w) = (o, h.div_ceil(2), w.div_ceil(2));
        }
        Self {
            convs,
            norms,
            feature: LinearConfig::new(c * h * w, cfg.features).init(device),
            feature_norm: BatchNormConfig::new(cfg.features).init(device),
            dropout: DropoutConfig::new(cfg.dropout).init(),
            head: LinearConfig::new(cfg.features, classes).init(device),
            shape,
        }
    }

    /// The last convolution's activations, after its batch norm and ReLU:
    /// `[b, c*h*w] -> [b, channels, h/2^stages, w/2^stages]` (SRGAN's content features).
    pub fn conv_features(&self, x: Tensor<2>) -> Tensor<4> {
        let [c, h, w] = self.shape;
        let b = x.dims()[0];
        let mut a = x.reshape([b, c, h, w]);
        for (conv, norm) in self.convs.iter().zip(&self.norms) {
            a = relu(batch_norm(norm, conv.forward(a)));
        }
        a
    }

    /// The feature layer's output, after its ReLU: `[b, c*h*w] -> [b, features]`.
    fn features(&self, x: Tensor<2>) -> Tensor<2> {
        let a = self.conv_features(x).flatten::<2>(1, 3);
        relu(batch_norm(&self.feature_norm, self.feature.forward(a)))
    }

    /// Class logits `[b, classes]` (dropout is active only on an autodiff device).
    fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.head.forward(self.dropout.forward(self.features(x)))
    }
}

pub struct Classifier {
    pub(crate) net: ClassifierNet,
    classes: usize,
}

impl Classifier {
    pub fn new(cfg: ClassifierConfig, info: &DataInfo, device: &Device) -> Result<Self> {
        if info.kind != Kind::Images {
            bail!("classifier classifies images; this data holds points");
        }
        if info.classes < 2 {
            bail!("classifier needs labelled data with at least 2 classes (a folder of class subfolders, or fashion-mnist); this data has {}", info.classes);
        }
        if cfg.channels.is_empty() || cfg.channels.contains(&0) || cfg.features == 0 {
            bail!("model.channels needs at least one stage, every stage and model.features at least 1 unit");
        }
        if !(0.0..1.0).contains(&cfg.dropout) {
            bail!("model.dropout must be in [0, 1), found {}", cfg.dropout);
        }
        let s = info.shape;
        Ok(Self {
            net: ClassifierNet::new(&cfg, [s.c, s.h, s.w], info.classes, device),
            classes: info.classes,
        })
    }

    fn infer(&self, device: &Device) -> ClassifierNet {
        genlab_core::device::module_for(&self.net, device)
    }

    /// Mean cross-entropy and accuracy of `net` on a labelled batch.
    fn loss(&self, net: &ClassifierNet, batch: &Batch) -> Result<(Tensor<1>, f64)> {
        let Some(y) = &batch.y else {
            bail!("classifier needs labelled data");
        };
        let y = labels(y.clone());
        let logits = net.logits(batch.x.clone());
        let pred = labels(logits.clone().argmax(1).squeeze_dim(1));
        let right = pred.iter().zip(&y).filter(|(p, y)| p == y).count();
        let targets = one_hot(&y, self.classes, &batch.x.device());
        let ce = softmax_cross_entropy(logits, targets);
        Ok((ce, right as f64 / y.len().max(1) as f64))
    }
}

impl Model for Classifier {
    fn family(&self) -> &'static str {
        "classifier"
    }
    fn groups(&self) -> Vec<&'static str> {
        vec!["model"]
    }
    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses> {
        let (ce, accuracy) = self.loss(&self.net, batch)?;
        let value = scalar(ce.clone());
        self.net = ctx.update("model", self.net.clone(), &ce);
        Ok(Losses::of(&[("ce", value), ("accuracy", accuracy)]))
    }
    fn held_out(&self, batch: &Batch, _rng: &mut ChaCha8Rng) -> Result<Losses> {
        let (ce, accuracy) = self.loss(&self.infer(&batch.x.device()), batch)?;
        Ok(Losses::of(&[("ce", scalar(ce)), ("accuracy", accuracy)]))
    }
    fn save_params(&self) -> NamedTensors {
        NamedTensors::of("model", &self.net)
    }
    fn load_params(&mut self, params: &NamedTensors) -> Result<()> {
        self.net = params.restore("model", self.net.clone())?;
        Ok(())
    }
    fn as_classify(&self) -> Option<&dyn Classify> {
        Some(self)
    }
    fn as_judge(&self) -> Option<&dyn Judge> {
        Some(self)
    }
}

impl Classify for Classifier {
    fn classify(&self, x: Tensor<2>) -> Result<Vec<u32>> {
        let logits = self.infer(&x.device()).logits(x);
        Ok(labels(logits.argmax(1).squeeze_dim(1)))
    }
}

impl Judge for Classifier {
    fn feature_dim(&self) -> usize {
        self.net.feature.weight.dims()[1]
    }
    fn features(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        Ok(self.infer(&x.device()).features(x))
    }
    fn probabilities(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        Ok(softmax(self.infer(&x.device()).logits(x), 1))
    }
}

fn default_model() -> toml::Table {
    toml::Table::try_from(ClassifierConfig::default()).expect("config serialises")
}

fn build(model: &toml::Table, info: &DataInfo, device: &Device) -> Result<Box<dyn Model>> {
    let cfg: ClassifierConfig = parse_section("model", model)?;
    Ok(Box::new(Classifier::new(cfg, info, device)?))
}

pub const FAMILY: Family = Family {
    name: "classifier",
    summary: "a small CNN classifier: genlab's judge of sample quality (features, p(y | x))",
    paper:
        "Heusel et al. 2017 (FID on domain features); Ioffe & Szegedy 2015; Srivastava et al. 2014",
    groups: &["model"],
    capabilities: &[Capability::Classify, Capability::Judge],
    presets: &[
        (
            "default",
            include_str!("../../../../configs/classifier/default.toml"),
        ),
        (
            "tiny",
            include_str!("../../../../configs/classifier/tiny.toml"),
        ),
    ],
    default_model,
    build,
};
