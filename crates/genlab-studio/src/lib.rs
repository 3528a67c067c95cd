//! `genlab serve`: a local web studio of the runs under a folder (issue 24). The runs page lists
//! them (the run summaries of `genlab runs`, from genlab-report); a run's page shows its config,
//! headline numbers, training curves (genlab-report's SVG charts) that grow while it trains, and
//! its sample grids over time on a slider. Live updates come by server-sent events that tail the
//! run's `metrics.jsonl`, so a run started from the CLI streams too, to any number of browsers.
//!
//! Pages and scripts are embedded in the binary (plain HTML, JS and SVG: no CDN, no build step).
//! Security ([`guard`]): binds 127.0.0.1 by default and a non-loopback address needs a token;
//! the Host header must name the bound address or localhost (DNS rebinding); files are served
//! only from inside the runs folder ([`paths`]); no GET changes state; cross-origin POSTs are
//! refused; request bodies are capped.

mod explore;
pub mod guard;
pub mod jobs;
pub mod lab;
pub mod paths;
mod runs;
pub mod workshop;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// Largest request body accepted (JSON requests; uploads will have their own limit).
pub const BODY_LIMIT: usize = 64 * 1024;

/// What `genlab serve` was asked for.
#[derive(Clone, Debug)]
pub struct Config {
    /// The folder of runs.
    pub runs: PathBuf,
    pub host: IpAddr,
    pub port: u16,
    /// Required of every request when set; `genlab serve` requires one off loopback.
    pub token: Option<String>,
    /// The `genlab` binary that jobs run (`genlab serve` passes itself).
    pub genlab: PathBuf,
}

/// The server's state, shared by every request.
#[derive(Debug)]
pub struct Studio {
    /// The runs folder, canonical: every file served lies under it.
    pub root: PathBuf,
    pub host: IpAddr,
    pub port: u16,
    pub token: Option<String>,
    pub jobs: jobs::Jobs,
    /// The model thread: trained models being explored and GAN Lab sessions.
    pub workshop: workshop::Workshop,
}

impl Studio {
    /// The studio of `cfg`, or an error naming a runs folder that does not exist and a
    /// non-loopback address without a token.
    pub fn new(cfg: &Config) -> anyhow::Result<Self> {
        let root = std::fs::canonicalize(&cfg.runs).map_err(|_| {
            anyhow::anyhow!(
                "{} is not a folder; give the folder your runs are in with --runs (genlab train writes runs/FAMILY by default)",
                cfg.runs.display()
            )
        })?;
        if !root.is_dir() {
            anyhow::bail!("{} is a file, not a folder of runs", cfg.runs.display());
        }
        if !cfg.host.is_loopback() && cfg.token.as_deref().is_none_or(str::is_empty) {
            anyhow::bail!(
                "--host {} makes the studio reachable from other machines: give --token SECRET too (every request must then carry it)",
                cfg.host
            );
        }
        if let Some(t) = &cfg.token {
            if !guard::valid_token(t) {
                anyhow::bail!("--token: 8 to 128 letters, digits, `-` or `_` (it goes into addresses and cookies unescaped)");
            }
        }
        Ok(Self {
            jobs: jobs::Jobs::new(cfg.genlab.clone(), root.clone()),
            workshop: workshop::Workshop::start(),
            root,
            host: cfg.host,
            port: cfg.port,
            token: cfg.token.clone(),
        })
    }
}

/// Every route, behind the guard.
pub fn router(studio: Arc<Studio>) -> Router {
    Router::new()
        .route("/", get(runs::index_page))
        .route("/run", get(runs::run_page))
        .route("/assets/studio.js", get(runs::script))
        .route("/assets/studio.css", get(runs::style))
        .route("/api/runs", get(runs::list))
        .route("/api/run", get(runs::details))
        .route("/api/curves", get(runs::curves))
        .route("/api/events", get(runs::events))
        .route("/files", get(runs::file))
        .route("/api/families", get(families))
        .route("/api/jobs", get(job_list).post(job_submit))
        .route("/api/jobs/stop", post(job_stop))
        .route("/lab", get(runs::lab_page))
        .route("/api/explore", get(explore::about))
        .route("/api/explore/prior", post(explore::prior))
        .route("/api/explore/decode", post(explore::decode))
        .route("/api/explore/complete", post(explore::complete))
        .route(
            "/api/explore/translate",
            post(explore::translate).layer(DefaultBodyLimit::max(explore::UPLOAD_LIMIT)),
        )
        .route("/api/lab", get(lab::routes::look).post(lab::routes::create))
        .route("/api/lab/step", post(lab::routes::step))
        .route("/api/lab/change", post(lab::routes::change))
        .route("/api/lab/families", get(lab::routes::families))
        .layer(axum::middleware::from_fn_with_state(
            studio.clone(),
            guard::guard,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(studio)
}

/// `GET /api/families`: every family with its summary and presets, for the training form.
async fn families() -> Json<serde_json::Value> {
    let list: Vec<serde_json::Value> = genlab_models::FAMILIES
        .iter()
        .map(|f| {
            serde_json::json!({
                "name": f.name, "summary": f.summary, "paper": f.paper,
                "presets": f.presets.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(serde_json::json!({ "families": list }))
}

/// `GET /api/jobs`: every job of this server, newest first.
async fn job_list(State(studio): State<Arc<Studio>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "jobs": studio.jobs.list() }))
}

/// `POST /api/jobs` with a [`jobs::NewJob`]: queue a training run.
/// Submitting runs `genlab train --print-config` (a process), so it runs off the async workers.
async fn job_submit(State(studio): State<Arc<Studio>>, Json(j): Json<jobs::NewJob>) -> Response {
    match tokio::task::spawn_blocking(move || studio.jobs.submit(j)).await {
        Ok(Ok(job)) => Json(job).into_response(),
        Ok(Err(jobs::Refusal::Bad(e))) => guard::refuse(StatusCode::BAD_REQUEST, e),
        Ok(Err(jobs::Refusal::Server(e))) => guard::refuse(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(e) => guard::refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StopJob {
    id: u64,
}

/// `POST /api/jobs/stop` with `{"id": N}`: SIGINT to a running job, or out of the queue.
async fn job_stop(State(studio): State<Arc<Studio>>, Json(s): Json<StopJob>) -> Response {
    match studio.jobs.stop(s.id) {
        Ok(job) => Json(job).into_response(),
        Err(e) => guard::refuse(StatusCode::NOT_FOUND, e),
    }
}

/// Start the queue's own thread: every 300 ms the finished job is reaped and the next one
/// started. Jobs are spawned from this thread only, and it lives as long as the server, so a
/// job's parent-death signal (see `jobs`) fires when the server dies and never before.
pub fn start_jobs(studio: Arc<Studio>) {
    std::thread::Builder::new()
        .name("genlab-studio-jobs".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(300));
            studio.jobs.pump();
        })
        .expect("the studio can start a thread");
}

/// Serve `cfg` until the process is stopped; prints the address to open.
pub fn serve(cfg: Config) -> anyhow::Result<()> {
    let mut studio = Studio::new(&cfg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let addr = SocketAddr::new(cfg.host, cfg.port);
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {addr} ({e}); is another server using port {}? Pick another with --port",
                cfg.port
            )
        })?;
        let bound = listener.local_addr()?;
        let host = if cfg.host.is_loopback() {
            format!("127.0.0.1:{}", bound.port())
        } else {
            bound.to_string()
        };
        studio.port = bound.port();
        let studio = Arc::new(studio);
        start_jobs(studio.clone());
        let token = match &studio.token {
            Some(t) => format!("?token={t}"),
            None => String::new(),
        };
        println!(
            "genlab studio: http://{host}/{token}  (runs in {}; Ctrl-C stops)",
            studio.root.display()
        );
        axum::serve(listener, router(studio)).await?;
        Ok(())
    })
}
