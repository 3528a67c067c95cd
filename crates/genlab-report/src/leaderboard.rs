//! The leaderboard of `genlab compare` and of the report: one row per run, ranked on one key
//! within groups of runs measured the same way. Runs evaluated on different data or protocols
//! (another judge, sample count, split or sample drawing; discrete against continuous
//! densities; a projection against pixels) are listed but never ranked together, and the notes
//! say which field differs.

use crate::summary::RunSummary;
use serde::Serialize;
use serde_json::{json, Value};

/// What the runs are ranked by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Key {
    Fid,
    Kid,
    Nll,
    Precision,
    Recall,
    Density,
    Coverage,
    ClassRate,
    Cas,
}

impl Key {
    pub const ALL: [Key; 9] = [
        Key::Fid,
        Key::Kid,
        Key::Nll,
        Key::Precision,
        Key::Recall,
        Key::Density,
        Key::Coverage,
        Key::ClassRate,
        Key::Cas,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Key::Fid => "fid",
            Key::Kid => "kid",
            Key::Nll => "nll",
            Key::Precision => "precision",
            Key::Recall => "recall",
            Key::Density => "density",
            Key::Coverage => "coverage",
            Key::ClassRate => "class_rate",
            Key::Cas => "cas",
        }
    }

    pub fn parse(s: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The key a `--by` flag names (none: the default); an error lists the keys.
    pub fn from_flag(flag: Option<&str>) -> anyhow::Result<Option<Key>> {
        flag.map(|s| {
            Key::parse(s).ok_or_else(|| {
                anyhow::anyhow!(
                    "--by {s}: rank by one of {}",
                    Key::ALL.map(|k| k.name()).join(", ")
                )
            })
        })
        .transpose()
    }

    fn lower_is_better(self) -> bool {
        matches!(self, Key::Fid | Key::Kid | Key::Nll)
    }

    /// The run's value of this key.
    pub fn value(self, r: &RunSummary) -> Option<f64> {
        let e = r.eval.as_ref()?;
        match self {
            Key::Fid => e.fid,
            Key::Kid => e.kid,
            Key::Nll => e.nll_nats,
            Key::Precision => e.precision,
            Key::Recall => e.recall,
            Key::Density => e.density_score,
            Key::Coverage => e.coverage,
            Key::ClassRate => e.class_rate,
            Key::Cas => e.cas,
        }
    }

    /// What must be equal for two values of this key to be ranked together; `None` when the
    /// evaluation recorded no protocol for it (then the run is not ranked).
    fn protocol(self, r: &RunSummary) -> Option<Protocol> {
        let e = r.eval.as_ref()?;
        let text = |v: Option<&Value>| {
            v.map_or("-".to_string(), |x| {
                x.to_string().trim_matches('"').to_string()
            })
        };
        let evaluated = e.evaluated_data.clone().unwrap_or_else(|| r.data.clone());
        let mut p = vec![("data", evaluated), ("shape", r.shape.clone())];
        match self {
            Key::Nll => {
                let density = e.density.clone().unwrap_or_default();
                // A probability mass of the same pixels is the same quantity however the model
                // saw them (dequantized or not, on any scale); a density depends on both.
                let keys: &[&str] = match density.as_str() {
                    "discrete" => &["split", "binarize"],
                    _ => &["split", "binarize", "dequantize", "scale"],
                };
                p.push(("density", density));
                p.push((
                    "projection",
                    (e.bound.as_deref() == Some("projected")).to_string(),
                ));
                for &k in keys {
                    p.push((k, text(e.likelihood_data.as_ref().and_then(|d| d.get(k)))));
                }
                p.push(("examples", text(e.n_examples.map(Value::from).as_ref())));
            }
            Key::ClassRate => p.push(("classifier", e.classifier.clone()?)),
            Key::Cas => p.push(("cas_protocol", text(Some(e.cas_protocol.as_ref()?)))),
            _ => {
                let protocol = e.protocol.as_ref()?;
                let judge = protocol.get("judge").and_then(|j| j.get("sha256"));
                p.push(("judge", text(judge)));
                for k in ["samples", "real", "real_examples", "samples_shown_as"] {
                    p.push((k, text(protocol.get(k))));
                }
            }
        }
        Some(p)
    }
}

/// The fields of a measurement that must match for ranking: `(field, value)`.
type Protocol = Vec<(&'static str, String)>;

/// One run's place.
#[derive(Clone, Debug, Serialize)]
pub struct Place {
    /// Index into the runs given.
    pub run: usize,
    /// 1 = best within its group; `None` when the run has no value of the key.
    pub rank: Option<usize>,
    /// Runs measured the same way share a group (0, 1, ..); `None` without a value.
    pub group: Option<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Leaderboard {
    pub key: Option<Key>,
    /// Ranked groups first (best first within each), then the runs without a value.
    pub places: Vec<Place>,
    /// Why runs are not ranked together, and which runs lack the key and how to measure it.
    pub notes: Vec<String>,
}

impl Leaderboard {
    /// Rank `runs` by `key` (default: FID when any run has one, else NLL).
    pub fn new(runs: &[RunSummary], key: Option<Key>) -> Self {
        let key = key.or_else(|| {
            [Key::Fid, Key::Nll]
                .into_iter()
                .find(|k| runs.iter().any(|r| k.value(r).is_some()))
        });
        let mut notes = Vec::new();
        let Some(key) = key else {
            notes.push(
                "no run has been evaluated: run `genlab eval RUN` on each, then compare again"
                    .into(),
            );
            return Self {
                key: None,
                places: (0..runs.len())
                    .map(|run| Place {
                        run,
                        rank: None,
                        group: None,
                    })
                    .collect(),
                notes,
            };
        };
        // Groups of equal protocol, in order of first appearance.
        let mut groups: Vec<(Protocol, Vec<usize>)> = Vec::new();
        let mut missing = Vec::new();
        for (i, r) in runs.iter().enumerate() {
            let Some(p) = key.value(r).and(key.protocol(r)) else {
                missing.push(i);
                continue;
            };
            match groups.iter_mut().find(|(q, _)| *q == p) {
                Some((_, members)) => members.push(i),
                None => groups.push((p, vec![i])),
            }
        }
        let mut places = Vec::new();
        for (g, (_, members)) in groups.iter().enumerate() {
            let mut sorted = members.clone();
            sorted.sort_by(|&a, &b| {
                let (va, vb) = (key.value(&runs[a]).unwrap(), key.value(&runs[b]).unwrap());
                let o = va.total_cmp(&vb);
                if key.lower_is_better() {
                    o
                } else {
                    o.reverse()
                }
            });
            places.extend(sorted.into_iter().enumerate().map(|(rank, run)| Place {
                run,
                rank: Some(rank + 1),
                group: Some(g),
            }));
        }
        for w in 1..groups.len() {
            let (first, second) = (&groups[0], &groups[w]);
            // Keys both protocols hold, by name: a discrete NLL's protocol leaves out the keys a
            // density's holds, and their density kinds already say why.
            let differ: Vec<String> = first
                .0
                .iter()
                .filter_map(|(k, a)| {
                    let (_, b) = second.0.iter().find(|(name, _)| name == k)?;
                    (a != b).then(|| format!("{k} ({b} vs {a})"))
                })
                .collect();
            notes.push(format!(
                "group {} ({}) is not ranked with group 1 ({}): their protocols differ in {}",
                w + 1,
                names(runs, &second.1),
                names(runs, &first.1),
                differ.join(", ")
            ));
        }
        if key == Key::Nll {
            for (g, (_, members)) in groups.iter().enumerate() {
                let mut kinds: Vec<&str> = members
                    .iter()
                    .filter_map(|&i| runs[i].eval.as_ref()?.bound.as_deref())
                    .collect();
                kinds.sort();
                kinds.dedup();
                if kinds.len() > 1 {
                    notes.push(format!(
                        "group {} ranks {} together: a lower bound's NLL is above the true NLL, an estimate's is noisy (the bound column says which each is)",
                        g + 1,
                        kinds.join(", ")
                    ));
                }
            }
        }
        for &i in &missing {
            let r = &runs[i];
            let why = match (&r.eval, key) {
                (None, _) => format!("not evaluated: run `genlab eval {}`", r.name()),
                (Some(_), _) if key.value(r).is_some() => format!(
                    "its eval records no protocol for {} (made by an older genlab): run `genlab eval {}` again",
                    key.name(),
                    r.name()
                ),
                (Some(e), Key::Fid | Key::Kid | Key::Precision | Key::Recall | Key::Density | Key::Coverage) => {
                    match &e.no_quality {
                        Some(reason) => format!("no {}: {reason}", key.name()),
                        None => format!(
                            "no {}: its eval of step {} has no sample quality (a family that cannot sample, or `--samples 0`); `genlab eval {}` measures it",
                            key.name(),
                            e.step,
                            r.name()
                        ),
                    }
                }
                (Some(_), Key::Cas) => format!("no cas: run `genlab eval {} --cas` (conditional models)", r.name()),
                (Some(_), Key::ClassRate) => format!("no class rate: run `genlab eval {} --judge CLASSIFIER_RUN` (conditional models)", r.name()),
                (Some(_), Key::Nll) => "no likelihood: its family has none".to_string(),
            };
            notes.push(format!(
                "{} is not ranked by {}: {why}",
                r.name(),
                key.name()
            ));
        }
        places.extend(missing.into_iter().map(|run| Place {
            run,
            rank: None,
            group: None,
        }));
        Self {
            key: Some(key),
            places,
            notes,
        }
    }
}

fn names(runs: &[RunSummary], members: &[usize]) -> String {
    members
        .iter()
        .map(|&i| runs[i].name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A leaderboard column: header and the cell of a run.
pub struct Column {
    pub header: &'static str,
    pub cell: fn(&RunSummary) -> Option<String>,
}

fn num(v: Option<f64>, places: usize) -> Option<String> {
    v.map(|v| format!("{v:.places$}"))
}

/// Every column a leaderboard can show, in order; empty ones are left out of tables.
pub fn columns() -> Vec<Column> {
    vec![
        Column {
            header: "family",
            cell: |r| Some(r.family.clone()),
        },
        Column {
            header: "data",
            cell: |r| Some(r.data.clone()),
        },
        Column {
            header: "steps",
            cell: |r| Some(r.step.to_string()),
        },
        Column {
            header: "train s",
            cell: |r| num(r.train_seconds, 0),
        },
        Column {
            header: "params",
            cell: |r| r.parameters.map(readable_count),
        },
        Column {
            header: "nll (nats)",
            cell: |r| num(r.eval.as_ref()?.nll_nats, 2),
        },
        Column {
            header: "bits/dim",
            cell: |r| num(r.eval.as_ref()?.bits_per_dim, 4),
        },
        Column {
            header: "bound",
            cell: |r| r.eval.as_ref()?.bound.clone(),
        },
        Column {
            header: "density kind",
            cell: |r| r.eval.as_ref()?.density.clone(),
        },
        Column {
            header: "fid",
            cell: |r| num(r.eval.as_ref()?.fid, 3),
        },
        Column {
            header: "kid",
            cell: |r| num(r.eval.as_ref()?.kid, 4),
        },
        Column {
            header: "precision",
            cell: |r| num(r.eval.as_ref()?.precision, 3),
        },
        Column {
            header: "recall",
            cell: |r| num(r.eval.as_ref()?.recall, 3),
        },
        Column {
            header: "density",
            cell: |r| num(r.eval.as_ref()?.density_score, 3),
        },
        Column {
            header: "coverage",
            cell: |r| num(r.eval.as_ref()?.coverage, 3),
        },
        Column {
            header: "class rate",
            cell: |r| num(r.eval.as_ref()?.class_rate, 3),
        },
        Column {
            header: "cas",
            cell: |r| num(r.eval.as_ref()?.cas, 3),
        },
        Column {
            header: "modes",
            cell: |r| r.eval.as_ref()?.modes.map(|(c, t)| format!("{c}/{t}")),
        },
    ]
}

/// `header` and `rows` as text columns two spaces apart, one line each.
pub fn aligned(header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    std::iter::once(header)
        .chain(rows.iter().map(Vec::as_slice))
        .map(|cells| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            padded.join("  ").trim_end().to_string() + "\n"
        })
        .collect()
}

/// 1234567 -> "1.23M".
pub fn readable_count(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.2}M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{:.0}k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

impl Leaderboard {
    /// Header and cells of the table: rank, run, then the columns some run fills.
    pub fn table(&self, runs: &[RunSummary]) -> (Vec<String>, Vec<Vec<String>>) {
        let cols: Vec<Column> = columns()
            .into_iter()
            .filter(|c| runs.iter().any(|r| (c.cell)(r).is_some()))
            .collect();
        let mut header = vec!["rank".to_string(), "run".to_string()];
        header.extend(cols.iter().map(|c| c.header.to_string()));
        let rows = self
            .places
            .iter()
            .map(|p| {
                let r = &runs[p.run];
                let rank = match (p.rank, p.group) {
                    (Some(k), Some(0)) => k.to_string(),
                    (Some(k), Some(g)) => format!("{k} (group {})", g + 1),
                    _ => "-".into(),
                };
                let mut row = vec![rank, r.name()];
                row.extend(
                    cols.iter()
                        .map(|c| (c.cell)(r).unwrap_or_else(|| "-".into())),
                );
                row
            })
            .collect();
        (header, rows)
    }

    /// The table as aligned text, then the notes.
    pub fn text(&self, runs: &[RunSummary]) -> String {
        let (header, rows) = self.table(runs);
        let mut out = match self.key {
            Some(k) => format!(
                "ranked by {} ({} is better)\n",
                k.name(),
                if k.lower_is_better() {
                    "lower"
                } else {
                    "higher"
                }
            ),
            None => String::new(),
        };
        let header: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
        out.push_str(&aligned(&header, &rows));
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out
    }

    /// The table as CSV (RFC 4180 quoting), notes left out.
    pub fn csv(&self, runs: &[RunSummary]) -> String {
        let (header, rows) = self.table(runs);
        let quote = |c: &String| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        };
        std::iter::once(&header)
            .chain(&rows)
            .map(|r| r.iter().map(quote).collect::<Vec<_>>().join(",") + "\n")
            .collect()
    }

    /// `{key, runs: [{rank, group, run summary...}], notes}`.
    pub fn json(&self, runs: &[RunSummary]) -> Value {
        let rows: Vec<Value> = self
            .places
            .iter()
            .map(|p| {
                let mut v = serde_json::to_value(&runs[p.run]).expect("summaries serialise");
                v["rank"] = json!(p.rank);
                v["group"] = json!(p.group.map(|g| g + 1));
                v
            })
            .collect();
        json!({ "key": self.key, "runs": rows, "notes": self.notes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::Eval;

    /// A run of 8-bit images with one likelihood result.
    fn run(
        family: &str,
        nll: f64,
        bound: &str,
        kind: &str,
        dequantize: bool,
        scale: &str,
    ) -> RunSummary {
        let v = json!({
            "nll_nats": nll, "bound": bound, "kind": kind, "n_examples": 10000,
            "data": {"spec": "fashion-mnist", "split": "test", "binarize": "none",
                     "dequantize": dequantize, "scale": scale},
        });
        RunSummary {
            path: family.into(),
            family: family.into(),
            data: "fashion-mnist".into(),
            shape: "1x28x28".into(),
            step: 1,
            steps: 1,
            seed: 0,
            started_unix: 0,
            train_seconds: None,
            parameters: None,
            last_losses: Vec::new(),
            eval: Some(Eval::from_json(1, "e.json".into(), &v)),
        }
    }

    #[test]
    fn discrete_nlls_rank_together_however_the_pixels_were_fed_and_densities_do_not() {
        // PixelCNN++'s exact mass of the 8-bit pixels and a flow's dequantized bound on it are
        // the same quantity (ranked together, with the note on bounds); a continuous density is
        // not ranked with them, and two densities on different scales not with each other.
        let runs = [
            run("realnvp", 1817.8, "lower_bound", "discrete", true, "unit"),
            run("pixelcnn++", 1519.0, "exact", "discrete", false, "unit"),
            run(
                "class-gaussian",
                -562.7,
                "exact",
                "continuous",
                false,
                "unit",
            ),
            run(
                "class-gaussian-symmetric",
                -700.0,
                "exact",
                "continuous",
                false,
                "symmetric",
            ),
        ];
        let board = Leaderboard::new(&runs, Some(Key::Nll));
        let place = |i: usize| board.places.iter().find(|p| p.run == i).unwrap();
        assert_eq!((place(1).group, place(1).rank), (Some(0), Some(1)));
        assert_eq!((place(0).group, place(0).rank), (Some(0), Some(2)));
        assert_eq!((place(2).group, place(3).group), (Some(1), Some(2)));
        assert_eq!(
            board.notes[..3],
            [
                "group 2 (class-gaussian) is not ranked with group 1 (realnvp, pixelcnn++): their protocols differ in density (continuous vs discrete)",
                "group 3 (class-gaussian-symmetric) is not ranked with group 1 (realnvp, pixelcnn++): their protocols differ in density (continuous vs discrete)",
                "group 1 ranks exact, lower bound together: a lower bound's NLL is above the true NLL, an estimate's is noisy (the bound column says which each is)",
            ]
        );
    }
}
