//! Every config key that a message of genlab's names (`model.latent_dim`, `data.image_size`,
//! `optim.gen.lr`, ...) exists, written in full: a hint that names a key the config rejects
//! sends the user in a circle. Collected mechanically from the string literals of every source
//! file and checked against the defaults of the run config and of every family.

use genlab_core::config::RunConfig;
use genlab_models::FAMILIES;
use std::collections::BTreeSet;
use std::path::Path;

/// Words after `data.`, `train.`, `model.` or `optim.<group>.` that are file names, not keys.
const NOT_KEYS: [&str; 8] = [
    "safetensors",
    "json",
    "jsonl",
    "toml",
    "png",
    "csv",
    "rs",
    "npy",
];

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}

/// The quoted parts of a line (string literals, roughly: enough to skip comments and code).
fn quoted(line: &str) -> Vec<&str> {
    let line = line.trim_start();
    if line.starts_with("//") {
        return Vec::new();
    }
    line.split('"').skip(1).step_by(2).collect()
}

/// `section.key` names in `text`, e.g. ("model", "latent_dim"); optim keys as ("optim", key).
fn named_keys(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let words: Vec<&str> = text
        .split(|c: char| {
            !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '{' || c == '}')
        })
        .collect();
    for w in words {
        let parts: Vec<&str> = w.trim_end_matches('.').split('.').collect();
        match parts.as_slice() {
            [s @ ("data" | "train" | "model"), key, ..] if !key.is_empty() => {
                out.push((s.to_string(), key.to_string()))
            }
            ["optim", _group, key, ..] if !key.is_empty() => {
                out.push(("optim".into(), key.to_string()))
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_key_a_message_names_exists() {
    let table = |t: toml::Table| -> BTreeSet<String> { t.keys().cloned().collect() };
    let family = FAMILIES[0];
    let run = RunConfig::defaults(family.name, family.groups, (family.default_model)());
    let section = |s: &str| match run.get(s) {
        Some(toml::Value::Table(t)) => table(t.clone()),
        _ => panic!("no [{s}] in the defaults"),
    };
    let (data, train) = (section("data"), section("train"));
    let optim = match &run["optim"] {
        toml::Value::Table(groups) => match groups.values().next() {
            Some(toml::Value::Table(t)) => table(t.clone()),
            _ => panic!("no optimizer group"),
        },
        _ => panic!("no [optim]"),
    };
    let model: BTreeSet<String> = FAMILIES
        .iter()
        .flat_map(|f| table((f.default_model)()))
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for c in std::fs::read_dir(&root).unwrap() {
        let src = c.unwrap().path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    let mut bad = Vec::new();
    let mut seen = 0;
    for (path, text) in &files {
        // Test modules misspell keys on purpose (unknown-key errors).
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (n, line) in code.lines().enumerate() {
            for q in quoted(line) {
                for (s, key) in named_keys(q) {
                    if NOT_KEYS.contains(&key.as_str()) || key.starts_with('{') {
                        continue;
                    }
                    seen += 1;
                    let known = match s.as_str() {
                        "data" => &data,
                        "train" => &train,
                        "model" => &model,
                        _ => &optim,
                    };
                    if !known.contains(&key) {
                        bad.push(format!("{path}:{}: {s}.{key}", n + 1));
                    }
                }
            }
        }
    }
    assert!(
        seen > 20,
        "found only {seen} named keys: the scan is broken"
    );
    assert!(
        bad.is_empty(),
        "messages name keys that do not exist:\n{}",
        bad.join("\n")
    );
}
