//! `genlab models`: the registry as a table or JSON.

use anyhow::Result;
use genlab_models::FAMILIES;

#[derive(clap::Args)]
pub struct Args {
    /// One family in detail: its presets (what each trains) and its model keys with defaults.
    pub family: Option<String>,
    /// What each loss term and metric in metrics.jsonl and curves.png means.
    #[arg(long, conflicts_with = "family")]
    pub terms: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.terms && args.json {
        let v: Vec<serde_json::Value> = genlab_core::terms::TERMS
            .iter()
            .map(|(term, meaning)| serde_json::json!({"term": term, "meaning": meaning}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if args.terms {
        let width = genlab_core::terms::TERMS
            .iter()
            .map(|t| t.0.len())
            .max()
            .unwrap_or(0)
            + 2;
        for (term, meaning) in genlab_core::terms::TERMS {
            let indent = " ".repeat(width);
            let options = textwrap::Options::new(80).subsequent_indent(&indent);
            println!(
                "{}",
                textwrap::fill(&format!("{term:<width$}{meaning}"), options)
            );
        }
        return Ok(());
    }
    if let Some(name) = &args.family {
        let f = genlab_models::find(name)?;
        if args.json {
            let mut v = summary_json(f);
            v["presets"] = f
                .presets
                .iter()
                .map(|(name, toml)| serde_json::json!({"name": name, "about": about(toml)}))
                .collect();
            v["model"] = serde_json::to_value((f.default_model)())?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        return detail(f);
    }
    if args.json {
        let v: Vec<serde_json::Value> = FAMILIES.iter().map(|f| summary_json(f)).collect();
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

/// A family as `genlab models --json` lists it.
fn summary_json(f: &genlab_core::Family) -> serde_json::Value {
    serde_json::json!({
        "name": f.name, "summary": f.summary, "paper": f.paper,
        "capabilities": f.capabilities, "groups": f.groups,
        "presets": f.presets.iter().map(|p| p.0).collect::<Vec<_>>(),
    })
}

/// What a preset trains: the comment that opens its TOML, as one line.
fn about(toml: &str) -> String {
    let lines: Vec<&str> = toml
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    lines.join(" ")
}

/// One family: its block, each preset with the comment that opens its TOML, and the `[model]`
/// keys at their defaults.
fn detail(f: &genlab_core::Family) -> Result<()> {
    let caps: Vec<&str> = f.capabilities.iter().map(|c| c.name()).collect();
    println!("{}: {}", f.name, f.summary);
    println!("paper: {}", f.paper);
    println!("can: {}", caps.join(", "));
    println!("\npresets (genlab train {} --preset NAME):", f.name);
    for (name, toml) in f.presets {
        let options = textwrap::Options::new(80).subsequent_indent("              ");
        println!(
            "{}",
            textwrap::fill(&format!("  {name:<11} {}", about(toml)), options)
        );
    }
    println!(
        "\n[model] defaults (change one with --set, e.g. model.{}):",
        first_key(f)
    );
    let model = toml::Value::Table((f.default_model)());
    for line in toml::to_string(&model)?.lines() {
        println!("  {line}");
    }
    println!("\nloss terms: `genlab models --terms`");
    Ok(())
}

/// The first `[model]` key of a family, as `key=value`, for the example in the heading.
fn first_key(f: &genlab_core::Family) -> String {
    (f.default_model)()
        .iter()
        .next()
        .map(|(k, v)| format!("{k}={v}"))
        .unwrap_or_default()
}
