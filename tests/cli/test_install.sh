#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then a C client built with
# nothing but `pkg-config --cflags --libs wqc` decodes a .wqc: the installed
# headers, library and wqc.pc are what an inference engine gets.
# usage: test_install.sh BUILD_DIR WORKDIR PYTHON3 [EXTRA_CFLAGS]
build=$1 tmp=$2 py=$3 extra=${4:-}
rm -rf "$tmp" && mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../support" && pwd)
prefix=$tmp/prefix
expect_status 0 "cmake --install into a temporary prefix" -- cmake --install "$build" --prefix "$prefix"
pc=$(find "$prefix" -name wqc.pc | head -1)
check "wqc.pc installed" '[[ -n "$pc" ]]'
export PKG_CONFIG_PATH=$(dirname "$pc")
expect_status 0 "pkg-config finds wqc" -- pkg-config --cflags --libs wqc
inc=$(sed -n 's/.*-I\([^ ]*\).*/\1/p' "$tmp/out")
check "pkg-config points into the prefix" '[[ -n "$inc" && $(realpath "$inc") == $(realpath "$prefix/include") ]]'
expect_status 0 "a client builds through pkg-config alone" -- \
    bash -c 'cc $3 -o "$1/client" "$2/archive_client.c" $(pkg-config --cflags --libs wqc)' _ "$tmp" "$src" "$extra"
"$py" - "$tmp/m.npy" <<'PY'
import sys
import numpy as np
np.save(sys.argv[1], (np.random.default_rng(5).standard_normal((64, 96)) * 0.02).astype("<f4"))
PY
expect_status 0 "the installed wqc encodes" -- "$prefix/bin/wqc" encode -q "$tmp/m.npy" -o "$tmp/m.wqc"
expect_status 0 "the client decodes it" -- env LD_LIBRARY_PATH="$(dirname "$(dirname "$pc")")" "$tmp/client" "$tmp/m.wqc"
cp "$tmp/out" "$tmp/client.txt"
expect_status 0 "decode --dequantize for reference" -- "$prefix/bin/wqc" decode -q --dequantize "$tmp/m.wqc" -o "$tmp/d.npy"
check "the client's floats are decode's" '"$py" - "$tmp/client.txt" "$tmp/d.npy" <<"PY"
import sys
import numpy as np
name, n, total = open(sys.argv[1]).read().split()
d = np.load(sys.argv[2]).astype(np.float64)
assert name == "m" and int(n) == d.size, (name, n)
assert abs(float(total) - d.sum()) <= 1e-6 * max(1.0, abs(d).sum()), (total, d.sum())
PY'
pkg=$(find "$prefix" -type d -name python -path "*/wqc/python" | head -1)
# A sanitizer build's library needs its runtime loaded first into the interpreter.
preload=
[[ $extra == *sanitize* ]] && preload="$(cc -print-file-name=libasan.so):$(cc -print-file-name=libubsan.so)"
expect_status 0 "the installed Python package finds the installed library" -- \
    env -u WQC_LIBRARY PYTHONPATH="$pkg" LD_LIBRARY_PATH= LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 "$py" -c '
import sys, wqc
t = wqc.load_file(sys.argv[1])
assert wqc.library_path().startswith(sys.argv[2]), wqc.library_path()
print(t["m"].shape)' "$tmp/m.wqc" "$pkg"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
