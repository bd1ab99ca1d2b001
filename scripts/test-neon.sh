#!/usr/bin/env bash
# Cross-builds wqc for AArch64 (the NEON decoders) with -Werror and runs the
# tests that compare every ISA with the scalar reference under qemu-user,
# then `wqc bench` itself under emulation (speeds there mean nothing).
# usage: scripts/test-neon.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-arm64}
bash scripts/install-deps.sh --neon
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DWQC_WERROR=ON
cmake --build "$build" -j"$(nproc)"
# libgomp worker threads hang under qemu-user here (a parallel region of two
# threads never returns, even on one chunk); one thread keeps the emulated
# runs honest about the kernels, which is what they test.
export OMP_THREAD_LIMIT=1
ctest --test-dir "$build" -L isa --output-on-failure -j"$(nproc)"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/wqc" bench --synthetic gaussian:256x256 --codecs wqc,packed,zstd \
  --repeat 1 | tee "$build/bench.txt"
grep -q '^wqc rANS neon ' "$build/bench.txt" || { echo "test-neon: no NEON row in wqc bench" >&2; exit 1; }
# The fused product and the Q4_0 baseline through the NEON kernels.
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/wqc" bench --gemv --shapes 64x128 -T 1 --repeat 1 \
  | tee "$build/bench-gemv.txt"
grep -q 'neon kernels' "$build/bench-gemv.txt" && grep -q 'B\* = ' "$build/bench-gemv.txt" \
  || { echo "test-neon: wqc bench --gemv did not run the NEON kernels" >&2; exit 1; }
