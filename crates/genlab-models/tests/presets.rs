//! Every preset either trains on its family's data (the `default` preset's) or says in its
//! name which data it takes instead: `vae --preset conv` silently trained on `shapes`.

use genlab_core::config::{self, RunConfig};
use genlab_core::Family;
use genlab_models::FAMILIES;

/// The data spec `preset` resolves to over the family's defaults.
fn spec(family: &Family, preset: &str) -> String {
    let mut t = RunConfig::defaults(family.name, family.groups, (family.default_model)());
    let text = family.preset(preset).unwrap();
    config::merge(&mut t, &toml::from_str(text).unwrap(), preset).unwrap();
    RunConfig::from_table(&t).unwrap().data.spec.to_string()
}

/// Names that say the data: the built-in sets of tests and demos (or a task made from them,
/// `edges:shapes`), or the data's own name.
fn names_its_data(preset: &str, spec: &str) -> bool {
    let short = spec
        .trim_start_matches("toy:")
        .trim_end_matches("-mnist")
        .to_string();
    let built_in = spec == "shapes" || spec.ends_with(":shapes");
    // An image-to-image task is named by its task: `edges` for `edges:fashion-mnist`.
    let task = spec.split([':', '(']).next().unwrap_or_default();
    matches!(preset, "tiny" | "demo") && built_in || preset.contains(&short) || preset == task
}

#[test]
fn presets_keep_their_familys_data_or_name_the_data_they_take() {
    let mut silent = Vec::new();
    for family in FAMILIES {
        let own = spec(family, "default");
        for (preset, _) in family.presets {
            let s = spec(family, preset);
            if s != own && !names_its_data(preset, &s) {
                silent.push(format!(
                    "{}/{preset} trains on {s}, the family on {own}",
                    family.name
                ));
            }
        }
    }
    assert!(silent.is_empty(), "{silent:#?}");
}
