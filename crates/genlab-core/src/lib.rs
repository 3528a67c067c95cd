//! The genlab contract. Every family implements [`Model`]; the trainer, evaluator and CLI speak
//! only to these traits, the [`Family`] registry entry, and the run-directory format.

pub mod batch;
pub mod config;
pub mod device;
pub mod family;
pub mod fault;
pub mod memory;
pub mod model;
pub mod optim;
pub mod params;
pub mod progress;
pub mod rng;
pub mod run_dir;
pub mod runaway;
pub mod tensor;
pub mod terms;

pub use batch::Batch;
pub use family::{DataInfo, Family};
pub use model::{
    Adversarial, Bound, Capability, Classify, Codes, Complete, Draw, GibbsChain, Judge,
    LatentDecode, Likelihood, Losses, Model, Reconstruct, Sample, SampleGiven, Selection, StepCtx,
    Translate,
};
pub use params::NamedTensors;
