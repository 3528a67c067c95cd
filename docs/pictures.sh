#!/usr/bin/env bash
# Regenerates every picture README.md shows into docs/img/ (issue 20), with short budgets:
# about 10 minutes on 2 cores. The runs go to a temporary folder (or $1) and are kept there.
#   bash docs/pictures.sh [WORK_DIR]
# The GAN pictures of Fashion-MNIST beside PyTorch's come from `bash bench/run.sh gans`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
cargo build -q -p genlab-cli
G="$ROOT/target/debug/genlab"
OUT="$ROOT/docs/img/first-contact"
WORK=${1:-$(mktemp -d /tmp/genlab-pictures.XXXXXX)}
mkdir -p "$OUT" "$WORK"
cd "$WORK"
echo "runs in $WORK; pictures into $OUT"
keep() { cp "$1" "$OUT/$2"; echo "  docs/img/first-contact/$2"; }

# The demo: a VAE on shapes, then class-gaussian, gmm and rbm.
[ -d demo ] || "$G" demo --out demo
keep demo/samples.png demo-vae-samples.png
keep demo/reconstructions.png demo-vae-reconstructions.png
keep demo/interpolation.png demo-vae-interpolation.png
keep demo/curves.png demo-vae-curves.png
keep demo/class-gaussian/samples-by-class.png demo-class-gaussian-by-class.png
keep demo/gmm/samples.png demo-gmm-samples.png
keep demo/gmm/density.png demo-gmm-density.png
keep demo/rbm/chain.png demo-rbm-chain.png
keep demo/rbm/filters.png demo-rbm-filters.png

# Data: a grid of examples per class.
"$G" data info fashion-mnist --out data-fashion-mnist.png > /dev/null
keep data-fashion-mnist.png data-fashion-mnist.png

# A VAE with a 2-D latent on Fashion-MNIST: the manifold, binary draws and --mean.
[ -d vae2d ] || "$G" train vae --data fashion-mnist --set model.latent_dim=2 --steps 3000 \
  --set train.sample_every=500 --out vae2d --quiet
"$G" interpolate vae2d --mode slerp > /dev/null
"$G" sample vae2d -n 64 > /dev/null
"$G" sample vae2d -n 64 --mean --out vae2d/samples-mean.png > /dev/null
keep vae2d/manifold.png vae-manifold.png
keep vae2d/samples.png vae-samples-binary.png
keep vae2d/samples-mean.png vae-samples-mean.png
keep vae2d/curves.png vae-curves-held-out.png

# An RBM on Fashion-MNIST: chains and completions.
[ -d rbm ] || "$G" train rbm --steps 2000 --set train.sample_every=500 --out rbm --quiet
"$G" sample rbm --chain -n 8 > /dev/null
"$G" complete rbm --mask bottom-half > /dev/null
keep rbm/chain.png rbm-chain.png
keep rbm/completions.png rbm-completions.png

# MADE: completions by ancestral sampling.
[ -d made ] || "$G" train made --steps 2000 --set train.sample_every=500 --out made --quiet
"$G" complete made --mask bottom-half > /dev/null
keep made/completions.png made-completions.png

# Points: a GAN on the ring of 8 (scatter), a flow's density, BIC over K.
[ -d gan ] || "$G" train gan --out gan --quiet
"$G" sample gan > /dev/null
keep gan/samples.png gan-ring8-samples.png
keep gan/curves.png gan-ring8-curves.png
[ -d nvp ] || "$G" train realnvp --out nvp --quiet
"$G" sample nvp > /dev/null
keep nvp/samples.png realnvp-ring8-samples.png
keep nvp/density.png realnvp-ring8-density.png
"$G" gmm-select --data toy:grid25 --k 15..35 --covariance full --out select > /dev/null
keep select/bic.png gmm-select-bic.png
# Tables (written here, seeded): a 1-D histogram with the model's density, a pairs plot.
python3 - <<'PY'
import random
r = random.Random(0)
with open("one_column.csv", "w") as f:
    f.write("weight_kg\n")
    for _ in range(3000):
        f.write(f"{r.gauss(62, 6) if r.random() < 0.6 else r.gauss(85, 9):.2f}\n")
with open("five_columns.csv", "w") as f:
    f.write("a,b,c,d,e\n")
    for _ in range(3000):
        z = [r.gauss(0, 1) for _ in range(5)]
        k = 1 if r.random() < 0.5 else -1
        f.write(",".join(f"{v:.4f}" for v in [1000 + 50 * z[0], 2 * k + z[1], z[0] + 0.3 * z[2], 0.01 * z[3], k * 3 + z[4]]) + "\n")
PY
T=$PWD
[ -d hist ] || "$G" train gmm --data "csv:$T/one_column.csv" --out hist --quiet
"$G" sample hist > /dev/null
keep hist/samples.png gmm-1d-histogram.png
[ -d pairs ] || "$G" train gmm --data "csv:$T/five_columns.csv" --out pairs --quiet
"$G" sample pairs > /dev/null
keep pairs/samples.png gmm-5d-pairs.png

# InfoGAN's traverse on shapes.
[ -d info ] || "$G" train infogan --preset shapes --steps 2000 --out info --quiet
"$G" traverse info > /dev/null
keep info/traverse.png infogan-traverse.png
echo "done"
