//! Configs are TOML trees merged in order: defaults < preset < `--config FILE` < `--set k=v`.
//! Every key must already exist in the defaults, so a typo is an error that names the key and
//! lists the valid ones; types are then checked by serde into the typed structs.

use crate::optim::OptimConfig;
use anyhow::{anyhow, bail, Context, Result};
use genlab_data::{
    Binarize, Channels, DataSpec, Dataset, Header, LoadOptions, Preprocess, Scale, Split,
    Standardization, Standardize,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::{Table, Value};

/// `[data]`: which dataset and how its pixels reach the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Data spec: fashion-mnist, idx:DIR, folder:DIR, shapes, toy:ring8, ... (written as given)
    pub spec: DataSpec,
    pub binarize: Binarize,
    pub scale: Scale,
    pub dequantize: bool,
    /// Folder images: "auto" (the files' own: 3 when any has colour), 1 = grey, 3 = RGB. A run's
    /// config.toml holds the count it loaded.
    pub channels: Channels,
    /// Folder images: resize to this square size; 0 keeps the files' size.
    pub image_size: u32,
    /// Folder holding the Fashion-MNIST IDX files; "" = GENLAB_DATA or the Debian path.
    pub data_dir: String,
    /// Split that `eval` uses unless told otherwise.
    pub eval_split: Split,
    /// CSV: "auto" (a header when a first-row cell is not a number, or the row is pandas'
    /// column names 0..d-1), "true" or "false".
    #[serde(default)]
    pub header: Header,
    /// Tabular points (csv, npy): "auto" (z-scores unless every value is in [0, 1]), "on" or
    /// "off". The run keeps
    /// the statistics and reports likelihoods of the data as given.
    #[serde(default)]
    pub standardize: Standardize,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            spec: DataSpec::Shapes,
            binarize: Binarize::None,
            scale: Scale::Unit,
            dequantize: false,
            channels: Channels::Auto,
            image_size: 0,
            data_dir: String::new(),
            eval_split: Split::Test,
            header: Header::Auto,
            standardize: Standardize::Auto,
        }
    }
}

impl DataConfig {
    /// The true modes of a toy mixture, from the data spec.
    pub fn modes(&self) -> Option<genlab_data::Modes> {
        self.spec.modes()
    }

    pub fn preprocess(&self) -> Preprocess {
        Preprocess {
            binarize: self.binarize,
            scale: self.scale,
            dequantize: self.dequantize,
        }
    }

    /// One split, values as given (see [`Self::load_as_seen`] for a trained model's view).
    pub fn load(&self, split: Split) -> Result<Dataset> {
        let options = LoadOptions {
            data_dir: (!self.data_dir.is_empty()).then(|| std::path::Path::new(&self.data_dir)),
            channels: self.channels,
            image_size: (self.image_size > 0).then_some(self.image_size),
            header: self.header,
        };
        let data = genlab_data::load(&self.spec, split, &options)?;
        let pixel_options =
            self.binarize != Binarize::None || self.dequantize || self.scale != Scale::Unit;
        if data.kind == genlab_data::Kind::Points && pixel_options {
            bail!(
                "{} holds points (vectors), not pixels: binarize, dequantize and scale do not apply; set data.binarize = \"none\", data.dequantize = false, data.scale = \"unit\" (a preset for images may have set them)",
                self.spec
            );
        }
        Ok(data)
    }

    /// One split as a model trained with `standardization` sees it (z-scores of tabular points
    /// with the run's own statistics).
    pub fn load_as_seen(
        &self,
        split: Split,
        standardization: Option<&Standardization>,
    ) -> Result<Dataset> {
        let mut data = self.load(split)?;
        if let Some(s) = standardization {
            data.standardize(s)?;
        }
        Ok(data)
    }

    /// The statistics `data.standardize` asks to fit on the training split `data`, if any.
    pub fn standardization_for(&self, data: &Dataset) -> Result<Option<Standardization>> {
        let fit = |raw: &Vec<f64>| Standardization::fit(raw, data.shape.dim());
        Ok(match (self.standardize, &data.raw) {
            (Standardize::Off, _) => None,
            // Values already in [0, 1] (bits, probabilities, intensities) are kept as given.
            (Standardize::Auto, Some(raw)) if raw.iter().any(|v| !(0.0..=1.0).contains(v)) => {
                Some(fit(raw))
            }
            (Standardize::Auto, _) => None,
            (Standardize::On, Some(raw)) => Some(fit(raw)),
            (Standardize::On, None) => bail!(
                "data.standardize = \"on\" applies to tabular points (csv:FILE, npy:FILE), not {}; set data.standardize = \"auto\"",
                self.spec
            ),
        })
    }
}

/// `[train]`: the loop's budget and cadence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub steps: u64,
    pub batch_size: usize,
    pub log_every: u64,
    pub sample_every: u64,
    pub checkpoint_every: u64,
    /// Checkpoints kept besides the best one.
    pub keep_last: usize,
    /// Decay of an exponential moving average of the weights, used for samples and evaluation
    /// when on (e.g. 0.999), warmed up as `min(decay, (1 + t) / (10 + t))` after t updates
    /// ([`crate::optim::Optimizers::with_ema`]); 0 turns it off.
    pub ema_decay: f64,
    /// Refuse a fit estimated to need more memory than this, in GiB; 0 = the memory available
    /// when it starts ([`crate::memory`]).
    #[serde(default)]
    pub max_memory_gb: f64,
    /// Examples of the held-out split (the first ones, fixed) on which the family's loss is
    /// logged at the sample cadence as `held_out_NAME` (families that have one); 0 = off.
    #[serde(default = "default_held_out")]
    pub held_out: usize,
}

fn default_held_out() -> usize {
    1000
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            steps: 2000,
            batch_size: 128,
            log_every: 50,
            sample_every: 500,
            checkpoint_every: 500,
            keep_last: 3,
            ema_decay: 0.0,
            max_memory_gb: 0.0,
            held_out: default_held_out(),
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<()> {
        for (k, v) in [
            ("steps", self.steps),
            ("log_every", self.log_every),
            ("sample_every", self.sample_every),
            ("checkpoint_every", self.checkpoint_every),
        ] {
            if v == 0 {
                bail!("train.{k} must be at least 1, found 0");
            }
        }
        if self.batch_size == 0 {
            bail!("train.batch_size must be at least 1, found 0");
        }
        if !(0.0..1.0).contains(&self.ema_decay) {
            bail!(
                "train.ema_decay must be in [0, 1) (0 = off), found {}",
                self.ema_decay
            );
        }
        if !(self.max_memory_gb >= 0.0 && self.max_memory_gb.is_finite()) {
            bail!(
                "train.max_memory_gb must be a number of GiB >= 0 (0 = the memory available), found {}",
                self.max_memory_gb
            );
        }
        if self.keep_last == 0 {
            bail!("train.keep_last must be at least 1, found 0");
        }
        Ok(())
    }
}

/// The fully resolved config of one run, as written to `config.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub family: String,
    pub seed: u64,
    pub data: DataConfig,
    pub train: TrainConfig,
    pub optim: BTreeMap<String, OptimConfig>,
    /// The family's own typed config, checked by the family.
    pub model: Table,
}

impl RunConfig {
    /// Default tree for a family: its model defaults and one default optimizer per group.
    pub fn defaults(family: &str, groups: &[&str], model: Table) -> Table {
        let rc = RunConfig {
            family: family.into(),
            seed: 0,
            data: DataConfig::default(),
            train: TrainConfig::default(),
            optim: groups
                .iter()
                .map(|g| (g.to_string(), OptimConfig::default()))
                .collect(),
            model,
        };
        Table::try_from(rc).expect("default config serialises")
    }

    pub fn from_table(t: &Table) -> Result<Self> {
        let text = toml::to_string(t).expect("a TOML table serialises");
        let rc: RunConfig = toml::from_str(&text)
            .map_err(|e| anyhow!("invalid config: {}", e.message()).context(locate(&text, &e)))?;
        rc.train.validate()?;
        for (g, o) in &rc.optim {
            o.validate(g)?;
            if o.decay_start > 0 && o.decay_start >= rc.train.steps {
                bail!(
                    "optim.{g}.decay_start = {} is not below train.steps = {}: the learning rate would never decay; set it below the steps (half of them is CycleGAN's schedule)",
                    o.decay_start,
                    rc.train.steps
                );
            }
        }
        Ok(rc)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises")
    }
}

/// Where a TOML error is: the full dotted key of its line (`train.batch_size`, from the
/// nearest `[section]` header above it) and the line itself.
fn locate(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return String::new();
    };
    let line = text[..span.start].lines().count().max(1);
    let content = text.lines().nth(line - 1).unwrap_or("").trim();
    let Some((key, _)) = content.split_once('=') else {
        return format!("at `{content}`");
    };
    let section = text
        .lines()
        .take(line)
        .map(str::trim)
        .filter(|l| l.starts_with('[') && l.ends_with(']'))
        .last()
        .map(|l| format!("{}.", l.trim_matches(|c| c == '[' || c == ']')))
        .unwrap_or_default();
    format!("at {section}{} (`{content}`)", key.trim())
}

/// Parse a typed section (e.g. a family's `[model]`), naming the section in errors.
pub fn parse_section<T: serde::de::DeserializeOwned>(section: &str, table: &Table) -> Result<T> {
    let text = toml::to_string(table).expect("a TOML table serialises");
    toml::from_str(&text)
        .map_err(|e| anyhow!("[{section}] {} {}", e.message().trim(), locate(&text, &e)))
}

/// Parse one table into two structs: the keys that `A`'s default names go to `A`, the rest to
/// `B` (a family's own keys beside a config it shares with other families).
pub fn parse_split<A, B>(section: &str, table: &Table) -> Result<(A, B)>
where
    A: serde::de::DeserializeOwned + serde::Serialize + Default,
    B: serde::de::DeserializeOwned,
{
    let own = Table::try_from(A::default()).expect("a config serialises");
    let (mine, rest): (Table, Table) = table
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(k, _)| own.contains_key(k));
    Ok((
        parse_section(section, &mine)?,
        parse_section(section, &rest)?,
    ))
}

/// Overlay `over` onto `base`; every key of `over` must exist in `base`.
pub fn merge(base: &mut Table, over: &Table, origin: &str) -> Result<()> {
    merge_at(base, over, origin, "")
}

fn merge_at(base: &mut Table, over: &Table, origin: &str, prefix: &str) -> Result<()> {
    for (k, v) in over {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let Some(slot) = base.get_mut(k) else {
            bail!(
                "{origin}: unknown config key `{key}`; {}",
                valid_keys(base, prefix)
            );
        };
        match (slot, v) {
            (Value::Table(b), Value::Table(o)) => merge_at(b, o, origin, &key)?,
            (slot, v) => *slot = coerce(slot, v.clone()),
        }
    }
    Ok(())
}

fn valid_keys(t: &Table, prefix: &str) -> String {
    let keys: Vec<String> = t
        .keys()
        .map(|k| {
            if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            }
        })
        .collect();
    format!("valid keys here: {}", keys.join(", "))
}

/// Integers given where floats are expected become floats (`lr=1` means 1.0).
fn coerce(old: &Value, new: Value) -> Value {
    match (old, new) {
        (Value::Float(_), Value::Integer(i)) => Value::Float(i as f64),
        (_, v) => v,
    }
}

/// Apply one `--set a.b.c=value`.
pub fn set(base: &mut Table, assignment: &str) -> Result<()> {
    let (key, raw) = assignment.split_once('=').ok_or_else(|| {
        anyhow!("--set `{assignment}`: expected KEY=VALUE, e.g. --set model.latent_dim=2")
    })?;
    set_value(base, key.trim(), parse_value(raw.trim())).map_err(|e| anyhow!("--set: {e}"))
}

/// Set the existing key `a.b.c` to a typed value (a flag such as `--data` or `--seed`), with
/// the same checks and integer-to-float coercion as `--set`, but no TOML text in between: a
/// path holding a quote or a backslash stays as given.
pub fn set_value(base: &mut Table, key: &str, value: Value) -> Result<()> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut table = &mut *base;
    for (i, part) in parts.iter().enumerate() {
        let prefix = parts[..i].join(".");
        if !table.contains_key(*part) {
            bail!("unknown config key `{key}`; {}", valid_keys(table, &prefix));
        }
        let slot = table.get_mut(*part).expect("checked above");
        if i + 1 == parts.len() {
            if let Value::Table(t) = slot {
                bail!(
                    "`{key}` is a section; set one of its keys: {}",
                    valid_keys(t, key)
                );
            }
            *slot = coerce(slot, value);
            return Ok(());
        }
        match slot {
            Value::Table(t) => table = t,
            _ => bail!("`{}` is a value, not a section", parts[..=i].join(".")),
        }
    }
    unreachable!("split always yields at least one part")
}

/// A TOML value if it parses as one, else a bare string (`--set data.spec=shapes`).
fn parse_value(raw: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

/// One key whose value differs between two configs; `None` where a side lacks the key.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    pub key: String,
    pub left: Option<Value>,
    pub right: Option<Value>,
}

/// Every leaf key (`model.latent_dim`) whose value differs between `left` and `right`, in key
/// order. Tables are compared key by key; any other value (arrays included) as a whole.
pub fn differences(left: &Table, right: &Table) -> Vec<Difference> {
    let mut out = Vec::new();
    differences_at(left, right, "", &mut out);
    out
}

fn differences_at(left: &Table, right: &Table, prefix: &str, out: &mut Vec<Difference>) {
    let keys: std::collections::BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    for k in keys {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (left.get(k), right.get(k)) {
            (Some(Value::Table(l)), Some(Value::Table(r))) => differences_at(l, r, &key, out),
            (l, r) if l != r => out.push(Difference {
                key,
                left: l.cloned(),
                right: r.cloned(),
            }),
            _ => {}
        }
    }
}

/// Read a `--config` file as a table.
pub fn read_file(path: &std::path::Path) -> Result<Table> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow!("{}: invalid TOML: {}", path.display(), e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Table {
        RunConfig::defaults("vae", &["model"], toml::toml! { latent_dim = 20 })
    }

    #[test]
    fn set_overrides_a_nested_key_and_coerces_integers_to_floats() {
        let mut t = base();
        set(&mut t, "optim.model.lr=1").unwrap();
        set(&mut t, "model.latent_dim=2").unwrap();
        set(&mut t, "data.binarize=dynamic").unwrap();
        let rc = RunConfig::from_table(&t).unwrap();
        assert_eq!(rc.optim["model"].lr, 1.0);
        assert_eq!(rc.model["latent_dim"].as_integer(), Some(2));
        assert_eq!(rc.data.binarize, Binarize::Dynamic);
    }

    #[test]
    fn set_value_keeps_quotes_and_backslashes_as_given() {
        let mut t = base();
        let spec = r#"folder:/tmp/a "quoted" \dir"#;
        set_value(&mut t, "data.spec", Value::String(spec.into())).unwrap();
        set_value(&mut t, "seed", Value::Integer(7)).unwrap();
        set_value(&mut t, "optim.model.lr", Value::Integer(1)).unwrap();
        let rc = RunConfig::from_table(&t).unwrap();
        assert_eq!(rc.data.spec.to_string(), spec);
        assert_eq!((rc.seed, rc.optim["model"].lr), (7, 1.0));
        let err = set_value(&mut t, "data.sepc", Value::Integer(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown config key `data.sepc`"), "{err}");
    }

    #[test]
    fn differences_name_each_leaf_key_that_differs() {
        let a = base();
        let mut b = base();
        set(&mut b, "model.latent_dim=8").unwrap();
        set(&mut b, "train.steps=9").unwrap();
        let found: Vec<(String, Option<Value>, Option<Value>)> = differences(&a, &b)
            .into_iter()
            .map(|d| (d.key, d.left, d.right))
            .collect();
        assert_eq!(
            found,
            vec![
                ("model.latent_dim".into(), Some(20.into()), Some(8.into())),
                ("train.steps".into(), Some(2000.into()), Some(9.into())),
            ]
        );
        b.remove("seed");
        assert_eq!(differences(&a, &b)[1].key, "seed");
        assert_eq!(differences(&a, &b)[1].right, None);
        assert!(differences(&a, &a).is_empty());
    }

    #[test]
    fn unknown_keys_are_named_with_the_valid_ones() {
        let mut t = base();
        let err = set(&mut t, "model.latnet_dim=2").unwrap_err().to_string();
        assert!(
            err.contains("`model.latnet_dim`") && err.contains("model.latent_dim"),
            "{err}"
        );
    }

    #[test]
    fn wrong_types_are_rejected_by_name() {
        let mut t = base();
        set(&mut t, "train.batch_size=big").unwrap();
        let err = format!("{:#}", RunConfig::from_table(&t).unwrap_err());
        assert!(
            err.contains("train.batch_size"),
            "the key is named in full: {err}"
        );
        assert!(err.contains("invalid type"), "the problem is named: {err}");
    }

    #[test]
    fn merge_rejects_unknown_sections() {
        let mut t = base();
        let err = merge(&mut t, &toml::toml! { [trian] steps = 3 }, "file x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown config key `trian`"), "{err}");
    }
}
