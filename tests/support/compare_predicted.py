#!/usr/bin/env python3
"""Compares what `wqc analyze --json` predicts with what `wqc info --json`
reads from the .wqc that `wqc encode` wrote: per tensor the mode picked and
its bytes (symbol_bytes: payload, chunk lengths, tables), which must be
equal. Prints one line per input and exits 1 on any disagreement.
usage: compare_predicted.py ANALYZE.json INFO.json [TOLERANCE]"""
import json
import sys

analyze = json.load(open(sys.argv[1]))
info = json.load(open(sys.argv[2]))
tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
written = {t["name"]: t for t in info["tensors"]}
bad = 0
n = predicted_total = written_total = 0
picked = {}
for t in analyze["tensors"]:
    modes = t.get("mode_bytes")
    if not modes or t.get("skipped"):
        continue
    w = written.get(t["name"])
    if w is None or "mode" not in w:
        print(f"{t['name']}: analysed and coded by analyze, not coded as symbols by encode")
        bad = 1
        continue
    pick = modes["pick"]
    mode = "order0" if w["mode"] == "order-0" else w["mode"].split(" ")[0]
    if pick != mode:
        print(f"{t['name']}: analyze picks {pick}, encode wrote {w['mode']}")
        bad = 1
    n += 1
    picked[pick] = picked.get(pick, 0) + 1
    predicted_total += modes[pick]
    written_total += w["symbol_bytes"]
    if modes[pick] != w["symbol_bytes"]:
        print(f"{t['name']}: analyze says {modes[pick]} bytes, encode wrote {w['symbol_bytes']}")
        bad = 1
summary = analyze["summary"]
if {k: v for k, v in summary["picked"].items() if v} != picked:
    print(f"summary picked {summary['picked']} != per-tensor {picked}")
    bad = 1
if written_total and abs(predicted_total - written_total) > tolerance * written_total:
    print(f"mode bytes {predicted_total} against {written_total} written")
    bad = 1
print(f"{n} tensors: picked {picked}, predicted {predicted_total} bytes, written {written_total}"
      f" ({(predicted_total / written_total - 1) * 100 if written_total else 0:+.3f}%)")
sys.exit(bad)
