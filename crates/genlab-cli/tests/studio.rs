//! `genlab serve` in a real browser (issue 24): Debian's chromium, driven over the DevTools
//! protocol, opens the runs page, then a run's page while the run trains on: the curves are
//! redrawn and a new sample grid joins the slider without a reload. Then it trains from the
//! page: a job runs to the end, a bad config is refused at the form with the CLI's message, a
//! job whose data is missing fails with the trainer's, and Stop (SIGINT) leaves a run that
//! `--resume` continues. Screenshots go to
//! $GENLAB_SCREENSHOTS when set (docs/img/ holds the committed ones).

mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A headless chromium and a DevTools connection to its page.
struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    next: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch() -> Self {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--window-size=1280,1000",
                "--remote-debugging-port=0",
                &format!("--user-data-dir={}", profile.path().display()),
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Debian's chromium must be installed for this test (apt-get install chromium; the README's test command does it)");
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/..."
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("chromium exited before it listened")
                .unwrap();
            if let Some(rest) = line.split("ws://127.0.0.1:").nth(1) {
                break rest.split('/').next().unwrap().parse::<u16>().unwrap();
            }
        };
        // Keep reading its log so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let list = http_get(port, "/json/list");
        let targets: Value = serde_json::from_str(&list).unwrap();
        let page = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("chromium has a page");
        let url = page["webSocketDebuggerUrl"].as_str().unwrap().to_string();
        let (ws, _) = tungstenite::connect(url).unwrap();
        Self {
            child,
            ws,
            next: 0,
            _profile: profile,
        }
    }

    /// Call a DevTools method and return its result (events in between are skipped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(tungstenite::Message::text(msg)).unwrap();
        loop {
            let msg = self.ws.read().unwrap();
            let Ok(text) = msg.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression on the page (promises awaited).
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    /// Wait until `expr` is true on the page.
    fn wait_for(&mut self, expr: &str, what: &str) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if self.eval(expr) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let body = self.eval("document.body.innerText");
        panic!("{what}: `{expr}` never held; the page says:\n{body}");
    }

    fn open(&mut self, url: &str) {
        self.call("Page.enable", json!({}));
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for("document.readyState === 'complete'", url);
    }

    /// A PNG of the page as shown, to `path`.
    fn screenshot(&mut self, path: &Path) {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of `GET path` from 127.0.0.1:`port`, read to its Content-Length.
fn http_get(port: u16, path: &str) -> String {
    http(port, "GET", path, None)
}

/// One HTTP/1.1 request (a JSON body for POST) and the response body.
fn http(port: u16, method: &str, path: &str, json: Option<&Value>) -> String {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = json.map(Value::to_string).unwrap_or_default();
    let kind = if json.is_some() {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
    } else {
        String::new()
    };
    let sent = write!(
        &s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{kind}\r\n{body}"
    );
    // A server that refuses a body (too large) may answer and close before the client has
    // written it all: the write fails, and the answer may or may not arrive.
    let closed = |e: &std::io::Error| format!("connection closed by the server: {e}");
    if let Err(e) = &sent {
        assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "{e}"
        );
    }
    let mut r = BufReader::new(s);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        match (r.read_line(&mut line), &sent) {
            (Ok(0), Err(e)) => return closed(e),
            (Err(e), Err(_)) => return closed(&e),
            (read, _) => {
                read.unwrap();
            }
        }
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0u8; length];
    r.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

/// A studio on a free port for the runs under `dir/runs`, and its address.
fn serve(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_genlab"))
        .args(["serve", "--runs", "runs", "--port", "0"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "genlab studio: http://127.0.0.1:PORT/  (runs in ...)"
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in `{line}`"))
        .to_string();
    (child, url)
}

/// The picture is not blank: some share of its pixels are dark.
fn assert_not_blank(path: &Path) {
    let img = open(path);
    let inked = img
        .pixels()
        .filter(|p| p.0.iter().any(|&c| c < 200))
        .count();
    let share = inked as f64 / (img.width() * img.height()) as f64;
    assert!(share > 0.02, "{} looks blank", path.display());
}

#[test]
fn the_studio_shows_runs_and_a_run_learning_live_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let shots = std::env::var("GENLAB_SCREENSHOTS").ok();
    let shot = |name: &str| match &shots {
        Some(dir) => Path::new(dir).join(name),
        None => d.join(name),
    };
    // A short run, logging every 20 steps and drawing samples every 500.
    let mut train = vec!["train", "vae", "--preset", "tiny", "--out", "runs/live"];
    train.extend([
        "--quiet",
        "--set",
        "train.log_every=20",
        "--set",
        "train.sample_every=500",
        "--set",
        "train.checkpoint_every=500",
    ]);
    ok(&genlab(&train, d));
    ok(&genlab(
        &["train", "gmm", "--out", "runs/gmm", "--quiet"],
        d,
    ));
    let (mut server, url) = serve(d);
    let mut b = Browser::launch();

    // The runs page lists both, with their families.
    b.open(&url);
    b.wait_for(
        "document.querySelectorAll('#runs tbody tr').length === 2",
        "two runs listed",
    );
    let text = b.eval("document.querySelector('#runs').innerText");
    let text = text.as_str().unwrap();
    assert!(
        text.contains("live") && text.contains("vae") && text.contains("gmm"),
        "{text}"
    );
    // The filter hides what does not match.
    b.eval("(() => { const f = document.getElementById('filter'); f.value = 'gmm'; f.dispatchEvent(new Event('input')); })()");
    assert_eq!(
        b.eval("document.querySelectorAll('#runs tbody tr').length"),
        json!(1)
    );
    b.eval("(() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); })()");
    b.screenshot(&shot("studio-runs.png"));
    assert_not_blank(&shot("studio-runs.png"));

    // A run's page: facts, curves (SVG) and its sample grid.
    b.open(&format!("{url}run?name=live"));
    b.wait_for(
        "document.querySelectorAll('#charts svg').length > 0 && document.getElementById('grid').complete",
        "curves and a grid drawn",
    );
    let grids_before = b.eval("Number(document.getElementById('grid-step').max)");
    let losses_before = b.eval("document.getElementById('fact-last-losses').innerText");
    let updates_before = b.eval("Number(document.getElementById('charts').dataset.updates)");
    // Training goes on from the CLI; the open page follows it.
    let mut resumed = Command::new(env!("CARGO_BIN_EXE_genlab"))
        .args([
            "train",
            "vae",
            "--out",
            "runs/live",
            "--resume",
            "--steps",
            "1500",
            "--quiet",
        ])
        .current_dir(d)
        .spawn()
        .unwrap();
    b.wait_for(
        &format!("Number(document.getElementById('charts').dataset.updates) > {updates_before}"),
        "the curves redrawn from new metrics lines",
    );
    b.wait_for(
        &format!("Number(document.getElementById('grid-step').max) > {grids_before}"),
        "a new sample grid on the slider",
    );
    assert!(resumed.wait().unwrap().success());
    b.wait_for(
        &format!("document.getElementById('fact-last-losses').innerText !== {losses_before}"),
        "the last losses follow the run",
    );
    b.wait_for(
        "document.getElementById('fact-steps').innerText.startsWith('1,500')",
        "the last step shown",
    );
    // A job started from the page (the studio's own queue, here resuming the same run) feeds
    // the same page: the curves grow and a new grid appears.
    let updates = b.eval("Number(document.getElementById('charts').dataset.updates)");
    let grids = b.eval("Number(document.getElementById('grid-step').max)");
    let status = b.eval(
        "fetch('/api/jobs', {method: 'POST', headers: {'Content-Type': 'application/json'}, \
         body: JSON.stringify({family: 'vae', run: 'live', resume: true, steps: 2500})}).then((r) => r.status)",
    );
    assert_eq!(status, json!(200));
    b.wait_for(
        &format!("Number(document.getElementById('charts').dataset.updates) > {updates}"),
        "the curves grown by the page's job",
    );
    b.wait_for(
        &format!("Number(document.getElementById('grid-step').max) > {grids}"),
        "a grid of the page's job",
    );
    b.wait_for(
        "document.getElementById('fact-steps').innerText.startsWith('2,500')",
        "the page's job at its last step",
    );
    b.screenshot(&shot("studio-run.png"));
    assert_not_blank(&shot("studio-run.png"));

    // Training from the page: the form queues a job (a child `genlab train`), the jobs table
    // follows it to the end and the new run joins the list.
    b.open(&url);
    b.wait_for(
        "document.getElementById('f-preset').value === 'tiny'",
        "the form filled with families and presets",
    );
    let submit = |b: &mut Browser, run: &str, steps: &str, set: &str| {
        b.eval(&format!(
            "(() => {{ document.getElementById('f-run').value = '{run}'; \
             document.getElementById('f-steps').value = '{steps}'; \
             document.getElementById('f-set').value = '{set}'; \
             document.getElementById('f-start').click(); }})()"
        ));
    };
    let job_state = |run: &str| {
        format!(
            "[...document.querySelectorAll('#jobs tbody tr')].filter(tr => tr.cells[1].innerText === '{run}').map(tr => tr.cells[2].innerText)[0]"
        )
    };
    submit(&mut b, "from-page", "300", "train.log_every=20");
    b.wait_for(
        &format!("{} === 'finished'", job_state("from-page")),
        "the page's job finished",
    );
    b.wait_for(
        "[...document.querySelectorAll('#runs tbody tr')].some(tr => tr.dataset.name === 'from-page')",
        "the new run listed",
    );
    assert!(d.join("runs/from-page/ckpt").is_dir());
    // A config the CLI refuses is refused at the form, with the CLI's message naming the key,
    // and queues nothing.
    submit(&mut b, "bad", "", "model.nope=1");
    b.wait_for(
        "!document.getElementById('f-error').hidden && \
         document.getElementById('f-error').innerText.includes('unknown config key `model.nope`')",
        "the form's error naming the key",
    );
    assert_eq!(
        b.eval("fetch('/api/jobs').then((r) => r.json()).then((j) => j.jobs.some((x) => x.run === 'bad'))"),
        json!(false)
    );
    // The field it is about is marked and focused.
    assert_eq!(
        b.eval("[...document.querySelectorAll('#train-form [aria-invalid=true]')].map(e => e.id).join() + ' ' + document.activeElement.id"),
        json!("f-set f-set")
    );
    b.screenshot(&shot("studio-form-error.png"));
    let marked =
        "[...document.querySelectorAll('#train-form [aria-invalid=true]')].map(e => e.id).join()";
    let refused = |b: &mut Browser, says: &str| {
        b.wait_for(
            &format!(
                "!document.getElementById('f-error').hidden && \
                 document.getElementById('f-error').innerText.includes('{says}')"
            ),
            says,
        );
    };
    // A family that contradicts the form's, set in the --set field, marks that field, not the
    // family's.
    submit(&mut b, "other-family", "", "family=gan");
    refused(&mut b, "family `gan` contradicts");
    assert_eq!(b.eval(marked), json!("f-set"));
    // A message about two keys marks the field that set one of them: here the steps, which
    // CycleGAN's learning-rate schedule must outlast.
    let choose = |b: &mut Browser, family: &str, preset: &str| {
        b.eval(&format!(
            "(() => {{ const f = document.getElementById('f-family'); f.value = '{family}'; \
             f.dispatchEvent(new Event('change')); document.getElementById('f-preset').value = '{preset}'; }})()"
        ));
    };
    choose(&mut b, "cyclegan", "default");
    submit(&mut b, "short-cyclegan", "10", "");
    refused(&mut b, "is not below train.steps = 10");
    assert_eq!(b.eval(marked), json!("f-steps"));
    choose(&mut b, "vae", "tiny");
    // What only the data can tell fails the job when its turn comes, with the trainer's message.
    b.eval("document.getElementById('f-data').value = 'idx:/no/such/folder'");
    submit(&mut b, "nodata", "", "");
    // A new submit clears the old error and its mark.
    b.wait_for(
        "document.getElementById('f-error').hidden && \
         !document.querySelector('#train-form [aria-invalid]')",
        "the form's error cleared",
    );
    b.wait_for(
        &format!("{} === 'failed'", job_state("nodata")),
        "the job without data failed",
    );
    assert!(b.eval("document.getElementById('f-error').hidden") == json!(true));
    let row = b.eval(
        "[...document.querySelectorAll('#jobs tbody tr')].find(tr => tr.cells[1].innerText === 'nodata').innerText",
    );
    assert!(row.as_str().unwrap().contains("/no/such/folder"), "{row}");
    b.eval("document.getElementById('f-data').value = ''");
    // Stop is the trainer's Ctrl-C: it checkpoints, and the run can be resumed.
    submit(&mut b, "long", "1000000", "train.checkpoint_every=1000000");
    b.wait_for(
        &format!("{} === 'running'", job_state("long")),
        "the long job running",
    );
    std::thread::sleep(Duration::from_millis(1500));
    b.eval("[...document.querySelectorAll('#jobs tbody tr')].find(tr => tr.cells[1].innerText === 'long').querySelector('button.stop').click()");
    b.wait_for(
        &format!("{} === 'stopped'", job_state("long")),
        "the long job stopped",
    );
    b.screenshot(&shot("studio-jobs.png"));
    let last_step = |d: &Path| -> u64 {
        let meta = std::fs::read_to_string(d.join("runs/long/meta.json")).unwrap();
        serde_json::from_str::<Value>(&meta).unwrap()["last_step"]
            .as_u64()
            .unwrap()
    };
    let stopped_at = last_step(d);
    assert!(stopped_at > 0, "the stop wrote no checkpoint");
    let more = (stopped_at + 40).to_string();
    ok(&genlab(
        &[
            "train",
            "vae",
            "--out",
            "runs/long",
            "--resume",
            "--steps",
            &more,
            "--quiet",
        ],
        d,
    ));
    assert_eq!(last_step(d), stopped_at + 40);
    let _ = server.kill();
    let _ = server.wait();
}

/// The port of a studio address `http://127.0.0.1:PORT/`.
fn port_of(url: &str) -> u16 {
    url.trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn last_step(run: &Path) -> u64 {
    std::fs::read_to_string(run.join("meta.json"))
        .ok()
        .and_then(|m| serde_json::from_str::<Value>(&m).ok())
        .and_then(|m| m["last_step"].as_u64())
        .unwrap_or(0)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{what} never happened"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_killed_server_stops_its_job_with_a_checkpoint_that_resume_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("runs")).unwrap();
    let (mut server, url) = serve(d);
    let job = json!({
        "family": "vae", "preset": "tiny", "run": "orphan", "steps": 1_000_000,
        "set": ["train.checkpoint_every=1000000", "train.log_every=10"],
    });
    let answer = http(port_of(&url), "POST", "/api/jobs", Some(&job));
    assert!(answer.contains("\"orphan\""), "{answer}");
    let run = d.join("runs/orphan");
    wait_until("the job training", || {
        std::fs::read_to_string(run.join("metrics.jsonl")).is_ok_and(|m| m.lines().count() >= 2)
    });
    assert_eq!(last_step(&run), 0, "no checkpoint before the kill");
    // SIGKILL: the server gets no chance to stop its job itself.
    server.kill().unwrap();
    server.wait().unwrap();
    // The job got the trainer's Ctrl-C from the kernel and checkpointed.
    wait_until("the job's checkpoint after the server died", || {
        last_step(&run) > 0
    });
    let stopped_at = last_step(&run);
    let more = (stopped_at + 30).to_string();
    let args = [
        "train",
        "vae",
        "--out",
        "runs/orphan",
        "--resume",
        "--steps",
        &more,
        "--quiet",
    ];
    // The trainer may still be leaving: a resume waits for it.
    let started = Instant::now();
    loop {
        let out = genlab(&args, d);
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "resume failed: {err}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(last_step(&run), stopped_at + 30);
}

#[test]
fn exploring_a_model_and_the_gan_lab_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let shots = std::env::var("GENLAB_SCREENSHOTS").ok();
    let shot = |name: &str| match &shots {
        Some(dir) => Path::new(dir).join(name),
        None => d.join(name),
    };
    ok(&genlab(
        &[
            "train", "vae", "--preset", "tiny", "--steps", "400", "--out", "runs/vae", "--quiet",
        ],
        d,
    ));
    ok(&genlab(
        &[
            "train", "pix2pix", "--preset", "tiny", "--out", "runs/p2p", "--quiet",
        ],
        d,
    ));
    let (mut server, url) = serve(d);
    let mut b = Browser::launch();

    // An image uploaded from the page (a real file input, set by DevTools) is translated.
    let upload = d.join("edges.png");
    image::RgbImage::from_fn(40, 30, |x, y| {
        image::Rgb(if (x / 5 + y / 5) % 2 == 0 {
            [255; 3]
        } else {
            [0; 3]
        })
    })
    .save(&upload)
    .unwrap();
    b.open(&format!("{url}run?name=p2p"));
    b.wait_for(
        "document.body.dataset.explored === '1'",
        "the translate tool loaded",
    );
    let doc = b.call("DOM.getDocument", json!({}));
    let input = b.call(
        "DOM.querySelector",
        json!({"nodeId": doc["root"]["nodeId"], "selector": "#x-upload"}),
    );
    b.call(
        "DOM.setFileInputFiles",
        json!({"nodeId": input["nodeId"], "files": [upload.display().to_string()]}),
    );
    b.wait_for(
        "document.body.dataset.translated === '1' && document.getElementById('x-tr-output').src.startsWith('data:image/png')",
        "the upload translated",
    );
    // The model's input size, whatever the upload's (40x30 to 28x28).
    assert_eq!(
        b.eval("new Promise((ok) => { const i = new Image(); i.onload = () => ok([i.width, i.height]); i.src = document.getElementById('x-tr-input').src; })"),
        json!([28, 28])
    );
    // What is not an image, or too big, is refused with the reason.
    let port = port_of(&url);
    let post = |body: Value| http(port, "POST", "/api/explore/translate", Some(&body));
    let bad = post(json!({"run": "p2p", "image": "not base64!"}));
    assert!(bad.contains("not base64"), "{bad}");
    let text = base64::engine::general_purpose::STANDARD.encode(b"hello, not a picture");
    let bad = post(json!({"run": "p2p", "image": text}));
    assert!(bad.contains("not a PNG or JPEG"), "{bad}");
    let huge = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 5 << 20]);
    let bad = post(json!({"run": "p2p", "image": huge}));
    assert!(
        bad.contains("length limit") || bad.starts_with("connection closed by the server"),
        "{bad}"
    );
    let bad = post(json!({"run": "vae", "image": ""}));
    assert!(bad.contains("does not translate"), "{bad}");

    // A latent slider changes the decoded picture.
    b.open(&format!("{url}run?name=vae"));
    b.wait_for(
        "document.body.dataset.explored === '1'",
        "the explore tools loaded",
    );
    let src = |b: &mut Browser, id: &str| b.eval(&format!("document.getElementById('{id}').src"));
    let decoded = src(&mut b, "x-decoded");
    b.eval("(() => { const s = document.getElementById('x-z-0'); s.value = '2.5'; s.dispatchEvent(new Event('input')); })()");
    b.wait_for(
        &format!("document.getElementById('x-decoded').src !== {decoded}"),
        "the slider's picture decoded",
    );
    // Two picked samples give an interpolation strip of ten.
    b.eval("document.querySelectorAll('#x-samples img')[0].click()");
    b.eval("document.querySelectorAll('#x-samples img')[5].click()");
    b.wait_for(
        "document.querySelectorAll('#x-path img').length === 10",
        "the interpolation strip",
    );
    // A mask drawn with the mouse changes the completion.
    let completed = src(&mut b, "x-completed");
    let r = b.eval("(() => { const c = document.getElementById('x-mask'); c.scrollIntoView({block: 'center'}); const r = c.getBoundingClientRect(); return [r.left, r.top, r.width]; })()");
    let (left, top, w) = (
        r[0].as_f64().unwrap(),
        r[1].as_f64().unwrap(),
        r[2].as_f64().unwrap(),
    );
    let mouse = |b: &mut Browser, kind: &str, fx: f64, fy: f64| {
        b.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": left + fx * w, "y": top + fy * w, "button": "left", "buttons": 1, "clickCount": 1}),
        );
    };
    mouse(&mut b, "mousePressed", 0.2, 0.3);
    for k in 0..12 {
        mouse(
            &mut b,
            "mouseMoved",
            0.2 + 0.05 * k as f64,
            0.3 + 0.03 * k as f64,
        );
    }
    mouse(&mut b, "mouseReleased", 0.8, 0.66);
    assert!(
        b.eval("X.hide.filter((v) => v === 1).length")
            .as_u64()
            .unwrap()
            > 30,
        "the brush hid pixels"
    );
    b.wait_for(
        &format!("document.getElementById('x-completed').src !== {completed}"),
        "the completion redrawn under the mask",
    );
    // A mask of the wrong size is refused with the size it needs.
    let bad = http(
        port_of(&url),
        "POST",
        "/api/explore/complete",
        Some(&json!({"run": "vae", "index": 0, "hide": [1, 1]})),
    );
    assert!(bad.contains("784 values"), "{bad}");
    b.eval("document.getElementById('explore').scrollIntoView()");
    std::thread::sleep(Duration::from_millis(300));
    b.screenshot(&shot("studio-explore.png"));
    assert_not_blank(&shot("studio-explore.png"));

    // The GAN lab: step D changes the heat map and not the points; step G moves the points.
    b.open(&format!("{url}lab"));
    b.wait_for("document.body.dataset.labSteps === '0'", "a new lab drawn");
    let pixels =
        |b: &mut Browser, id: &str| b.eval(&format!("document.getElementById('{id}').toDataURL()"));
    let (heat0, points0) = (pixels(&mut b, "lab-heat"), pixels(&mut b, "lab-points"));
    b.eval("document.getElementById('lab-step-d').click()");
    b.wait_for("document.body.dataset.labSteps === '1'", "one D step");
    let (heat1, points1) = (pixels(&mut b, "lab-heat"), pixels(&mut b, "lab-points"));
    assert_ne!(heat0, heat1, "step D must change the heat map");
    assert_eq!(points0, points1, "step D must not move the points");
    b.eval("document.getElementById('lab-step-g').click()");
    b.wait_for("document.body.dataset.labSteps === '2'", "one G step");
    let (heat2, points2) = (pixels(&mut b, "lab-heat"), pixels(&mut b, "lab-points"));
    assert_ne!(points1, points2, "step G must move the points");
    assert_eq!(heat1, heat2, "step G must not change the heat map");
    // Another game between steps, then play for a while.
    b.eval("(() => { const g = document.getElementById('lab-game'); g.value = 'least_squares'; document.getElementById('lab-apply').click(); })()");
    b.wait_for(
        "document.getElementById('lab-scale').innerText.startsWith('critic score')",
        "the least-squares game's scores",
    );
    b.eval("document.getElementById('lab-play').click()");
    b.wait_for("Number(document.body.dataset.labSteps) >= 400", "play");
    b.eval("document.getElementById('lab-play').click()");
    let coverage = b.eval("document.getElementById('lab-coverage').innerText");
    assert!(
        coverage.as_str().unwrap().contains("of 8 modes"),
        "{coverage}"
    );
    b.screenshot(&shot("studio-lab.png"));
    assert_not_blank(&shot("studio-lab.png"));
    let gan_log = b.eval("L.view.log");
    // A flow in the lab: one player (no D or G step), its density behind the points and its
    // latent grid bent into the data.
    b.eval("(() => { document.getElementById('lab-family').value = 'realnvp'; document.getElementById('lab-new').click(); })()");
    b.wait_for(
        "document.body.dataset.labSteps === '0' && L.view.family === 'realnvp'",
        "a realnvp lab",
    );
    assert_eq!(
        b.eval("document.getElementById('lab-step-d').hidden"),
        json!(true)
    );
    assert_eq!(b.eval("L.view.lines.length"), json!(18));
    b.eval("document.getElementById('lab-play').click()");
    b.wait_for(
        "Number(document.body.dataset.labSteps) >= 300",
        "the flow trained",
    );
    b.eval("document.getElementById('lab-play').click()");
    std::thread::sleep(Duration::from_millis(300));
    b.screenshot(&shot("studio-lab-flow.png"));
    assert_not_blank(&shot("studio-lab-flow.png"));
    b.eval("(() => { document.getElementById('lab-family').value = 'gan'; })()");
    let log_name =
        b.eval("Object.values(document.querySelectorAll('#lab-log')).map(e => e.textContent)[0]");
    assert!(log_name.as_str().unwrap().starts_with("lab/"), "{log_name}");
    let log = std::fs::read_to_string(d.join("runs").join(gan_log.as_str().unwrap())).unwrap();
    assert!(
        log.contains("least_squares") && log.contains("\"disc\""),
        "{log}"
    );
    let _ = server.kill();
    let _ = server.wait();
}
