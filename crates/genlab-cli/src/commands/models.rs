//! `genlab models`: the registry as a table or JSON.

use anyhow::Result;
use genlab_models::FAMILIES;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.json {
        let v: Vec<serde_json::Value> = FAMILIES
            .iter()
            .map(|f| {
                serde_json::json!({
                    "name": f.name, "summary": f.summary, "paper": f.paper,
                    "capabilities": f.capabilities, "groups": f.groups,
                    "presets": f.presets.iter().map(|p| p.0).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    // One block per family, wrapped to a terminal's 80 columns.
    let width = FAMILIES.iter().map(|f| f.name.len()).max().unwrap_or(0) + 2;
    let wrap = |text: &str| {
        let indent = " ".repeat(width);
        let options = textwrap::Options::new(80)
            .initial_indent(&indent)
            .subsequent_indent(&indent);
        textwrap::fill(text, options)
    };
    for f in FAMILIES {
        let caps: Vec<&str> = f.capabilities.iter().map(|c| c.name()).collect();
        let presets: Vec<&str> = f.presets.iter().map(|p| p.0).collect();
        let summary = wrap(f.summary);
        println!("{:<width$}{}", f.name, summary.trim_start());
        println!("{}", wrap(&format!("paper: {}", f.paper)));
        println!("{}", wrap(&format!("can: {}", caps.join(", "))));
        println!("{}", wrap(&format!("presets: {}", presets.join(", "))));
    }
    Ok(())
}
