#!/usr/bin/env bash
# Benchmarks beside PyTorch on the same CPU, in the same run. Writes bench/results/*.json;
# bench/RESULTS.md quotes them with this command.
#   bash bench/run.sh speed [ROUNDS]   W1..W3 ms/step, genlab and PyTorch alternating, ROUNDS times
#   bash bench/run.sh vae [STEPS]      VAE on binarized Fashion-MNIST, test NLL by IWAE K=1000
#   bash bench/run.sh modes [FAMILY..] GAN mode coverage on toy:ring8 and toy:grid25
#   bash bench/run.sh conditional      cgan/acgan samples on shapes judged by a classifier
#   bash bench/run.sh likelihood FAMILY[:PRESET] STEPS
#                                      test NLL and bits/dim on Fashion-MNIST, beside PyTorch
#   bash bench/run.sh likelihood-speed [ROUNDS] [K] [FAMILY:PRESET..]
#                                      ms per training step of the likelihood presets beside their
#                                      PyTorch mirrors (made, pixelcnn, realnvp, nade, gated, ++, maf, glow)
#   bash bench/run.sh ood RUN NAME     bits/dim histogram: Fashion-MNIST test against shapes
#   bash bench/run.sh gans [DCGAN_STEPS] [WGAN_STEPS]
#                                      dcgan and wgan-gp on Fashion-MNIST beside PyTorch: sample grids
#   bash bench/run.sh sampling [N]     N samples (default 100) of each raster model: cached against
#                                      the plain sampler and PyTorch's, beside 30 training steps
#   bash bench/run.sh table [FAMILY:PRESET..]
#                                      the cross-family table on Fashion-MNIST (resumable)
#   bash bench/run.sh presets [K]      run time of every preset: K steps timed, the rest projected
#   bash bench/run.sh translation [FAMILY:PRESET[:STEPS]..]
#                                      pix2pix, its L1 ablation, srresnet and cyclegan, scored
#   bash bench/run.sh edges-ceiling    the judge's network trained on the edge maps of edges:fashion-mnist
#                                      alone: how much of the class pix2pix's input holds
#   bash bench/run.sh translation-speed [ROUNDS]
#                                      pix2pix seconds per step beside PyTorch's
#   bash bench/run.sh completion [N]   GAN completion by masked inversion on the hole task's first N
#                                      test images, beside the context encoder on the same images
#   bash bench/run.sh studio [ROUNDS]  the studio's latent decode round trip, idle and beside a job
#   bash bench/run.sh prdc             precision/recall/density/coverage against prdc's README example
#   bash bench/run.sh judge            retrain the shipped Fashion-MNIST judge; its accuracy and hash
#   bash bench/run.sh classical [ITERS] GMM (4 covariance types, PCA-50 Fashion-MNIST, ITERS EM
#                                      iterations, default $ITERS or 50) and RBM beside scikit-learn
set -euo pipefail
cd "$(dirname "$0")/.."
# Run times of the presets and the precision/recall anchor need no PyTorch.
case "${1:-}" in
table)
  # Train (or resume), evaluate on the full protocol and tabulate every family that samples
  # Fashion-MNIST images (bench/table.py); skips finished runs, so it spans sittings.
  BIN=${GENLAB_BIN:-target/debug/genlab}
  [ -n "${GENLAB_BIN:-}" ] || cargo build -q -p genlab-cli
  shift
  exec python3 bench/table.py "$BIN" "$@"
  ;;
completion)
  # GAN completion by masked inversion (`genlab complete --mask center --json`: the centred
  # 14x14 square of the context encoder's `hole:fashion-mnist` task, 2 starts of 500 Adam steps,
  # the better fit of the known part kept) on the first N test images, beside the context
  # encoder's translations of the same N (evaluated in a copy of its run, so that its full
  # evaluation stays). GAN runs come from `bench/run.sh table` and `bench/run.sh gans`.
  BIN=${GENLAB_BIN:-target/debug/genlab}
  [ -n "${GENLAB_BIN:-}" ] || cargo build -q -p genlab-cli
  n=${2:-1000}
  out=bench/results/completion.jsonl
  : > "$out"
  mkdir -p docs/img/translation
  for run in bench/runs/table/gan-fashion bench/runs/table/wgan-gp-fashion bench/runs/table/dcgan-default bench/runs/dcgan-fashion-0 bench/runs/context-encoder-default; do
    if [ ! -d "$run/ckpt" ]; then
      # A table run's committed record has no checkpoints: train it here to complete with it.
      echo "skipping $run: no checkpoints here (bench/run.sh table FAMILY:PRESET or gans trains it)" >&2
      continue
    fi
    start=$SECONDS
    if [ "$(basename "$run")" = context-encoder-default ]; then
      tmp=$(mktemp -d)
      cp -r "$run" "$tmp/run"
      s=$("$BIN" eval "$tmp/run" -n "$n" --samples 0 --json)
      rm -rf "$tmp"
    else
      s=$("$BIN" complete "$run" --mask center -n "$n" --samples 2 --json --force \
        --out "docs/img/translation/completion-$(basename "$run").png")
    fi
    echo "{\"run\": \"$run\", \"wall_s\": $((SECONDS - start)), \"scores\": $s}" | tee -a "$out"
  done
  exit 0
  ;;
presets | prdc | judge | studio)
  BIN=${GENLAB_BIN:-target/debug/genlab}
  [ -n "${GENLAB_BIN:-}" ] || cargo build -q -p genlab-cli
  [ "$1" = studio ] && exec python3 bench/studio_decode.py "$BIN" "${2:-200}"
  [ "$1" = presets ] && exec python3 bench/presets.py "$BIN" "${2:-40}"
  [ "$1" = prdc ] && exec python3 bench/prdc_anchor.py "$BIN"
  # Retrain the shipped Fashion-MNIST judge with its recorded command (about 25 min) and
  # compare: its test accuracy, and its weights' hash against judges/fashion-mnist/judge.json.
  BIN=$(realpath "$BIN")
  dir=$(mktemp -d)
  start=$SECONDS
  (cd "$dir" && "$BIN" train classifier --out fashion-mnist --seed 0 --quiet)
  echo "trained in $((SECONDS - start)) s"
  acc=$("$BIN" eval "$dir/fashion-mnist" --json --samples 0 | python3 -c "import json,sys; print(json.load(sys.stdin)['accuracy'])")
  sha=$(sha256sum "$(ls -d "$dir"/fashion-mnist/ckpt/step-* | tail -1)/model.safetensors" | cut -d' ' -f1)
  echo "retrained judge: test accuracy $acc, weights sha256 $sha"
  grep -E '"(test_accuracy|sha256)"' judges/fashion-mnist/judge.json
  exit 0
  ;;
esac
VENV=bench/.venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch numpy
fi
PY="$VENV/bin/python"
# GENLAB_BIN: a copy of the binary, so that a long benchmark survives rebuilds.
BIN=${GENLAB_BIN:-target/debug/genlab}
[ -n "${GENLAB_BIN:-}" ] || cargo build -q -p genlab-cli
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
classical)
  iters=${2:-${ITERS:-50}}
  if ! "$PY" -c "import sklearn" 2>/dev/null; then
    "$VENV/bin/pip" install -q scikit-learn
  fi
  if [ ! -f bench/data/fmnist-pca50.npy ]; then
    "$PY" bench/sklearn_classical.py prep --out bench/data
  fi
  out=bench/results/classical-gmm.jsonl
  : > "$out"
  for cov in full diag tied spherical; do
    sets=fmnist-pca50
    case $cov in full|diag) sets="fmnist-pca50 fmnist-pca50-x4" ;; esac
    for x in $sets; do
      s=$("$PY" bench/sklearn_classical.py gmm --x "bench/data/$x.npy" \
        --means bench/data/init-means-k10.npy --covariance "$cov" --iters "$iters" --reg 1e-6)
      g=$(RAYON_NUM_THREADS=$THREADS "$BIN" bench gmm --x "bench/data/$x.npy" \
        --means bench/data/init-means-k10.npy --covariance "$cov" --iters "$iters" --reg 1e-6 --json)
      echo "{\"sklearn\": $s, \"genlab\": $g}" | tee -a "$out"
    done
  done
  "$PY" bench/summarize.py gmm "$out"
  out=bench/results/classical-rbm.jsonl
  : > "$out"
  s=$("$PY" bench/sklearn_classical.py rbm --train bench/data/fmnist-bin-train.npy \
    --test bench/data/fmnist-bin-test.npy --hidden 500 --batch 100 --epochs 2 --lr 0.01 --seed 0)
  g=$(RAYON_NUM_THREADS=$THREADS "$BIN" bench rbm --train bench/data/fmnist-bin-train.npy \
    --test bench/data/fmnist-bin-test.npy --hidden 500 --batch 100 --epochs 2 --lr 0.01 --json)
  echo "{\"sklearn\": $s, \"genlab\": $g}" | tee -a "$out"
  echo
  "$PY" bench/summarize.py rbm "$out"
  ;;
modes)
  # Mode coverage of every GAN family's default config on toy:ring8 and toy:grid25
  # (genlab eval's VEEGAN/PacGAN protocol: 2,500 samples, 3 sigma, seed 0).
  # `modes FAMILY...` runs only those families (default preset on both sets) and appends.
  out=bench/results/modes.jsonl
  shift
  if [ $# -eq 0 ]; then
    : > "$out"
    specs=("gan default" "gan grid25" "lsgan default" "lsgan default toy:grid25"
      "wgan default" "wgan default toy:grid25")
    set -- wgan-gp sngan cgan acgan infogan bigan
  else
    specs=()
  fi
  for f in "$@"; do specs+=("$f default" "$f default toy:grid25"); done
  for spec in "${specs[@]}"; do
    set -- $spec
    dir=$(mktemp -d)
    "$BIN" train "$1" --preset "$2" ${3:+--data "$3"} --out "$dir/run" --quiet
    e=$("$BIN" eval "$dir/run" --json)
    echo "{\"family\": \"$1\", \"preset\": \"$2\", \"eval\": $e}" | tee -a "$out"
    rm -rf "$dir"
  done
  "$PY" bench/summarize.py modes "$out"
  ;;
conditional)
  # Do conditional GANs draw the class they are asked for? Two judges classify 250 samples per
  # class of cgan and acgan (their `shapes` presets, seed 0): a class-gaussian classifier and a
  # CNN, the auxiliary classifier head of a separate acgan run (seed 1). Each judge's accuracy
  # on the real test shapes is recorded beside.
  out=bench/results/conditional.jsonl
  : > "$out"
  dir=$(mktemp -d)
  "$BIN" train class-gaussian --data shapes --out "$dir/gauss" --quiet
  "$BIN" train acgan --preset shapes --seed 1 --out "$dir/cnn" --quiet
  for j in gauss cnn; do
    e=$("$BIN" eval "$dir/$j" --json)
    echo "{\"judge\": \"$j\", \"eval\": $e}" | tee -a "$out"
  done
  for f in cgan acgan; do
    "$BIN" train "$f" --preset shapes --seed 0 --out "$dir/$f" --quiet
    for j in gauss cnn; do
      e=$("$BIN" eval "$dir/$f" --json --classifier "$dir/$j")
      echo "{\"family\": \"$f\", \"preset\": \"shapes\", \"judge\": \"$j\", \"eval\": $e}" | tee -a "$out"
    done
  done
  rm -rf "$dir"
  ;;
likelihood)
  # Exact test log-likelihood on Fashion-MNIST: `bash bench/run.sh likelihood FAMILY[:PRESET]
  # STEPS` trains genlab's preset for STEPS steps, evaluates the test set, and for the presets
  # bench/torch_likelihood.py mirrors trains the PyTorch model of the same architecture and
  # budget beside it.
  spec=${2:?usage: bash bench/run.sh likelihood FAMILY[:PRESET] STEPS}
  steps=${3:?usage: bash bench/run.sh likelihood FAMILY[:PRESET] STEPS}
  family=${spec%%:*}
  preset=default
  [ "$spec" != "$family" ] && preset=${spec#*:}
  out=bench/results/likelihood.jsonl
  run=bench/runs/$family-$preset
  rm -rf "$run"
  start=$(date +%s)
  "$BIN" train "$family" --preset "$preset" --steps "$steps" --out "$run" --quiet
  g_train=$(( $(date +%s) - start ))
  # Seconds per training step from the trainer's steps/s on the last metrics line (the run's
  # average so far), which leaves out start-up and the final sample grid (an autoregressive
  # grid can take minutes).
  g_sps=$("$PY" -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print(f"{1 / r[-1]["steps_per_sec"]:.4f}" if r else "null")' "$run/metrics.jsonl")
  g=$("$BIN" eval "$run" --json)
  t=null
  # The PyTorch references mirror these presets only (bench/torch_likelihood.py).
  case $family:$preset in made:default|pixelcnn:default|realnvp:fashion|nade:default|gated-pixelcnn:default|pixelcnn++:default|maf:fashion|glow:fashion)
    t=$("$PY" bench/torch_likelihood.py "$family" --steps "$steps" --threads "$THREADS") ;;
  esac
  echo "{\"family\": \"$family\", \"preset\": \"$preset\", \"steps\": $steps, \"genlab_train_s\": $g_train, \"genlab_s_per_step\": $g_sps, \"genlab\": $g, \"torch\": $t}" | tee -a "$out"
  "$PY" bench/summarize.py likelihood "$out"
  ;;
likelihood-speed)
  # Seconds per training step of the exact-likelihood presets beside their PyTorch mirrors
  # (bench/torch_likelihood.py, the same networks, batch and optimiser; --test 0: steps only):
  # ROUNDS rounds of K steps, genlab (bench/steps-per-sec.sh) and PyTorch back to back, the order
  # swapped every other round; the ratio is taken per round. Both leave out the first W = K/8
  # steps (their warm-up: PyTorch creates its kernels at its first steps).
  #   bash bench/run.sh likelihood-speed [ROUNDS] [K] [FAMILY:PRESET..]   (K a multiple of 8)
  rounds=${2:-3}
  k=${3:-40}
  w=$(( k / 8 ))
  shift $(( $# < 3 ? $# : 3 ))
  specs=("$@")
  (( ${#specs[@]} )) || specs=(made:default pixelcnn:default realnvp:fashion nade:default gated-pixelcnn:default pixelcnn++:default maf:fashion glow:fashion)
  out=bench/results/likelihood-speed.jsonl
  : > "$out"
  for spec in "${specs[@]}"; do
    family=${spec%%:*}
    preset=${spec#*:}
    for r in $(seq "$rounds"); do
      torch_ms() { "$PY" bench/torch_likelihood.py "$family" --steps "$k" --warmup "$w" --test 0 --threads "$THREADS" |
        "$PY" -c 'import json,sys; print(json.load(sys.stdin)["ms_per_step"])'; }
      if (( r % 2 )); then
        sps=$(RAYON_NUM_THREADS=$THREADS bash bench/steps-per-sec.sh "$BIN" "$family" "$preset" "$k" "$w")
        t=$(torch_ms)
      else
        t=$(torch_ms)
        sps=$(RAYON_NUM_THREADS=$THREADS bash bench/steps-per-sec.sh "$BIN" "$family" "$preset" "$k" "$w")
      fi
      echo "{\"round\": $r, \"family\": \"$family\", \"preset\": \"$preset\", \"steps\": $k, \"warmup\": $w, \"genlab_ms_per_step\": $("$PY" -c "print(1000 / $sps)"), \"torch_ms_per_step\": $t}" | tee -a "$out"
    done
  done
  "$PY" bench/summarize.py likelihood-speed "$out"
  ;;
gans)
  # DCGAN (preset default) and WGAN-GP (preset fashion) on Fashion-MNIST, each beside the PyTorch
  # model of the same networks, losses, optimiser and steps (bench/torch_gan_fmnist.py), for
  # SEEDS seeds each side. genlab's runs are scored by `genlab eval` (the full protocol: 10,000
  # samples against the 10,000 test images on the shipped judge); PyTorch's 10,000 samples are
  # exported as 8-bit IDX and scored by `genlab features` + `genlab score` against the same test
  # features. Writes docs/img/gan/fashion-{dcgan,wgan-gp}-{genlab,pytorch}.png (seed 0) and
  # bench/results/gans.jsonl.
  #   bash bench/run.sh gans [DCGAN_STEPS] [WGAN_STEPS] [SEEDS]
  if ! "$PY" -c "import matplotlib" 2>/dev/null; then "$VENV/bin/pip" install -q matplotlib; fi
  out=bench/results/gans.jsonl
  : > "$out"
  mkdir -p docs/img/gan
  scratch=$(mktemp -d)
  "$BIN" features fashion-mnist --out "$scratch/real.npy" 2>/dev/null
  for spec in dcgan:default:${2:-3000} wgan-gp:fashion:${3:-5000}; do
    IFS=: read -r family preset steps <<< "$spec"
    for seed in $(seq 0 $(( ${4:-3} - 1 ))); do
      run=bench/runs/$family-fashion-$seed
      rm -rf "$run"
      "$BIN" train "$family" --preset "$preset" --steps "$steps" --out "$run" --seed "$seed" --quiet
      g_png=/dev/null
      t_png=$scratch/grid.png
      if [ "$seed" = 0 ]; then
        "$BIN" sample "$run" -n 64 --out "docs/img/gan/fashion-$family-genlab.png"
        t_png=docs/img/gan/fashion-$family-pytorch.png
      fi
      g=$(tail -n 1 "$run/metrics.jsonl")
      ge=$("$BIN" eval "$run" --json 2>/dev/null)
      rm -rf "$scratch/torch"
      t=$("$PY" bench/torch_gan_fmnist.py "$family" --steps "$steps" --threads "$THREADS" \
        --seed "$seed" --out "$t_png" --idx-out "$scratch/torch")
      "$BIN" features "idx:$scratch/torch" --judge fashion-mnist --out "$scratch/fake.npy" 2>/dev/null
      te=$("$BIN" score --real "$scratch/real.npy" --fake "$scratch/fake.npy" --json)
      echo "{\"family\": \"$family\", \"preset\": \"$preset\", \"steps\": $steps, \"seed\": $seed, \"genlab_last\": $g, \"genlab_eval\": $ge, \"torch\": $t, \"torch_score\": $te}" | tee -a "$out"
    done
  done
  rm -rf "$scratch"
  "$PY" bench/summarize.py gans "$out"
  ;;
sampling)
  # Fast generation (issue 21): N samples of each raster model's default preset by the cached
  # sampler and by the plain one (GENLAB_PLAIN_SAMPLER=1), whose PNGs must be identical byte for
  # byte; the time of 30 training steps of the same run (the trainer's steps/s); and for
  # pixelcnn and made, PyTorch drawing from the same network (bench/torch_sampling.py).
  # Sample times are wall times of `genlab sample` (start-up and loading included).
  n=${2:-100}
  out=bench/results/sampling.jsonl
  : > "$out"
  for family in pixelcnn gated-pixelcnn pixelcnn++ made fvsbn; do
    run=bench/runs/sampling-$family
    rm -rf "$run"
    "$BIN" train "$family" --steps 30 --out "$run" --seed 0 --quiet
    train30=$("$PY" -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print(30 / r[-1]["steps_per_sec"])' "$run/metrics.jsonl")
    t0=$(date +%s.%N)
    "$BIN" sample "$run" -n "$n" --seed 1 --out "$run/cached.png" 2>/dev/null >/dev/null
    t1=$(date +%s.%N)
    GENLAB_PLAIN_SAMPLER=1 "$BIN" sample "$run" -n "$n" --seed 1 --out "$run/plain.png" 2>/dev/null >/dev/null
    t2=$(date +%s.%N)
    same=false
    cmp -s "$run/cached.png" "$run/plain.png" && same=true
    t=null
    case $family in pixelcnn | made) t=$("$PY" bench/torch_sampling.py "$family" -n "$n" --threads "$THREADS") ;; esac
    echo "{\"family\": \"$family\", \"n\": $n, \"train30_s\": $train30, \"cached_s\": $(python3 -c "print($t1 - $t0)"), \"plain_s\": $(python3 -c "print($t2 - $t1)"), \"identical\": $same, \"torch\": $t}" | tee -a "$out"
  done
  "$PY" bench/summarize.py sampling "$out"
  ;;
ood)
  # Does a likelihood model trained on Fashion-MNIST give other data lower likelihood?
  # `bash bench/run.sh ood RUN NAME` scores the run's test set and the test set of `shapes`,
  # writes docs/img/likelihood/ood-NAME.png and bench/results/ood-NAME.json.
  run=${2:?usage: bash bench/run.sh ood RUN NAME}
  name=${3:?usage: bash bench/run.sh ood RUN NAME}
  if ! "$PY" -c "import matplotlib" 2>/dev/null; then "$VENV/bin/pip" install -q matplotlib; fi
  dir=$(mktemp -d)
  "$BIN" eval "$run" --json --scores "$dir/in.csv" > /dev/null
  "$BIN" eval "$run" --json --data shapes --scores "$dir/shapes.csv" > /dev/null
  mkdir -p docs/img/likelihood
  "$PY" bench/ood.py "docs/img/likelihood/ood-$name.png" "$name trained on Fashion-MNIST" \
    "Fashion-MNIST test=$dir/in.csv" "shapes (never seen)=$dir/shapes.csv" | tee "bench/results/ood-$name.json"
  rm -rf "$dir"
  ;;
edges-ceiling)
  # The class information left in the inputs of edges:fashion-mnist: the shipped judge's
  # network and preset (`genlab train classifier`, seed 0) trained on the edge maps alone
  # (bench/edges_idx.py writes them as IDX files, genlab's Sobel rule), scored on the 10,000
  # test edge maps. Its accuracy bounds what any translator's outputs can be judged right from
  # those inputs.
  dir=bench/data/edges-fashion-mnist
  [ -f "$dir/t10k-labels-idx1-ubyte.gz" ] || "$PY" bench/edges_idx.py "$dir"
  run=bench/runs/edges-classifier
  if [ ! -f "$run/meta.json" ]; then
    "$BIN" train classifier --data "idx:$dir" --out "$run" --seed 0 --quiet
  fi
  "$BIN" eval "$run" --json --samples 0 > bench/results/edges-ceiling.json
  python3 -c "import json; print('classifier on the edge maps alone: test accuracy', json.load(open('bench/results/edges-ceiling.json'))['accuracy'])"
  ;;
translation-speed)
  # pix2pix (preset default: 28x28 edges -> Fashion-MNIST, batch 64) seconds per step beside the
  # PyTorch model of the same networks and losses (bench/torch_pix2pix.py), ROUNDS alternating
  # rounds: genlab's rate over steps 11-40 of a 40-step run, PyTorch's over 30 steps after 5.
  #   bash bench/run.sh translation-speed [ROUNDS]
  out=bench/results/translation-speed.jsonl
  : > "$out"
  for round in $(seq "${2:-3}"); do
    dir=$(mktemp -d)
    RAYON_NUM_THREADS=$THREADS "$BIN" train pix2pix --out "$dir/run" --steps 40 --quiet \
      --set train.log_every=10 --set train.sample_every=1000 --set train.checkpoint_every=1000
    g=$(python3 -c "import json,sys; r=[json.loads(l)['steps_per_sec'] for l in open(sys.argv[1])][1:]; print(len(r)/sum(r))" "$dir/run/metrics.jsonl")
    rm -rf "$dir"
    t=$("$PY" bench/torch_pix2pix.py --steps 30 --threads "$THREADS")
    echo "{\"round\": $round, \"genlab_sec_per_step\": $g, \"torch\": $t}" | tee -a "$out"
  done
  python3 -c "
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
g = st.median(r['genlab_sec_per_step'] for r in rows); t = st.median(r['torch']['sec_per_step'] for r in rows)
print(f'pix2pix step (median of {len(rows)}): genlab {g:.3f} s, PyTorch {t:.3f} s, ratio {g / t:.2f}')" "$out"
  ;;
translation)
  # The translators on Fashion-MNIST tasks, each with its preset's budget (or FAMILY:PRESET:STEPS),
  # evaluated on the test pairs of its task (l1, psnr, ssim beside the baselines; FID and judged
  # accuracy on the shipped judge; unpaired: silhouette IoU, diversity, judged accuracy), with a
  # picture of 16 test inputs in docs/img/translation/. Resumable: a run trained to its budget is
  # not trained again, and an eval of its last step is reused.
  #   bash bench/run.sh translation [FAMILY:PRESET[:STEPS] ...]
  shift
  specs=("$@")
  [ ${#specs[@]} -gt 0 ] || specs=(pix2pix:default pix2pix:l1 srresnet:default srgan:default context-encoder:default context-encoder:l2 cyclegan:default cyclegan:edges discogan:default discogan:gan discogan:one-sided)
  out=bench/results/translation.jsonl
  : > "$out"
  mkdir -p docs/img/translation
  for spec in "${specs[@]}"; do
    IFS=: read -r family preset steps <<< "$spec"
    run=bench/runs/$family-$preset
    budget=()
    [ -z "$steps" ] || budget=(--steps "$steps")
    if [ ! -f "$run/meta.json" ]; then
      "$BIN" train "$family" --preset "$preset" "${budget[@]}" --out "$run" --seed 0 --quiet
    else
      "$BIN" train "$family" --out "$run" --resume --quiet 2>/dev/null || true
    fi
    last=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['last_step'])" "$run/meta.json")
    file=$(printf '%s/eval/step-%06d.json' "$run" "$last")
    [ -f "$file" ] || "$BIN" eval "$run" --json > /dev/null 2>&1
    "$BIN" translate "$run" -n 16 --out "docs/img/translation/$family-$preset.png" > /dev/null
    e=$(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))" "$file")
    echo "{\"family\": \"$family\", \"preset\": \"$preset\", \"steps\": $last, \"eval\": $e}" | tee -a "$out"
  done
  python3 bench/summarize.py translation "$out"
  ;;
*)
  echo "usage: bash bench/run.sh speed|vae|classical|modes|conditional|likelihood|gans|sampling|ood|presets|prdc|judge|studio|table|translation|translation-speed|edges-ceiling" >&2
  exit 2
  ;;
esac
