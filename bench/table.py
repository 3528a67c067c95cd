"""The cross-family table on Fashion-MNIST (issue 22): each family that samples images, trained
with its Fashion-MNIST preset, evaluated on the full protocol (`genlab eval RUN --json`: test
NLL where the family has a likelihood; 10,000 samples against the 10,000 test images on the
shipped judge), collected by `genlab compare --json` into bench/results/table.json and printed
as a Markdown table.

Resumable: a run whose training finished and that has an eval of its last step is skipped; a
run interrupted in training resumes from its newest checkpoint (`genlab train --resume`). So it
can run across several sittings; cheap presets go first. A finished run's record (its run
directory but its checkpoints and sample grids, which .gitignore leaves out) is to be committed
(`git add bench/runs/table`), so that a later sitting on a fresh clone skips it too; an
unfinished run without checkpoints (a fresh clone's) starts again. A finished row of
bench/results/table.json whose run directory is not here (runs finished before records were
committed) is kept as it is, with the config it was trained with, and its preset is not trained
again unless it is stale or named on the command line. A preset named on the command line is
trained again, checkpoints and all, when only its record or its kept row is here. A run that averages its weights
(train.ema_decay > 0) is also evaluated with its live weights (eval/step-N-live.json), and the
table of what the average buys is printed after the main one. A run whose config differs from
what its preset resolves to now (`genlab train --print-config`) is stale: it is moved to
bench/runs/table-stale/ and trained again, and `--print` marks it until then.

    python3 bench/table.py BIN [FAMILY:PRESET ...]   # named presets are trained even if kept
    python3 bench/table.py BIN --print      # the table of the runs finished so far
"""

import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import time
import tomllib

BIN = sys.argv[1]
ROOT = pathlib.Path("bench/runs/table")
# Cheapest first (README's run-time table).
PRESETS = [
    "class-gaussian:default", "gmm:fashion", "rbm:default", "fvsbn:default", "dbn:default",
    "vae:default", "vae:conv", "made:default", "gan:fashion", "iwae:default", "wgan-gp:fashion",
    "wgan:fashion", "cgan:fashion", "acgan:fashion", "infogan:fashion", "glow:fashion",
    "pixelcnn:default", "pixelcnn:8bit", "dcgan:default", "lsgan:fashion", "sngan:fashion",
    "realnvp:fashion", "maf:fashion",
    "nade:default", "gated-pixelcnn:default", "pixelcnn++:default",
]


def steps_of(run: pathlib.Path) -> tuple[int, int]:
    """(steps done, steps planned) of a run directory."""
    meta = json.loads((run / "meta.json").read_text())
    planned = tomllib.loads((run / "config.toml").read_text())["train"]["steps"]
    return meta["last_step"], planned


# The families whose training can stop before its planned steps (`Model::converged`: EM, and
# the closed-form class Gaussians); any other run short of its steps was interrupted.
STOP_EARLY = {"class-gaussian", "gmm", "bgmm"}


def finished(run: pathlib.Path) -> bool:
    """Trained and evaluated at its last step. Short of its planned steps only when its family can
    converge early: a half-trained run that someone evaluated by hand is not finished."""
    if not (run / "meta.json").is_file():
        return False
    done, planned = steps_of(run)
    converges = config_of(run)["family"] in STOP_EARLY
    return (done >= planned or converges) and (run / "eval" / f"step-{done:06d}.json").is_file()


def flat(table: dict, prefix: str = "") -> dict:
    """{"train.steps": 10000, ...} of a nested TOML table."""
    out = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_of(run: pathlib.Path) -> dict:
    """The run's config.toml, flattened."""
    return flat(tomllib.loads((run / "config.toml").read_text()))


def stale_keys(have: dict, family: str, preset: str) -> list[str]:
    """The keys of a run's flattened config (`have`) whose value differs from what the preset
    resolves to now (`genlab train FAMILY --preset PRESET --seed 0 --print-config`): the preset,
    or a family default, changed after the run was trained (as BIN was built: presets are
    compiled in). `data.channels`, which training resolves from the data, and keys newer than the
    run are not compared. A folder named after no preset file has none."""
    if not pathlib.Path(f"configs/{family}/{preset}.toml").is_file():
        return []
    printed = subprocess.run([BIN, "train", family, "--preset", preset, "--seed", "0", "--print-config"],
                             check=True, capture_output=True, text=True).stdout
    wanted = flat(tomllib.loads(printed))
    # A key newer than the run is not in its config.toml: its default keeps the old behaviour.
    return sorted(k for k, v in wanted.items() if k != "data.channels" and k in have and have[k] != v)


def row_stale_keys(r: dict, family: str, preset: str) -> list[str] | None:
    """[`stale_keys`] of a table row: of the config a kept row carries (a run of the same name
    here may be another, training again), else of its run directory's; None when there is none
    (it cannot be told)."""
    run = pathlib.Path(r["path"])
    have = r.get("config") if r.get("kept") or not (run / "config.toml").is_file() else config_of(run)
    return None if have is None else stale_keys(have, family, preset)


def cpu_seconds() -> float:
    """User plus system CPU seconds of every finished child process so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


TABLE = pathlib.Path("bench/results/table.json")


def done_row(r: dict) -> bool:
    """Whether a table row is of a run evaluated at its last step."""
    return bool(r.get("eval")) and r["eval"].get("step") == r["step"]


def saved_rows() -> dict:
    """Run folder name -> its row in bench/results/table.json as last written. While a run trains
    again beside its kept row, both are there under one name: the finished one is taken."""
    rows = json.loads(TABLE.read_text())["runs"] if TABLE.is_file() else []
    out = {}
    for r in sorted(rows, key=done_row):
        out[pathlib.Path(r["path"]).name] = r
    return out


def kept_rows() -> dict:
    """Run folder name -> the row of bench/results/table.json of a finished run (evaluated at its
    last step) whose finished run directory is not here: a run of an earlier sitting whose
    record was not committed. Its row is all that is left of it, and stays until a run of the
    same name here finishes (one half trained does not replace it)."""
    return {name: r for name, r in saved_rows().items() if done_row(r) and not finished(ROOT / name)}


def board_now() -> dict:
    """`genlab compare --json` of the runs here, with the kept rows of earlier sittings (see
    [`kept_rows`]), written to bench/results/table.json. Each row of a run here also carries its
    resolved config (`"config"`, flattened), so that a later sitting can tell whether its
    preset has changed since without the run directory. Rows are ranked by FID within each way
    of showing samples (grey values first), as `genlab compare` ranks its groups, and `group`
    and `rank` are set again over all the rows."""
    here = [p for p in ROOT.iterdir() if (p / "meta.json").is_file()] if ROOT.is_dir() else []
    if here:
        board = json.loads(subprocess.run([BIN, "compare", str(ROOT), "--json"], check=True, capture_output=True,
                                          text=True).stdout)
    else:
        board = {"key": "fid", "notes": [], "runs": []}
    saved = saved_rows()
    for r in board["runs"]:
        r["config"] = config_of(pathlib.Path(r["path"]))
        old = saved.get(pathlib.Path(r["path"]).name)
        if r.get("parameters") is None and old and old.get("started_unix") == r.get("started_unix"):
            # `compare` counts parameters from a checkpoint, which a committed record lacks.
            r["parameters"] = old.get("parameters")
    kept = kept_rows()
    for r in kept.values():
        r["kept"] = "an earlier sitting's run: its run directory is not here; this row is its record"
        board["runs"].append(r)
    # `compare`'s notes on its groups name only the runs here: said again below of all the rows.
    board["notes"] = [n for n in board["notes"] if "their protocols differ in" not in n]
    if kept:
        board["notes"].append(f"kept from earlier sittings (no run directory here): {', '.join(sorted(kept))}")

    def shown(r):
        return ((r.get("eval") or {}).get("protocol") or {}).get("samples_shown_as")

    def protocol(r):
        """What `genlab compare` requires equal to rank two FIDs together (leaderboard.rs)."""
        e = r.get("eval") or {}
        if e.get("fid") is None:
            return None
        pr = e.get("protocol") or {}
        return (pr.get("samples_shown_as"), (pr.get("judge") or {}).get("sha256"), pr.get("samples"), pr.get("real"),
                pr.get("real_examples"), r.get("data"), r.get("shape"))

    # Groups of one protocol, the grey values' first (then by how many rows each holds).
    members = {}
    for r in board["runs"]:
        if protocol(r) is not None:
            members.setdefault(protocol(r), []).append(r)
    groups = sorted(members, key=lambda k: (k[0] != "values", -len(members[k])))
    if len(groups) > 1:
        fields = ["samples_shown_as", "judge", "samples", "real", "real_examples", "data", "shape"]
        differ = [f for i, f in enumerate(fields) if len({g[i] for g in groups}) > 1]
        kinds = f" ({' vs '.join(g[0] for g in groups)})" if differ == ["samples_shown_as"] else ""
        board["notes"].append(f"FIDs are ranked within each of {len(groups)} protocols only: they differ in "
                              f"{', '.join(differ)}{kinds}")

    def fid(r):
        return (r.get("eval") or {}).get("fid")

    board["runs"].sort(key=lambda r: (fid(r) is None, groups.index(protocol(r)) if protocol(r) else 0, fid(r) or 0.0))
    ranks = {}
    for r in board["runs"]:
        r["group"] = groups.index(protocol(r)) + 1 if protocol(r) else None
        if fid(r) is None:
            r["rank"] = None
        else:
            ranks[r["group"]] = r["rank"] = ranks.get(r["group"], 0) + 1
    TABLE.write_text(json.dumps(board, indent=1) + "\n")
    return board


def set_aside(run: pathlib.Path) -> pathlib.Path:
    """Move a run directory to bench/runs/table-stale/ (ignored by git), out of the table's way."""
    aside = pathlib.Path("bench/runs/table-stale") / f"{run.name}-{int(time.time())}"
    aside.parent.mkdir(parents=True, exist_ok=True)
    run.rename(aside)
    return aside


def main() -> None:
    if sys.argv[2:] == ["--print"]:
        # The table of the runs finished so far, without training anything.
        print_table(board_now())
        return
    named = sys.argv[2:]
    chosen = named or PRESETS
    kept = kept_rows()
    ROOT.mkdir(parents=True, exist_ok=True)
    log = pathlib.Path("bench/results/table-log.jsonl")
    for spec in chosen:
        family, preset = spec.split(":")
        run = ROOT / f"{family}-{preset}"
        if run.name in kept and not (run / "meta.json").is_file():
            keys = row_stale_keys(kept[run.name], family, preset)
            if keys is None:
                print(f"{spec}: the kept row carries no config: whether its preset changed since cannot be told",
                      file=sys.stderr)
            if keys:
                print(f"{spec}: the kept row is stale ({', '.join(keys)}); training again", file=sys.stderr)
            elif named:
                print(f"{spec}: kept from an earlier sitting; trained again as it is named", file=sys.stderr)
            else:
                print(f"{spec}: kept from an earlier sitting (bench/results/table.json)", file=sys.stderr)
                continue
        if (run / "meta.json").is_file() and (keys := stale_keys(config_of(run), family, preset)):
            aside = set_aside(run)
            print(f"{spec}: the preset changed since this run ({', '.join(keys)}); moved to {aside}",
                  file=sys.stderr)
        if (run / "meta.json").is_file() and not (run / "ckpt").is_dir():
            # A committed record (or a run of a fresh clone that never finished): no checkpoints.
            if not finished(run):
                print(f"{spec}: an unfinished run without checkpoints; training it from the start", file=sys.stderr)
                shutil.rmtree(run)
            elif named:
                print(f"{spec}: a committed record without checkpoints; trained again as it is named (the record "
                      f"moved to {set_aside(run)})", file=sys.stderr)
        started = time.monotonic()
        cpu0 = cpu_seconds()
        load0 = os.getloadavg()[0]
        if (run / "meta.json").is_file():
            done, planned = steps_of(run)
            if done < planned and not finished(run):
                print(f"{spec}: resuming at step {done} of {planned}", file=sys.stderr)
                subprocess.run([BIN, "train", family, "--out", str(run), "--resume", "--quiet"], check=True)
        else:
            print(f"{spec}: training", file=sys.stderr)
            subprocess.run([BIN, "train", family, "--preset", preset, "--out", str(run), "--seed", "0", "--quiet"],
                           check=True)
        trained = time.monotonic() - started
        train_cpu = cpu_seconds() - cpu0
        done, _ = steps_of(run)
        if not finished(run):
            print(f"{spec}: evaluating", file=sys.stderr)
            t = time.monotonic()
            subprocess.run([BIN, "eval", str(run), "--json"], check=True, stdout=subprocess.DEVNULL)
            with log.open("a") as f:
                # CPU seconds and the load average at start and end tell a quiet sitting from one
                # that shared the two cores (with a build, say): wall time alone cannot.
                f.write(json.dumps({"run": str(run), "train_wall_s": trained, "train_cpu_s": train_cpu,
                                    "eval_wall_s": time.monotonic() - t, "load_start": load0,
                                    "load_end": os.getloadavg()[0]}) + "\n")
        live = run / "eval" / f"step-{done:06d}-live.json"
        if averages(run) and not live.is_file():
            if (run / "ckpt").is_dir():
                # What the average buys: the same run's live weights on the same protocol.
                print(f"{spec}: evaluating the live weights", file=sys.stderr)
                subprocess.run([BIN, "eval", str(run), "--weights", "live", "--json"], check=True,
                               stdout=subprocess.DEVNULL)
            else:
                print(f"{spec}: no checkpoints here to evaluate the live weights of", file=sys.stderr)
    print_table(board_now())


def averages(run: pathlib.Path) -> bool:
    """Whether the run keeps an EMA of its weights (train.ema_decay > 0)."""
    return config_of(run).get("train.ema_decay", 0.0) > 0


def fmt(v, places):
    return "-" if v is None else f"{v:.{places}f}"


def print_table(board: dict) -> None:
    print("| family | preset | steps | samples | bound | NLL (nats) | bits/dim | FID | KID | precision | recall "
          "| train time |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    stale = set()
    for r in board["runs"]:
        e = r.get("eval") or {}
        name = pathlib.Path(r["path"]).name
        preset = name[len(r["family"]) + 1:] if name.startswith(r["family"] + "-") else "-"
        if preset != "-" and (keys := row_stale_keys(r, r["family"], preset)):
            stale.add(f"{r['family']}:{preset} ({', '.join(keys)})")
            preset += " (stale)"
        kind = f"{e.get('bound')} ({e.get('density')})" if e.get("bound") else "-"
        t = r.get("train_seconds")
        # FIDs compare only within one way of showing samples (binary draws or grey values).
        shown = ((e.get("protocol") or {}).get("samples_shown_as") or "-").replace("binary draws", "binary").replace("values", "grey")
        print(f"| {r['family']} | {preset} | {r['step']} | {shown} | {kind} | {fmt(e.get('nll_nats'), 2)} "
              f"| {fmt(e.get('bits_per_dim'), 4)} | {fmt(e.get('fid'), 2)} | {fmt(e.get('kid'), 3)} "
              f"| {fmt(e.get('precision'), 3)} | {fmt(e.get('recall'), 3)} | {'-' if t is None else f'{t / 60:.1f} min'} |")
    for n in board["notes"]:
        print(f"\nNote: {n}")
    if stale:
        print(f"\nStale: trained before their preset changed, trained again at their turn: {'; '.join(sorted(stale))}")
    print_averaging(board)


def print_averaging(board: dict) -> None:
    """What the EMA of the weights buys: each run that also has an eval of its live weights
    (`genlab eval RUN --weights live`, eval/step-N-live.json) beside its own (averaged) eval."""
    rows = []
    for r in board["runs"]:
        run, e = pathlib.Path(r["path"]), r.get("eval") or {}
        live_file = run / "eval" / f"step-{r['step']:06d}-live.json"
        if e.get("weights") != "ema" or not live_file.is_file():
            # A kept row's live eval went with its run directory.
            continue
        live = json.loads(live_file.read_text())
        name = run.name[len(r["family"]) + 1:]
        cells = " | ".join(f"{fmt(live.get(k), p)} | {fmt(e.get(k), p)}"
                           for k, p in [("fid", 2), ("precision", 3), ("recall", 3), ("coverage", 3)])
        rows.append(f"| {r['family']} | {name} | {cells} |")
    if rows:
        print("\n| family | preset | FID live | FID EMA | precision live | precision EMA | recall live "
              "| recall EMA | coverage live | coverage EMA |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
