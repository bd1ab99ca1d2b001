#!/usr/bin/env bash
# Installs dependencies, builds, and runs the main job on a built-in default:
# the entropy analysis of a seeded 4096x4096 Gaussian weight matrix (sigma
# 0.02) under 4-bit per-row min/max quantization, with its symbol histogram.
# Extra arguments go to `wqc analyze` (e.g. --method sdclip, --baselines).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh build >/dev/null
./build/wqc analyze --hist --synthetic gaussian:4096x4096 "$@"
