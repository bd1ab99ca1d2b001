#!/usr/bin/env python3
"""Writes an SVG scatter plot of decode speed (log scale) against bits per
symbol for every codec of a `wqc bench --json` report. Plain SVG, no
plotting library needed.
usage: plot_decode.py OUT.svg REPORT.json"""
import json
import math
import sys

out, report = sys.argv[1], json.load(open(sys.argv[2]))
rows = report["rows"]
W, H, L, R, T, B = 900, 560, 80, 260, 50, 60
xs = [row["bits_per_symbol"] for row in rows]
ys = [row["decode_symbols_per_s"] / 1e6 for row in rows]
x0, x1 = math.floor(min(xs) * 2) / 2, math.ceil(max(xs) * 2) / 2
y0, y1 = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))


def px(x):
    return L + (x - x0) / (x1 - x0 or 1) * (W - L - R)


def py(y):
    return T + (math.log10(y1) - math.log10(y)) / (math.log10(y1) - math.log10(y0)) * (H - T - B)


colors = {"wqc": "#d62728", "packed": "#7f7f7f", "htscodecs": "#1f77b4", "zstd": "#2ca02c", "brotli": "#9467bd"}
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="24" font-size="15">Decode speed vs size: {report["symbols"]} symbols, '
       f'{report["quantizer"]}, entropy {report["entropy_bits"]:.3f} bits</text>']
decade = y0
while decade <= y1:
    svg.append(f'<line x1="{L}" x2="{W - R}" y1="{py(decade):.1f}" y2="{py(decade):.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{L - 8}" y="{py(decade) + 4:.1f}" text-anchor="end">{decade:g}</text>')
    decade *= 10
x = x0
while x <= x1 + 1e-9:
    svg.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{T}" y2="{H - B}" stroke="#eee"/>')
    svg.append(f'<text x="{px(x):.1f}" y="{H - B + 18}" text-anchor="middle">{x:g}</text>')
    x += 0.5
svg.append(f'<text x="{(L + W - R) / 2}" y="{H - 15}" text-anchor="middle">bits per symbol (coded size)</text>')
svg.append(f'<text transform="translate(20,{(T + H - B) / 2}) rotate(-90)" text-anchor="middle">'
           'decode, million symbols per second (log)</text>')
for i, row in enumerate(rows):
    c = colors.get(row["codec"].split()[0], "black")
    cx, cy = px(xs[i]), py(ys[i])
    svg.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{c}"/>')
    svg.append(f'<text x="{W - R + 12}" y="{T + 16 * i + 4}" fill="{c}">{row["codec"]}: '
               f'{xs[i]:.3f} b, {ys[i]:.0f} M/s</text>')
    svg.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{W - R + 8}" y2="{T + 16 * i:.1f}" stroke="{c}" '
               'stroke-opacity="0.25"/>')
svg.append("</svg>")
open(out, "w").write("\n".join(svg) + "\n")
