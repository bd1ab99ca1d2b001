#!/usr/bin/env bash
# Installs dependencies, builds with warnings as errors, runs the whole test suite.
# usage: scripts/test.sh [BUILD_DIR [extra cmake arguments...]]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bash scripts/install-deps.sh --test
bash scripts/build.sh "$@"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
