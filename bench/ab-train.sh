#!/usr/bin/env bash
# A/B speed of two genlab builds on one family's training preset: ROUNDS rounds, each a K-step
# `genlab train FAMILY --preset PRESET` with binary A and then with binary B (the order swapped
# every other round, so that the machine's drifting speed and the second-runner's penalty hit both
# alike). The step rate is the trainer's own `steps_per_sec` at step K (data loading and model
# start-up not counted; no pictures or checkpoints before step K). Writes each round to OUT (JSON
# lines) and prints the medians and the median of the per-round ratios B/A of the step rate.
# Usage: bash bench/ab-train.sh BIN_A BIN_B ROUNDS FAMILY PRESET K OUT.jsonl
# (a build of an older commit: see bench/ab.sh)
set -euo pipefail
a=$1; b=$2; rounds=$3; family=$4; preset=$5; k=$6; out=$7
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rate() { # BIN -> steps/s at step K
  rm -rf "$tmp/run"
  "$1" train "$family" --preset "$preset" --out "$tmp/run" --quiet --steps "$k" \
    --set "train.log_every=$k" --set "train.sample_every=$((k + 1))" \
    --set "train.checkpoint_every=$((k + 1))" >/dev/null
  python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]["steps_per_sec"])' \
    "$tmp/run/metrics.jsonl"
}
: > "$out"
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then ra=$(rate "$a"); rb=$(rate "$b"); else rb=$(rate "$b"); ra=$(rate "$a"); fi
  echo "{\"round\": $r, \"family\": \"$family\", \"preset\": \"$preset\", \"steps\": $k, \"a_steps_per_sec\": $ra, \"b_steps_per_sec\": $rb}" | tee -a "$out" >&2
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ratios = [r["b_steps_per_sec"] / r["a_steps_per_sec"] for r in rows]
print(json.dumps({
    "family": rows[0]["family"], "preset": rows[0]["preset"], "rounds": len(rows),
    "a_steps_per_sec": round(statistics.median(r["a_steps_per_sec"] for r in rows), 3),
    "b_steps_per_sec": round(statistics.median(r["b_steps_per_sec"] for r in rows), 3),
    "median_speedup_b_over_a": round(statistics.median(ratios), 3),
    "min": round(min(ratios), 3), "max": round(max(ratios), 3)}))
PY
