#!/usr/bin/env python3
"""Checks that the library's folders depend downward only: the graph of
src/ folders, an edge A -> B wherever a file in src/A includes a file of
src/B by a relative path ("../B/x.h"), must have no cycle; nor may any two
files of src/ include each other, directly or through others.
Prints each cycle found and exits 1; prints the folder order and exits 0.
usage: check-include-graph.py [SRC_DIR]"""
import os
import re
import sys

src = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src"))
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
files, folder_edges = {}, {}
for root, _, names in os.walk(src):
    for name in names:
        if not name.endswith((".c", ".h", ".cu", ".cuh")):
            continue
        path = os.path.join(root, name)
        deps = set()
        for inc in include.findall(open(path, encoding="utf-8", errors="replace").read()):
            target = os.path.normpath(os.path.join(root, inc))
            if target.startswith(src + os.sep) and os.path.exists(target):
                deps.add(target)
        files[path] = deps


def folder(path):
    return os.path.relpath(path, src).split(os.sep)[0]


for path, deps in files.items():
    for d in deps:
        if folder(d) != folder(path):
            folder_edges.setdefault(folder(path), set()).add(folder(d))


def cycles(graph):
    """Every strongly connected component with more than one node, or a self loop."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


bad = 0
for comp in cycles(folder_edges):
    bad = 1
    edges = [f"{a} -> {b}" for a in comp for b in sorted(folder_edges.get(a, ())) if b in comp]
    print("folder cycle: " + ", ".join(edges))
for comp in cycles({p: d for p, d in files.items()}):
    bad = 1
    print("file cycle: " + ", ".join(os.path.relpath(p, src) for p in comp))
if not bad:
    print("src/ folders depend downward only; each on:")
    for v in sorted({folder(p) for p in files}):
        print(f"  {v}: {', '.join(sorted(folder_edges.get(v, ()))) or '(public headers only)'}")
sys.exit(bad)
