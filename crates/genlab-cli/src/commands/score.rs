//! `genlab score`: FID, KID, precision / recall and density / coverage of any two feature files
//! (`genlab features`, or features computed elsewhere), and memorisation given training
//! features; the same code `genlab eval` uses.

use anyhow::{Context, Result};
use genlab_eval::quality::{
    fid, inception_score, kid, memorization, prdc, Features, DC_K, IS_SPLITS, KID_SUBSETS,
    KID_SUBSET_SIZE, PR_K,
};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Features of real (test) examples, .npy `[n, d]`.
    #[arg(long)]
    pub real: PathBuf,
    /// Features of generated samples, .npy `[m, d]`.
    #[arg(long)]
    pub fake: PathBuf,
    /// Features of the training examples: adds memorisation (the real features are then the
    /// held-out reference).
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// The judge's class probabilities of the generated samples (`features --probs`): adds
    /// the Inception score.
    #[arg(long)]
    pub fake_probs: Option<PathBuf>,
    /// k of precision / recall.
    #[arg(long, default_value_t = PR_K)]
    pub k_pr: usize,
    /// k of density / coverage.
    #[arg(long, default_value_t = DC_K)]
    pub k_dc: usize,
    /// Seed of KID's subsets.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn load(path: &Path, what: &str) -> Result<Features> {
    let (x, _, d) =
        genlab_data::read_npy(path).with_context(|| format!("cannot read the {what} features"))?;
    Features::new(x, d)
}

pub fn run(a: Args) -> Result<()> {
    let (real, fake) = (load(&a.real, "real")?, load(&a.fake, "generated")?);
    let mut out = serde_json::Map::new();
    let f = fid(&real, &fake)?;
    out.insert("fid".into(), f.fid.into());
    out.insert("fid_rank".into(), f.rank.into());
    let k = kid(&real, &fake, KID_SUBSETS, KID_SUBSET_SIZE, a.seed)?;
    out.insert("kid".into(), k.kid.into());
    out.insert("kid_std".into(), k.kid_std.into());
    let p = prdc(&real, &fake, a.k_pr, a.k_dc)?;
    for (key, v) in [
        ("precision", p.precision),
        ("recall", p.recall),
        ("density", p.density),
        ("coverage", p.coverage),
    ] {
        out.insert(key.into(), v.into());
    }
    if let Some(path) = &a.train {
        let m = memorization(&fake, &real, &load(path, "training")?)?;
        out.insert("memorization".into(), serde_json::to_value(m)?);
    }
    if let Some(path) = &a.fake_probs {
        let probs = load(path, "probability")?;
        if probs.n != fake.n {
            anyhow::bail!(
                "{} has {} rows of probabilities, {} has {} generated rows: write both with one `genlab features --probs`",
                path.display(),
                probs.n,
                a.fake.display(),
                fake.n
            );
        }
        let s = inception_score(&probs.x, probs.d, IS_SPLITS)?;
        out.insert("is".into(), s.is.into());
        out.insert("is_std".into(), s.is_std.into());
    }
    out.insert(
        "protocol".into(),
        serde_json::json!({
            "real": a.real, "real_rows": real.n, "fake": a.fake, "fake_rows": fake.n,
            "features": real.d, "k_precision_recall": a.k_pr, "k_density_coverage": a.k_dc,
            "kid_subsets": k.subsets, "kid_subset_size": k.subset_size, "seed": a.seed,
        }),
    );
    let value = serde_json::Value::Object(out);
    if a.json {
        println!("{value}");
    } else {
        for (key, v) in value.as_object().unwrap() {
            println!("{key:<12} {v}");
        }
    }
    Ok(())
}
