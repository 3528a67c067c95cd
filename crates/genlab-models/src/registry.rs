//! The family registry: `FAMILIES`, and looking families up by name with a suggestion for typos.
//!
//! Naming rule: a family's file name == its CLI name == its `configs/` folder, with `-` -> `_`
//! and `++` -> `_pp` in the file name (`wgan-gp` is `gans/wgan_gp.rs` and `configs/wgan-gp/`,
//! `pixelcnn++` is `autoregressive/pixelcnn_pp.rs` and `configs/pixelcnn++/`). The lineage
//! folder is not part of the name.

use anyhow::{anyhow, Result};
use genlab_core::Family;

use crate::autoencoders::{autoencoder, iwae, vae};
use crate::autoregressive::{fvsbn, gated_pixelcnn, made, nade, pixelcnn, pixelcnn_pp};
use crate::classical::{bgmm, class_gaussian, dbn, gmm, rbm};
use crate::flows::{glow, maf, realnvp};
use crate::gans::{acgan, bigan, cgan, dcgan, gan, infogan, lsgan, sngan, wgan, wgan_gp};
use crate::judges::classifier;
use crate::translation::{context_encoder, cyclegan, discogan, pix2pix, srgan, srresnet};

/// Every family genlab knows. Drives `genlab models`, CLI help, docs and the smoke tests.
pub const FAMILIES: &[&Family] = &[
    &autoencoder::FAMILY,
    &vae::FAMILY,
    &iwae::FAMILY,
    &gmm::FAMILY,
    &bgmm::FAMILY,
    &class_gaussian::FAMILY,
    &rbm::FAMILY,
    &dbn::FAMILY,
    &gan::FAMILY,
    &lsgan::FAMILY,
    &wgan::FAMILY,
    &wgan_gp::FAMILY,
    &dcgan::FAMILY,
    &sngan::FAMILY,
    &cgan::FAMILY,
    &acgan::FAMILY,
    &infogan::FAMILY,
    &bigan::FAMILY,
    &fvsbn::FAMILY,
    &nade::FAMILY,
    &made::FAMILY,
    &pixelcnn::FAMILY,
    &gated_pixelcnn::FAMILY,
    &pixelcnn_pp::FAMILY,
    &realnvp::FAMILY,
    &maf::FAMILY,
    &glow::FAMILY,
    &pix2pix::FAMILY,
    &cyclegan::FAMILY,
    &discogan::FAMILY,
    &srresnet::FAMILY,
    &srgan::FAMILY,
    &context_encoder::FAMILY,
    &classifier::FAMILY,
];

/// The family called `name`, or an error listing the valid names (with the closest as a hint).
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

    #[test]
    fn every_family_has_its_file_and_configs_folder() {
        let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let lineages = [
            "classical",
            "autoencoders",
            "gans",
            "autoregressive",
            "flows",
            "judges",
            "translation",
        ];
        for family in FAMILIES {
            let file = format!("{}.rs", family.name.replace('-', "_").replace("++", "_pp"));
            let homes: Vec<_> = lineages
                .iter()
                .filter(|l| crate_dir.join("src").join(l).join(&file).is_file())
                .collect();
            assert_eq!(homes.len(), 1, "{}: {file} in {homes:?}", family.name);
            let configs = crate_dir.join("../../configs").join(family.name);
            assert!(
                configs.is_dir(),
                "{}: no {}",
                family.name,
                configs.display()
            );
        }
    }
}
