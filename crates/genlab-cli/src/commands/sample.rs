use anyhow::Result;
use genlab_core::rng::{rng_for, Stream};
use genlab_train::pictures;
use std::path::{Path, PathBuf};

pub fn run(dir: &Path, n: usize, out: Option<PathBuf>, seed: u64) -> Result<()> {
    let run = crate::run::open(dir)?;
    let toy = match genlab_data::DataSpec::parse(&run.config.data.spec)? {
        genlab_data::DataSpec::Toy(kind) => genlab_data::toy_modes(kind)
            .map(|m| m.0)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let img = pictures::sample_picture(
        run.model.as_ref(),
        &run.info,
        n,
        &mut rng_for(seed, 0, Stream::Eval),
        &run.device,
        &toy,
    )?;
    let out = out.unwrap_or_else(|| run.dir.join("sample.png"));
    pictures::save_png(&out, &img)?;
    println!("{}", out.display());
    Ok(())
}
