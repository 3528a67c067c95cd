#!/usr/bin/env bash
# Random SIGKILL soak (issue 19): a run killed at random moments and resumed until it is done
# must end byte-identical to a straight run of the same command line.
#   bash bench/soak.sh [N]     N rounds (default 20), alternating the workloads below
# Each round starts a training, SIGKILLs it after a random delay (up to half the straight run's
# time T, the fastest of three, so that it is killed; the n-th attempt up to n T / 2, so that a
# loaded machine still finishes), and repeats the same command line with --resume appended (each attempt again under a
# random SIGKILL) until an attempt exits 0; then compares the run directory with the straight
# run's: the same files, every file byte-identical apart from the timing fields (steps_per_sec
# in metrics.jsonl, started_unix in meta.json). An attempt that exits other than by the kill or
# with success is an error. Prints one line per round and a summary; exits 1 on any mismatch
# or error.
#   GENLAB_BIN  binary to test (default target/debug/genlab, built first)
#   SOAK_SEED   seed of the kill delays (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
BIN=${GENLAB_BIN:-target/debug/genlab}
[ -n "${GENLAB_BIN:-}" ] || cargo build -q -p genlab-cli
BIN=$(realpath "$BIN")
RANDOM=${SOAK_SEED:-1}
MAX_ATTEMPTS=100
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM

# Cadences that do not divide each other (a checkpoint falls between metrics lines) and a short
# keep_last, so that kills land in every kind of write and in the pruning.
CADENCE=(--steps 150 --quiet --set train.log_every=3 --set train.sample_every=5
  --set train.checkpoint_every=7 --set train.keep_last=2)
WORKLOADS=(
  "vae --preset tiny"
  "gan --preset tiny --data toy:ring8 --set data.scale=\"unit\" --set train.ema_decay=0.9"
)

# A file's contents with the timing fields taken out.
normalized() {
  case "$1" in
  */metrics.jsonl) sed -E 's/,"steps_per_sec":[^,}]*//' "$1" ;;
  */meta.json) sed -E '/"started_unix"/d' "$1" ;;
  *) cat "$1" ;;
  esac
}

# Prints what differs between run directories $1 and $2; fails if anything does.
same_run() {
  local a=$1 b=$2 bad=0 f
  if ! diff <(cd "$a" && find . | sort) <(cd "$b" && find . | sort) >"$WORK/listing"; then
    sed 's/^/    listing: /' "$WORK/listing"
    bad=1
  fi
  while read -r f; do
    [ -f "$b/$f" ] || continue
    cmp -s <(normalized "$a/$f") <(normalized "$b/$f") || {
      echo "    differs: $f"
      bad=1
    }
  done < <(cd "$a" && find . -type f | sort)
  return $bad
}

now_ms() { date +%s%3N; }

runs=0 kills=0 mismatches=0 errors=0
for w in "${!WORKLOADS[@]}"; do
  eval "args=(${WORKLOADS[$w]})"
  took[$w]=
  # Every run is `--out run` (in a folder of its own): pictures' titles name the run.
  for out in "straight-$w" timing timing; do
    rm -rf "$WORK/timing"
    mkdir -p "$WORK/$out"
    start=$(now_ms)
    (cd "$WORK/$out" && "$BIN" train "${args[@]}" --out run "${CADENCE[@]}" 2>/dev/null)
    t=$(($(now_ms) - start))
    [ -n "${took[$w]}" ] && [ "${took[$w]}" -le $t ] || took[$w]=$t
  done
  echo "workload $w: ${WORKLOADS[$w]} ${CADENCE[*]}; straight run ${took[$w]} ms (fastest of 3)"
done

for round in $(seq "$N"); do
  w=$(((round - 1) % ${#WORKLOADS[@]}))
  eval "args=(${WORKLOADS[$w]})"
  rm -rf "$WORK/run"
  resume=() round_kills=0 outcome=""
  for attempt in $(seq "$MAX_ATTEMPTS"); do
    span=$((attempt * ${took[$w]} / 2))
    delay=$((RANDOM * span / 32768))
    (cd "$WORK" && exec "$BIN" train "${args[@]}" --out run "${CADENCE[@]}" "${resume[@]}" \
      2>>"$WORK/stderr") &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    # (braces: bash's "Killed" notice goes to the null device)
    { wait "$pid" || rc=$?; } 2>/dev/null
    resume=(--resume)
    case $rc in
    0) outcome=done && break ;;
    137) round_kills=$((round_kills + 1)) ;;
    *) outcome="error (exit $rc): $(tail -n 3 "$WORK/stderr" | tr '\n' ' ')" && break ;;
    esac
  done
  : >"$WORK/stderr"
  runs=$((runs + 1))
  kills=$((kills + round_kills))
  if [ "$outcome" != done ]; then
    errors=$((errors + 1))
    echo "round $round (workload $w): ${outcome:-no attempt finished in $MAX_ATTEMPTS}"
  elif same_run "$WORK/straight-$w/run" "$WORK/run" >"$WORK/diff"; then
    echo "round $round (workload $w): $round_kills kills, identical"
  else
    mismatches=$((mismatches + 1))
    echo "round $round (workload $w): $round_kills kills, MISMATCH"
    cat "$WORK/diff"
  fi
done
echo "soak: $runs runs, $kills kills, $mismatches mismatches, $errors errors"
[ $mismatches -eq 0 ] && [ $errors -eq 0 ]
