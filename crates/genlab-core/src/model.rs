//! What a model is to the rest of genlab: something that takes a training step, saves and loads
//! its parameters, and offers a few small capabilities.

use crate::batch::Batch;
use crate::optim::Optimizers;
use crate::params::NamedTensors;
use crate::rng::{rng_for, Stream};
use anyhow::Result;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

/// Named scalar losses of one step, in the order the family reports them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Losses(pub Vec<(String, f64)>);

impl Losses {
    /// Named values in report order.
    pub fn of(pairs: &[(&str, f64)]) -> Self {
        Self(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
    }

    pub fn push(&mut self, name: &str, value: f64) {
        self.0.push((name.to_string(), value));
    }

    /// The first loss is the one the family minimises.
    pub fn main(&self) -> f64 {
        self.0.first().map(|(_, v)| *v).unwrap_or(f64::NAN)
    }

    /// The first non-finite term, if any.
    pub fn non_finite(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(_, v)| !v.is_finite())
            .map(|(k, _)| k.as_str())
    }
}

/// What a family's `train_step` may use: the step number, its RNG, and the optimizers.
pub struct StepCtx<'a> {
    pub step: u64,
    pub total_steps: u64,
    pub device: Device,
    /// Seeded by (run seed, step): a resumed run draws the same noise.
    pub rng: ChaCha8Rng,
    optimizers: &'a mut Optimizers,
}

impl<'a> StepCtx<'a> {
    pub fn new(
        step: u64,
        total_steps: u64,
        seed: u64,
        device: Device,
        optimizers: &'a mut Optimizers,
    ) -> Self {
        Self {
            step,
            total_steps,
            device,
            rng: rng_for(seed, step, Stream::Model),
            optimizers,
        }
    }

    /// Back-propagate `loss` and let the optimizer of parameter `group` update `module`.
    pub fn update<M: Module>(&mut self, group: &str, module: M, loss: &Tensor<1>) -> M {
        let grads = loss.backward();
        self.optimizers.step(group, self.step, module, &grads)
    }

    /// Back-propagate `loss` once and let the optimizers of two groups update their modules:
    /// one loss over two networks (CycleGAN's two generators).
    pub fn update_both<A: Module, B: Module>(
        &mut self,
        (group_a, a): (&str, A),
        (group_b, b): (&str, B),
        loss: &Tensor<1>,
    ) -> (A, B) {
        let grads = loss.backward();
        let a = self.optimizers.step(group_a, self.step, a, &grads);
        let b = self.optimizers.step(group_b, self.step, b, &grads);
        (a, b)
    }

    /// Let the optimizer of `group` update `module` with gradients the family computed itself
    /// (keyed by parameter path, flattened): e.g. an RBM's contrastive-divergence update.
    pub fn apply<M: Module>(
        &mut self,
        group: &str,
        module: M,
        grads: &std::collections::BTreeMap<String, Tensor<1>>,
    ) -> M {
        self.optimizers.step_given(group, self.step, module, grads)
    }
}

/// How a reported log-likelihood relates to the true one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Exact,
    LowerBound,
    Estimate,
    /// The exact density of a projection of the data (a mixture fitted on PCA components), not
    /// of the data itself: never comparable with a pixel-space likelihood, so no bits/dim over
    /// the data's dimensions; see [`Likelihood::projected_dims`].
    Projected,
}

/// Draw new examples. Returns model-space values `[n, c*h*w]`: the mean of the observation
/// model, not noisy draws from it. For a model of bits ([`Model::binary`]) that is the
/// probability of each bit; [`Sample::sample_bits`] draws the bits themselves.
pub trait Sample {
    fn sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>>;
    /// For a model of bits: `n` examples of drawn 0/1 values `[n, c*h*w]`. By default bits
    /// drawn with the probabilities [`Sample::sample`] returns, from the same `rng` after it:
    /// exact for models whose bits are independent given a latent or hidden state (VAE, RBM,
    /// DBN). Autoregressive models return the bits they fed forward instead.
    fn sample_bits(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        let p = self.sample(n, rng, device)?;
        Ok(crate::tensor::bernoulli(p, rng))
    }
}

/// Draw examples of given classes (class-conditional models).
pub trait SampleGiven {
    fn classes(&self) -> usize;
    /// One example per entry of `labels`, `[labels.len(), c*h*w]` (means, as [`Sample`]).
    fn sample_given(
        &self,
        labels: &[u32],
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Tensor<2>>;
    /// For a model of bits: drawn 0/1 values, as [`Sample::sample_bits`].
    fn sample_given_bits(
        &self,
        labels: &[u32],
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Tensor<2>> {
        let p = self.sample_given(labels, rng, device)?;
        Ok(crate::tensor::bernoulli(p, rng))
    }
}

/// What a picture of a model's samples or completions shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draw {
    /// A model whose observations are not bits: its values (a GAN's pixels, a flow's points,
    /// a Gaussian decoder's mean).
    Values,
    /// A model of bits, shown as bits drawn from it: what it generates (the default).
    Bits,
    /// A model of bits, shown as the probability of each bit (`--mean`): smoother, and no
    /// single example the model would draw.
    Probabilities,
}

impl Draw {
    /// What to show of `model`: bits for a model of bits unless `mean` asks for probabilities.
    pub fn for_model(model: &dyn Model, mean: bool) -> Self {
        match (model.binary(), mean) {
            (false, _) => Draw::Values,
            (true, false) => Draw::Bits,
            (true, true) => Draw::Probabilities,
        }
    }

    /// The words a picture's title uses for it ("" for values).
    pub fn caption(self) -> &'static str {
        match self {
            Draw::Values => "",
            Draw::Bits => "binary draws",
            Draw::Probabilities => "P(x = 1) per pixel",
        }
    }

    /// `n` samples as this shows them.
    pub fn sample(
        self,
        s: &dyn Sample,
        n: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Tensor<2>> {
        match self {
            Draw::Bits => s.sample_bits(n, rng, device),
            _ => s.sample(n, rng, device),
        }
    }

    /// Samples of the classes `labels` as this shows them.
    pub fn sample_given(
        self,
        s: &dyn SampleGiven,
        labels: &[u32],
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Tensor<2>> {
        match self {
            Draw::Bits => s.sample_given_bits(labels, rng, device),
            _ => s.sample_given(labels, rng, device),
        }
    }

    /// Completions as this shows them.
    pub fn complete(
        self,
        c: &dyn Complete,
        x: Tensor<2>,
        known: Tensor<2>,
        rng: &mut ChaCha8Rng,
    ) -> Result<Tensor<2>> {
        match self {
            Draw::Bits => c.complete_bits(x, known, rng),
            _ => c.complete(x, known, rng),
        }
    }

    /// Probabilities (a Gibbs chain's E[v | h]) as this shows them: bits drawn with them.
    pub fn show(self, p: Tensor<2>, rng: &mut ChaCha8Rng) -> Tensor<2> {
        match self {
            Draw::Bits => crate::tensor::bernoulli(p, rng),
            _ => p,
        }
    }
}

/// The error for a missing capability, naming a command that does work.
pub fn cannot(model: &dyn Model, what: &str, try_instead: &str) -> anyhow::Error {
    let caps = model.capabilities();
    let hint = if caps.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = caps.iter().map(|c| c.name()).collect();
        format!("; try `{try_instead}` (it can: {})", names.join(", "))
    };
    anyhow::anyhow!("{} cannot {what}{hint}", model.family())
}

/// What a trained model can do, as `genlab models` lists it: one per capability trait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// [`Sample`]: `genlab sample`.
    Sample,
    /// [`SampleGiven`]: `genlab sample --label / --per-class`.
    SampleGivenLabel,
    /// [`Reconstruct`]: `genlab reconstruct`.
    Reconstruct,
    /// [`LatentDecode`]: `genlab interpolate`, `invert`, `arithmetic`.
    Interpolate,
    /// [`Likelihood`]: `genlab eval` nats and bits/dim.
    Likelihood,
    /// [`GibbsChain`]: `genlab sample --chain`.
    GibbsChain,
    /// [`Complete`]: `genlab complete`.
    Complete,
    /// [`Classify`]: accuracy in `genlab eval`, a judge for `--classifier`.
    Classify,
    /// [`Codes`]: `genlab traverse`.
    Traverse,
    /// [`Judge`]: features and class probabilities for sample-quality metrics (`--judge`).
    Judge,
    /// [`Translate`]: `genlab translate`.
    Translate,
}

impl Capability {
    /// The name `genlab models` prints.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Sample => "sample",
            Capability::SampleGivenLabel => "sample-given-label",
            Capability::Reconstruct => "reconstruct",
            Capability::Interpolate => "interpolate",
            Capability::Likelihood => "likelihood",
            Capability::GibbsChain => "gibbs-chain",
            Capability::Complete => "complete",
            Capability::Classify => "classify",
            Capability::Traverse => "traverse",
            Capability::Judge => "judge",
            Capability::Translate => "translate",
        }
    }
}

/// How the trainer picks the best checkpoint of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// The lowest mean of the first logged loss, the one the family minimises.
    FirstLoss,
    /// No loss measures the model's quality: no best checkpoint.
    None,
}

/// A likelihood family's [`Model::held_out`]: `name` = -mean log p(x) over `x`'s rows in nats
/// per example (model space, as training reports it), `k` as [`Likelihood::log_likelihood`]
/// takes it.
pub fn held_out_nll(
    lik: &dyn Likelihood,
    name: &str,
    x: Tensor<2>,
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Losses> {
    let ll = lik.log_likelihood(x, k, rng)?;
    let mean = ll.iter().sum::<f64>() / ll.len().max(1) as f64;
    Ok(Losses::of(&[(name, -mean)]))
}

/// Labels outside `0..classes` are an error that names the range (for `SampleGiven`).
pub fn check_labels(labels: &[u32], classes: usize) -> Result<()> {
    if let Some(&c) = labels.iter().find(|&&c| c as usize >= classes) {
        anyhow::bail!(
            "label {c} is out of range: this model knows classes 0..{}",
            classes.saturating_sub(1)
        );
    }
    Ok(())
}

/// A classifier's view of images, for sample-quality metrics: its penultimate features (FID,
/// KID, precision/recall) and class probabilities (Inception score, class rates).
pub trait Judge {
    /// Width of [`Judge::features`].
    fn feature_dim(&self) -> usize;
    /// `[b, c*h*w]` (the judge's model space) -> `[b, feature_dim]`.
    fn features(&self, x: Tensor<2>) -> Result<Tensor<2>>;
    /// `[b, c*h*w]` -> p(y | x) `[b, classes]`.
    fn probabilities(&self, x: Tensor<2>) -> Result<Tensor<2>>;
}

/// Predict a class for each example (Bayes rule for generative classifiers).
pub trait Classify {
    fn classify(&self, x: Tensor<2>) -> Result<Vec<u32>>;
}

/// Run Markov chains from noise and keep `frames + 1` snapshots: the noise they start from
/// (step 0), then one every `every` steps (RBM, DBN).
pub trait GibbsChain {
    /// Gibbs steps of the model's own sampling run (`model.sample_steps`): a chain picture
    /// spaces its frames over this many steps.
    fn sampling_steps(&self) -> usize;
    fn chain(
        &self,
        n: usize,
        frames: usize,
        every: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Vec<Tensor<2>>>;
}

/// Fill in the unknown part of examples: `known` is 1 where `x` is given, 0 where to sample.
/// Returns `[n, c*h*w]` with the known values kept and means (probabilities of bits) elsewhere.
pub trait Complete {
    fn complete(&self, x: Tensor<2>, known: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>>;
    /// For a model of bits: the unknown part as drawn 0/1 values, as [`Sample::sample_bits`].
    fn complete_bits(
        &self,
        x: Tensor<2>,
        known: Tensor<2>,
        rng: &mut ChaCha8Rng,
    ) -> Result<Tensor<2>> {
        let p = self.complete(x.clone(), known.clone(), rng)?;
        let bits = crate::tensor::bernoulli(p, rng);
        Ok(x * known.clone() + bits * known.neg().add_scalar(1.0))
    }
}

/// Image-to-image translation: map inputs of one shape to outputs of the data's shape (pix2pix
/// and the translators of the `translation` lineage).
pub trait Translate {
    /// The shape of the inputs the model takes.
    fn input_shape(&self) -> genlab_data::Shape;
    /// `input [b, c_in*h_in*w_in]` in model space -> outputs `[b, c*h*w]` in model space.
    /// `rng` draws the model's own noise (pix2pix's dropout), so a seed repeats a translation.
    fn translate(&self, input: Tensor<2>, rng: &mut ChaCha8Rng) -> Result<Tensor<2>>;
    /// The way back, from outputs `[b, c*h*w]` to inputs, for models that learn both
    /// directions (CycleGAN's F: B -> A); None for one-way models.
    fn translate_back(
        &self,
        _output: Tensor<2>,
        _rng: &mut ChaCha8Rng,
    ) -> Option<Result<Tensor<2>>> {
        None
    }
}

/// A GAN's two players stepped one at a time and looked into: the studio's GAN Lab view
/// (Kahng et al. 2018, "GAN Lab"), on 2-D points where every value can be drawn. The trainer
/// never calls it: `train_step` is these two steps in the family's own schedule.
pub trait Adversarial {
    /// One update of the discriminator (critic, group `disc`) on the real `batch` and as many
    /// fresh samples; the generator fixed. Returns the step's terms, named as in training.
    fn step_disc(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses>;
    /// One update of the generator (group `gen`) on `batch.x.dims()[0]` fresh samples, through
    /// the fixed discriminator (conditional families draw their classes at random; BiGAN's
    /// encoder also sees the batch).
    fn step_gen(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses>;
    /// Width of the noise z that [`Adversarial::generate`] takes.
    fn noise_dim(&self) -> usize;
    /// G's points for noise `z [n, noise_dim]`, `[n, d]` in model space. Conditional families
    /// draw row i from class i mod k; InfoGAN from category i mod k with continuous codes 0.
    fn generate(&self, z: Tensor<2>) -> Result<Tensor<2>>;
    /// What the discriminator says of points `x [b, d]` (model space): D(x) in [0, 1] for games
    /// with a probability of real (non-saturating, minimax), its raw score otherwise
    /// (least-squares target, Wasserstein critic, hinge), `[b]`. A class-conditional D is
    /// averaged over the classes; BiGAN's joint D is read at (x, E(x)).
    fn critic(&self, x: Tensor<2>) -> Result<Vec<f32>>;
    /// The direction G's adversarial loss moves its points `generate(z)`: -dL_G/dx per point
    /// through the current discriminator, `[n, d]` (the arrows of GAN Lab). Auxiliary terms
    /// (AC-GAN's class, InfoGAN's mutual information) are left out.
    fn generator_gradient(&self, z: Tensor<2>) -> Result<Tensor<2>>;
    /// The games [`Adversarial::set_game`] accepts, the current one first.
    fn games(&self) -> Vec<&'static str>;
    /// Play another game (GAN loss) from the next step on, keeping the weights; an error names
    /// the games this model can play.
    fn set_game(&mut self, game: &str) -> Result<()>;
}

/// Encode and decode one batch.
pub trait Reconstruct {
    fn reconstruct(&self, x: Tensor<2>) -> Result<Tensor<2>>;
}

/// Move in a latent space: interpolation, traversal, manifold grids.
pub trait LatentDecode {
    fn latent_dim(&self) -> usize;
    /// Latent code (the posterior mean where there is one) `[b, latent]`.
    fn encode(&self, x: Tensor<2>) -> Result<Tensor<2>>;
    fn decode(&self, z: Tensor<2>) -> Result<Tensor<2>>;
    /// True when the prior is N(0, I), so slerp and Gaussian-quantile grids make sense.
    fn gaussian_prior(&self) -> bool {
        true
    }
    /// `n` codes `[n, latent]` from the distribution `Sample::sample` decodes, drawn from `rng`
    /// exactly as `sample` draws them: row i of `prior_sample(m)` is the code of sample i of
    /// `sample(n)` for the same rng state, whatever m and n (so `genlab invert --sample` and
    /// `arithmetic` find the samples of `genlab sample --seed`). N(0, I) by default; a flow
    /// scales it by its temperature; a model with no prior (a plain autoencoder) errors.
    fn prior_sample(&self, n: usize, rng: &mut ChaCha8Rng, device: &Device) -> Result<Tensor<2>> {
        Ok(crate::tensor::normal([n, self.latent_dim()], rng, device))
    }
}

/// Structured latent codes (InfoGAN): decode from noise, a category and continuous codes, for
/// traversal grids.
pub trait Codes {
    fn noise_dim(&self) -> usize;
    fn categories(&self) -> usize;
    fn continuous(&self) -> usize;
    /// `z [b, noise]`, one category per row, `cont [b, continuous]` -> `[b, c*h*w]`.
    fn decode_codes(&self, z: Tensor<2>, cat: &[u32], cont: Tensor<2>) -> Result<Tensor<2>>;
}

/// Per-example log-likelihood in nats. `k` is the number of importance samples where the family
/// estimates (1 = its training bound).
pub trait Likelihood {
    fn log_likelihood(&self, x: Tensor<2>, k: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f64>>;
    fn bound(&self, k: usize) -> Bound;
    /// The dimension of the space the density lives in when it is [`Bound::Projected`].
    fn projected_dims(&self) -> Option<usize> {
        None
    }
    /// True when `k`, the number of importance samples, changes the result (VAE, IWAE). False
    /// for exact densities and for estimates made otherwise (an RBM's AIS): `genlab eval` then
    /// computes the likelihood once and reports no `k`.
    fn uses_k(&self) -> bool {
        false
    }
    /// True when the model's likelihood is defined only on {0, 1} data.
    fn needs_binary_data(&self) -> bool {
        false
    }
    /// True when `log_likelihood` is the log-probability mass of 8-bit pixels, one of 256
    /// levels each (a softmax over intensities, a discretized logistic), not a density: its NLL
    /// is then a discrete one without dequantization, as in van den Oord et al. 2016 and
    /// Salimans et al. 2017.
    fn models_8bit_levels(&self) -> bool {
        false
    }
    /// For a model of binary data: the setting that models real values instead, written as a
    /// full key (`model.visible = "gaussian"`), if the family has one.
    fn for_real_values(&self) -> Option<&'static str> {
        None
    }
}

/// A trainable generative model. Its `impl` reads as its feature list: the `as_*` methods
/// return `Some` for each capability the family has.
pub trait Model {
    fn family(&self) -> &'static str;
    /// Names of the parameter groups, each with its own optimizer (`model`, or `gen`/`disc`).
    fn groups(&self) -> Vec<&'static str>;
    fn train_step(&mut self, batch: &Batch, ctx: &mut StepCtx) -> Result<Losses>;
    /// Loss terms that legitimately grow without bound (a WGAN critic's values), exempt from
    /// the runaway rule ([`crate::runaway`]).
    fn unbounded_terms(&self) -> &'static [&'static str] {
        &[]
    }
    /// True when the model's observations are bits (a Bernoulli observation model): its
    /// samples and completions are shown as drawn bits, or as probabilities with `--mean`
    /// ([`Draw`]).
    fn binary(&self) -> bool {
        false
    }
    /// True for families that learn from the whole training set at every step (EM): the
    /// trainer then hands each step one batch holding every example.
    fn full_batch(&self) -> bool {
        false
    }
    /// True once training can stop early (EM has converged); the trainer then saves and ends.
    fn converged(&self) -> bool {
        false
    }
    /// Which logged loss marks the best checkpoint (`ckpt/best`, kept when older ones are
    /// pruned). Adversarial families return [`Selection::None`]: the lowest discriminator loss
    /// marks the strongest critic, usually a worse generator.
    fn selection(&self) -> Selection {
        Selection::FirstLoss
    }
    /// The loss this family minimises, measured on held-out examples (the fixed subset that
    /// `train.held_out` sets, preprocessed for evaluation) without updating anything: terms
    /// named and scaled as the training terms they match, logged as `held_out_NAME` at the
    /// sample cadence so that a curve shows overfitting. Empty for families without such a
    /// loss (adversarial ones: a discriminator's loss on held-out data says nothing of the
    /// generator).
    fn held_out(&self, _batch: &Batch, _rng: &mut ChaCha8Rng) -> Result<Losses> {
        Ok(Losses::default())
    }
    /// First-layer weights as images `[units, c*h*w]` (RBM, DBN filters), any scale.
    fn filters(&self) -> Option<Tensor<2>> {
        None
    }
    /// Called after each pass over the data (EM M-steps, next DBN layer).
    fn end_epoch(&mut self, _epoch: u64) -> Result<()> {
        Ok(())
    }
    /// All parameters, keyed `group/path`.
    fn save_params(&self) -> NamedTensors;
    fn load_params(&mut self, params: &NamedTensors) -> Result<()>;

    fn as_sample(&self) -> Option<&dyn Sample> {
        None
    }
    fn as_sample_given(&self) -> Option<&dyn SampleGiven> {
        None
    }
    fn as_classify(&self) -> Option<&dyn Classify> {
        None
    }
    fn as_reconstruct(&self) -> Option<&dyn Reconstruct> {
        None
    }
    fn as_chain(&self) -> Option<&dyn GibbsChain> {
        None
    }
    fn as_complete(&self) -> Option<&dyn Complete> {
        None
    }
    fn as_latent(&self) -> Option<&dyn LatentDecode> {
        None
    }
    fn as_likelihood(&self) -> Option<&dyn Likelihood> {
        None
    }
    fn as_codes(&self) -> Option<&dyn Codes> {
        None
    }
    fn as_judge(&self) -> Option<&dyn Judge> {
        None
    }
    fn as_translate(&self) -> Option<&dyn Translate> {
        None
    }
    /// The two players one at a time (GAN families): the studio's GAN Lab view.
    fn as_adversarial(&mut self) -> Option<&mut dyn Adversarial> {
        None
    }

    /// Family-specific diagnostics on a batch of held-out data, reported by `genlab eval`
    /// (e.g. a VAE's KL per latent unit and its number of active units).
    fn diagnostics(&self, _x: Tensor<2>) -> Result<serde_json::Map<String, serde_json::Value>> {
        Ok(serde_json::Map::new())
    }

    /// Capability names for `genlab models` and error messages.
    fn capabilities(&self) -> Vec<Capability> {
        let mut caps = Vec::new();
        if self.as_sample().is_some() {
            caps.push(Capability::Sample);
        }
        if self.as_sample_given().is_some() {
            caps.push(Capability::SampleGivenLabel);
        }
        if self.as_reconstruct().is_some() {
            caps.push(Capability::Reconstruct);
        }
        if self.as_latent().is_some() {
            caps.push(Capability::Interpolate);
        }
        if self.as_likelihood().is_some() {
            caps.push(Capability::Likelihood);
        }
        if self.as_chain().is_some() {
            caps.push(Capability::GibbsChain);
        }
        if self.as_complete().is_some() {
            caps.push(Capability::Complete);
        }
        if self.as_classify().is_some() {
            caps.push(Capability::Classify);
        }
        if self.as_codes().is_some() {
            caps.push(Capability::Traverse);
        }
        if self.as_judge().is_some() {
            caps.push(Capability::Judge);
        }
        if self.as_translate().is_some() {
            caps.push(Capability::Translate);
        }
        caps
    }
}
