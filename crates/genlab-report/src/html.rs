//! `genlab report`: one self-contained HTML file: the leaderboard, then a page per model with
//! its numbers, protocol, training curves (inline SVG), sample grids over training and the
//! pictures made from it. Nothing is fetched: images are `data:` URIs, styles inline, no
//! script, and a Content-Security-Policy that forbids every network load.

use crate::leaderboard::Leaderboard;
use crate::summary::RunSummary;
use base64::Engine;
use genlab_viz::svg::escape;
use std::path::Path;

/// The policy in every report: images only from `data:`, inline styles, nothing else.
pub const CSP: &str =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// Sample grids shown per run: the newest and up to this many before it, evenly spaced.
const GRIDS: usize = 4;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:40px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #d8d8de;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f0f0f4}td:nth-child(2),th:nth-child(2){text-align:left}
.note{color:#8a4b00;font-size:13px;margin:2px 0}.muted{color:#666;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:10px}.charts svg{border:1px solid #e4e4ea}
figure{display:inline-block;margin:6px 10px 6px 0;vertical-align:top}
figcaption{font-size:12px;color:#555;max-width:420px}
img{image-rendering:pixelated;border:1px solid #e4e4ea;max-width:100%}
section.model{page-break-before:always}nav a{margin-right:10px;font-size:13px}
pre{background:#f6f6f8;padding:8px;font-size:12px;overflow:auto}.wide{overflow-x:auto}";

/// A PNG file as a `data:` URI, or `None` when it cannot be read.
fn data_uri(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    (bytes.starts_with(b"\x89PNG")).then(|| {
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    })
}

fn figure(path: &Path, caption: &str) -> String {
    match data_uri(path) {
        Some(uri) => format!(
            r#"<figure><img src="{uri}" alt="{c}"><figcaption>{c}</figcaption></figure>"#,
            c = escape(caption)
        ),
        None => format!(
            r#"<p class="note">{} could not be read</p>"#,
            escape(&path.display().to_string())
        ),
    }
}

/// The report of `runs`, ranked as `board` says, titled `title`.
pub fn report(runs: &[RunSummary], board: &Leaderboard, title: &str) -> String {
    let mut h = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>"#,
        t = escape(title)
    );
    h.push_str(&format!(
        r#"<p class="muted">{} runs. Made by genlab {}; every number is read from the runs' own files (metrics.jsonl, eval/*.json).</p>"#,
        runs.len(),
        env!("CARGO_PKG_VERSION")
    ));
    h.push_str("<nav>");
    for (i, r) in runs.iter().enumerate() {
        h.push_str(&format!(
            r##"<a href="#run-{}">{}</a>"##,
            i + 1,
            escape(&r.name())
        ));
    }
    h.push_str("</nav><h2>Leaderboard</h2>");
    if let Some(k) = board.key {
        h.push_str(&format!(
            r#"<p class="muted">Ranked by {} within groups of runs measured on the same data and protocol.</p>"#,
            k.name()
        ));
    }
    let (header, rows) = board.table(runs);
    h.push_str(r#"<div class="wide"><table><tr>"#);
    for c in &header {
        h.push_str(&format!("<th>{}</th>", escape(c)));
    }
    h.push_str("</tr>");
    for (row, place) in rows.iter().zip(&board.places) {
        h.push_str("<tr>");
        for (j, c) in row.iter().enumerate() {
            match j {
                1 => h.push_str(&format!(
                    r##"<td><a href="#run-{}">{}</a></td>"##,
                    place.run + 1,
                    escape(c)
                )),
                _ => h.push_str(&format!("<td>{}</td>", escape(c))),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></div>");
    for n in &board.notes {
        h.push_str(&format!(r#"<p class="note">{}</p>"#, escape(n)));
    }
    for (i, r) in runs.iter().enumerate() {
        h.push_str(&model_page(i, r));
    }
    h.push_str("</body></html>\n");
    h
}

/// One model's page.
fn model_page(i: usize, r: &RunSummary) -> String {
    let mut h = format!(
        r#"<section class="model" id="run-{}"><h2>{} <span class="muted">({})</span></h2>"#,
        i + 1,
        escape(&r.name()),
        escape(&r.family)
    );
    let mut facts = vec![
        ("data", r.data.clone()),
        ("steps", format!("{} of {}", r.step, r.steps)),
        ("seed", r.seed.to_string()),
    ];
    if let Some(s) = r.train_seconds {
        facts.push(("training time", format!("{s:.0} s")));
    }
    if let Some(p) = r.parameters {
        facts.push(("parameters", p.to_string()));
    }
    for (k, v) in &r.last_losses {
        facts.push(("last loss", format!("{k} = {v:.4}")));
    }
    h.push_str("<table>");
    for (k, v) in facts {
        h.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(k),
            escape(&v)
        ));
    }
    h.push_str("</table>");
    match &r.eval {
        Some(e) => {
            h.push_str(&format!(
                "<h3>Evaluation (step {}, {})</h3>",
                e.step,
                escape(&e.file.display().to_string())
            ));
            let raw: serde_json::Value = std::fs::read_to_string(&e.file)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            h.push_str("<table>");
            if let Some(obj) = raw.as_object() {
                for (k, v) in obj {
                    if v.is_number() {
                        h.push_str(&format!(
                            "<tr><th>{}</th><td>{}</td></tr>",
                            escape(k),
                            crate::readable(v)
                        ));
                    } else if let Some(s) = v.as_str() {
                        h.push_str(&format!(
                            "<tr><th>{}</th><td style=\"text-align:left;white-space:normal\">{}</td></tr>",
                            escape(k),
                            escape(s)
                        ));
                    }
                }
            }
            h.push_str("</table>");
            if let Some(p) = &e.protocol {
                h.push_str(&format!(
                    "<h3>Sample-quality protocol</h3><pre>{}</pre>",
                    escape(&serde_json::to_string_pretty(p).unwrap_or_default())
                ));
            }
        }
        None => h.push_str(&format!(
            r#"<p class="note">Not evaluated: run <code>genlab eval {}</code>.</p>"#,
            escape(&r.name())
        )),
    }
    let charts = r.curves();
    if !charts.is_empty() {
        h.push_str(r#"<h3>Training curves</h3><div class="charts">"#);
        for c in charts {
            h.push_str(&c);
        }
        h.push_str("</div>");
    }
    let grids = r.sample_grids();
    if !grids.is_empty() {
        h.push_str("<h3>Samples over training (fixed noise)</h3>");
        let last = grids.len() - 1;
        let pick: Vec<usize> = match last {
            0 => vec![0],
            _ => {
                let mut p: Vec<usize> = (0..GRIDS).map(|k| k * last / GRIDS).collect();
                p.push(last);
                p.dedup();
                p
            }
        };
        for k in pick {
            let (step, path) = &grids[k];
            h.push_str(&figure(path, &format!("step {step}")));
        }
    }
    let pictures: Vec<_> = r
        .pictures()
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "curves.png"))
        .collect();
    if !pictures.is_empty() {
        h.push_str("<h3>Pictures made from this run</h3>");
        for p in pictures {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            h.push_str(&figure(&p, &name));
        }
    }
    h.push_str("</section>");
    h
}

/// Every `src=` and `href=` value in `html` that is neither a `data:` image nor a same-page
/// anchor: what would make a report load something from outside itself.
pub fn outside_references(html: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for attr in ["src=", "href=", "xlink:href=", "url("] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let value: String = rest
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ')' | ' ' | '>'))
                .collect();
            if !(value.starts_with("data:image/") || value.starts_with('#')) {
                bad.push(format!("{attr}{value}"));
            }
        }
    }
    bad
}
