//! Parameters by name: collected from a module for checkpoints and restored into it by path,
//! so a checkpoint never depends on burn's in-memory parameter ids.

use anyhow::{bail, Result};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use std::collections::BTreeMap;

/// `name -> (shape, values)`, names like `model/encoder.layers.0.weight`. Network weights are
/// f32 (`.0`); the closed-form families (EM, Gaussians) keep f64 statistics (`.1`) so that a
/// resumed fit continues from exactly the numbers it stopped at.
#[derive(Clone, Debug, Default, PartialEq)]
#[allow(clippy::type_complexity)]
pub struct NamedTensors(
    pub BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    pub BTreeMap<String, (Vec<usize>, Vec<f64>)>,
);

impl NamedTensors {
    pub fn insert(&mut self, name: String, shape: Vec<usize>, values: Vec<f32>) {
        self.0.insert(name, (shape, values));
    }

    pub fn insert_f64(&mut self, name: String, shape: Vec<usize>, values: Vec<f64>) {
        self.1.insert(name, (shape, values));
    }

    /// The f64 tensor `name`, checked against the shape the model expects.
    pub fn get_f64(&self, name: &str, shape: &[usize]) -> Result<Vec<f64>> {
        match self.1.get(name) {
            None => bail!("checkpoint does not fit this model: missing parameter {name}"),
            Some((s, _)) if s != shape => bail!(
                "checkpoint does not fit this model: {name} has shape {s:?}, the model expects {shape:?}"
            ),
            Some((_, v)) => Ok(v.clone()),
        }
    }

    /// Every parameter of `module` under `prefix/`.
    pub fn of<M: Module>(prefix: &str, module: &M) -> Self {
        let mut t = Self::default();
        t.collect(prefix, module);
        t
    }

    /// Add every parameter of `module` under `prefix/`.
    pub fn collect<M: Module>(&mut self, prefix: &str, module: &M) {
        let mut v = Collector {
            prefix,
            path: Vec::new(),
            out: self,
        };
        // `valid()` first: it folds the pending updates of running statistics (batch norm)
        // into their values, which a plain visit would miss.
        module.valid().visit(&mut v);
    }

    /// Restore every parameter of `module` from `prefix/...`; missing names or shapes that
    /// differ are errors that name the parameter.
    pub fn restore<M: Module>(&self, prefix: &str, module: M) -> Result<M> {
        let mut m = Restorer {
            prefix,
            path: Vec::new(),
            src: self,
            errors: Vec::new(),
        };
        let module = module.map(&mut m);
        if !m.errors.is_empty() {
            bail!(
                "checkpoint does not fit this model: {}",
                m.errors.join("; ")
            );
        }
        Ok(module)
    }

    /// Only the entries under `group/`.
    pub fn group(&self, group: &str) -> NamedTensors {
        let p = format!("{group}/");
        NamedTensors(
            self.0
                .iter()
                .filter(|(k, _)| k.starts_with(&p))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            self.1
                .iter()
                .filter(|(k, _)| k.starts_with(&p))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    pub fn extend(&mut self, other: NamedTensors) {
        self.0.extend(other.0);
        self.1.extend(other.1);
    }
}

fn join(prefix: &str, path: &[String]) -> String {
    format!("{prefix}/{}", path.join("."))
}

struct Collector<'a> {
    prefix: &'a str,
    path: Vec<String>,
    out: &'a mut NamedTensors,
}

impl ModuleVisitor for Collector<'_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let values = crate::tensor::to_vec(t);
        self.out
            .insert(join(self.prefix, &self.path), shape, values);
    }
}

struct Restorer<'a> {
    prefix: &'a str,
    path: Vec<String>,
    src: &'a NamedTensors,
    errors: Vec<String>,
}

impl ModuleMapper for Restorer<'_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = join(self.prefix, &self.path);
        let (id, tensor, mapper) = param.consume();
        let want = tensor.dims().to_vec();
        let tensor = match self.src.0.get(&name) {
            None => {
                self.errors.push(format!("missing parameter {name}"));
                tensor
            }
            Some((shape, _)) if *shape != want => {
                self.errors.push(format!(
                    "{name} has shape {shape:?}, the model expects {want:?}"
                ));
                tensor
            }
            Some((shape, values)) => {
                let require_grad = tensor.is_require_grad();
                let t = Tensor::from_data(
                    TensorData::new(values.clone(), shape.clone()),
                    &tensor.device(),
                );
                if require_grad {
                    t.require_grad()
                } else {
                    t
                }
            }
        };
        Param::from_mapped_value(id, tensor, mapper)
    }
}
