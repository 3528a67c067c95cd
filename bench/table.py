"""The cross-family table on Fashion-MNIST (issue 22): each family that samples images, trained
with its Fashion-MNIST preset, evaluated on the full protocol (`genlab eval RUN --json`: test
NLL where the family has a likelihood; 10,000 samples against the 10,000 test images on the
shipped judge), collected by `genlab compare --json` into bench/results/table.json and printed
as a Markdown table.

Resumable: a run whose training finished and that has an eval of its last step is skipped; a
run interrupted in training resumes from its newest checkpoint (`genlab train --resume`). So it
can run across several sittings; cheap presets go first. A run that averages its weights
(train.ema_decay > 0) is also evaluated with its live weights (eval/step-N-live.json), and the
table of what the average buys is printed after the main one. A run whose config differs from
what its preset resolves to now (`genlab train --print-config`) is stale: it is moved to
bench/runs/table-stale/ and trained again, and `--print` marks it until then.

    python3 bench/table.py BIN [FAMILY:PRESET ...]
    python3 bench/table.py BIN --print      # the table of the runs finished so far
"""

import json
import os
import pathlib
import resource
import subprocess
import sys
import time

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
    import tomllib

    meta = json.loads((run / "meta.json").read_text())
    planned = tomllib.loads((run / "config.toml").read_text())["train"]["steps"]
    return meta["last_step"], planned


def flat(table: dict, prefix: str = "") -> dict:
    """{"train.steps": 10000, ...} of a nested TOML table."""
    out = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def stale_keys(run: pathlib.Path, family: str, preset: str) -> list[str]:
    """The config keys whose value in the run's config.toml differs from what the preset resolves
    to now (`genlab train FAMILY --preset PRESET --seed 0 --print-config`): the preset, or a
    family default, changed after the run was trained (as BIN was built: presets are compiled
    in). `data.channels`, which training resolves from the data, and keys newer than the run
    are not compared. A folder named after no preset file has none."""
    import tomllib

    if not pathlib.Path(f"configs/{family}/{preset}.toml").is_file():
        return []
    printed = subprocess.run([BIN, "train", family, "--preset", preset, "--seed", "0", "--print-config"],
                             check=True, capture_output=True, text=True).stdout
    wanted = flat(tomllib.loads(printed))
    have = flat(tomllib.loads((run / "config.toml").read_text()))
    # A key newer than the run is not in its config.toml: its default keeps the old behaviour.
    return sorted(k for k, v in wanted.items() if k != "data.channels" and k in have and have[k] != v)


def cpu_seconds() -> float:
    """User plus system CPU seconds of every finished child process so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def board_now() -> dict:
    """`genlab compare --json` of the runs so far, also written to bench/results/table.json."""
    board = json.loads(subprocess.run([BIN, "compare", str(ROOT), "--json"], check=True, capture_output=True,
                                      text=True).stdout)
    pathlib.Path("bench/results/table.json").write_text(json.dumps(board, indent=1) + "\n")
    return board


def main() -> None:
    if sys.argv[2:] == ["--print"]:
        # The table of the runs finished so far, without training anything.
        print_table(board_now())
        return
    chosen = sys.argv[2:] or PRESETS
    ROOT.mkdir(parents=True, exist_ok=True)
    log = pathlib.Path("bench/results/table-log.jsonl")
    for spec in chosen:
        family, preset = spec.split(":")
        run = ROOT / f"{family}-{preset}"
        started = time.monotonic()
        cpu0 = cpu_seconds()
        load0 = os.getloadavg()[0]
        if (run / "meta.json").is_file() and (keys := stale_keys(run, family, preset)):
            aside = pathlib.Path("bench/runs/table-stale") / f"{run.name}-{int(time.time())}"
            aside.parent.mkdir(parents=True, exist_ok=True)
            print(f"{spec}: the preset changed since this run ({', '.join(keys)}); moved to {aside}",
                  file=sys.stderr)
            run.rename(aside)
        if (run / "meta.json").is_file():
            done, planned = steps_of(run)
            # Evaluated at its last step: finished, also when EM converged before `planned`.
            finished = (run / "eval" / f"step-{done:06d}.json").is_file()
            if done < planned and not finished:
                print(f"{spec}: resuming at step {done} of {planned}", file=sys.stderr)
                subprocess.run([BIN, "train", family, "--out", str(run), "--resume", "--quiet"], check=True)
        else:
            print(f"{spec}: training", file=sys.stderr)
            subprocess.run([BIN, "train", family, "--preset", preset, "--out", str(run), "--seed", "0", "--quiet"],
                           check=True)
        trained = time.monotonic() - started
        train_cpu = cpu_seconds() - cpu0
        done, _ = steps_of(run)
        if not (run / "eval" / f"step-{done:06d}.json").is_file():
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
            # What the average buys: the same run's live weights on the same protocol.
            print(f"{spec}: evaluating the live weights", file=sys.stderr)
            subprocess.run([BIN, "eval", str(run), "--weights", "live", "--json"], check=True,
                           stdout=subprocess.DEVNULL)
    print_table(board_now())


def averages(run: pathlib.Path) -> bool:
    """Whether the run keeps an EMA of its weights (train.ema_decay > 0)."""
    import tomllib

    return tomllib.loads((run / "config.toml").read_text())["train"].get("ema_decay", 0.0) > 0


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
        if preset != "-" and (keys := stale_keys(pathlib.Path(r["path"]), r["family"], preset)):
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
