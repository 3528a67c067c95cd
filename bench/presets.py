"""Run time of every preset (issue 20), estimated on this machine without training each to the end.

For each configs/FAMILY/PRESET.toml (tiny presets left out): a run of K steps with its pictures
and checkpoint at step K; the step rate is read from the metrics line at step K/2 (before any
picture), and

    estimate = (wall time of the K-step run - K / rate) + steps / rate

that is start-up (data, model) plus one round of pictures and checkpoint, plus the preset's steps
at the measured rate. Each further sample step adds a round of pictures and the held-out loss
(seconds), not counted. Families that fit on the whole data at each step (EM), and presets of at
most K steps, are run to the end and timed as they are. A preset that the cross-family table
(`bash bench/run.sh table`, bench/table.py) trained to the end is not run again: its row is that
run's whole training time, as `genlab compare` reads it from the run. Writes
bench/results/presets.json and prints a Markdown table.

    python3 bench/presets.py BIN [K]
    python3 bench/presets.py BIN K FAMILY:PRESET...   # re-time these only; other rows kept
"""

import json
import pathlib
import subprocess
import sys
import tempfile
import time
import tomllib

BIN = sys.argv[1]
K = int(sys.argv[2]) if len(sys.argv) > 2 else 40
ONLY = set(sys.argv[3:])
FULL_BATCH = {"gmm", "bgmm", "class-gaussian", "kmeans"}
DEFAULT_STEPS = 2000  # genlab_core::config::TrainConfig::default


def steps_of(preset: pathlib.Path) -> int:
    return tomllib.loads(preset.read_text()).get("train", {}).get("steps", DEFAULT_STEPS)


def table_runs() -> dict:
    """(family, preset) -> the `genlab compare --json` row of each finished run of the table."""
    root = pathlib.Path("bench/runs/table")
    out = {}
    # A finished run of an earlier sitting whose run directory was not committed is a row of
    # bench/results/table.json only (bench/table.py keeps it there).
    saved = pathlib.Path("bench/results/table.json")
    for r in json.loads(saved.read_text())["runs"] if saved.is_file() else []:
        run = pathlib.Path(r["path"])
        if not run.is_dir() and r.get("eval") and r.get("train_seconds"):
            out[(r["family"], run.name[len(r["family"]) + 1:])] = r | {"spec": r["data"]}
    if not root.is_dir() or not any((p / "meta.json").is_file() for p in root.iterdir()):
        return out
    board = json.loads(subprocess.run([BIN, "compare", str(root), "--json"], check=True,
                                      capture_output=True, text=True).stdout)
    for r in board["runs"]:
        run = pathlib.Path(r["path"])
        planned = tomllib.loads((run / "config.toml").read_text())["train"]["steps"]
        evaluated = (run / "eval" / f"step-{r['step']:06d}.json").is_file()
        if r.get("train_seconds") and (r["step"] >= planned or evaluated):
            out[(r["family"], run.name[len(r["family"]) + 1:])] = r
    return out


def main() -> None:
    saved = pathlib.Path("bench/results/presets.json")
    # Re-timing named presets: the other rows stay, and a named one that fails keeps its old row.
    old = {f"{r['family']}:{r['preset']}": r for r in json.loads(saved.read_text())["rows"]} \
        if ONLY and saved.is_file() else {}
    rows = [r for name, r in old.items() if name not in ONLY]
    table = table_runs()
    for preset in sorted(pathlib.Path("configs").glob("*/*.toml")):
        family, name = preset.parent.name, preset.stem
        if name == "tiny" or (ONLY and f"{family}:{name}" not in ONLY):
            continue
        steps = steps_of(preset)
        if (family, name) in table:
            r = table[(family, name)]
            spec = r.get("spec") or \
                tomllib.loads((pathlib.Path(r["path"]) / "config.toml").read_text())["data"]["spec"]
            rows.append({"family": family, "preset": name, "data": spec, "steps": r["step"],
                         "steps_run": r["step"], "seconds": r["train_seconds"],
                         "steps_per_sec": r["step"] / r["train_seconds"], "measured": "table run"})
            print(f"{family}:{name} {r['train_seconds'] / 60:.1f} min (the table's run)", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = pathlib.Path(tmp) / "run"
            args = [BIN, "train", family, "--preset", name, "--out", str(out), "--quiet"]
            full = family in FULL_BATCH or steps <= K
            if not full:
                half = max(1, K // 2)
                args += ["--steps", str(K), "--set", f"train.log_every={half}",
                         "--set", f"train.sample_every={K}", "--set", f"train.checkpoint_every={K}"]
                # A learning-rate decay must start before the last step (CycleGAN's schedule).
                for group, opt in tomllib.loads(preset.read_text()).get("optim", {}).items():
                    if "decay_start" in opt:
                        args += ["--set", f"optim.{group}.decay_start={half}"]
            start = time.monotonic()
            done = subprocess.run(args, capture_output=True, text=True, timeout=1800)
            wall = time.monotonic() - start
            if done.returncode != 0:
                print(f"{family}:{name} failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
                if f"{family}:{name}" in old:
                    rows.append(old[f"{family}:{name}"])
                continue
            lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
            spec = tomllib.loads((out / "config.toml").read_text())["data"]["spec"]
        if full:
            row = {"steps_run": lines[-1]["step"], "seconds": wall, "measured": "whole run"}
        else:
            rate = next(l["steps_per_sec"] for l in lines if l["step"] == max(1, K // 2))
            fixed = max(0.0, wall - K / rate)
            row = {"steps_run": K, "steps_per_sec": rate, "fixed_seconds": fixed,
                   "seconds": fixed + steps / rate, "measured": f"{K} steps"}
        row.update({"family": family, "preset": name, "data": spec, "steps": steps})
        rows.append(row)
        print(f"{family}:{name} {row['seconds'] / 60:.1f} min", file=sys.stderr, flush=True)
    stamp = time.strftime("%Y-%m-%d")
    pathlib.Path("bench/results").mkdir(parents=True, exist_ok=True)
    pathlib.Path("bench/results/presets.json").write_text(
        json.dumps({"date": stamp, "k": K, "rows": rows}, indent=1) + "\n")
    print(f"| family | preset | data | steps | s/step | run time on this machine ({stamp}) |")
    print("|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: -r["seconds"]):
        minutes = r["seconds"] / 60
        shown = f"{minutes:.0f} min" if minutes >= 10 else f"{minutes:.1f} min"
        how = {"whole run": "measured", "table run": "the table's run"}.get(r["measured"], "est.")
        rate = r.get("steps_per_sec")
        per_step = "-" if not rate else f"{1 / rate:.3f}"
        print(f"| {r['family']} | {r['preset']} | `{r['data']}` | {r['steps']:,} | {per_step} | {shown} ({how}) |")


if __name__ == "__main__":
    main()
