#!/usr/bin/env bash
# Steps per second of one family's training preset: a (K+1)-step `genlab train FAMILY --preset
# PRESET` and the trainer's own clock: its `steps_per_sec` at step i is i over the seconds since
# the loop started, so steps W+1..K took K/rate_K - W/rate_W seconds. Data loading and model
# start-up are not counted, nor (W > 0) the first W steps' warm-up; no pictures, held-out loss or
# checkpoint come before step K (the trainer draws those at the last step, K+1). W defaults to 0
# and must divide K. Prints the number. Used by bench/ab-train.sh and `bench/run.sh
# likelihood-speed`.
# Usage: bash bench/steps-per-sec.sh BIN FAMILY PRESET K [W]
set -euo pipefail
if (( $# != 4 && $# != 5 )); then
  echo "usage: bash bench/steps-per-sec.sh BIN FAMILY PRESET K [W]" >&2
  exit 2
fi
bin=$1; family=$2; preset=$3; k=$4; w=${5:-0}
if (( w < 0 || w >= k || (w > 0 && k % w != 0) )); then
  echo "W must be 0, or below K and divide it (K=$k, W=$w)" >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" train "$family" --preset "$preset" --out "$tmp/run" --quiet --steps "$((k + 1))" \
  --set "train.log_every=$(( w > 0 ? w : k ))" --set "train.sample_every=$((k + 2))" \
  --set "train.checkpoint_every=$((k + 2))" >/dev/null || { echo "$bin failed to train" >&2; exit 1; }
python3 - "$tmp/run/metrics.jsonl" "$k" "$w" <<'PY'
import json, sys
rate = {r["step"]: r["steps_per_sec"] for r in map(json.loads, open(sys.argv[1]))}
k, w = int(sys.argv[2]), int(sys.argv[3])
seconds = k / rate[k] - (w / rate[w] if w else 0.0)
print((k - w) / seconds)
PY
