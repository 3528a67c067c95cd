#!/usr/bin/env bash
# A/B speed of two genlab builds on one family's training preset: ROUNDS rounds, each the step
# rate of binary A and then of binary B (bench/steps-per-sec.sh: the trainer's own steps/s at
# step K of a K+1-step run), the order swapped every other round, so that the machine's drifting
# speed and the second-runner's penalty hit both alike. Writes each round to OUT
# (JSON lines) and prints the medians and the median of the per-round ratios B/A.
# Usage: bash bench/ab-train.sh BIN_A BIN_B ROUNDS FAMILY PRESET K OUT.jsonl
# (a build of an older commit: see bench/ab.sh)
set -euo pipefail
if (( $# != 7 )); then
  echo "usage: bash bench/ab-train.sh BIN_A BIN_B ROUNDS FAMILY PRESET K OUT.jsonl" >&2
  exit 2
fi
a=$1; b=$2; rounds=$3; family=$4; preset=$5; k=$6; out=$7
rate() { # BIN -> steps/s at step K
  bash "$(dirname "$0")/steps-per-sec.sh" "$1" "$family" "$preset" "$k"
}
: > "$out"
for r in $(seq 1 "$rounds"); do
  # `rate` runs in a subshell: its failure is caught here, not by set -e.
  if (( r % 2 )); then ra=$(rate "$a") && rb=$(rate "$b") || exit 1
  else rb=$(rate "$b") && ra=$(rate "$a") || exit 1; fi
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
