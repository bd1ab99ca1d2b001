#!/usr/bin/env bash
# Faults while writing: a closed pipe, a full device, a full filesystem, an
# interrupt. Each gives a clear error and a non-zero exit, and leaves no
# partial or temporary output behind.
# usage: test_faults.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1
"$py" -c "import numpy as np; np.save('w.npy', (np.random.default_rng(3).standard_normal((512, 1024)) * 0.02).astype('<f4'))"
"$wqc" encode w.npy -o w.wqc -q || exit 1
before=$(sha256sum w.npy w.wqc)

expect_status 1 "closed pipe" -- bash -c 'set -o pipefail; "$0" decode w.wqc -o - | head -c 10 >/dev/null' "$wqc"
check "closed pipe: one clear line" 'grep -q "stdout: write failed: Broken pipe" "$tmp/err" && [[ $(wc -l < "$tmp/err") -eq 1 ]]'
expect_status 1 "full device" -- "$wqc" encode w.npy -o /dev/full
check "full device message" 'grep -q "No space left on device" "$tmp/err"'

# A full filesystem needs a small tmpfs (root only: CI runs as root).
mkdir -p small
if mount -t tmpfs -o size=64k tmpfs small 2>/dev/null; then
    expect_status 1 "full filesystem" -- "$wqc" encode w.npy -o small/x.wqc
    check "full filesystem message" 'grep -q "No space left on device" "$tmp/err"'
    check "nothing left on the full filesystem" '[[ -z $(ls -A small) ]]'
    umount small
else
    echo "note: cannot mount a tmpfs here (not root); /dev/full covers ENOSPC"
fi

# An interrupt during encode removes the temporary file.
"$wqc" encode w.npy -o big.wqc -q -T 1 --precision 15 --chunk 1024 &
pid=$!
for _ in $(seq 50); do compgen -G "big.wqc.*" >/dev/null && break; sleep 0.01; done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
check "interrupted encode exits non-zero (or had finished)" '[[ $rc -eq 130 || ( $rc -eq 0 && -s big.wqc ) ]]'
check "no temporary file after the interrupt" '[[ -z $(compgen -G "big.wqc.*") ]]'
check "inputs untouched" '[[ $(sha256sum w.npy w.wqc) == "$before" ]]'
finish
