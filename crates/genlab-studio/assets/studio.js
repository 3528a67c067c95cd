// genlab studio: the runs page and a run's page. Plain JS, no library; every value from a run
// reaches the page through textContent (the SVG charts come from genlab itself).
"use strict";

const $ = (id) => document.getElementById(id);

function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return v.toPrecision(4);
}

function ago(unix) {
  const s = Date.now() / 1000 - unix;
  if (s < 90) return "just now";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  if (s < 129600) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " days ago";
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return seconds.toFixed(1) + " s";
  if (seconds < 5400) return (seconds / 60).toFixed(1) + " min";
  return (seconds / 3600).toFixed(1) + " h";
}

function fileUrl(run, path) {
  return "/files?run=" + encodeURIComponent(run) + "&path=" + encodeURIComponent(path);
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

async function getJson(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// ---- the runs page -------------------------------------------------------------------------

let allRuns = [];

function headlineText(r) {
  return r.headline.map(([k, v]) => k + " " + fmt(v)).join(", ");
}

function renderRuns() {
  const q = $("filter").value.trim().toLowerCase();
  const by = $("sort").value;
  let rows = allRuns.filter((r) =>
    !q || [r.name, r.family, r.data].some((s) => s.toLowerCase().includes(q)));
  const key = {
    started: (r) => -r.started_unix,
    name: (r) => r.name,
    family: (r) => r.family + " " + r.name,
    progress: (r) => -(r.step / Math.max(r.steps, 1)),
    headline: (r) => (r.headline.length ? r.headline[0][1] : Infinity),
  }[by];
  rows = rows.slice().sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const body = $("runs").tBodies[0];
  body.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement("tr");
    tr.className = "run";
    tr.dataset.name = r.name;
    const thumb = cell(tr, "", "thumb");
    if (r.thumbnail) {
      const img = document.createElement("img");
      img.src = fileUrl(r.name, r.thumbnail);
      img.alt = "newest samples of " + r.name;
      thumb.appendChild(img);
    }
    const link = document.createElement("a");
    link.href = "/run?name=" + encodeURIComponent(r.name);
    link.textContent = r.name;
    cell(tr, "").appendChild(link);
    cell(tr, r.family);
    cell(tr, r.data);
    cell(tr, fmt(r.step) + " / " + fmt(r.steps), "num");
    cell(tr, r.losses.length ? r.losses[0][0] + " " + fmt(r.losses[0][1]) : "");
    cell(tr, r.evaluated ? headlineText(r) : "not evaluated");
    cell(tr, ago(r.started_unix));
    tr.addEventListener("click", (e) => {
      if (e.target.tagName !== "A") location.href = link.href;
    });
    body.appendChild(tr);
  }
  $("count").textContent = rows.length + " of " + allRuns.length + " runs";
  $("empty").hidden = allRuns.length > 0;
}

// ---- training jobs (the runs page) ---------------------------------------------------------

let families = [];

function fillPresets() {
  const f = families.find((x) => x.name === $("f-family").value);
  const sel = $("f-preset");
  sel.replaceChildren();
  for (const p of f ? f.presets : []) {
    const o = document.createElement("option");
    o.value = o.textContent = p;
    sel.appendChild(o);
  }
  if (f && f.presets.includes("tiny")) sel.value = "tiny";
  $("f-summary").textContent = f ? f.summary + " (" + f.paper + ")" : "";
  suggestRun();
}

function suggestRun() {
  const base = $("f-family").value + "-" + $("f-preset").value;
  let name = base, i = 2;
  while (allRuns.some((r) => r.name === name)) name = base + "-" + i++;
  $("f-run").value = name;
}

async function postJson(url, body) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let data;
  try { data = JSON.parse(text); } catch (_) { data = { error: text }; }
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

function renderJobs(jobs) {
  $("jobs").hidden = jobs.length === 0;
  const body = $("jobs").tBodies[0];
  body.replaceChildren();
  for (const j of jobs) {
    const tr = document.createElement("tr");
    tr.dataset.id = j.id;
    cell(tr, String(j.id), "num");
    const link = document.createElement("a");
    link.href = "/run?name=" + encodeURIComponent(j.run);
    link.textContent = j.run;
    cell(tr, "").appendChild(link);
    cell(tr, j.state, "state state-" + j.state);
    cell(tr, "genlab train " + j.args.filter((a) => !a.startsWith("--out=")).join(" "));
    cell(tr, j.state === "failed" ? j.log.slice(-3).join("\n") : (j.log.slice(-1)[0] || ""), "log");
    const td = cell(tr, "");
    if (["queued", "running"].includes(j.state)) {
      const b = document.createElement("button");
      b.textContent = "Stop";
      b.className = "stop";
      b.addEventListener("click", () => postJson("/api/jobs/stop", { id: j.id }).then(pollJobs));
      td.appendChild(b);
    }
    body.appendChild(tr);
  }
}

let jobsSeen = "";

async function pollJobs() {
  const data = await getJson("/api/jobs");
  renderJobs(data.jobs);
  // A job that finished or started changes the runs: list them again.
  const key = data.jobs.map((j) => j.id + j.state).join(",");
  if (key !== jobsSeen) {
    jobsSeen = key;
    allRuns = (await getJson("/api/runs")).runs;
    renderRuns();
  }
}

async function trainForm() {
  families = (await getJson("/api/families")).families;
  const sel = $("f-family");
  for (const f of families) {
    const o = document.createElement("option");
    o.value = o.textContent = f.name;
    sel.appendChild(o);
  }
  sel.value = families.some((f) => f.name === "vae") ? "vae" : families[0].name;
  sel.addEventListener("change", fillPresets);
  $("f-preset").addEventListener("change", suggestRun);
  fillPresets();
  $("train-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("f-error").hidden = true;
    const steps = $("f-steps").value.trim();
    const job = {
      family: $("f-family").value,
      preset: $("f-preset").value || null,
      data: $("f-data").value.trim() || null,
      steps: steps ? Number(steps) : null,
      set: $("f-set").value.trim().split(/\s+/).filter((x) => x),
      run: $("f-run").value.trim(),
    };
    try {
      await postJson("/api/jobs", job);
      await pollJobs();
      suggestRun();
    } catch (err) {
      $("f-error").textContent = err.message;
      $("f-error").hidden = false;
    }
  });
  await pollJobs();
  setInterval(() => pollJobs().catch(() => {}), 1500);
}

async function runsPage() {
  const data = await getJson("/api/runs");
  allRuns = data.runs;
  $("root").textContent = " runs in " + data.root;
  $("filter").addEventListener("input", renderRuns);
  $("sort").addEventListener("change", renderRuns);
  renderRuns();
  await trainForm();
}

// ---- a run's page --------------------------------------------------------------------------

let grids = [];

function showGrid(i, name) {
  const g = grids[i];
  $("grid").src = fileUrl(name, g.path);
  $("grid-label").textContent = "step " + fmt(g.step) + " (" + (i + 1) + " of " + grids.length + ")";
}

function setGrids(list, name) {
  const slider = $("grid-step");
  const atEnd = grids.length === 0 || Number(slider.value) === grids.length - 1;
  grids = list;
  $("grids").hidden = grids.length === 0;
  $("grids-empty").hidden = grids.length > 0;
  if (!grids.length) return;
  slider.max = grids.length - 1;
  if (atEnd) slider.value = grids.length - 1;
  showGrid(Number(slider.value), name);
}

function facts(run) {
  const t = document.createElement("table");
  t.className = "facts";
  const rows = [
    ["family", run.family],
    ["data", run.data + " (" + run.shape + ")"],
    ["steps", fmt(run.step) + " of " + fmt(run.steps)],
    ["seed", run.seed],
    ["parameters", run.parameters === null ? "" : fmt(run.parameters)],
    ["training time", duration(run.train_seconds)],
    ["last losses", run.losses.map(([k, v]) => k + " " + fmt(v)).join(", ")],
    ["headline", run.evaluated ? headlineText(run) : "not evaluated"],
  ];
  for (const [k, v] of rows) {
    const tr = document.createElement("tr");
    cell(tr, k);
    cell(tr, String(v)).id = "fact-" + k.replace(/ /g, "-");
    t.appendChild(tr);
  }
  return t;
}

async function refreshCurves(name) {
  const data = await getJson("/api/curves?name=" + encodeURIComponent(name));
  const box = $("charts");
  if (data.charts.length) box.innerHTML = data.charts.join("");
  box.dataset.updates = String(Number(box.dataset.updates || 0) + 1);
}

async function runPage() {
  const name = new URLSearchParams(location.search).get("name") || "";
  $("name").textContent = name;
  document.title = "genlab studio: " + name;
  let d;
  try {
    d = await getJson("/api/run?name=" + encodeURIComponent(name));
  } catch (e) {
    $("summary").textContent = String(e.message);
    $("summary").className = "error";
    return;
  }
  $("summary").replaceChildren(facts(d.run));
  $("config").textContent = d.config;
  $("checkpoints").textContent = d.checkpoints.length
    ? "checkpoints at steps " + d.checkpoints.map(fmt).join(", ") : "no checkpoint yet";
  if (d.eval) {
    $("eval").textContent = JSON.stringify(d.eval, null, 1);
    $("eval").className = "";
  }
  if (d.pictures.length) {
    $("pictures-section").hidden = false;
    for (const p of d.pictures) {
      const img = document.createElement("img");
      img.src = fileUrl(name, p);
      img.alt = p;
      img.title = p;
      $("pictures").appendChild(img);
    }
  }
  $("grid-step").addEventListener("input", () => showGrid(Number($("grid-step").value), name));
  setGrids(d.grids, name);
  await refreshCurves(name);
  // Live: new metrics lines redraw the curves (at most once a second), new grids extend the
  // slider, a new checkpoint updates the step.
  let pending = null;
  let lastStep = d.run.step;
  const es = new EventSource("/api/events?name=" + encodeURIComponent(name) +
    "&from=" + d.metrics_bytes + "&grids=" + d.grids.length);
  const alive = () => {
    $("live").hidden = false;
    clearTimeout(alive.t);
    alive.t = setTimeout(() => ($("live").hidden = true), 10000);
  };
  const showStep = () => ($("fact-steps").textContent = fmt(lastStep) + " of " + fmt(d.run.steps));
  es.addEventListener("metrics", (e) => {
    alive();
    const line = JSON.parse(e.data);
    lastStep = Math.max(lastStep, line.step);
    showStep();
    if (line.steps_per_sec > 0) $("fact-training-time").textContent = duration(line.step / line.steps_per_sec);
    if (line.losses) {
      $("fact-last-losses").textContent =
        Object.entries(line.losses).map(([k, v]) => k + " " + fmt(v)).join(", ");
    }
    if (!pending) pending = setTimeout(() => { pending = null; refreshCurves(name); }, 1000);
  });
  es.addEventListener("step", (e) => {
    const s = JSON.parse(e.data);
    if (s.steps) d.run.steps = s.steps;
    lastStep = Math.max(lastStep, s.step);
    showStep();
  });
  // metrics.jsonl was written anew (a resume rewinds it): its lines come again from the top.
  es.addEventListener("reset", () => { lastStep = 0; refreshCurves(name); });
  es.addEventListener("grids", (e) => { alive(); setGrids(JSON.parse(e.data), name); });
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  (page === "runs" ? runsPage() : runPage()).catch((e) => {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = "The studio could not load this page: " + e.message;
    document.querySelector("main").prepend(p);
  });
});
