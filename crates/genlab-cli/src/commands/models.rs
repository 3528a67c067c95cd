use anyhow::Result;
use genlab_models::FAMILIES;

pub fn run(json: bool) -> Result<()> {
    if json {
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
    println!(
        "{:<13} {:<40} {:<30} PAPER",
        "FAMILY", "CAPABILITIES", "PRESETS"
    );
    for f in FAMILIES {
        let presets: Vec<&str> = f.presets.iter().map(|p| p.0).collect();
        println!(
            "{:<13} {:<40} {:<30} {}",
            f.name,
            f.capabilities.join(", "),
            presets.join(", "),
            f.paper
        );
        println!("{:<13} {}", "", f.summary);
    }
    Ok(())
}
