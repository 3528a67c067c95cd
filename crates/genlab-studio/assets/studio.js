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
    for (const el of document.querySelectorAll("#train-form [aria-invalid]")) el.removeAttribute("aria-invalid");
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
      // The field the message is about (the server's "run: ...", the CLI's "--set: ...") is
      // marked and focused.
      const field = blamedField(err.message);
      if (field) {
        $(field).setAttribute("aria-invalid", "true");
        $(field).focus();
      }
    }
  });
  await pollJobs();
  setInterval(() => pollJobs().catch(() => {}), 1500);
}

/**
 * The form field that an error message of `POST /api/jobs` is about, or null. The CLI names the
 * config keys it is about (`--set: unknown config key \`model.nope\``, `at train.steps (...)`,
 * `optim.gen.lr: must be ...`, and both keys of `optim.gen.decay_start = 9 is not below
 * train.steps = 5: ...`): the --set field when it sets one of them, else the field that sets it
 * (steps, data). Otherwise the message's first word names the field, as the server's own checks
 * (`run: ...`, `preset ...`), the CLI's (`--set: family \`gan\` contradicts ...`) and clap's
 * (`invalid value ... for '--data <DATA>'`) do.
 */
function blamedField(message) {
  const quoted = (message.match(/`([a-z_]+(?:\.[a-z0-9_]+)+)`|^at ([a-z_]+(?:\.[a-z0-9_]+)*) \(/) || [])
    .slice(1).filter((k) => k);
  // The message's subject, before its first ": " or ";": a leading key, and the keys it is
  // compared with.
  const subject = message.split(/: |;/)[0];
  const keys = [...quoted, ...[...subject.matchAll(/[a-z_]+(?:\.[a-z0-9_]+)+/g)].map((m) => m[0])];
  const setKeys = $("f-set").value.split(/\s+/).map((kv) => kv.split("=")[0]).filter((k) => k);
  if (keys.some((k) => setKeys.includes(k))) return "f-set";
  const byField = { "train.steps": "f-steps", "data.spec": "f-data" };
  const filled = keys.find((k) => byField[k] && $(byField[k]).value.trim());
  if (filled) return byField[filled];
  const fields = [
    [/^(--set|set)\b|for '--set/, "f-set"],
    [/^run\b/, "f-run"],
    [/^preset\b|has no preset/, "f-preset"],
    [/^(--data|data)\b|for '--data/, "f-data"],
    [/^(--steps|steps)\b|for '--steps/, "f-steps"],
    [/^family\b/, "f-family"],
  ];
  const hit = fields.find(([re]) => re.test(message));
  return hit ? hit[1] : null;
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
  await explore(name);
}

// ---- exploring a trained model (the run's page) --------------------------------------------

const X = { run: "", about: null, z: [], samples: [], picked: [], hide: null, original: null };

function xError(e) {
  $("x-error").hidden = false;
  $("x-error").textContent = String(e.message || e);
}

function thumb(src, title) {
  const img = document.createElement("img");
  img.src = src;
  img.alt = title;
  img.title = title;
  return img;
}

// The first two latent dimensions span [-3, 3] on the map (the prior's +-3 sigma).
const SPAN = 3, MAP = 8;

// Codes travel rounded to 4 decimals, at most 16 rows a request: a 100-dimensional latent's
// map stays far below the studio's 64 KiB body limit.
const round4 = (z) => z.map((v) => Math.round(v * 1e4) / 1e4);

async function decodeRows(rows) {
  const out = [];
  for (let i = 0; i < rows.length; i += 16) {
    const part = await postJson("/api/explore/decode", { run: X.run, z: rows.slice(i, i + 16).map(round4) });
    out.push(...part.pictures);
  }
  return out;
}

async function drawMap() {
  const d = X.about.latent.dim;
  const codes = [];
  for (let r = 0; r < MAP; r++) {
    for (let c = 0; c < MAP; c++) {
      const z = X.z.slice();
      z[0] = -SPAN + (2 * SPAN * (c + 0.5)) / MAP;
      if (d > 1) z[1] = SPAN - (2 * SPAN * (r + 0.5)) / MAP;
      codes.push(z);
    }
  }
  const pictures = await decodeRows(codes);
  const canvas = $("x-map"), ctx = canvas.getContext("2d");
  const cell = canvas.width / MAP;
  ctx.imageSmoothingEnabled = false;
  await Promise.all(pictures.map((src, i) => new Promise((done) => {
    const img = new Image();
    img.onload = () => { ctx.drawImage(img, (i % MAP) * cell, Math.floor(i / MAP) * cell, cell, cell); done(); };
    img.src = src;
  })));
  markMap();
}

function markMap() {
  const canvas = $("x-map"), ctx = canvas.getContext("2d");
  const px = ((X.z[0] + SPAN) / (2 * SPAN)) * canvas.width;
  const py = X.z.length > 1 ? ((SPAN - X.z[1]) / (2 * SPAN)) * canvas.height : canvas.height / 2;
  $("x-map").dataset.mark = px.toFixed(1) + "," + py.toFixed(1);
  // Inside the map's own box: the marker moves with it whatever happens to the page.
  $("x-map-mark").style.left = (px - 6) + "px";
  $("x-map-mark").style.top = (py - 6) + "px";
}

let decodeBusy = false, decodeAgain = false;

// Decode X.z into the big picture; slider drags that come while a decode is under way are
// folded into one more request.
async function decodeCurrent() {
  if (decodeBusy) { decodeAgain = true; return; }
  decodeBusy = true;
  try {
    $("x-decoded").src = (await decodeRows([X.z]))[0];
  } catch (e) { xError(e); }
  decodeBusy = false;
  if (decodeAgain) { decodeAgain = false; decodeCurrent(); }
}

function sliders(box, values, onChange, prefix, span) {
  box.replaceChildren();
  values.forEach((v, i) => {
    const label = document.createElement("span");
    label.textContent = prefix + i;
    const input = document.createElement("input");
    input.type = "range";
    input.min = -span; input.max = span; input.step = 0.05;
    input.value = v;
    input.id = (prefix === "z" ? "x-z-" : "x-c-") + i;
    input.setAttribute("aria-label", prefix + i);
    const out = document.createElement("span");
    out.textContent = Number(v).toFixed(2);
    input.addEventListener("input", () => {
      values[i] = Number(input.value);
      out.textContent = values[i].toFixed(2);
      onChange(i);
    });
    box.append(label, input, out);
  });
}

function showSliders() {
  const shown = X.z.slice(0, 8);
  sliders($("x-sliders"), shown, (i) => {
    X.z[i] = shown[i];
    if (i < 2) markMap();
    decodeCurrent();
    if (i >= 2) { clearTimeout(showSliders.t); showSliders.t = setTimeout(() => drawMap().catch(xError), 400); }
  }, "z", SPAN);
}

function lerp(a, b, t) { return a.map((v, i) => v + t * (b[i] - v)); }

function slerp(a, b, t) {
  const na = Math.hypot(...a), nb = Math.hypot(...b);
  const cos = a.reduce((s, v, i) => s + v * b[i], 0) / (na * nb || 1);
  const om = Math.acos(Math.min(1, Math.max(-1, cos)));
  if (om < 1e-4) return lerp(a, b, t);
  const s = Math.sin(om);
  return a.map((v, i) => (Math.sin((1 - t) * om) / s) * v + (Math.sin(t * om) / s) * b[i]);
}

async function newSamples(seed) {
  const out = await postJson("/api/explore/prior", { run: X.run, seed, n: 12 });
  X.samples = out.z;
  X.picked = [];
  const box = $("x-samples");
  box.replaceChildren(...out.pictures.map((src, i) => {
    const img = thumb(src, "sample " + i + ": click to pick");
    img.addEventListener("click", () => pickSample(i));
    return img;
  }));
  $("x-path").replaceChildren();
}

async function pickSample(i) {
  X.picked = X.picked.filter((j) => j !== i).concat([i]).slice(-2);
  [...$("x-samples").children].forEach((img, j) => img.classList.toggle("picked", X.picked.includes(j)));
  // The picked sample also becomes the point the map and sliders show.
  X.z = X.samples[i].slice();
  showSliders();
  decodeCurrent();
  drawMap().catch(xError);
  if (X.picked.length < 2) return;
  const [a, b] = X.picked.map((j) => X.samples[j]);
  const path = [];
  for (let k = 0; k < 10; k++) {
    const t = k / 9;
    path.push(X.about.latent.gaussian ? slerp(a, b, t) : lerp(a, b, t));
  }
  const pictures = await decodeRows(path);
  $("x-path").replaceChildren(...pictures.map((src, k) => thumb(src, "t = " + (k / 9).toFixed(2))));
}

async function classSamples() {
  const label = Number($("x-class").value);
  const out = await postJson("/api/explore/decode", { run: X.run, label, n: 12, seed: 0 });
  $("x-class-samples").replaceChildren(...out.pictures.map((src, i) => thumb(src, $("x-class").selectedOptions[0].textContent + " " + i)));
}

async function setupCodes(c) {
  const z = new Array(c.noise).fill(0);
  const cont = new Array(c.continuous).fill(0);
  for (let k = 0; k < c.categories; k++) $("x-category").add(new Option("category " + k, k));
  $("x-category").parentElement.hidden = c.categories === 0;
  // Slider drags while a decode is under way fold into one more request.
  let busy = false, again = false;
  const draw = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const ask = { run: X.run, z: [z], continuous: [round4(cont)] };
      if (c.categories > 0) ask.category = Number($("x-category").value);
      $("x-code-image").src = (await postJson("/api/explore/decode", ask)).pictures[0];
    } catch (e) { xError(e); }
    busy = false;
    if (again) { again = false; draw(); }
  };
  sliders($("x-code-sliders"), cont, () => draw(), "c", 2);
  $("x-category").addEventListener("change", () => draw());
  await draw();
}

// ---- completion under a mask drawn on a canvas ----

async function loadOriginal() {
  const [, h, w] = X.about.shape;
  X.hide = new Array(h * w).fill(0);
  await complete();
}

function paintMask() {
  const [, h, w] = X.about.shape;
  const canvas = $("x-mask"), ctx = canvas.getContext("2d");
  const img = new Image();
  img.onload = () => {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "rgba(230, 81, 0, 0.75)";
    const sx = canvas.width / w, sy = canvas.height / h;
    X.hide.forEach((v, i) => { if (v) ctx.fillRect((i % w) * sx, Math.floor(i / w) * sy, sx, sy); });
  };
  img.src = X.original;
}

async function complete() {
  const out = await postJson("/api/explore/complete", {
    run: X.run, index: Number($("x-index").value), hide: X.hide,
  });
  X.original = out.original;
  $("x-original").src = out.original;
  $("x-completed").src = out.completed;
  paintMask();
}

function maskCanvas() {
  const canvas = $("x-mask");
  let down = false;
  const brush = (e) => {
    const [, h, w] = X.about.shape;
    const r = canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * w);
    const y = Math.floor(((e.clientY - r.top) / r.height) * h);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < w && yy < h) X.hide[yy * w + xx] = 1;
      }
    }
    paintMask();
  };
  canvas.addEventListener("mousedown", (e) => { down = true; brush(e); });
  canvas.addEventListener("mousemove", (e) => { if (down) brush(e); });
  window.addEventListener("mouseup", () => {
    if (!down) return;
    down = false;
    complete().catch(xError);
  });
  $("x-clear").addEventListener("click", () => loadOriginal().catch(xError));
  $("x-index").addEventListener("change", () => loadOriginal().catch(xError));
}

// ---- translating an uploaded image ----

function readBase64(file) {
  return new Promise((done, fail) => {
    const r = new FileReader();
    r.onload = () => done(String(r.result).split(",")[1] || "");
    r.onerror = () => fail(new Error("cannot read " + file.name));
    r.readAsDataURL(file);
  });
}

async function translateUpload() {
  const file = $("x-upload").files[0];
  if (!file) return;
  const out = await postJson("/api/explore/translate", {
    run: X.run, image: await readBase64(file), direction: $("x-direction").value,
  });
  $("x-tr-input").src = out.input;
  $("x-tr-output").src = out.output;
  $("x-tr-back-box").hidden = !out.back;
  if (out.back) $("x-tr-back").src = out.back;
  document.body.dataset.translated = String(Number(document.body.dataset.translated || 0) + 1);
}

async function explore(name) {
  X.run = name;
  let a;
  try {
    a = await getJson("/api/explore?name=" + encodeURIComponent(name));
  } catch (e) {
    return; // no checkpoint yet, or a model that cannot load: the section stays hidden
  }
  X.about = a;
  if (!a.images || !(a.latent || a.classes || a.codes || a.complete || a.translate)) return;
  $("explore").hidden = false;
  $("x-about").textContent = "(" + a.family + " at step " + fmt(a.step) + ", newest checkpoint)";
  const jobs = [];
  if (a.latent) {
    $("x-latent").hidden = false;
    $("x-path-kind").textContent = a.latent.gaussian ? "spherical" : "linear";
    X.z = new Array(a.latent.dim).fill(0);
    showSliders();
    $("x-map").addEventListener("click", (e) => {
      const r = $("x-map").getBoundingClientRect();
      X.z[0] = -SPAN + (2 * SPAN * (e.clientX - r.left)) / r.width;
      if (X.z.length > 1) X.z[1] = SPAN - (2 * SPAN * (e.clientY - r.top)) / r.height;
      showSliders();
      markMap();
      decodeCurrent();
    });
    $("x-more").addEventListener("click", () => newSamples(Math.floor(Math.random() * 1e9)).catch(xError));
    jobs.push(drawMap(), decodeCurrent(), newSamples(0));
  }
  if (a.classes) {
    $("x-classes").hidden = false;
    a.classes.forEach((c, i) => $("x-class").add(new Option(c, i)));
    $("x-class").addEventListener("change", () => classSamples().catch(xError));
    jobs.push(classSamples());
  }
  if (a.codes) {
    $("x-codes").hidden = false;
    jobs.push(setupCodes(a.codes));
  }
  if (a.translate) {
    $("x-translate").hidden = false;
    $("x-direction-box").hidden = !a.translate.two_way;
    const go = () => { $("x-error").hidden = true; translateUpload().catch(xError); };
    $("x-upload").addEventListener("change", go);
    $("x-direction").addEventListener("change", go);
  }
  if (a.complete) {
    $("x-complete").hidden = false;
    maskCanvas();
    jobs.push(loadOriginal());
  }
  await Promise.all(jobs).catch(xError);
  document.body.dataset.explored = "1";
}

// ---- the GAN lab ----------------------------------------------------------------------------

// `loop` numbers the play loops: a pause and play while a step is under way ends the old loop
// instead of starting a second one beside it.
const L = { id: null, view: null, playing: false, loop: 0, shownLr: {} };

const GROUP_NAMES = { gen: "lr G", disc: "lr D", model: "lr" };

function labError(e) {
  $("lab-error").hidden = !e;
  $("lab-error").textContent = e ? String(e.message || e) : "";
}

// Purple (generated) - white - green (real), as GAN Lab colours the discriminator.
// A density: white (none) to deep blue, on a square-root scale so that the low tails show.
function densityColour(t) {
  const lo = [247, 251, 255], hi = [8, 48, 107];
  const u = Math.sqrt(t);
  return lo.map((v, i) => Math.round(v + u * (hi[i] - v)));
}

function heatColour(t) {
  const lo = [123, 50, 148], mid = [247, 247, 247], hi = [0, 136, 55];
  const [a, b, u] = t < 0.5 ? [lo, mid, t * 2] : [mid, hi, (t - 0.5) * 2];
  return a.map((v, i) => Math.round(v + u * (b[i] - v)));
}

function drawLab(v) {
  L.view = v;
  const density = v.players === 1;
  $("lab-heatbar").classList.toggle("density", density);
  $("legend-arrows").hidden = density;
  $("legend-lines").hidden = !density;
  const heat = $("lab-heat"), pts = $("lab-points");
  const W = heat.width, H = heat.height;
  const [x0, x1, y0, y1] = v.extent;
  const toPx = (x, y) => [((x - x0) / (x1 - x0)) * W, ((y1 - y) / (y1 - y0)) * H];
  // The heat map: D's probability of real, or its raw score scaled to the grid's range.
  const n = v.heat.n, vals = v.heat.values;
  let lo = 0, hi = 1;
  if (!v.probability) {
    lo = density ? 0 : Math.min(...vals); hi = Math.max(...vals);
    if (hi - lo < 1e-9) { hi = lo + 1; }
  }
  $("lab-scale-name").textContent = density ? "model" : "discriminator";
  $("lab-scale").textContent = v.probability
    ? "D(x): 0 (generated) to 1 (real)"
    : density ? v.scale + " p(x), 0 to " + fmt(hi) + " (square-root scale)"
    : "critic score " + fmt(lo) + " to " + fmt(hi);
  const small = document.createElement("canvas");
  small.width = n; small.height = n;
  const sctx = small.getContext("2d");
  const img = sctx.createImageData(n, n);
  const colour = density ? densityColour : heatColour;
  vals.forEach((val, i) => {
    const [r, g, b] = colour(Math.min(1, Math.max(0, (val - lo) / (hi - lo))));
    img.data.set([r, g, b, 255], i * 4);
  });
  sctx.putImageData(img, 0, 0);
  const hctx = heat.getContext("2d");
  hctx.imageSmoothingEnabled = true;
  hctx.drawImage(small, 0, 0, W, H);
  // The points, arrows and true modes.
  const ctx = pts.getContext("2d");
  ctx.clearRect(0, 0, W, H);
  if (v.coverage) {
    ctx.strokeStyle = "#e65100";
    for (const [cx, cy] of v.coverage.centers) {
      const [px, py] = toPx(cx, cy);
      ctx.beginPath(); ctx.arc(px, py, 9, 0, 2 * Math.PI); ctx.stroke();
    }
  }
  const dot = (pairs, colour) => {
    ctx.fillStyle = colour;
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const [px, py] = toPx(pairs[i], pairs[i + 1]);
      ctx.beginPath(); ctx.arc(px, py, 2.2, 0, 2 * Math.PI); ctx.fill();
    }
  };
  // A density model's latent grid, mapped to the plane.
  ctx.strokeStyle = "rgba(40, 40, 120, 0.35)";
  for (const line of v.lines) {
    ctx.beginPath();
    for (let i = 0; i + 1 < line.length; i += 2) {
      const [px, py] = toPx(line[i], line[i + 1]);
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    }
    ctx.stroke();
  }
  dot(v.real, "rgba(0, 136, 55, 0.85)");
  dot(v.fake, "rgba(123, 50, 148, 0.9)");
  // Arrows: the longest one is 8% of the view.
  let longest = 1e-12;
  for (let i = 0; i + 1 < v.arrows.length; i += 2) longest = Math.max(longest, Math.hypot(v.arrows[i], v.arrows[i + 1]));
  const scale = (0.08 * (x1 - x0)) / longest;
  const actx = $("lab-arrows").getContext("2d");
  actx.clearRect(0, 0, W, H);
  actx.strokeStyle = "rgba(30, 30, 30, 0.55)";
  actx.lineWidth = 1;
  for (let i = 0; i < v.fake.length; i += 8) {
    const [ax, ay] = toPx(v.fake[i], v.fake[i + 1]);
    const [bx, by] = toPx(v.fake[i] + scale * v.arrows[i], v.fake[i + 1] + scale * v.arrows[i + 1]);
    actx.beginPath(); actx.moveTo(ax, ay); actx.lineTo(bx, by); actx.stroke();
    const ang = Math.atan2(by - ay, bx - ax);
    actx.beginPath();
    actx.moveTo(bx, by);
    actx.lineTo(bx - 5 * Math.cos(ang - 0.4), by - 5 * Math.sin(ang - 0.4));
    actx.moveTo(bx, by);
    actx.lineTo(bx - 5 * Math.cos(ang + 0.4), by - 5 * Math.sin(ang + 0.4));
    actx.stroke();
  }
  $("lab-steps").textContent = density ? fmt(v.steps) + " updates"
    : fmt(v.steps) + " (D updates " + fmt(v.disc_steps) + ", G updates " + fmt(v.gen_steps) + ")";
  $("lab-losses").textContent = v.losses.map(([k, x]) => k + " " + fmt(x)).join(", ") || "none yet";
  $("lab-coverage").textContent = v.coverage
    ? v.coverage.captured + " of " + v.coverage.modes + " modes, " + (100 * v.coverage.high_quality).toFixed(1) + "% of samples near a mode"
    : "this set has no discrete modes";
  // The game list is rebuilt only when it changes (a new lab, another family), never under
  // a choice the user is making.
  const games = v.games.slice().sort().join(",");
  if ($("lab-game").dataset.games !== games && document.activeElement !== $("lab-game")) {
    $("lab-game").replaceChildren(...v.games.map((g) => new Option(g.replace("_", " "), g)));
    $("lab-game").dataset.games = games;
  }
  $("lab-game-box").hidden = v.games.length === 0;
  for (const b of ["lab-step-d", "lab-step-g"]) $(b).hidden = v.players === 1;
  const groups = Object.keys(v.lr);
  if ($("lab-lrs").dataset.groups !== groups.join(",")) {
    $("lab-lrs").replaceChildren(...groups.map((g) => {
      const label = document.createElement("label");
      label.textContent = (GROUP_NAMES[g] || "lr " + g) + " ";
      const input = document.createElement("input");
      input.id = "lab-lr-" + g;
      input.size = 7;
      input.setAttribute("aria-label", "learning rate of " + g);
      label.appendChild(input);
      return label;
    }));
    $("lab-lrs").dataset.groups = groups.join(",");
    L.shownLr = {};
  }
  for (const g of groups) {
    const input = $("lab-lr-" + g), shown = fmt(v.lr[g]);
    if (!(g in L.shownLr) || (document.activeElement !== input && input.value === L.shownLr[g])) input.value = shown;
    L.shownLr[g] = shown;
  }
  if (v.log) $("lab-log").textContent = v.log;
  document.body.dataset.labSteps = String(v.steps);
}

async function labStep(which, n) {
  drawLab(await postJson("/api/lab/step", { id: L.id, which, n }));
}

async function play(loop) {
  while (L.playing && L.loop === loop) {
    try {
      await labStep("both", $("lab-slow").checked ? 1 : 10);
    } catch (e) {
      labError(e);
      L.playing = false;
      $("lab-play").textContent = "play";
      return;
    }
    await new Promise((r) => setTimeout(r, $("lab-slow").checked ? 500 : 30));
  }
}

async function labPage() {
  const f = await getJson("/api/lab/families");
  f.families.forEach((name) => $("lab-family").add(new Option(name, name)));
  if (f.families.includes("gan")) $("lab-family").value = "gan";
  f.data.forEach((d) => $("lab-data").add(new Option(d.replace("toy:", ""), d)));
  const start = async () => {
    L.playing = false;
    $("lab-play").textContent = "play";
    labError(null);
    try {
      const v = await postJson("/api/lab", {
        family: $("lab-family").value, data: $("lab-data").value, seed: Number($("lab-seed").value),
      });
      L.id = v.id;
      $("lab").hidden = false;
      drawLab(v);
    } catch (e) { labError(e); }
  };
  $("lab-form").addEventListener("submit", (e) => { e.preventDefault(); start(); });
  const guarded = (fn) => () => { labError(null); fn().catch(labError); };
  $("lab-step").addEventListener("click", guarded(() => labStep("both", 1)));
  $("lab-step-d").addEventListener("click", guarded(() => labStep("disc", 1)));
  $("lab-step-g").addEventListener("click", guarded(() => labStep("gen", 1)));
  $("lab-play").addEventListener("click", () => {
    L.playing = !L.playing;
    $("lab-play").textContent = L.playing ? "pause" : "play";
    if (L.playing) play(++L.loop);
  });
  $("lab-apply").addEventListener("click", guarded(async () => {
    // Only what the user changed: a rate shown rounded is not sent back as a new rate.
    const change = { id: L.id, lr: {} };
    if (L.view.games.length && $("lab-game").value !== L.view.games[0]) change.game = $("lab-game").value;
    for (const g of Object.keys(L.view.lr)) {
      const text = $("lab-lr-" + g).value.trim();
      if (text === L.shownLr[g]) continue;
      const lr = Number(text);
      if (!(lr > 0)) throw new Error((GROUP_NAMES[g] || "lr " + g) + ": a positive number, e.g. 0.001");
      change.lr[g] = lr;
    }
    drawLab(await postJson("/api/lab/change", change));
  }));
  await start();
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  const pages = { runs: runsPage, run: runPage, lab: labPage };
  pages[page]().catch((e) => {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = "The studio could not load this page: " + e.message;
    document.querySelector("main").prepend(p);
  });
});
