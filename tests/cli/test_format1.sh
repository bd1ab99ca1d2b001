#!/usr/bin/env bash
# Files of format 1.0 (tests/data/v1, written by an earlier wqc) still decode
# to the same bytes, verify, and show in info.
# usage: test_format1.sh WQC WORKDIR
set -u
wqc=$1
tmp=$2
data=$(cd "$(dirname "$0")/../data/v1" && pwd)
rm -rf "$tmp" && mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"

cd "$tmp" || exit 1
for f in default sdclip group32 gemv; do
    expect_status 0 "decode $f.wqc" -- "$wqc" decode "$data/$f.wqc" -o "out.$f.safetensors" -q
    expect_status 0 "verify $f.wqc" -- "$wqc" verify "$data/$f.wqc" -q
done
expect_status 0 "decode hmac.wqc with its key" -- "$wqc" decode "$data/hmac.wqc" --key-file "$data/key.bin" -o out.hmac.safetensors -q
expect_status 5 "hmac.wqc with another key" -- "$wqc" verify "$data/hmac.wqc" --key-env WRONG_KEY
expect_status 0 "decode given.wqc" -- "$wqc" decode "$data/given.wqc" -o out.given.npy -q
expect_status 0 "dequantize default.wqc" -- "$wqc" decode "$data/default.wqc" --dequantize -o out.dequant.safetensors -q
expect_status 0 "dequantize gemv.wqc to BF16" -- "$wqc" decode "$data/gemv.wqc" --dequantize --dtype BF16 -o out.gemv-bf16.safetensors -q
check "every output matches what format 1.0's wqc decoded" 'sha256sum --quiet -c "$data/expect.sha256"'
expect_status 0 "info of a 1.0 file" -- "$wqc" info "$data/group32.wqc"
check "info lists the kept tensor" 'grep -q "b.weight.*kept" "$tmp/out"'
finish
