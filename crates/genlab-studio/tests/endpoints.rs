//! The studio's endpoints in-process (`tower::ServiceExt::oneshot`), its security rules, and
//! the live event stream over a real socket to two clients at once.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use genlab_core::config::RunConfig;
use genlab_core::run_dir::{Meta, MetricsLine, RunDir};
use genlab_studio::{router, Config, Studio};
use http_body_util::BodyExt;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

const PORT: u16 = 7878;

/// A run named `name` under `root` with two metrics lines and a sample grid.
fn fake_run(root: &Path, name: &str) {
    let dir = root.join(name);
    let config =
        RunConfig::from_table(&RunConfig::defaults("vae", &["model"], toml::Table::new())).unwrap();
    let meta = Meta {
        family: "vae".into(),
        genlab_version: "test".into(),
        seed: 0,
        backend: "test".into(),
        started_unix: 1_796_000_000,
        last_step: 20,
        data_kind: genlab_data::Kind::Images,
        data_shape: genlab_data::Shape { c: 1, h: 28, w: 28 },
        classes: vec![],
        standardization: None,
        input: None,
        input_shape: None,
    };
    let run = RunDir::create(&dir, &config, &meta).unwrap();
    for step in [10, 20] {
        run.append_metrics(&MetricsLine {
            step,
            epoch: 0.1,
            losses: vec![("elbo".into(), 200.0 - step as f64)],
            steps_per_sec: 5.0,
            ..MetricsLine::default()
        })
        .unwrap();
    }
    let grid = run.samples_file(20);
    std::fs::create_dir_all(grid.parent().unwrap()).unwrap();
    std::fs::write(&grid, b"\x89PNG fake").unwrap();
}

fn studio(root: &Path, token: Option<&str>) -> Arc<Studio> {
    studio_with(root, token, "genlab".into())
}

fn studio_with(root: &Path, token: Option<&str>, genlab: std::path::PathBuf) -> Arc<Studio> {
    Arc::new(
        Studio::new(&Config {
            runs: root.to_path_buf(),
            host: "127.0.0.1".parse().unwrap(),
            port: PORT,
            token: token.map(String::from),
            genlab,
        })
        .unwrap(),
    )
}

/// A stand-in for `genlab` (this crate's tests have no binary of it; tests/studio.rs of the CLI
/// uses the real one): `train ... --print-config` refuses the key `model.nope` as the CLI does,
/// clap's pointer to `--help` and all, and accepts anything else; any other call fails.
fn fake_genlab(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let exe = dir.join("fake-genlab");
    std::fs::write(
        &exe,
        concat!(
            "#!/bin/sh\n",
            // Anything but `train ... --print-config` is a wrong call: it fails without a word.
            "[ \"$1\" = train ] || exit 3\n",
            "for last; do :; done\n",
            "[ \"$last\" = --print-config ] || exit 3\n",
            "case \"$*\" in *model.nope*) printf 'error: --set: unknown config key `model.nope`",
            "\\n\\nFor more information, try --help.\\n' >&2; exit 2;; esac\n",
        ),
    )
    .unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, format!("127.0.0.1:{PORT}"))
        .body(Body::empty())
        .unwrap()
}

/// Status, headers and body of one request.
fn send(s: &Arc<Studio>, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = router(s.clone()).oneshot(req).await.unwrap();
        let (parts, body) = r.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (parts.status, parts.headers, bytes)
    })
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn runs_details_curves_and_files() {
    let tmp = tempfile::tempdir().unwrap();
    fake_run(tmp.path(), "vae");
    fake_run(tmp.path(), "table/vae-default");
    let s = studio(tmp.path(), None);
    let (status, headers, body) = send(&s, get("/api/runs"));
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let v = json(&body);
    let names: Vec<&str> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{v}");
    assert!(names.contains(&"table/vae-default"), "{v}");
    assert_eq!(v["runs"][0]["thumbnail"], "samples/step-000020.png", "{v}");
    assert_eq!(v["runs"][0]["losses"][0][0], "elbo");

    let (status, _, body) = send(&s, get("/api/run?name=table/vae-default"));
    assert_eq!(status, StatusCode::OK);
    let d = json(&body);
    assert!(
        d["config"].as_str().unwrap().contains("family = \"vae\""),
        "{d}"
    );
    assert_eq!(d["grids"][0]["step"], 20);
    assert!(d["metrics_bytes"].as_u64().unwrap() > 0);

    let (status, _, body) = send(&s, get("/api/curves?name=vae"));
    assert_eq!(status, StatusCode::OK);
    let c = json(&body);
    assert!(c["charts"][0].as_str().unwrap().starts_with("<svg"), "{c}");

    let (status, headers, body) = send(&s, get("/files?run=vae&path=samples/step-000020.png"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert!(body.starts_with(b"\x89PNG"));
    // Pages and their script are served; unknown runs are a 404 that says so.
    for page in [
        "/",
        "/run?name=vae",
        "/assets/studio.js",
        "/assets/studio.css",
    ] {
        assert_eq!(send(&s, get(page)).0, StatusCode::OK, "{page}");
    }
    let (status, _, body) = send(&s, get("/api/run?name=nope"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(json(&body)["error"].as_str().unwrap().contains("nope"));
}

#[test]
fn files_only_from_inside_the_runs_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    fake_run(&root, "vae");
    std::fs::write(tmp.path().join("secret.toml"), "password = 1").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(tmp.path().join("secret.toml"), root.join("vae/link.toml")).unwrap();
    let s = studio(&root, None);
    for uri in [
        "/files?run=vae&path=../../secret.toml",
        "/files?run=vae&path=%2e%2e%2f%2e%2e%2fsecret.toml",
        "/files?run=vae&path=%252e%252e%252fsecret.toml",
        "/files?run=vae&path=/etc/passwd",
        "/files?run=vae&path=link.toml",
        "/files?run=..&path=secret.toml",
        "/files?run=vae/..&path=../secret.toml",
        "/files?run=/etc&path=passwd",
        "/api/run?name=..",
        "/api/run?name=%2e%2e",
    ] {
        let (status, _, body) = send(&s, get(uri));
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(
            !String::from_utf8_lossy(&body).contains("password"),
            "{uri}"
        );
    }
    // The run's own config is served.
    assert_eq!(
        send(&s, get("/files?run=vae&path=config.toml")).0,
        StatusCode::OK
    );
}

#[test]
fn host_origin_and_token_rules() {
    let tmp = tempfile::tempdir().unwrap();
    fake_run(tmp.path(), "vae");
    let s = studio(tmp.path(), None);
    let with_host = |host: &str| {
        Request::get("/api/runs")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap()
    };
    for host in [
        "localhost:7878",
        "127.0.0.1:7878",
        "[::1]:7878",
        "LOCALHOST:7878",
    ] {
        assert_eq!(send(&s, with_host(host)).0, StatusCode::OK, "{host}");
    }
    // DNS rebinding: another name, or the right name on another port.
    for host in [
        "evil.example:7878",
        "evil.example",
        "127.0.0.1:9999",
        "",
        "localhost",
    ] {
        assert_eq!(
            send(&s, with_host(host)).0,
            StatusCode::MISDIRECTED_REQUEST,
            "{host}"
        );
    }
    // A state-changing request from another origin, or not JSON, is refused before any
    // handler; from the studio's own page it passes the guard (and meets no route here).
    let post = |origin: Option<&str>, kind: &str| {
        let mut r = Request::post("/api/runs")
            .header(header::HOST, "127.0.0.1:7878")
            .header(header::CONTENT_TYPE, kind);
        if let Some(o) = origin {
            r = r.header(header::ORIGIN, o);
        }
        r.body(Body::from("{}")).unwrap()
    };
    let json_type = "application/json";
    let foreign = post(Some("http://evil.example"), json_type);
    assert_eq!(send(&s, foreign).0, StatusCode::FORBIDDEN);
    let other_port = post(Some("http://127.0.0.1:9999"), json_type);
    assert_eq!(send(&s, other_port).0, StatusCode::FORBIDDEN);
    let form = post(
        Some("http://127.0.0.1:7878"),
        "application/x-www-form-urlencoded",
    );
    assert_eq!(send(&s, form).0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let own = post(Some("http://127.0.0.1:7878"), json_type);
    assert_eq!(send(&s, own).0, StatusCode::METHOD_NOT_ALLOWED);

    // With a token: refused without it, taken from the query (which sets a cookie), a cookie
    // or a bearer header; a wrong one is refused.
    let s = studio(tmp.path(), Some("s3cret-token"));
    assert_eq!(send(&s, get("/api/runs")).0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(&s, get("/api/runs?token=wrong")).0,
        StatusCode::UNAUTHORIZED
    );
    let (status, headers, _) = send(&s, get("/?token=s3cret-token"));
    assert_eq!(status, StatusCode::OK);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("genlab_token_7878=s3cret-token;") && cookie.contains("HttpOnly"));
    let mut r = get("/api/runs");
    r.headers_mut().insert(
        header::COOKIE,
        "a=b; genlab_token_7878=s3cret-token".parse().unwrap(),
    );
    assert_eq!(send(&s, r).0, StatusCode::OK);
    let mut r = get("/api/runs");
    r.headers_mut().insert(
        header::AUTHORIZATION,
        "Bearer s3cret-token".parse().unwrap(),
    );
    assert_eq!(send(&s, r).0, StatusCode::OK);
    // A stale cookie (an earlier studio's) does not lock out the printed address.
    let mut r = get("/?token=s3cret-token");
    r.headers_mut().insert(
        header::COOKIE,
        "genlab_token_7878=old-token".parse().unwrap(),
    );
    assert_eq!(send(&s, r).0, StatusCode::OK);
    // Another port's cookie is another studio's.
    let mut r = get("/api/runs");
    r.headers_mut().insert(
        header::COOKIE,
        "genlab_token_9999=s3cret-token".parse().unwrap(),
    );
    assert_eq!(send(&s, r).0, StatusCode::UNAUTHORIZED);
    // Off loopback a token is required; a missing folder is named.
    let cfg = |host: &str, token: Option<&str>, runs: &Path| Config {
        runs: runs.to_path_buf(),
        host: host.parse().unwrap(),
        port: PORT,
        token: token.map(String::from),
        genlab: "genlab".into(),
    };
    let err = Studio::new(&cfg("0.0.0.0", None, tmp.path())).unwrap_err();
    assert!(err.to_string().contains("--token"), "{err}");
    assert!(Studio::new(&cfg("0.0.0.0", Some("a-long-token"), tmp.path())).is_ok());
    for bad in ["short", "has space 123", "amp&ersand#1"] {
        let err = Studio::new(&cfg("127.0.0.1", Some(bad), tmp.path())).unwrap_err();
        assert!(err.to_string().contains("--token"), "{bad}: {err}");
    }
    let err = Studio::new(&cfg("127.0.0.1", None, &tmp.path().join("nope"))).unwrap_err();
    assert!(err.to_string().contains("--runs"), "{err}");
}

/// Read from `stream` until `needle` shows up (or fail after a while).
fn read_until(stream: &mut std::net::TcpStream, needle: &str) -> String {
    stream
        .set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .unwrap();
    let mut seen = String::new();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 4096];
    while started.elapsed() < std::time::Duration::from_secs(20) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(_) => {}
        }
        if seen.contains(needle) {
            return seen;
        }
    }
    panic!("no `{needle}` in:\n{seen}");
}

#[test]
fn two_browsers_both_see_a_new_metrics_line_over_a_socket() {
    let tmp = tempfile::tempdir().unwrap();
    fake_run(tmp.path(), "vae");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let s = Arc::new(
        Studio::new(&Config {
            runs: tmp.path().to_path_buf(),
            host: "127.0.0.1".parse().unwrap(),
            port,
            token: None,
            genlab: "genlab".into(),
        })
        .unwrap(),
    );
    rt.spawn(async move { axum::serve(listener, router(s)).await });
    let open = || {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            c,
            "GET /api/events?name=vae HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let head = read_until(&mut c, "\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("text/event-stream"), "{head}");
        c
    };
    let (mut a, mut b) = (open(), open());
    // A trainer (here: this test) appends a line; both streams carry it.
    RunDir::at(tmp.path().join("vae"))
        .append_metrics(&MetricsLine {
            step: 30,
            epoch: 0.2,
            losses: vec![("elbo".into(), 150.0)],
            steps_per_sec: 5.0,
            ..MetricsLine::default()
        })
        .unwrap();
    for c in [&mut a, &mut b] {
        let got = read_until(c, "\"step\":30");
        assert!(got.contains("event: metrics"), "{got}");
    }
    // A resume writes the file anew, longer than before: the stream says `reset` and sends
    // whole lines from the top, never a fragment.
    let metrics = tmp.path().join("vae/metrics.jsonl");
    let old = std::fs::read_to_string(&metrics).unwrap();
    let longer = format!("{old}{}", old.replace("\"step\":", "\"step\":4"));
    let scratch = tmp.path().join("rewrite.jsonl");
    std::fs::write(&scratch, &longer).unwrap();
    std::fs::rename(&scratch, &metrics).unwrap();
    let got = read_until(&mut a, "\"step\":430");
    assert!(got.contains("event: reset"), "{got}");
    for line in got.lines().filter_map(|l| l.strip_prefix("data: ")) {
        assert!(line.starts_with('{'), "a fragment: {line}");
    }
    // A stream asked to start mid-line starts at that line.
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        c,
        "GET /api/events?name=vae&from=10 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .unwrap();
    let got = read_until(&mut c, "\"step\":10");
    for line in got.lines().filter_map(|l| l.strip_prefix("data: ")) {
        assert!(line.starts_with('{'), "a fragment: {line}");
    }
}

fn post_json(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::HOST, format!("127.0.0.1:{PORT}"))
        .header(header::ORIGIN, format!("http://127.0.0.1:{PORT}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[test]
fn jobs_are_checked_before_they_queue() {
    let tmp = tempfile::tempdir().unwrap();
    fake_run(tmp.path(), "vae");
    let bin = tempfile::tempdir().unwrap();
    let s = studio_with(tmp.path(), None, fake_genlab(bin.path()));
    let (status, _, body) = send(&s, get("/api/families"));
    assert_eq!(status, StatusCode::OK);
    let f = json(&body);
    let vae = f["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "vae")
        .unwrap();
    assert!(vae["presets"].as_array().unwrap().contains(&"tiny".into()));
    // Each bad field is named.
    for (job, needle) in [
        (r#"{"family": "vae;rm", "run": "a"}"#, "family"),
        (r#"{"family": "vae", "run": "vae"}"#, "exists already"),
        (
            r#"{"family": "vae", "run": "gone", "resume": true}"#,
            "no run `gone`",
        ),
        (r#"{"family": "vae", "run": "../out"}"#, "run:"),
        (
            r#"{"family": "vae", "run": "a", "set": ["train.steps"]}"#,
            "KEY=VALUE",
        ),
        (
            r#"{"family": "vae", "run": "a", "preset": "--config=/etc"}"#,
            "preset",
        ),
        (r#"{"family": "vae", "run": "a", "data": "-x"}"#, "data"),
        // The config, by `genlab train --print-config`: its message, without clap's `--help`.
        (
            r#"{"family": "vae", "run": "a", "set": ["model.nope=1"]}"#,
            "--set: unknown config key `model.nope`",
        ),
    ] {
        let (status, _, body) = send(&s, post_json("/api/jobs", job));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{job}");
        let e = json(&body)["error"].as_str().unwrap().to_string();
        assert!(e.contains(needle), "{job}: {e}");
        assert!(
            !e.contains("--help") && !e.starts_with("error:"),
            "{job}: {e}"
        );
    }
    // A refused job queues nothing.
    let (_, _, body) = send(&s, get("/api/jobs"));
    assert_eq!(json(&body)["jobs"], serde_json::json!([]));
    // A `genlab` that cannot run is the server's fault, not the job's.
    let broken = studio_with(tmp.path(), None, bin.path().join("missing"));
    let (status, _, body) = send(
        &broken,
        post_json("/api/jobs", r#"{"family": "vae", "run": "a"}"#),
    );
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let e = json(&body)["error"].as_str().unwrap().to_string();
    assert!(e.contains("cannot run") && e.contains("missing"), "{e}");
    // Unknown fields are refused by the JSON reader.
    let (status, _, _) = send(
        &s,
        post_json("/api/jobs", r#"{"family": "vae", "run": "a", "x": 1}"#),
    );
    assert!(status.is_client_error(), "{status}");
    // A good job queues (it would start on the server's timer) and can be taken out again.
    let (status, _, body) = send(
        &s,
        post_json(
            "/api/jobs",
            r#"{"family": "vae", "preset": "tiny", "run": "new"}"#,
        ),
    );
    assert_eq!(status, StatusCode::OK);
    let job = json(&body);
    assert_eq!(job["state"], "queued");
    assert!(
        job["args"]
            .as_array()
            .unwrap()
            .contains(&"--preset=tiny".into()),
        "{job}"
    );
    let (status, _, body) = send(
        &s,
        post_json("/api/jobs/stop", &format!(r#"{{"id": {}}}"#, job["id"])),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["state"], "stopped");
    let (_, _, body) = send(&s, get("/api/jobs"));
    assert_eq!(json(&body)["jobs"][0]["state"], "stopped");
    assert_eq!(
        send(&s, post_json("/api/jobs/stop", r#"{"id": 99}"#)).0,
        StatusCode::NOT_FOUND
    );
    // Bodies are capped.
    let big = format!(
        r#"{{"family": "vae", "run": "a", "set": ["{}"]}}"#,
        "x".repeat(100_000)
    );
    assert_eq!(
        send(&s, post_json("/api/jobs", &big)).0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // A GET never starts a job.
    assert_eq!(
        send(&s, get("/api/jobs/stop")).0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[test]
fn the_gan_lab_and_the_explore_endpoints_check_what_they_are_given() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fake_run(root, "vae");
    let s = studio(root, None);
    let ask = |uri: &str, body: &str| {
        let (status, _, b) = send(&s, post_json(uri, body));
        (status, String::from_utf8_lossy(&b).to_string())
    };
    // A lab: its first view, D steps that leave the points where they were.
    let (status, body) = ask(
        "/api/lab",
        r#"{"family":"gan","data":"toy:ring8","seed":1}"#,
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let v0: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = v0["id"].as_u64().unwrap();
    assert_eq!(v0["heat"]["values"].as_array().unwrap().len(), 48 * 48);
    let (status, body) = ask(
        "/api/lab/step",
        &format!(r#"{{"id":{id},"which":"disc","n":2}}"#),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let v1: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v1["disc_steps"], 2);
    assert_eq!(v0["fake"], v1["fake"]);
    assert_ne!(v0["heat"], v1["heat"]);
    let (status, _, b) = send(&s, get(&format!("/api/lab?id={id}")));
    assert_eq!(
        (status, json(&b)["steps"].as_u64()),
        (StatusCode::OK, Some(2))
    );
    // Bad asks: the message names the rule.
    for (uri, body, want) in [
        (
            "/api/lab/step",
            format!(r#"{{"id":{id},"which":"disc","n":0}}"#),
            "1 to 200",
        ),
        (
            "/api/lab/step",
            format!(r#"{{"id":{id},"which":"disc","n":5000}}"#),
            "1 to 200",
        ),
        (
            "/api/lab/step",
            r#"{"id":99,"which":"gen"}"#.into(),
            "no lab 99",
        ),
        (
            "/api/lab/change",
            format!(r#"{{"id":{id},"game":"chess"}}"#),
            "it can play: non_saturating",
        ),
        (
            "/api/lab/change",
            format!(r#"{{"id":{id},"lr":{{"gen":0}}}}"#),
            "optim.gen.lr",
        ),
        (
            "/api/lab",
            r#"{"family":"pixelcnn"}"#.into(),
            "it can draw: gan, lsgan",
        ),
        (
            "/api/lab",
            r#"{"family":"gan","data":"shapes"}"#.into(),
            "not one of its sets",
        ),
    ] {
        let (status, text) = ask(uri, &body);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}: {text}");
        assert!(text.contains(want), "{uri} {body}: {text}");
    }
    // Unknown fields and kinds are refused before anything runs.
    let (status, _) = ask("/api/lab", r#"{"family":"gan","lr":1}"#);
    assert!(status.is_client_error());
    let (status, _) = ask(
        "/api/lab/step",
        &format!(r#"{{"id":{id},"which":"sideways"}}"#),
    );
    assert!(status.is_client_error());
    // Explore: runs only from inside the folder; a run without a checkpoint says so.
    let (status, _, _) = send(&s, get("/api/explore?name=..%2F..%2Fetc"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, text) = ask("/api/explore/decode", r#"{"run":"../vae","z":[[0,0]]}"#);
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
    let (status, _, b) = send(&s, get("/api/explore?name=vae"));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json(&b)["error"].as_str().unwrap().contains("checkpoint"));
    let (status, text) = ask(
        "/api/explore/complete",
        r#"{"run":"vae","index":0,"hide":[0]}"#,
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("checkpoint"), "{text}");
    // A foreign page cannot start a lab.
    let foreign = Request::post("/api/lab")
        .header(header::HOST, format!("127.0.0.1:{PORT}"))
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"family":"gan"}"#))
        .unwrap();
    assert_eq!(send(&s, foreign).0, StatusCode::FORBIDDEN);
}
