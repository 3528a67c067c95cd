#!/usr/bin/env bash
# A/B speed of two genlab builds on the same machine: ROUNDS rounds of `genlab bench --json`,
# the two binaries interleaved (A, B, A, B, ...) so that the machine's drifting speed hits both
# alike. Writes each round's ms/step to OUT (JSON lines) and prints, per workload, the medians
# and the median of the per-round ratios B/A.
# Usage: bash bench/ab.sh BIN_A BIN_B ROUNDS OUT.jsonl
# (a build of an older commit: git worktree add /tmp/before COMMIT && (cd /tmp/before &&
#  cargo build -p genlab-cli), then BIN_A=/tmp/before/target/debug/genlab)
set -euo pipefail
a=$1; b=$2; rounds=$3; out=$4
: > "$out"
for r in $(seq 1 "$rounds"); do
  ta=$("$a" bench --json)
  tb=$("$b" bench --json)
  echo "{\"round\": $r, \"a\": $ta, \"b\": $tb}" | tee -a "$out" >&2
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for w in rows[0]["a"]:
    ratios = [r["b"][w] / r["a"][w] for r in rows]
    print(json.dumps({
        "workload": w, "rounds": len(rows),
        "a_ms": round(statistics.median(r["a"][w] for r in rows), 2),
        "b_ms": round(statistics.median(r["b"][w] for r in rows), 2),
        "median_ratio_b_over_a": round(statistics.median(ratios), 4),
        "min": round(min(ratios), 3), "max": round(max(ratios), 3)}))
PY
