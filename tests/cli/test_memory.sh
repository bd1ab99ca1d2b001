#!/usr/bin/env bash
# Memory does not grow with the model: on a model of 12 tensors of 8 MiB
# (96 MiB of F16), encode, decode (symbols and F16 weights, to a file and to
# a pipe) and verify each peak at <= 3 x the largest tensor + 64 MiB
# resident, the bound the streaming design promises, which a command holding
# the whole model or its whole output could not meet.
# usage: test_memory.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
if ldd "$wqc" 2>/dev/null | grep -q libasan; then
    echo "skipped: an AddressSanitizer build's shadow memory makes resident sizes meaningless (the Release build runs this)"
    exit 77
fi
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1
support=$(dirname "$0")/../support

"$py" "$support/make_model.py" m.safetensors 12 1024 4096 F16 || exit 1
tensor_kib=$((1024 * 4096 * 2 / 1024))
bound_kib=$((3 * tensor_kib + 64 * 1024))
model_kib=$(($(stat -c %s m.safetensors) / 1024))
check "the model is larger than the bound (the test can fail)" '[[ $model_kib -gt $bound_kib ]]'

peak() { # peak DESCRIPTION CMD...: runs CMD, checks its status and its peak against the bound
    local what=$1
    shift
    local kib
    kib=$("$py" "$support/peak_rss.py" "$@" | tail -1)
    echo "$what: peak $kib KiB (bound $bound_kib KiB)"
    check "$what: peak ${kib} KiB <= ${bound_kib} KiB" '[[ -n $kib && $kib -le $bound_kib ]]'
}
# encode and decode work on several tensors at once, holding up to 32 MiB
# (encode) or 8 MiB (decode) of them a thread: their bound grows with -T,
# not with the model, so the commands run at -T 2 (and once at -T 4).
peak "encode" "$wqc" encode m.safetensors -o m.wqc -q -T 2
bound_kib=$((bound_kib + 2 * 32 * 1024))
peak "encode -T 4 (the bound + 2 x 32 MiB)" "$wqc" encode m.safetensors -o m4.wqc -q -T 4
check "-T 4 writes the same file" 'cmp -s m.wqc m4.wqc'
bound_kib=$((bound_kib - 2 * 32 * 1024))
peak "decode --symbols" "$wqc" decode m.wqc -o q.safetensors -q -T 2
peak "decode --dequantize --dtype F16" "$wqc" decode m.wqc --dequantize --dtype F16 -o d.safetensors -q -T 2
bound_kib=$((bound_kib + 2 * 8 * 1024))
peak "decode --dequantize -T 4 (the bound + 2 x 8 MiB)" "$wqc" decode m.wqc --dequantize --dtype F16 -o d4.safetensors -q -T 4
check "-T 4 decodes the same weights" 'cmp -s d.safetensors d4.safetensors'
bound_kib=$((bound_kib - 2 * 8 * 1024))
peak "decode to a pipe" bash -c "'$wqc' decode m.wqc --dequantize --dtype F16 -o - -q -T 2 | cat >p.safetensors"
check "the pipe got the file's bytes" 'cmp -s p.safetensors d.safetensors'
peak "verify" "$wqc" verify m.wqc -q -T 2
peak "encode with an HMAC" env WQC_KEY=0123456789abcdef0123 "$wqc" encode m.safetensors -o k.wqc -q --key-env WQC_KEY -T 2
peak "decode checking the HMAC" env WQC_KEY=0123456789abcdef0123 "$wqc" decode k.wqc -o k.safetensors -q --key-env WQC_KEY -T 2
finish
