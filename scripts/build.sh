#!/usr/bin/env bash
# Installs dependencies and builds wqc with warnings as errors.
# usage: scripts/build.sh [BUILD_DIR [extra cmake arguments...]]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${1:-build}
shift || true
cmake -S . -B "$build" -DWQC_WERROR=ON "$@"
cmake --build "$build" -j"$(nproc)"
