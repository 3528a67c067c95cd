#!/usr/bin/env bash
# Steps per second of one family's training preset: a (K+1)-step `genlab train FAMILY --preset
# PRESET` and the trainer's own `steps_per_sec` logged at step K: data loading and model start-up
# not counted, and no pictures, held-out loss or checkpoint before it (the trainer draws those at
# the last step, K+1, after that line). Prints the number. Used by bench/ab-train.sh and
# `bench/run.sh likelihood-speed`.
# Usage: bash bench/steps-per-sec.sh BIN FAMILY PRESET K
set -euo pipefail
if (( $# != 4 )); then
  echo "usage: bash bench/steps-per-sec.sh BIN FAMILY PRESET K" >&2
  exit 2
fi
bin=$1; family=$2; preset=$3; k=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" train "$family" --preset "$preset" --out "$tmp/run" --quiet --steps "$((k + 1))" \
  --set "train.log_every=$k" --set "train.sample_every=$((k + 2))" \
  --set "train.checkpoint_every=$((k + 2))" >/dev/null || { echo "$bin failed to train" >&2; exit 1; }
python3 -c 'import json,sys; print(next(r["steps_per_sec"] for r in map(json.loads, open(sys.argv[1])) if r["step"] == int(sys.argv[2])))' \
  "$tmp/run/metrics.jsonl" "$k"
