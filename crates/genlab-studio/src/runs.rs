//! The runs page, a run's page and their data: run summaries (genlab-report's), details,
//! curves (genlab-report's SVG charts), files, and the live event stream of a run.

use crate::guard::refuse;
use crate::{paths, Studio};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use genlab_core::run_dir::RunDir;
use genlab_report::summary::{find_runs, RunSummary, SEARCH_DEPTH};
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const INDEX: &str = include_str!("../assets/index.html");
const RUN: &str = include_str!("../assets/run.html");
const LAB: &str = include_str!("../assets/lab.html");
const SCRIPT: &str = include_str!("../assets/studio.js");
const STYLE: &str = include_str!("../assets/studio.css");

/// How often a run's files are looked at for news.
const POLL: Duration = Duration::from_millis(500);

pub async fn index_page() -> Html<&'static str> {
    Html(INDEX)
}

pub async fn run_page() -> Html<&'static str> {
    Html(RUN)
}

pub async fn lab_page() -> Html<&'static str> {
    Html(LAB)
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

#[derive(Deserialize)]
pub struct RunQuery {
    pub name: String,
}

fn not_found(message: String) -> Response {
    refuse(StatusCode::NOT_FOUND, message)
}

/// Blocking file work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a studio file task panicked")
}

/// One row of the runs page.
fn row(root: &Path, r: &RunSummary) -> Value {
    let grids = r.sample_grids();
    let thumb = grids.last().map(|(_, p)| paths::name_of(&r.path, p));
    json!({
        "name": paths::name_of(root, &r.path),
        "family": r.family, "data": r.data, "shape": r.shape,
        "step": r.step, "steps": r.steps, "seed": r.seed,
        "started_unix": r.started_unix, "train_seconds": r.train_seconds,
        "parameters": r.parameters,
        "losses": r.last_losses.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "headline": r.headline().iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "evaluated": r.eval.is_some(),
        "thumbnail": thumb,
    })
}

fn summaries(root: &Path) -> Vec<RunSummary> {
    let mut runs: Vec<RunSummary> = find_runs(root, SEARCH_DEPTH)
        .iter()
        // A symlinked folder that leads out of the runs folder is not listed.
        .filter(|p| std::fs::canonicalize(p).is_ok_and(|c| c.starts_with(root)))
        .filter_map(|p| RunSummary::read(p).ok())
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.started_unix));
    runs
}

/// `GET /api/runs`: every run under the folder, newest first.
pub async fn list(State(studio): State<Arc<Studio>>) -> Response {
    let root = studio.root.clone();
    let rows = blocking(move || {
        summaries(&root)
            .iter()
            .map(|r| row(&root, r))
            .collect::<Vec<_>>()
    })
    .await;
    Json(json!({ "root": studio.root, "runs": rows })).into_response()
}

/// `GET /api/run?name=`: the row, config, newest eval, checkpoints, sample grids, pictures, and
/// the size of metrics.jsonl (where `/api/events` may start).
pub async fn details(State(studio): State<Arc<Studio>>, Query(q): Query<RunQuery>) -> Response {
    let dir = match paths::run(&studio.root, &q.name) {
        Ok(d) => d,
        Err(e) => return not_found(e),
    };
    let root = studio.root.clone();
    blocking(move || {
        let r = match RunSummary::read(&dir) {
            Ok(r) => r,
            Err(e) => return not_found(format!("{} cannot be read: {e}", q.name)),
        };
        let run = RunDir::at(&dir);
        let rel = |p: &Path| paths::name_of(&dir, p);
        let grids: Vec<Value> = r
            .sample_grids()
            .iter()
            .map(|(s, p)| json!({"step": s, "path": rel(p)}))
            .collect();
        let checkpoints: Vec<u64> = run.checkpoints().iter().map(|(s, _)| *s).collect();
        let pictures: Vec<String> = r.pictures().iter().map(|p| rel(p)).collect();
        let metrics_bytes = line_start(&run.metrics_file(), u64::MAX);
        Json(json!({
            "run": row(&root, &r),
            "config": std::fs::read_to_string(run.config_file()).unwrap_or_default(),
            "eval": run.latest_eval().map(|(_, v)| v),
            "checkpoints": checkpoints,
            "grids": grids,
            "pictures": pictures,
            "metrics_bytes": metrics_bytes,
        }))
        .into_response()
    })
    .await
}

/// `GET /api/curves?name=`: the run's training curves as SVG charts (genlab-report's).
pub async fn curves(State(studio): State<Arc<Studio>>, Query(q): Query<RunQuery>) -> Response {
    let dir = match paths::run(&studio.root, &q.name) {
        Ok(d) => d,
        Err(e) => return not_found(e),
    };
    let charts = blocking(move || RunSummary::read(&dir).map(|r| r.curves())).await;
    match charts {
        Ok(c) => Json(json!({ "charts": c })).into_response(),
        Err(e) => not_found(format!("{} cannot be read: {e}", q.name)),
    }
}

#[derive(Deserialize)]
pub struct FileQuery {
    run: String,
    path: String,
}

/// `GET /files?run=&path=`: a picture or record of a run.
pub async fn file(State(studio): State<Arc<Studio>>, Query(q): Query<FileQuery>) -> Response {
    let dir = match paths::run(&studio.root, &q.run) {
        Ok(d) => d,
        Err(e) => return not_found(e),
    };
    let f = match paths::file(&dir, &q.path) {
        Ok(f) => f,
        Err(e) => return not_found(e),
    };
    let kind = match f.extension().and_then(|e| e.to_str()) {
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") | Some("jsonl") => "application/json",
        _ => "text/plain; charset=utf-8",
    };
    match blocking(move || std::fs::read(f)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
        Err(e) => not_found(format!("cannot read {}: {e}", q.path)),
    }
}

#[derive(Deserialize)]
pub struct EventsQuery {
    name: String,
    /// Byte offset in metrics.jsonl to stream from (`/api/run`'s `metrics_bytes`), moved back to
    /// the start of its line; the end of the last complete line when absent.
    from: Option<u64>,
    /// Sample grids the page already has (`/api/run`'s list): a grid written between that
    /// request and this one is still announced. Those on disk now when absent.
    grids: Option<usize>,
}

/// The offset just after the last newline at or before `offset` in `path` (0 when none): where
/// a complete line starts, so a stream never begins inside a line (a torn last line of a killed
/// run, a `from` sent by hand).
fn line_start(path: &Path, offset: u64) -> u64 {
    let Ok(bytes) = std::fs::read(path) else {
        return 0;
    };
    let end = (offset.min(bytes.len() as u64)) as usize;
    bytes[..end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i as u64 + 1)
}

/// Which file a path holds now: a rewrite (a resume writes metrics.jsonl anew) changes it.
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// What the stream of one run has seen.
struct Tail {
    dir: PathBuf,
    offset: u64,
    file: Option<(u64, u64)>,
    grids: usize,
    step: u64,
    queue: std::collections::VecDeque<Event>,
}

impl Tail {
    /// New complete lines of metrics.jsonl (read from where the last poll stopped), new sample
    /// grids and a changed last step, as events.
    fn poll(&mut self) {
        use std::io::{Read, Seek, SeekFrom};
        let run = RunDir::at(&self.dir);
        let path = run.metrics_file();
        let now = identity(&path);
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if now != self.file || len < self.offset {
            // Rewritten or truncated (a resume rewinds it): start again from its top.
            if self.file.is_some() || len < self.offset {
                self.queue
                    .push_back(Event::default().event("reset").data("{}"));
            }
            self.file = now;
            self.offset = 0;
        }
        let mut new = Vec::new();
        if let Ok(mut f) = std::fs::File::open(&path) {
            if f.seek(SeekFrom::Start(self.offset)).is_ok() {
                let _ = f.read_to_end(&mut new);
            }
        }
        if let Some(end) = new.iter().rposition(|&b| b == b'\n') {
            for line in new[..end].split(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(line);
                if !line.trim().is_empty() {
                    self.queue
                        .push_back(Event::default().event("metrics").data(line.trim()));
                }
            }
            self.offset += end as u64 + 1;
        }
        let grids = run.sample_grids();
        if grids.len() != self.grids {
            self.grids = grids.len();
            let list: Vec<Value> = grids
                .iter()
                .map(|(s, p)| json!({"step": s, "path": paths::name_of(&self.dir, p)}))
                .collect();
            self.queue.push_back(
                Event::default()
                    .event("grids")
                    .data(Value::from(list).to_string()),
            );
        }
        if let Ok(meta) = run.read_meta() {
            if meta.last_step != self.step {
                self.step = meta.last_step;
                // The planned steps too: a resume may have raised them.
                let steps = run.read_config().ok().map(|c| c.train.steps);
                self.queue.push_back(
                    Event::default()
                        .event("step")
                        .data(json!({"step": meta.last_step, "steps": steps}).to_string()),
                );
            }
        }
    }
}

/// `GET /api/events?name=&from=`: server-sent events of a run while the page is open:
/// `metrics` (each new line of metrics.jsonl), `grids` (the list, when a sample grid is added),
/// `step` (the checkpointed step and the planned steps), `reset` (metrics.jsonl was rewound).
pub async fn events(State(studio): State<Arc<Studio>>, Query(q): Query<EventsQuery>) -> Response {
    let dir = match paths::run(&studio.root, &q.name) {
        Ok(d) => d,
        Err(e) => return not_found(e),
    };
    let run = RunDir::at(&dir);
    let path = run.metrics_file();
    let tail = Tail {
        offset: line_start(&path, q.from.unwrap_or(u64::MAX)),
        file: identity(&path),
        grids: q.grids.unwrap_or_else(|| run.sample_grids().len()),
        step: run.read_meta().map(|m| m.last_step).unwrap_or(0),
        dir,
        queue: Default::default(),
    };
    let stream = futures_util::stream::unfold(tail, |mut tail| async move {
        loop {
            if let Some(e) = tail.queue.pop_front() {
                return Some((Ok::<Event, Infallible>(e), tail));
            }
            tokio::time::sleep(POLL).await;
            tail = blocking(move || {
                tail.poll();
                tail
            })
            .await;
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
