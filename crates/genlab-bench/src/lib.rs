//! genlab's benchmarks, step for step beside the Python references in bench/: the speed
//! workloads W1-W3 (`genlab bench`, bench/torch_workloads.py) and the classical models
//! (`genlab bench gmm|rbm`, bench/sklearn_classical.py). bench/run.sh runs both sides.

pub mod classical;
mod dcgan28;
mod pixelcnn_lite;
mod workload;

pub use workload::{Workload, WARMUP};
