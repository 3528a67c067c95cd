#!/usr/bin/env bash
# Data-path timing, before vs after: median of ROUNDS loads (`genlab data info --json`, its
# in-process `load_ms`) of Fashion-MNIST's training split and of a 10,000-row CSV, the two
# binaries alternating so that machine noise hits both alike.
#   bash bench/data_load.sh BIN_BEFORE BIN_AFTER [ROUNDS=5]
set -euo pipefail
A=$(realpath "$1") B=$(realpath "$2") ROUNDS=${3:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK/table.csv" <<'PY'
import random, sys
random.seed(4)
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"x{j}" for j in range(16)) + ",label\n")
    for i in range(10_000):
        f.write(",".join(f"{random.gauss(0, 3):.6f}" for _ in range(16)) + f",c{i % 5}\n")
PY
load_ms() { (cd "$WORK" && "$1" data info "$2" --json --out grid.png 2>/dev/null) |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["load_ms"])'; }
for spec in fashion-mnist "csv:$WORK/table.csv"; do
  a=() b=()
  for _ in $(seq "$ROUNDS"); do
    a+=("$(load_ms "$A" "$spec")")
    b+=("$(load_ms "$B" "$spec")")
  done
  python3 - "$spec" "${a[*]}" "${b[*]}" <<'PY'
import statistics, sys
spec, a, b = sys.argv[1], [float(v) for v in sys.argv[2].split()], [float(v) for v in sys.argv[3].split()]
ma, mb = statistics.median(a), statistics.median(b)
name = "csv 10k x 16" if spec.startswith("csv:") else spec
print(f"{name:<16} before {ma:8.1f} ms  after {mb:8.1f} ms  after/before {mb / ma:.3f}")
PY
done
