//! Training started from the page: jobs are child `genlab train` processes in a first-in,
//! first-out queue, one running at a time (they share the machine's cores). The config is
//! checked by the same code as the command line, because it is the command line: a job whose
//! config is wrong fails at once with the CLI's message, key path and all. Stop is SIGINT, the
//! trainer's Ctrl-C checkpoint. A closed page does not stop a job. The queue lives in the server;
//! the runs live on disk, so a restarted server lists finished and interrupted runs as they are,
//! and `--resume` (a job with `resume`) continues an interrupted one.

use crate::paths;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::BufRead;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// Jobs waiting at most.
const MAX_QUEUED: usize = 16;
/// Lines of a job's stderr kept (its last words are the error, if any).
const LOG_LINES: usize = 20;

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Queued,
    Running,
    /// SIGINT sent; the trainer is writing its checkpoint.
    Stopping,
    Finished,
    Stopped,
    Failed,
}

/// A job as the page sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: u64,
    /// The run directory's name under the runs folder.
    pub run: String,
    /// `genlab train` arguments after `train`.
    pub args: Vec<String>,
    pub state: State,
    /// The trainer's last stderr lines: the error of a failed job.
    pub log: Vec<String>,
}

/// What the page asks for.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewJob {
    pub family: String,
    #[serde(default)]
    pub preset: Option<String>,
    /// A data spec (the preset's when absent).
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub steps: Option<u64>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// `KEY=VALUE` overrides, as `--set`.
    #[serde(default)]
    pub set: Vec<String>,
    /// The run directory's name under the runs folder.
    pub run: String,
    /// Continue the run from its newest checkpoint (`--resume`).
    #[serde(default)]
    pub resume: bool,
}

/// Why a job was not queued.
#[derive(Debug)]
pub enum Refusal {
    /// The job as asked is wrong; the message names the field.
    Bad(String),
    /// The server could not check it (the `genlab` binary would not run).
    Server(String),
}

struct Running {
    id: u64,
    child: Child,
}

/// The last lines of one job's stderr, filled by its reader thread.
type Log = Arc<Mutex<VecDeque<String>>>;

#[derive(Default)]
struct Inner {
    jobs: Vec<Job>,
    queue: VecDeque<u64>,
    running: Option<Running>,
    next: u64,
}

/// The queue of one studio.
pub struct Jobs {
    exe: PathBuf,
    root: PathBuf,
    inner: Mutex<Inner>,
    logs: Mutex<Vec<(u64, Log)>>,
}

fn word(s: &str, what: &str, max: usize, extra: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > max {
        return Err(format!("{what}: 1 to {max} characters"));
    }
    if s.starts_with('-') {
        return Err(format!("{what} cannot start with `-`"));
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(*c)))
    {
        Some(c) => Err(format!("{what}: `{c}` is not allowed")),
        None => Ok(()),
    }
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("exe", &self.exe)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Jobs {
    /// Jobs that run `exe train ...` with runs under `root`.
    pub fn new(exe: PathBuf, root: PathBuf) -> Self {
        Self {
            exe,
            root,
            inner: Mutex::default(),
            logs: Mutex::default(),
        }
    }

    /// The command line of `j`, checked; errors say which field is wrong.
    fn args(&self, j: &NewJob) -> Result<Vec<String>, String> {
        word(&j.family, "family", 40, "+-_")?;
        let dir = self.root.join(&j.run);
        paths::valid(&j.run).map_err(|e| format!("run: {e}"))?;
        let exists = dir.exists();
        match (j.resume, exists) {
            (false, true) => {
                return Err(format!(
                    "run: `{}` exists already: resume it or pick another name",
                    j.run
                ))
            }
            (true, false) => return Err(format!("run: no run `{}` to resume", j.run)),
            (true, true) => {
                paths::run(&self.root, &j.run).map_err(|e| format!("run: {e}"))?;
            }
            (false, false) => {}
        }
        let mut args = vec![j.family.clone(), format!("--out={}", dir.display())];
        if j.resume {
            args.push("--resume".into());
        }
        if let Some(p) = &j.preset {
            word(p, "preset", 40, "+-_")?;
            args.push(format!("--preset={p}"));
        }
        if let Some(d) = j.data.as_deref().filter(|d| !d.is_empty()) {
            word(d, "data", 300, "._:/()+,=-_ ")?;
            args.push(format!("--data={d}"));
        }
        if let Some(n) = j.steps {
            args.push(format!("--steps={n}"));
        }
        if let Some(n) = j.seed {
            args.push(format!("--seed={n}"));
        }
        for kv in j.set.iter().filter(|kv| !kv.trim().is_empty()) {
            let kv = kv.trim();
            word(kv, "set", 200, "._:/()+,=-_[]\"' ")?;
            if !kv.contains('=') {
                return Err(format!("set: `{kv}` is not KEY=VALUE"));
            }
            args.push(format!("--set={kv}"));
        }
        args.push("--quiet".into());
        Ok(args)
    }

    /// The config a new job's command line resolves to, checked now by `genlab train
    /// --print-config`: the CLI's own check of the preset, the keys, and the values of the
    /// `train`, `optim` and `data` tables, so that such a mistake is refused at the form, with
    /// the CLI's message, rather than when the job's turn in the queue comes, perhaps hours
    /// later. What only building the data or the model can tell (a missing data set, a model
    /// value of the wrong type) still fails the job when it starts, with the trainer's message.
    fn check_config(&self, args: &[String]) -> Result<(), Refusal> {
        let out = Command::new(&self.exe)
            .arg("train")
            .args(args)
            .arg("--print-config")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| Refusal::Server(format!("cannot run {}: {e}", self.exe.display())))?;
        if out.status.success() {
            return Ok(());
        }
        // The message, without clap's pointer to `--help`, which a page has no use for.
        let text = String::from_utf8_lossy(&out.stderr);
        let message = text.split("\n\n").next().unwrap_or_default().trim();
        if message.is_empty() {
            return Err(Refusal::Server(format!(
                "`genlab train --print-config` ended ({}) without a message",
                out.status
            )));
        }
        Err(Refusal::Bad(
            message
                .strip_prefix("error: ")
                .unwrap_or(message)
                .to_string(),
        ))
    }

    /// Whether one more job for `run` may queue now.
    fn room_for(inner: &Inner, run: &str) -> Result<(), String> {
        if inner.queue.len() >= MAX_QUEUED {
            return Err(format!(
                "{MAX_QUEUED} jobs are waiting already: stop one or wait"
            ));
        }
        if inner.jobs.iter().any(|x| {
            x.run == run && matches!(x.state, State::Queued | State::Running | State::Stopping)
        }) {
            return Err(format!("run: a job for `{run}` is queued or running"));
        }
        Ok(())
    }

    /// Queue a job; it starts when the one before it is done. A new run's config is checked
    /// first ([`Self::check_config`], a child process, run without the queue's lock); a resumed
    /// run's is its own config.toml.
    pub fn submit(&self, j: NewJob) -> Result<Job, Refusal> {
        let args = self.args(&j).map_err(Refusal::Bad)?;
        Self::room_for(&self.inner.lock().unwrap(), &j.run).map_err(Refusal::Bad)?;
        if !j.resume {
            self.check_config(&args)?;
        }
        let mut inner = self.inner.lock().unwrap();
        // Again: another job may have queued while the config was checked.
        Self::room_for(&inner, &j.run).map_err(Refusal::Bad)?;
        inner.next += 1;
        let job = Job {
            id: inner.next,
            run: j.run,
            args,
            state: State::Queued,
            log: Vec::new(),
        };
        inner.queue.push_back(job.id);
        inner.jobs.push(job.clone());
        Ok(job)
    }

    /// Stop job `id`: SIGINT when it runs (it checkpoints and exits), out of the queue when it
    /// waits.
    pub fn stop(&self, id: u64) -> Result<Job, String> {
        let mut inner = self.inner.lock().unwrap();
        let state = inner
            .jobs
            .iter()
            .find(|j| j.id == id)
            .map(|j| j.state)
            .ok_or_else(|| format!("no job {id}"))?;
        match state {
            State::Queued => {
                inner.queue.retain(|&q| q != id);
                set_state(&mut inner, id, State::Stopped);
            }
            State::Running => {
                if let Some(r) = inner.running.as_ref().filter(|r| r.id == id) {
                    interrupt(&r.child);
                }
                set_state(&mut inner, id, State::Stopping);
            }
            _ => {}
        }
        Ok(inner.jobs.iter().find(|j| j.id == id).unwrap().clone())
    }

    /// Every job, newest first, with the last lines of its log.
    pub fn list(&self) -> Vec<Job> {
        let inner = self.inner.lock().unwrap();
        let logs = self.logs.lock().unwrap();
        let mut out: Vec<Job> = inner.jobs.clone();
        for j in &mut out {
            if let Some((_, l)) = logs.iter().find(|(id, _)| *id == j.id) {
                j.log = l.lock().unwrap().iter().cloned().collect();
            }
        }
        out.reverse();
        out
    }

    /// Reap the running job when it is done and start the next: called on a timer.
    pub fn pump(&self) {
        let mut inner = self.inner.lock().unwrap();
        if let Some(r) = inner.running.as_mut() {
            match r.child.try_wait() {
                Ok(None) => return,
                Ok(Some(status)) => {
                    let id = r.id;
                    let stopping = inner
                        .jobs
                        .iter()
                        .any(|j| j.id == id && j.state == State::Stopping);
                    let state = match (status.success(), stopping) {
                        (true, _) => State::Finished,
                        (false, true) => State::Stopped,
                        (false, false) => State::Failed,
                    };
                    set_state(&mut inner, id, state);
                    inner.running = None;
                }
                Err(_) => inner.running = None,
            }
        }
        let Some(id) = inner.queue.pop_front() else {
            return;
        };
        let args = inner.jobs.iter().find(|j| j.id == id).unwrap().args.clone();
        match self.spawn(id, &args) {
            Ok(child) => {
                inner.running = Some(Running { id, child });
                set_state(&mut inner, id, State::Running);
            }
            Err(e) => {
                set_state(&mut inner, id, State::Failed);
                if let Some(j) = inner.jobs.iter_mut().find(|j| j.id == id) {
                    j.log = vec![e];
                }
            }
        }
    }

    fn spawn(&self, id: u64, args: &[String]) -> Result<Child, String> {
        let server = std::process::id() as libc::pid_t;
        let mut command = Command::new(&self.exe);
        command
            .arg("train")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // A server that dies (killed, crashed) sends its job the trainer's Ctrl-C: the job
        // writes its checkpoint and ends, and `--resume` continues it under a new server. The
        // signal follows the death of the spawning thread, which is the queue's own thread
        // ([`crate::start_jobs`]) and lives as long as the server.
        // SAFETY: prctl, getppid and raise are async-signal-safe; nothing is allocated.
        unsafe {
            command.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
                if libc::getppid() != server {
                    libc::raise(libc::SIGINT);
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.exe.display()))?;
        let log: Log = Arc::new(Mutex::new(VecDeque::new()));
        self.logs.lock().unwrap().push((id, log.clone()));
        let stderr = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let mut l = log.lock().unwrap();
                if l.len() == LOG_LINES {
                    l.pop_front();
                }
                l.push_back(line);
            }
        });
        Ok(child)
    }

    /// The runs folder jobs write into.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn set_state(inner: &mut Inner, id: u64, state: State) {
    if let Some(j) = inner.jobs.iter_mut().find(|j| j.id == id) {
        j.state = state;
    }
}

/// SIGINT to a child: the trainer's Ctrl-C, which checkpoints and exits.
fn interrupt(child: &Child) {
    #[cfg(unix)]
    {
        // SAFETY: kill(2) with a pid this process spawned and has not reaped yet.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGINT);
        }
    }
    #[cfg(not(unix))]
    let _ = child;
}
