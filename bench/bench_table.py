#!/usr/bin/env python3
"""Prints a `wqc bench --json` report as a Markdown table."""
import json
import sys

r = json.load(open(sys.argv[1]))
print(f"{r['symbols']} symbols in {r['tensors']} tensor(s), {r['quantizer']}, "
      f"entropy {r['entropy_bits']:.4f} bits/symbol; wqc on {r['threads']} thread(s), peers on 1.")
print()
print("| codec | bits/symbol | vs packed | encode M sym/s | decode M sym/s | decode GB/s out | decode vs wqc |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for row in r["rows"]:
    vs = row["decode_vs_wqc"]
    print(f"| {row['codec']} | {row['bits_per_symbol']:.4f} | {row['ratio_vs_packed']:.3f}x | "
          f"{row['encode_symbols_per_s'] / 1e6:.1f} | {row['decode_symbols_per_s'] / 1e6:.1f} | "
          f"{row['decode_output_bytes_per_s'] / 1e9:.2f} | {'' if vs is None else f'{vs:.2f}x'} |")
