//! Looking families up by name, with a suggestion for typos.

use crate::FAMILIES;
use anyhow::{anyhow, Result};
use genlab_core::Family;

pub fn find(name: &str) -> Result<&'static Family> {
    if let Some(f) = FAMILIES.iter().find(|f| f.name == name) {
        return Ok(f);
    }
    let names: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
    let closest = names
        .iter()
        .min_by_key(|n| edit_distance(n, name))
        .filter(|n| edit_distance(n, name) <= 3);
    let hint = closest
        .map(|c| format!(" Did you mean `{c}`?"))
        .unwrap_or_default();
    Err(anyhow!(
        "unknown family `{name}`.{hint} Valid families: {}",
        names.join(", ")
    ))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + (ca != *cb) as usize)
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_family() {
        let err = find("vea").err().unwrap().to_string();
        assert!(
            err.contains("Did you mean `vae`?") && err.contains("autoencoder"),
            "{err}"
        );
    }
}
