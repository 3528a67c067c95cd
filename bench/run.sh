#!/usr/bin/env bash
# Benchmarks beside PyTorch on the same CPU, in the same run. Writes bench/results/*.json;
# bench/RESULTS.md quotes them with this command.
#   bash bench/run.sh speed [ROUNDS]   W1..W3 ms/step, genlab and PyTorch alternating, ROUNDS times
#   bash bench/run.sh vae [STEPS]      VAE on binarized Fashion-MNIST, test NLL by IWAE K=1000
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch numpy
fi
PY="$VENV/bin/python"
cargo build -q -p genlab-cli
BIN=target/debug/genlab
mkdir -p bench/results
THREADS=$(nproc)

case "${1:-speed}" in
speed)
  rounds=${2:-3}
  out=bench/results/speed.jsonl
  : > "$out"
  for r in $(seq "$rounds"); do
    g=$(RAYON_NUM_THREADS=$THREADS "$BIN" bench --json --steps 20)
    t=$("$PY" bench/torch_workloads.py --steps 20 --threads "$THREADS")
    echo "{\"round\": $r, \"genlab\": $g, \"torch\": $t}" | tee -a "$out"
  done
  "$PY" bench/summarize.py speed "$out"
  ;;
vae)
  steps=${2:-20000}
  rm -rf bench/runs/vae-fm
  start=$(date +%s)
  "$BIN" train vae --preset default --steps "$steps" --out bench/runs/vae-fm --quiet
  g_train=$(( $(date +%s) - start ))
  g=$("$BIN" eval bench/runs/vae-fm -k 1000 --json)
  t=$("$PY" bench/torch_vae_fmnist.py --steps "$steps" --k 1000 --threads "$THREADS")
  echo "{\"steps\": $steps, \"genlab_train_s\": $g_train, \"genlab\": $g, \"torch\": $t}" | tee bench/results/vae.json
  "$PY" bench/summarize.py vae bench/results/vae.json
  ;;
*)
  echo "usage: bash bench/run.sh speed|vae" >&2
  exit 2
  ;;
esac
