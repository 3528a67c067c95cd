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
    // Columns as wide as their widest entry.
    let caps: Vec<String> = FAMILIES
        .iter()
        .map(|f| {
            let names: Vec<&str> = f.capabilities.iter().map(|c| c.name()).collect();
            names.join(", ")
        })
        .collect();
    let presets: Vec<String> = FAMILIES
        .iter()
        .map(|f| f.presets.iter().map(|p| p.0).collect::<Vec<_>>().join(", "))
        .collect();
    let width =
        |col: &mut dyn Iterator<Item = usize>, head: &str| col.max().unwrap_or(0).max(head.len());
    let wn = width(&mut FAMILIES.iter().map(|f| f.name.len()), "FAMILY");
    let wc = width(&mut caps.iter().map(String::len), "CAPABILITIES");
    let wp = width(&mut presets.iter().map(String::len), "PRESETS");
    println!(
        "{:<wn$} {:<wc$} {:<wp$} PAPER",
        "FAMILY", "CAPABILITIES", "PRESETS"
    );
    for ((f, c), p) in FAMILIES.iter().zip(&caps).zip(&presets) {
        println!("{:<wn$} {c:<wc$} {p:<wp$} {}", f.name, f.paper);
        println!("{:<wn$} {}", "", f.summary);
    }
    Ok(())
}
