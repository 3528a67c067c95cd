#!/usr/bin/env bash
# The tests on a fresh machine: install what they need when it is missing, then run them all.
#   - Fashion-MNIST (Debian's dataset-fashion-mnist): the shipped judge's accuracy test;
#   - Debian's chromium: `genlab report` is rendered headless and its screenshot checked.
# apt-get runs (as root, or through sudo) only when one of them is missing; no test is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v chromium > /dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing ${need[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}"
fi
exec cargo test --workspace "$@"
